import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation
import GRDB
import NIOHTTP1
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("End to end: request status after revocation and expiry (issue 16, part 8)", .serialized)
struct RequestStatusEndToEndTests {
    @Test("Status says revoked after revocation and expired after expiry; org status prints it; org fetch refuses with one line before fetching, and no violation is recorded")
    func revokedAndExpired() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        let base = Timestamp.parseRFC3339("2026-11-01T00:00:00Z")!
        let lines = (0..<60).map { "{\"stream\":\"home/t\",\"t\":\(base + Int64($0) * 60_000),\"v\":\($0)}\n" }.joined()
        #expect(try await v.cli(["ingest"], stdin: Array(lines.utf8)).status == 0)
        let orgKey = v.root + "/org.key"
        #expect(try await v.cli(["org", "keygen", "--out", orgKey]).status == 0)
        let vault = "http://127.0.0.1:\(v.publicPort)"
        for id in ["g-ok", "g-revoked", "g-expired", "g-denied"] {
            let r = try await v.cli(["org", "request", "--vault", vault, "--key", orgKey, "--stream", "home/t", "--from", "2026-11-01T00:00:00Z",
                                     "--to", "2026-11-01T01:00:00Z", "--purpose", "status test", "--expires", "2030-01-01", "--name", "Status", "--id", id])
            #expect(r.status == 0, "\(r.stderr)")
        }
        for id in ["g-ok", "g-revoked", "g-expired"] {
            let r = try await v.cli(["approve", id, "--passphrase-file", v.passphraseFile])
            #expect(r.status == 0, "\(r.stderr)")
        }
        #expect(try await v.cli(["deny", "g-denied", "--passphrase-file", v.passphraseFile]).status == 0)
        #expect(try await v.cli(["revoke", "g-revoked", "--passphrase-file", v.passphraseFile]).status == 0)
        try await v.stopDaemon()
        let db = try DatabaseQueue(path: v.dataDir + "/vault.db")
        try await db.write { try $0.execute(sql: "UPDATE grant_record SET expires = ? WHERE id = 'g-expired'", arguments: [Timestamp.now() - 1000]) }
        try await v.startDaemon()
        let orgVault = "http://127.0.0.1:\(v.publicPort)"

        for (id, status) in [("g-ok", "granted"), ("g-revoked", "revoked"), ("g-expired", "expired"), ("g-denied", "denied")] {
            let shown = try await v.cli(["org", "status", id, "--vault", orgVault, "--key", orgKey])
            #expect(shown.status == 0 && shown.stdout.hasPrefix("\(id) \(status)"), "\(id): \(shown.stdout) \(shown.stderr)")
        }
        for (id, word) in [("g-revoked", "revoked"), ("g-expired", "expired"), ("g-denied", "denied")] {
            let before = try await treeSize(v)
            let out = v.root + "/\(id).ndjson"
            let r = try await v.cli(["org", "fetch", id, "--vault", orgVault, "--key", orgKey, "--out", out])
            #expect(r.status == 1, "\(id)")
            #expect(isOneLine(r.stderr) && r.stderr.contains(word) && (r.stderr.contains("nothing was fetched") || r.stderr.contains("nothing to fetch")),
                    "\(id): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out))
            #expect(try await violations(v, since: before).isEmpty, "\(id): a well-behaved organization records no violation")
            #expect(try await treeSize(v) == before, "\(id): nothing appended")
        }
        // The live grant still fetches.
        let ok = try await v.cli(["org", "fetch", "g-ok", "--vault", orgVault, "--key", orgKey, "--out", v.root + "/ok.ndjson"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(((try? String(contentsOfFile: v.root + "/ok.ndjson", encoding: .utf8)) ?? "").split(separator: "\n").count == 60)
        try await v.stopDaemon()
    }
}
