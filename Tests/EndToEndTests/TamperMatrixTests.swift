import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation
import GRDB
import Testing

/// One byte flipped in each kind of stored object the ledger and the checkpoints do not
/// already cover (those are in LedgerEndToEndTests): each is detected by the side that reads
/// it, and named.
@Suite("Tamper matrix: sealed keys and grants", .serialized)
struct TamperMatrixTests {
    /// A vault with two hours of readings and a grant over them to an organization with a key file.
    func setUp() async throws -> (VaultFixture, orgKey: String) {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        let base = Timestamp.parseRFC3339("2026-11-01T00:00:00Z")!
        let lines = (0..<120).map { "{\"stream\":\"home/t\",\"t\":\(base + Int64($0) * 60_000),\"v\":\($0)}\n" }.joined()
        #expect(try await v.cli(["ingest"], stdin: Array(lines.utf8)).status == 0)
        let orgKey = v.root + "/org.key"
        #expect(try await v.cli(["org", "keygen", "--out", orgKey]).status == 0)
        let asked = try await v.cli(["org", "request", "--vault", "http://127.0.0.1:\(v.publicPort)", "--key", orgKey, "--stream", "home/t",
                                     "--from", "2026-11-01T00:00:00Z", "--to", "2026-11-01T02:00:00Z", "--purpose", "tamper test",
                                     "--expires", "2027-01-01", "--name", "Tamper", "--id", "g1"])
        #expect(asked.status == 0, "\(asked.stderr)")
        let approved = try await v.cli(["approve", "g1", "--passphrase-file", v.passphraseFile])
        #expect(approved.status == 0, "\(approved.stderr)")
        return (v, orgKey)
    }

    func flip(_ v: VaultFixture, _ sql: String, column: String) async throws -> String {
        let db = try DatabaseQueue(path: v.dataDir + "/vault.db")
        return try await db.write { db in
            let row = try #require(try Row.fetchOne(db, sql: sql))
            var bytes = [UInt8](row[column] as Data)
            bytes[bytes.count / 2] ^= 0x01
            try db.execute(sql: "UPDATE \(row["tbl"] as String) SET \(column) = ? WHERE rowid = ?", arguments: [Data(bytes), row["rid"] as Int64])
            return row["name"] as String
        }
    }

    func fetch(_ v: VaultFixture, _ orgKey: String) async throws -> RunResult {
        try await v.cli(["org", "fetch", "g1", "--vault", "http://127.0.0.1:\(v.publicPort)", "--key", orgKey, "--out", v.root + "/fetched.ndjson"])
    }

    @Test("A flipped byte in a segment's key sealed to the person: export fails for that segment, naming it, and exports the rest")
    func personSealedKey() async throws {
        let (v, _) = try await setUp()
        let segment = try await flip(v, "SELECT 'segment' AS tbl, rowid AS rid, id AS name, sealedKey FROM segment ORDER BY ordinal LIMIT 1", column: "sealedKey")
        let export = try await v.cli(["export", "--passphrase-file", v.passphraseFile])
        #expect(export.status != 0)
        #expect(export.stderr.contains("segment \(segment): its sealed key does not open"), "\(export.stderr)")
        #expect(export.stdout.split(separator: "\n").count == 60, "the other hour is still exported")
        try await v.stopDaemon()
    }

    @Test("A flipped byte in a segment's key sealed to the organization: org fetch fails, naming the segment")
    func grantSealedKey() async throws {
        let (v, orgKey) = try await setUp()
        let segment = try await flip(v, """
            SELECT 'grant_key' AS tbl, k.rowid AS rid, s.id AS name, k.sealedKey FROM grant_key k JOIN segment s ON s.ordinal = k.segment
            ORDER BY k.segment LIMIT 1
            """, column: "sealedKey")
        let r = try await fetch(v, orgKey)
        #expect(r.status != 0)
        #expect(r.stderr.contains("refusing the grant") && r.stderr.contains(segment), "\(r.stderr)")
        try await v.stopDaemon()
    }

    @Test("A flipped byte in the stored co-signed grant: org fetch refuses it before any data is fetched")
    func grantDocument() async throws {
        let (v, orgKey) = try await setUp()
        _ = try await flip(v, "SELECT 'grant_record' AS tbl, rowid AS rid, id AS name, jws FROM grant_record LIMIT 1", column: "jws")
        let r = try await fetch(v, orgKey)
        #expect(r.status != 0)
        #expect(r.stderr.hasPrefix("vault-cli: refusing the grant"), "\(r.stderr)")
        let fetched = (try? String(contentsOfFile: v.root + "/fetched.ndjson", encoding: .utf8)) ?? ""
        #expect(fetched.isEmpty, "no reading is written from a grant that does not verify")
        try await v.stopDaemon()
    }
}
