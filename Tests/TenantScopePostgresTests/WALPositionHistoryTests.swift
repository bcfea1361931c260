import Testing
@testable import TenantScopePostgres

/// The lag bound from the primary's WAL positions: never below the truth, within a probe interval of it,
/// and 0 for a replica that has everything the primary had at the last reading.
@Suite struct WALPositionHistoryTests {
    typealias Position = WALPositionHistory.Position

    @Test func positionsParseAsPostgreSQLPrintsThem() throws {
        #expect(try #require(Position("0/3000060")).offset == 0x3000060)
        #expect(try #require(Position("1A/0")).offset == 0x1A_0000_0000)
        #expect(try #require(Position("0/FFFFFFFF")) < #require(Position("1/0")))
        for bad in ["", "3000060", "0/", "x/1", "1/2/3", "100000000/0"] {
            #expect(Position(bad) == nil, "\(bad)")
        }
    }

    @Test func aReplicaIsAtMostAsFarBehindAsTheNewestReadingItHasReplayed() throws {
        let history = WALPositionHistory()
        let start = ContinuousClock.now
        history.record(try #require(Position("0/100")), at: start)
        history.record(try #require(Position("0/200")), at: start + .seconds(1))
        history.record(try #require(Position("0/300")), at: start + .seconds(2))
        let now = start + .seconds(2.5)
        // Everything the primary had at the last reading: caught up.
        #expect(history.lag(ofReplayed: try #require(Position("0/300")), now: now) == .zero)
        #expect(history.lag(ofReplayed: try #require(Position("0/350")), now: now) == .zero)
        // Between readings: at most as old as the newest reading it has passed.
        #expect(history.lag(ofReplayed: try #require(Position("0/250")), now: now) == .seconds(1.5))
        #expect(history.lag(ofReplayed: try #require(Position("0/100")), now: now) == .seconds(2.5))
        // Behind every reading: unknown here (the replay time dates it).
        #expect(history.lag(ofReplayed: try #require(Position("0/50")), now: now) == nil)
    }

    @Test func anIdlePrimaryKeepsACaughtUpReplicaAtZero() throws {
        let history = WALPositionHistory(keep: 3)
        let start = ContinuousClock.now
        for second in 0..<10 { history.record(try #require(Position("0/500")), at: start + .seconds(second)) }
        #expect(history.lag(ofReplayed: try #require(Position("0/500")), now: start + .seconds(60)) == .zero)
    }
}
