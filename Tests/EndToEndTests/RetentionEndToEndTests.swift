import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation
import Testing

@Suite("End to end: retention per stream", .serialized)
struct RetentionEndToEndTests {
    @Test("Shortening retention says what it would delete and needs a yes; then exactly the expired segments are deleted, logged and recorded as a data.deleted leaf; a grant over them lists nothing for them")
    func expiredSegmentsGo() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon(environment: ["EDGEVAULT_RETENTION_SWEEP_SECONDS": "1"])
        let hour: Int64 = 3_600_000
        let now = Timestamp.now()
        let old = Timestamp.parseRFC3339("2026-01-01T00:00:00Z")!
        let recent = now - now % hour - 2 * hour  // a closed bucket two hours ago
        #expect(try await v.cli(["stream", "add", "home/temp", "--retention", "30d", "--passphrase-file", v.passphraseFile]).status == 0)
        #expect(try await v.cli(["stream", "add", "home/keep"]).status == 0)
        var lines = ""
        for i in 0..<4 {  // two old buckets, two readings each
            lines += "{\"stream\":\"home/temp\",\"t\":\(old + Int64(i / 2) * hour + Int64(i)),\"v\":\(i)}\n"
            lines += "{\"stream\":\"home/keep\",\"t\":\(old + Int64(i)),\"v\":\(i)}\n"
        }
        lines += "{\"stream\":\"home/temp\",\"t\":\(recent),\"v\":100}\n"
        // Set the retention only after a grant covers the old data.
        #expect(try await v.cli(["stream", "retention", "home/temp", "off", "--passphrase-file", v.passphraseFile]).status == 0)
        #expect(try await v.cli(["ingest"], stdin: Array(lines.utf8)).status == 0)
        let o = try OrgClient(vaultURL: "http://127.0.0.1:\(v.publicPort)", keys: OrgKeys.generate())
        let request = AccessRequest(vault: try await o.origin(), id: "study", orgName: "Study", orgContact: "", streams: ["home/temp"],
                                    from: old, to: now, purpose: "test", deliveryKey: o.keys.delivery.publicKey,
                                    expires: now + 86_400_000, created: now)
        #expect(try await o.submit(request).status == "pending")
        #expect(try await v.cli(["approve", "study", "--passphrase-file", v.passphraseFile]).status == 0)
        func grantSegments() async throws -> [String] {
            let r = try await o.send(.GET, "/v1/grants/study/segments")
            #expect(r.status == 200)
            let o = try JSONSerialization.jsonObject(with: Data(r.body)) as! [String: Any]
            return (o["segments"] as! [[String: Any]]).map { $0["id"] as! String }
        }
        #expect(try await grantSegments().count == 3)

        // Shortening retention says what it deletes and needs a yes: refused without a terminal
        // or --yes, refused on a terminal without a typed yes, nothing changed either way.
        let unconfirmed = try await v.cli(["stream", "retention", "home/temp", "30d", "--passphrase-file", v.passphraseFile])
        #expect(unconfirmed.status == 1 && unconfirmed.stderr.contains("deletes 2 segments of home/temp (4 readings, 2026-01-01T00:00:00Z → 2026-01-01T02:00:00Z)"),
                "\(unconfirmed.stderr)")
        let asked = try PTYSession(try Binaries.path("vault-cli"), ["stream", "retention", "home/temp", "30d", "--passphrase-file", v.passphraseFile] + v.globalArgs, environment: v.cliEnvironment)
        #expect(await asked.expect("Type yes to go on"))
        asked.type("no\r")
        #expect(await asked.waitForExit() == 1 && asked.output.text.contains("not changed"))
        #expect(try await v.cli(["stream", "list"]).stdout.contains("30d") == false, "nothing changed")
        let set = try await v.cli(["stream", "retention", "home/temp", "30d", "--yes", "--passphrase-file", v.passphraseFile])
        #expect(set.stdout.contains("home/temp: data kept 30d after each bucket ends"), "\(set.stdout)\(set.stderr)")
        let list = try await v.cli(["stream", "list"])
        #expect(list.stdout.contains("30d") && list.stdout.contains("forever"), "\(list.stdout)")
        #expect(await v.daemonLog!.wait(for: "retention deleted expired segments", timeout: .seconds(30)))
        let logLine = v.daemonLog!.text.split(separator: "\n").first { $0.contains("retention deleted") } ?? ""
        #expect(logLine.contains("stream=home/temp") && logLine.contains("segments=2") && logLine.contains("readings=4"), "\(logLine)")

        // Exactly the expired segments are gone: the recent bucket and the other stream stay.
        let export = try await v.cli(["export", "--passphrase-file", v.passphraseFile])
        let values = export.stdout.split(separator: "\n").map(String.init)
        #expect(values.filter { $0.contains("home/temp") }.count == 1)
        #expect(values.contains { $0.contains("home/temp") && $0.contains("\"v\":100") })
        #expect(values.filter { $0.contains("home/keep") }.count == 4)
        // The grant now lists only the recent segment.
        #expect(try await grantSegments().count == 1)
        // The ledger keeps the fact, and still verifies.
        let shown = try await v.cli(["log", "show", "--type", "data.deleted"])
        #expect(shown.stdout.contains("data.deleted") && shown.stdout.contains("home/temp"), "\(shown.stdout)\(shown.stderr)")
        let verified = try await v.cli(["log", "verify"])
        #expect(verified.status == 0, "\(verified.stderr)")
        // A second pass finds nothing more to delete.
        let status = try await v.request("GET", "/v1/status")
        #expect(status.status == 200)
        #expect(v.daemonLog!.text.components(separatedBy: "retention deleted expired segments").count == 2)
        try await v.stopDaemon()
    }

    @Test("Retention durations: 90d, 12h, 30m, 3600s and off; nonsense and a bare number (days or seconds?) are refused with one line naming the units")
    func durations() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        #expect(try await v.cli(["stream", "add", "a/b"]).status == 0)
        for (text, shown) in [("90d", "90d"), ("12h", "12h"), ("30m", "30m"), ("3600s", "1h"), ("off", "forever")] {
            let r = try await v.cli(["stream", "retention", "a/b", text, "--passphrase-file", v.passphraseFile])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains(shown), "\(r.stdout)")
        }
        for bad in ["0d", "soon", "5x", "1y", "90"] {  // a bare number: days or seconds? refused
            let r = try await v.cli(["stream", "retention", "a/b", bad])
            #expect(r.status != 0)
            #expect(r.stderr.contains("a duration must look like 90d"), "\(bad): \(r.stderr)")
        }
        let missing = try await v.cli(["stream", "retention", "no/such", "1d", "--passphrase-file", v.passphraseFile])
        #expect(missing.status != 0 && missing.stderr.contains("no stream \"no/such\""), "\(missing.stderr)")
        try await v.stopDaemon()
    }

    @Test("Retention is the person's: unsigned changes over the admin socket are refused and change nothing; a signed one is a stream.retention leaf; a replay is refused")
    func signedOnly() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        #expect(try await v.cli(["stream", "add", "home/insulin"]).status == 0)
        let unsigned = try await v.request("PUT", "/v1/streams/retention", body: Array(#"{"stream":"home/insulin","retentionSeconds":1}"#.utf8))
        #expect(problem(unsigned) == (400, "decision_invalid"), "\(String(decoding: unsigned.body, as: UTF8.self))")
        let created = try await v.request("POST", "/v1/streams", body: Array(#"{"name":"home/pump","retentionSeconds":1}"#.utf8))
        #expect(problem(created) == (400, "bad_request"))
        let streams = try await v.cli(["stream", "list"])
        #expect(!streams.stdout.contains("home/pump") && streams.stdout.contains("forever"), "\(streams.stdout)")
        // A change signed by another key is refused too.
        var passphrase = Array(VaultFixture.passphrase.utf8)
        let keys = try UserKeyFile.read(from: v.keyFile).unlock(passphrase: SecureBytes(wiping: &passphrase))
        let stranger = UserKeys(root: .random(count: 32))
        let origin = try JSONDecoder().decode(AdminAPI.VaultInfo.self, from: Data(try await v.request("GET", "/v1/vault").body)).origin
        func put(_ jws: JWS) async throws -> HTTPClient.Response {
            try await v.request("PUT", "/v1/streams/retention",
                                body: Array(try JSONEncoder().encode(AdminAPI.SignedRetention(change: String(decoding: jws.serialized(), as: UTF8.self)))))
        }
        let foreign = try await put(RetentionChange.make(vault: origin, stream: "home/insulin", retentionSeconds: 60, at: Timestamp.now(), keys: stranger))
        #expect(problem(foreign) == (400, "decision_invalid"))
        let change = RetentionChange.make(vault: origin, stream: "home/insulin", retentionSeconds: 86_400, at: Timestamp.now(), keys: keys)
        #expect(try await put(change).status == 200)
        #expect(problem(try await put(change)) == (400, "decision_invalid"), "a replay is refused")
        let log = try await v.cli(["log", "show", "--type", "stream.retention"])
        #expect(log.stdout.contains("stream=home/insulin") && log.stdout.contains("retentionSeconds=86400"), "\(log.stdout)")
        #expect(try await v.cli(["stream", "list"]).stdout.contains("1d"))
        try await v.stopDaemon()
    }
}
