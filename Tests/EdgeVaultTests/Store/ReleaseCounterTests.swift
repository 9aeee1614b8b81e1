import Foundation
import GRDB
import Testing
@testable import EdgeVaultCore
@testable import EdgeVaultStore

@Suite("Release counters on the grant row")
struct ReleaseCounterTests {
    static func release(_ grant: String, _ segment: String, _ first: Int64, _ last: Int64, _ count: Int64) -> LedgerLeaf {
        LedgerEvent.dataReleased(.init(grant: grant, segment: segment, firstSeq: first, lastSeq: last, count: count, sha256: [1]))
            .leaf(org: "k", time: 1_793_491_200_000)
    }

    static func insertGrant(_ id: String, in db: Database) throws {
        try db.execute(sql: "INSERT INTO access_request (org, id, payload, jws, streams, fromTime, toTime, expires, status, receivedAt) VALUES ('k', ?, x'', x'', 'a', 0, 1, 2, 'granted', 0)",
                       arguments: [id])
        try db.execute(sql: """
            INSERT INTO grant_record (org, id, jws, deliveryKey, streams, fromTime, toTime, expires, status, issuedAt, leafIndex)
            VALUES ('k', ?, x'', x'', 'a', 0, 1, 2, 'live', 0, 0)
            """, arguments: [id])
    }

    @Test("The v10 migration counts the releases already in the ledger (a page downloaded twice: two pages, its readings once), and appends count on from there")
    func backfillThenCount() throws {
        var config = Configuration()
        config.foreignKeysEnabled = false  // grants without their organization's row: only the counters matter here
        let queue = try DatabaseQueue(configuration: config)
        try Migrations.migrator.migrate(queue, upTo: "v9-range-deletions")
        try queue.write { db in
            try Self.insertGrant("g", in: db)
            try Self.insertGrant("other", in: db)
            // Leaves as a vault before v10 stored them (no counters then).
            for (i, leaf) in [Self.release("g", "s1", 0, 3, 100), Self.release("g", "s1", 0, 3, 100), Self.release("g", "s2", 0, 0, 7),
                              Self.release("other", "s1", 0, 3, 100)].enumerated() {
                try db.execute(sql: "INSERT INTO ledger_leaf (idx, data, type, org, time) VALUES (?, ?, ?, ?, ?)",
                               arguments: [i, Data(leaf.bytes), leaf.type, leaf.org, leaf.time])
            }
        }
        try Migrations.migrator.migrate(queue)
        func counts(_ id: String) throws -> (Int64, Int64) {
            try queue.read { db in
                let row = try Row.fetchOne(db, sql: "SELECT releasePages, releaseReadings FROM grant_record WHERE id = ?", arguments: [id])!
                return (row["releasePages"], row["releaseReadings"])
            }
        }
        #expect(try counts("g") == (3, 107))
        #expect(try counts("other") == (1, 100))
        try queue.write { db in
            try db.execute(sql: "DELETE FROM ledger_leaf")  // appendLeaf keeps the tree's hashes: start it afresh
            try VaultStore.appendLeaf(Self.release("g", "s2", 0, 0, 7), in: db)  // again: a page more, no readings more
            try VaultStore.appendLeaf(Self.release("g", "s2", 1, 4, 40), in: db)
        }
        #expect(try counts("g") == (5, 147))
    }
}
