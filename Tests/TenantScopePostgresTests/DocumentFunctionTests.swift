import Foundation
import PostgresNIO
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// xAPI document operations through session functions (architecture decision 62): a write and a read take one exchange
/// each once their functions exist, two tenants writing the same address on one connection each keep their own
/// document, and a refused write changes nothing though the call commits on its own.
@Suite(.serialized, .freshDatabase) struct DocumentFunctionTests {
    static let address = DocumentAddress(kind: .state, activityID: "https://example.com/activity/1", agentKey: "mbox:mailto:ann@example.com")

    static func content(_ text: String) -> DocumentContent {
        DocumentContent(bytes: Array(#"{"said":"\#(text)"}"#.utf8), contentType: "application/json")
    }

    /// A State PUT of `content` as one call on `connection`.
    static func put(_ handle: TestDatabase, _ content: DocumentContent, _ tenant: Tenant, on connection: PostgresConnection) async throws -> String {
        let statement = DocumentStatements.write(content, merge: false, to: address, id: "s1", preconditions: .init(), needsPrecondition: false,
                                                 overwrite: true)
        let rows = try await handle.database.sessions.write(
            tenant.id.testScope, calling: ScopedWriteFunctions.shared.function(for: statement, columnTypes: DocumentStatements.writeColumns),
            values: statement.values, decode: { $0 }, orInTransaction: { try await $0.query(statement).collect() }, on: connection,
            logger: TestDatabase.logger)
        return try rows.first!.decode((String, Int).self).0
    }

    static func read(_ handle: TestDatabase, _ tenant: Tenant, on connection: PostgresConnection) async throws -> String? {
        let rows = try await handle.database.sessions.readRows(tenant.id.testScope, DocumentStatements.document(address, id: "s1"),
                                                               columnTypes: DocumentStatements.documentColumns, on: connection, logger: TestDatabase.logger)
        return try rows.first.map { String(buffer: try $0.decode((ByteBuffer, String, String, Date).self).0) }
    }

    /// A writing statement whose text ends in a `--` comment still becomes a function: the `RETURN QUERY`'s `;` is on a
    /// line of its own (on the text's last line it was commented out, and creating the function failed for every call).
    @Test func aTextEndingInALineCommentBecomesAFunction() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let statement = BoundStatement(sql: "SELECT $1::text -- the last line is a comment", values: [.text("kept")])
        let function = ScopedWriteFunctions.shared.function(for: statement, columnTypes: ["text"])
        try await handle.database.tenantPool.client.withConnection { connection in
            let rows = try await handle.database.sessions.write(
                fixture.a.tenant.id.testScope, calling: function, values: statement.values, decode: { $0 },
                orInTransaction: { try await $0.query(statement).collect() }, on: connection, logger: TestDatabase.logger)
            #expect(try rows.first?.decode(String.self) == "kept")
            #expect(SessionFunctions.shared.isCreated(function, on: connection), "the text did not become a function")
        }
    }

    @Test func aWriteAndAReadTakeOneExchangeEach() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let recorder = LogRecorder()
        try await ScopedReadFunctionTests.withRecordedConnection(handle, recorder) { connection in
            _ = try await Self.put(handle, Self.content("first"), fixture.a.tenant, on: connection)
            _ = try await Self.read(handle, fixture.a.tenant, on: connection)
            var outcome = ""
            let write = try await ScopedReadFunctionTests.exchanges(recorder) {
                outcome = try await Self.put(handle, Self.content("second"), fixture.a.tenant, on: connection)
            }
            #expect(write == 1 && outcome == "ok")
            var seen: String?
            let read = try await ScopedReadFunctionTests.exchanges(recorder) {
                seen = try await Self.read(handle, fixture.a.tenant, on: connection)
            }
            #expect(read == 1)
            #expect(seen == #"{"said":"second"}"#)
        }
    }

    @Test func tenantsWritingOneAddressOnOneConnectionEachKeepTheirOwn() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        try await handle.database.tenantPool.client.withConnection { connection async throws -> Void in
            for round in 0..<2 {
                for member in [fixture.a, fixture.b] {
                    let outcome = try await Self.put(handle, Self.content("\(member.canary)-\(round)"), member.tenant, on: connection)
                    #expect(outcome == "ok")
                }
            }
            for member in [fixture.a, fixture.b] {
                let seen = try await Self.read(handle, member.tenant, on: connection)
                #expect(seen == #"{"said":"\#(member.canary)-1"}"#)
            }
        }
        // Through the store, on any pooled connection, the same.
        for member in [fixture.a, fixture.b] {
            let stored = try await handle.database.documents.document(Self.address, id: "s1", in: member.tenant.id.testScope, logger: TestDatabase.logger)
            #expect(stored.map { String(decoding: $0.content.bytes, as: UTF8.self) } == #"{"said":"\#(member.canary)-1"}"#)
        }
    }

    @Test func aRefusedWriteOrDeleteChangesNothing() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let documents = handle.database.documents
        let scope = fixture.a.tenant.id.testScope
        try await documents.write(Self.content("kept"), mode: .replace, to: Self.address, id: "s1", preconditions: .init(), in: scope,
                                  logger: TestDatabase.logger)
        let stale = DocumentStore.Preconditions(ifMatch: ["0000000000000000000000000000000000000000"])
        let write = await #expect(throws: TenantScopeError.self) {
            try await documents.write(Self.content("lost"), mode: .replace, to: Self.address, id: "s1", preconditions: stale, in: scope,
                                      logger: TestDatabase.logger)
        }
        #expect(write?.kind == .preconditionFailed)
        let delete = await #expect(throws: TenantScopeError.self) {
            try await documents.delete(Self.address, id: "s1", preconditions: stale, in: scope, logger: TestDatabase.logger)
        }
        #expect(delete?.kind == .preconditionFailed)
        let kept = try await documents.document(Self.address, id: "s1", in: scope, logger: TestDatabase.logger)
        #expect(kept.map { String(decoding: $0.content.bytes, as: UTF8.self) } == #"{"said":"kept"}"#)
        // The unconditional delete of the address removes it; B's document at the same address stays.
        try await documents.write(Self.content("other"), mode: .replace, to: Self.address, id: "s1", preconditions: .init(),
                                  in: fixture.b.tenant.id.testScope, logger: TestDatabase.logger)
        try await documents.delete(Self.address, id: nil, preconditions: .init(), in: scope, logger: TestDatabase.logger)
        #expect(try await documents.document(Self.address, id: "s1", in: scope, logger: TestDatabase.logger) == nil)
        #expect(try await documents.document(Self.address, id: "s1", in: fixture.b.tenant.id.testScope, logger: TestDatabase.logger) != nil)
    }

    /// A write that finds no document while another request's insert of it is still uncommitted waits for that insert,
    /// then looks again (migration 52): a merge merges into what the other stored, a create-only PUT is refused 412. Both
    /// were a 409 "retry" before, and the merge's members were never stored.
    @Test func aWriteThatLosesTheDocumentsCreationToAnotherLooksAgain() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let scope = fixture.a.tenant.id.testScope
        let documents = handle.database.documents
        for (id, second, expected) in [("merged", DocumentStore.Preconditions(), #"{"a":1,"b":2}"#),
                                       ("created", DocumentStore.Preconditions(ifNoneMatch: ["*"]), #"{"a":1}"#)] {
            let (inserted, insertedDone) = AsyncStream.makeStream(of: Void.self)
            let (release, releaseDone) = AsyncStream.makeStream(of: Void.self)
            let first = Task {
                try await handle.database.sessions.run(scope, access: .readWrite, logger: TestDatabase.logger) { connection in
                    let statement = DocumentStatements.write(DocumentContent(bytes: Array(#"{"a":1}"#.utf8), contentType: "application/json"),
                                                             merge: true, to: Self.address, id: id, preconditions: .init(),
                                                             needsPrecondition: false, overwrite: false)
                    _ = try await connection.query(statement).collect()
                    insertedDone.yield()
                    for await _ in release { break }
                }
            }
            for await _ in inserted { break }
            let secondWrite = Task {
                try await documents.write(DocumentContent(bytes: Array(#"{"b":2}"#.utf8), contentType: "application/json"),
                                          mode: second.isEmpty ? .merge : .replace, to: Self.address, id: id, preconditions: second,
                                          in: scope, logger: TestDatabase.logger)
            }
            let waited = try await OneShotConnection.with(handle.ownerEndpoint, logger: TestDatabase.logger) {
                try await LockWaiters.await(1, on: $0)
            }
            #expect(waited, "\(id): the second write did not wait for the first")
            releaseDone.yield()
            try await first.value
            let result = await secondWrite.result
            if second.isEmpty {
                #expect((try? result.get()) != nil, "\(id): \(result)")
            } else if case .failure(let error as TenantScopeError) = result {
                #expect(error.kind == .preconditionFailed, "\(id): \(error)")
            } else {
                Issue.record("\(id): a create-only PUT of a document another request created was not refused: \(result)")
            }
            let stored = try await documents.document(Self.address, id: id, in: scope, logger: TestDatabase.logger)
            #expect(stored.map { String(decoding: $0.content.bytes, as: UTF8.self) } == expected, "\(id)")
        }
    }

}
