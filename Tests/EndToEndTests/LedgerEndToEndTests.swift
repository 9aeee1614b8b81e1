import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation
import GRDB
import Logging
import NIOHTTP1
import Testing

/// Appends `count` leaves and signs a checkpoint after every `every` of them, as the daemon
/// would have over time (the daemon must be stopped).
private func grow(_ v: VaultFixture, count: Int, every: Int) async throws {
    let store = try VaultStore.open(dataDir: v.dataDir)
    let ledger = try await LedgerService(store: store, dataDir: v.dataDir, logger: Logger(label: "test"))
    for i in 0..<count {
        try await store.appendLeaves([LedgerLeaf(kind: .orgSeen, fields: ["n": .number("\(i)")], org: "org\(i % 2)")])
        if (i + 1) % every == 0 { try await ledger.checkpointNow() }
    }
    try await ledger.checkpointNow()
}

private func verify(_ v: VaultFixture) async throws -> RunResult {
    try await v.cli(["log", "verify", "--state", v.root + "/log-state.json"])
}

private func withDatabase(_ v: VaultFixture, _ body: @escaping @Sendable (Database) throws -> Void) async throws {
    let db = try DatabaseQueue(path: v.dataDir + "/vault.db")
    try await db.write(body)
}

@Suite("End to end: the ledger, its public endpoints and `vault-cli log`", .serialized)
struct LedgerEndToEndTests {
    @Test("log key prints what init printed; log show lists the genesis leaf; log verify passes and remembers")
    func basics() async throws {
        let v = try VaultFixture()
        let initOut = try await v.cli(["init", "--kdf", "interactive", "--passphrase-file", v.passphraseFile])
        try await grow(v, count: 30, every: 7)
        try await v.startDaemon()
        let key = try await v.cli(["log", "key"])
        #expect(key.status == 0)
        #expect(initOut.stdout.contains("log verifier key: " + key.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        let show = try await v.cli(["log", "show", "--type", "vault.genesis"])
        #expect(show.stdout.hasPrefix("#0  ") && show.stdout.contains("vault.genesis"))
        let org = try await v.cli(["log", "show", "--org", "org1", "--json"])
        #expect(org.stdout.split(separator: "\n").count == 15)
        let first = try await verify(v)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("31 leaves, 6 checkpoints"))
        #expect(first.stdout.contains("first verification"))
        let second = try await verify(v)
        #expect(second.status == 0)
        #expect(second.stdout.contains("consistent with the checkpoint verified on"))
        try await v.stopDaemon()
    }

    @Test("Changing one stored leaf byte is detected and the leaf named")
    func alteredLeaf() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await grow(v, count: 20, every: 5)
        try await withDatabase(v) { db in
            var data = try Data.fetchOne(db, sql: "SELECT data FROM ledger_leaf WHERE idx = 13")!
            data[data.count - 3] ^= 0x01
            try db.execute(sql: "UPDATE ledger_leaf SET data = ? WHERE idx = 13", arguments: [data])
        }
        try await v.startDaemon()
        let r = try await verify(v)
        #expect(r.status == 1)
        #expect(r.stderr.contains("leaf 13 was altered"), "\(r.stderr)")
        try await v.stopDaemon()
    }

    @Test("A leaf changed together with its stored hashes is caught by the first checkpoint after it")
    func alteredLeafAndHashes() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await grow(v, count: 20, every: 5)
        try await withDatabase(v) { db in
            let forged = LedgerLeaf(kind: .orgSeen, fields: ["n": .number("999")])
            try db.execute(sql: "UPDATE ledger_leaf SET data = ? WHERE idx = 8", arguments: [Data(forged.bytes)])
            try db.execute(sql: "UPDATE ledger_hash SET hash = ? WHERE level = 0 AND idx = 8", arguments: [Data(forged.hash)])
        }
        try await v.startDaemon()
        let r = try await verify(v)
        #expect(r.status == 1)
        #expect(r.stderr.contains("checkpoint at size 11 does not match the leaves: a leaf between 6 and 10 was changed"), "\(r.stderr)")
        try await v.stopDaemon()
    }

    @Test("Deleting the last leaves is detected: by the checkpoints, and by the remembered checkpoint when those go too")
    func rollback() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await grow(v, count: 20, every: 5)
        try await v.startDaemon()
        #expect(try await verify(v).status == 0)
        try await v.stopDaemon()
        try await withDatabase(v) { db in
            try db.execute(sql: "DELETE FROM ledger_leaf WHERE idx >= 18")
            try db.execute(sql: "DELETE FROM ledger_hash WHERE level = 0 AND idx >= 18")
        }
        try await v.startDaemon()
        let r = try await verify(v)
        #expect(r.status == 1)
        #expect(r.stderr.contains("checkpoint at size 21 covers more leaves than the log has (18)"), "\(r.stderr)")
        try await v.stopDaemon()
        // The gateway also drops the checkpoints that would betray it.
        try await withDatabase(v) { db in try db.execute(sql: "DELETE FROM ledger_checkpoint WHERE size > 16") }
        try await v.startDaemon()
        let r2 = try await verify(v)
        #expect(r2.status == 1)
        #expect(r2.stderr.contains("rolled back: it had 21 leaves"), "\(r2.stderr)")
        try await v.stopDaemon()
    }

    @Test("A rewritten history, re-signed with the real log key, is detected by the remembered checkpoint")
    func fork() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await grow(v, count: 10, every: 5)
        try await v.startDaemon()
        #expect(try await verify(v).status == 0)
        try await v.stopDaemon()
        // Root on the gateway rewrites everything after leaf 4 and re-signs.
        try await withDatabase(v) { db in
            try db.execute(sql: "DELETE FROM ledger_leaf WHERE idx >= 5")
            try db.execute(sql: "DELETE FROM ledger_hash WHERE idx >= 5 AND level = 0 OR (level > 0 AND (idx + 1) * (1 << level) > 5)")
            try db.execute(sql: "DELETE FROM ledger_checkpoint WHERE size > 5")
        }
        try await grow(v, count: 12, every: 4)
        try await v.startDaemon()
        let r = try await verify(v)
        #expect(r.status == 1)
        #expect(r.stderr.contains("the log was rewritten: its first 11 leaves no longer match"), "\(r.stderr)")
        try await v.stopDaemon()
    }

    @Test("A replaced checkpoint is detected and named")
    func replacedCheckpoint() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await grow(v, count: 10, every: 5)
        let impostor = SigningKeyPair.generate()
        try await withDatabase(v) { db in
            let note = try String.fetchOne(db, sql: "SELECT note FROM ledger_checkpoint WHERE size = 6")!
            let cp = try Checkpoint(text: String(note[..<note.range(of: "\n\n")!.lowerBound]) + "\n")
            let forged = SignedNote.sign(text: Checkpoint(origin: cp.origin, size: 6, root: Hash.sha256([1])).text, name: cp.origin, keyPair: impostor)
            try db.execute(sql: "UPDATE ledger_checkpoint SET note = ? WHERE size = 6", arguments: [forged])
        }
        try await v.startDaemon()
        let r = try await verify(v)
        #expect(r.status == 1)
        #expect(r.stderr.contains("checkpoint at size 6: its signature does not verify"), "\(r.stderr)")
        try await v.stopDaemon()
    }

    @Test("Public endpoints serve the checkpoint and proofs that verify, and answer bad input with problem+json 400s")
    func publicEndpoints() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await grow(v, count: 40, every: 40)
        try await v.startDaemon()
        let key = try SignedNote.Verifier(try await v.cli(["log", "key"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        let note = try await v.publicRequest("GET", "/v1/log/checkpoint")
        #expect(note.status == 200 && note.header("Content-Type")?.hasPrefix("text/plain") == true)
        let cp = try Checkpoint.open(String(decoding: note.body, as: UTF8.self), verifier: key)
        #expect(cp.size == 41)

        let inc = try await v.publicRequest("GET", "/v1/log/proof/inclusion?index=17&size=41")
        let proof = try JSONDecoder().decode(AdminAPI.InclusionProof.self, from: Data(inc.body))
        let store = try VaultStore(path: v.dataDir + "/vault.db")
        let leaf = try #require(try await store.leaf(at: 17))
        try Merkle.verifyInclusion(leafHash: Merkle.leafHash(leaf), index: 17, size: 41, proof: proof.hashes.map { Encoding.fromBase64($0)! }, root: cp.root)

        let con = try await v.publicRequest("GET", "/v1/log/proof/consistency?from=1&to=41")
        let cproof = try JSONDecoder().decode(AdminAPI.ConsistencyProof.self, from: Data(con.body))
        try Merkle.verifyConsistency(first: 1, second: 41, proof: cproof.hashes.map { Encoding.fromBase64($0)! },
                                     firstRoot: Merkle.leafHash(try #require(try await store.leaf(at: 0))), secondRoot: cp.root)

        for path in ["/v1/log/proof/inclusion?index=41&size=41", "/v1/log/proof/inclusion?index=0&size=42",
                     "/v1/log/proof/inclusion?index=x&size=4", "/v1/log/proof/inclusion?index=1", "/v1/log/proof/inclusion?index=-1&size=4",
                     "/v1/log/proof/inclusion?index=1&size=99999999999999999999999999",
                     "/v1/log/proof/consistency?from=5&to=4", "/v1/log/proof/consistency?from=0&to=4",
                     "/v1/log/proof/consistency?from=1&to=42", "/v1/log/proof/consistency?from=1.5&to=4"] {
            let r = try await v.publicRequest("GET", path)
            #expect(r.status == 400, "\(path)")
            #expect(r.header("Content-Type") == "application/problem+json", "\(path)")
            #expect(String(decoding: r.body, as: UTF8.self).contains("urn:edgevault:problem:bad_request"), "\(path)")
        }
        // Leaves stay private: the public listener does not serve them.
        #expect(try await v.publicRequest("GET", "/v1/log/leaves").status == 404)
        #expect(try await v.publicRequest("GET", "/healthz").status == 200)
        try await v.stopDaemon()
    }
}

@Suite("End to end: /metrics", .serialized)
struct MetricsEndToEndTests {
    @Test("/metrics (admin socket) reports readings, open segments, requests by status, live grants and the ledger in Prometheus text")
    func metrics() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        let now = Timestamp.now()
        #expect(try await v.cli(["ingest"], stdin: Array("{\"stream\":\"s\",\"t\":\(now),\"v\":1}\n{\"stream\":\"s\",\"t\":\(now + 1),\"v\":2}\n".utf8)).status == 0)
        // One call per listener that a route template must label, never the path it was asked with.
        #expect(try await v.publicRequest("GET", "/v1/requests/sleep-study-secret").status == 401)
        #expect(try await v.publicRequest("GET", "/v1/nothing/sleep-study-secret").status == 404)
        let r = try await v.request("GET", "/metrics")
        #expect(r.status == 200 && r.header("Content-Type")?.hasPrefix("text/plain") == true)
        let text = String(decoding: r.body, as: UTF8.self)
        let lines = Set(text.split(separator: "\n").map(String.init))
        for expected in ["edgevault_readings_ingested_total 2", "edgevault_segments_open 1.0", "edgevault_requests{status=\"pending\"} 0.0",
                         "edgevault_grants_live 0.0", "edgevault_ledger_leaves 1.0", "edgevault_checkpoint_size 1.0",
                         "# TYPE edgevault_chunks_written_total counter", "edgevault_commits_failed_total 0", "edgevault_mqtt_connected -1.0",
                         // Hummingbird's request metrics, by listener and route template.
                         "edgevault_http_requests_total{listener=\"admin\",route=\"/v1/ingest\",method=\"POST\",status=\"200\"} 1",
                         "edgevault_http_requests_total{listener=\"public\",route=\"/v1/requests/{id}\",method=\"GET\",status=\"401\"} 1",
                         "edgevault_http_request_errors_total{listener=\"public\",route=\"/v1/requests/{id}\",method=\"GET\",status=\"401\"} 1",
                         "edgevault_http_requests_total{listener=\"public\",route=\"NotFound\",method=\"GET\",status=\"404\"} 1",
                         "edgevault_http_request_duration_seconds_count{listener=\"admin\",route=\"/v1/ingest\",method=\"POST\",status=\"200\"} 1",
                         "# TYPE edgevault_http_request_duration_seconds histogram", "# TYPE edgevault_http_requests_active gauge"] {
            #expect(lines.contains(expected), "\(expected) in\n\(text)")
        }
        #expect(!text.contains("sleep-study-secret") && !text.contains("/v1/nothing"), "no path a client sent is a label")
        try await v.stopDaemon()
    }

    @Test("Public GET /metrics is 404 with no metrics text; the admin socket still serves it")
    func notPublic() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        #expect(try await v.cli(["ingest"], stdin: Array("{\"stream\":\"home/alice/insulin\",\"t\":\(Timestamp.now()),\"v\":1}\n".utf8)).status == 0)
        let r = try await v.publicRequest("GET", "/metrics")
        let body = String(decoding: r.body, as: UTF8.self)
        #expect(problem(r) == (404, "not_found"))
        #expect(!body.contains("edgevault_") && !body.contains("readings"), "\(body)")
        let admin = try await v.request("GET", "/metrics")
        #expect(admin.status == 200 && String(decoding: admin.body, as: UTF8.self).split(separator: "\n").contains("edgevault_readings_ingested_total 1"))
        try await v.stopDaemon()
    }

    @Test("metrics_listen serves /metrics (only) on a loopback address; a non-loopback value is refused with one line")
    func loopbackListener() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon(environment: ["EDGEVAULT_METRICS_LISTEN": "127.0.0.1:0"])
        let line = v.daemonLog?.text.split(separator: "\n").first { $0.contains("vaultd ready") } ?? ""
        let field = line.split(separator: " ").first { $0.hasPrefix("metrics=") }
        let port = try #require(field.flatMap { Int($0.split(separator: ":").last ?? "") }, "ready line: \(line)")
        #expect(port != v.publicPort)
        let client = HTTPClient(target: .tcp(host: "127.0.0.1", port: port))
        let r = try await client.send(method: .GET, path: "/metrics")
        #expect(r.status == 200 && String(decoding: r.body, as: UTF8.self).contains("edgevault_ledger_leaves"))
        #expect(try await client.send(method: .GET, path: "/v1/vault").status == 404, "nothing else on the metrics address")
        #expect(try await client.send(method: .GET, path: "/healthz").status == 404)
        try await v.stopDaemon()

        for bad in ["0.0.0.0:9464", "[::]:9464", "192.168.1.10:9464", "localhost:9464"] {
            let r = try await run(try Binaries.path("vaultd"), ["--data-dir", v.dataDir, "--admin-socket", v.socket, "--config", "/dev/null", "--listen", "127.0.0.1:0"],
                                  environment: ["EDGEVAULT_METRICS_LISTEN": bad], timeout: .seconds(30))
            #expect(r.status == 78, "\(bad): \(r.stderr)")
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].contains("metrics_listen") && lines[0].contains("loopback"), "\(bad): \(r.stderr)")
        }
    }
}
