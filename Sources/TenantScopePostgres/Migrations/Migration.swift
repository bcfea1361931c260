import Crypto
import Foundation

/// One versioned schema change: SQL statements applied in order, in one transaction.
///
/// Statements are kept separate because the extended query protocol runs one statement per query.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let statements: [String]

    public init(version: Int, name: String, statements: [String]) {
        self.version = version
        self.name = name
        self.statements = statements
    }

    /// SHA-256 of the statements, recorded when applied so an edited migration is detected.
    public var checksum: String {
        let digest = SHA256.hash(data: Data(statements.joined(separator: "\n;\n").utf8))
        return digest.map { String(format: "%02x", $0) }.joined()
    }
}

extension Migration {
    /// Every migration, oldest first. Append only: never edit one that has shipped.
    public static let all: [Migration] = [
        .tenantSchema,
        .auditChain,
        .dailyRollups,
        .learningRecordStore,
        .rollupService,
        .savedViews,
        .derivationQueue,
        .activitySummaries,
        .leastPrivilege,
        .tenantLogin,
        .documents,
        .attachments,
        .restingRollups,
        .rollupWatermarks,
        .auditBatches,
        .incrementalDerivation,
        .tenantDayTotals,
        .semanticLayer,
        .customReports,
        .exports,
        .documentStatements,
        .customReportSurfaces,
        .tenantLimits,
        .proportionalCatchUp,
        .tenantPlacement,
        .tenantGate,
        .windowLearnersFromTheIndex,
        .monthlyOutcomeSums,
        .learnerDayDeltas,
        .activeLearnerTotals,
        .missedVoids,
        .semanticMonthlySums,
        .pendingRollupQueues,
        .batchQueueRows,
        .provenanceFromTheActors,
        .courseTitleProvenance,
        .fullDerivationByActor,
        .tenantPassInOneCall,
        .genericPlansForServedReports,
        .learnersByLastDay,
        .todayFromTheQueue,
        .monthlySumsOverAllRegions,
        .monthlySumsOverAllCourses,
        .contextTenantDefault,
        .enrollmentOutcomeDeltas,
        .derivationLockFirst,
        .aggregateFunctionGrants,
        .exportRemovals,
        .gateHoldsTheTenant,
        .documentWriteLooksAgain,
        .auditAppendsWithoutATableLock,
        .voidingTakesTurns,
        .learnerExportKeysAsStatements,
        .answerRowsHaveABound,
    ]

    public static var latestVersion: Int { all.last?.version ?? 0 }
}
