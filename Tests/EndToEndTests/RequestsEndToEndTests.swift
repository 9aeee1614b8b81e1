import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation
import NIOHTTP1
import Testing

/// The ledger size and the number of stored requests: what "nothing was stored" compares.
private func stored(_ v: VaultFixture) async throws -> (Int64, Int) {
    let leaves = try JSONDecoder().decode(AdminAPI.Leaves.self, from: Data(try await v.request("GET", "/v1/log/leaves?limit=1").body))
    let requests = try JSONDecoder().decode(AdminAPI.Requests.self, from: Data(try await v.request("GET", "/v1/requests").body))
    return (leaves.size, requests.requests.count)
}

@Suite("End to end: organizations' signed requests over real HTTP", .serialized)
struct RequestsEndToEndTests {
    @Test("A signed request is stored as pending with org.seen and request.received leaves; status and withdraw work")
    func happyPath() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        let org = TestOrg(v: v)
        let r = try await org.call(.POST, "/v1/requests", body: org.submitBody(try await org.request(id: "study-1")))
        #expect(r.status == 202, "\(String(decoding: r.body, as: UTF8.self))")
        #expect(String(decoding: r.body, as: UTF8.self).contains("\"status\":\"pending\""))
        let listed = try JSONDecoder().decode(AdminAPI.Requests.self, from: Data(try await v.request("GET", "/v1/requests?status=pending").body))
        #expect(listed.requests.map(\.id) == ["study-1"])
        let log = try await v.cli(["log", "show", "--org", org.keys.keyId])
        #expect(log.stdout.contains("org.seen") && log.stdout.contains("request.received"))
        #expect(try await org.client.status(id: "study-1").status == "pending")
        #expect(try await org.client.withdraw(id: "study-1").status == "withdrawn")
        #expect(try await org.client.status(id: "study-1").status == "withdrawn")
        let again = try await org.call(.DELETE, "/v1/requests/study-1")
        #expect(problem(again) == (409, "not_pending"))
        // The toolkit's own commands do the same.
        try org.keys.write(to: v.root + "/acme.key", deliverySeed: SecureBytes.random(count: 32))
        let cli = try await v.cli(["org", "request", "--vault", "http://127.0.0.1:\(v.publicPort)", "--key", v.root + "/acme.key",
                                   "--stream", "a/b", "--from", "2026-11-01", "--to", "2027-01-01", "--purpose", "p",
                                   "--expires", "2027-01-01", "--name", "Acme", "--id", "cli-1"])
        #expect(cli.status == 0 && cli.stdout.contains("cli-1 pending"), "\(cli.stderr)")
        try await v.stopDaemon()
    }

    @Test("Every client mistake is a problem+json with its code, and nothing is stored")
    func problemCodes() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon(environment: ["EDGEVAULT_MAX_PENDING_PER_ORG": "2"])
        let org = TestOrg(v: v), other = TestOrg(v: v)
        let origin = try await org.client.origin()
        // A known organization with one pending request, for the cases that need one.
        #expect(try await org.call(.POST, "/v1/requests", body: org.submitBody(try await org.request(id: "first"))).status == 202)
        let baseline = try await stored(v)

        var cases: [(String, Int, String, HTTPClient.Response)] = []
        func add(_ name: String, _ status: Int, _ code: String, _ r: HTTPClient.Response) { cases.append((name, status, code, r)) }

        let good = org.submitBody(try await org.request(id: "x1"))
        add("no signature", 401, "signature_missing",
            try await HTTPClient(target: .tcp(host: "127.0.0.1", port: v.publicPort)).send(method: .POST, path: "/v1/requests", body: good))
        add("bad signature", 401, "signature_invalid", try await org.call(.POST, "/v1/requests", body: good, flipSignature: true))
        add("signature by another key", 401, "signature_invalid", try await org.call(.POST, "/v1/requests", body: good, signWith: SigningKeyPair.generate()))
        add("path not covered", 401, "signature_invalid", try await org.call(.GET, "/v1/requests/first", components: ["@method"]))
        add("digest not covered", 401, "signature_invalid", try await org.call(.POST, "/v1/requests", body: good, components: ["@method", "@path"]))
        add("body changed after signing", 400, "digest_mismatch", try await org.call(.POST, "/v1/requests", body: good, sendBody: good + [0x20]))
        add("created too old", 401, "signature_expired", try await org.call(.GET, "/v1/requests/first", created: Timestamp.now() / 1000 - 1000))
        add("created in the future", 401, "signature_expired", try await org.call(.GET, "/v1/requests/first", created: Timestamp.now() / 1000 + 1000))
        add("unknown key", 401, "signature_invalid", try await other.call(.GET, "/v1/requests/first"))
        add("not a JWS", 400, "jws_invalid", try await org.call(.POST, "/v1/requests", body: Array("{\"hello\":1}".utf8)))
        var foreign = other.client.jws(for: try await org.request(id: "x2"))
        foreign.appendSignature(header: JWS.orgHeader(publicKey: other.keys.signing.publicKey.bytes), keyPair: other.keys.signing)
        add("JWS by another key", 400, "jws_invalid", try await org.call(.POST, "/v1/requests", body: other.client.jws(for: try await org.request(id: "x3")).serialized()))
        add("two signatures", 400, "jws_invalid", try await org.call(.POST, "/v1/requests", body: foreign.serialized()))
        add("from after to", 400, "request_invalid",
            try await org.call(.POST, "/v1/requests", body: org.submitBody(try await org.request(id: "x4", from: "2026-12-01T00:00:00Z", to: "2026-11-01T00:00:00Z"))))
        add("bad stream name", 400, "request_invalid",
            try await org.call(.POST, "/v1/requests", body: org.submitBody(try await org.request(id: "x5", streams: ["no spaces allowed"]))))
        add("another vault", 400, "wrong_vault",
            try await org.call(.POST, "/v1/requests", body: org.submitBody(try await org.request(id: "x6", vault: "edgevault.local/someoneelse"))))
        add("reused id", 409, "duplicate_id", try await org.call(.POST, "/v1/requests", body: org.submitBody(try await org.request(id: "first"))))
        add("oversized body", 413, "too_large", try await org.call(.POST, "/v1/requests", body: [UInt8](repeating: 0x20, count: 70_000)))
        add("another org's id", 404, "not_found", try await org.call(.GET, "/v1/requests/someone-elses"))
        add("no such route", 404, "not_found", try await HTTPClient(target: .tcp(host: "127.0.0.1", port: v.publicPort)).send(method: .GET, path: "/v1/nothing"))
        #expect(try await org.call(.POST, "/v1/requests", body: org.submitBody(try await org.request(id: "second"))).status == 202)
        let afterSecond = try await stored(v)
        add("too many pending", 429, "too_many_pending", try await org.call(.POST, "/v1/requests", body: org.submitBody(try await org.request(id: "third"))))

        for (name, status, code, response) in cases {
            #expect(problem(response) == (status, code), "\(name)")
            #expect(response.header("Content-Type") == "application/problem+json", "\(name)")
            let detail = (try? JSONDecoder().decode(Problem.self, from: Data(response.body)))?.detail ?? ""
            #expect(!detail.isEmpty, "\(name): a detail tells the caller what to fix")
        }
        // Asking for an id that is not yours is an org.violation leaf whether or not another
        // organization holds it (the log's growth must not tell); otherwise only the second
        // good request was stored.
        #expect(afterSecond.0 == baseline.0 + 2 && afterSecond.1 == baseline.1 + 1, "only the violation and the second good request were stored")
        #expect(try await stored(v) == afterSecond, "nothing was stored by a refused call")
        _ = origin

        // Blocked.
        #expect(try await v.cli(["trust", "block", "--passphrase-file", v.passphraseFile, "--", org.keys.keyId]).status == 0)
        let afterBlock = try await stored(v)
        #expect(afterBlock == (afterSecond.0 + 3, afterSecond.1), "org.blocked and a request.denied for each of the two pending requests")
        let blocked = try await org.call(.GET, "/v1/requests/first")
        #expect(problem(blocked) == (401, "signature_invalid"))
        #expect(try await stored(v) == afterBlock)
        try await v.stopDaemon()
    }

    @Test("A replayed call is refused, also after a daemon restart")
    func replay() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        let org = TestOrg(v: v)
        #expect(try await org.call(.POST, "/v1/requests", body: org.submitBody(try await org.request(id: "r1"))).status == 202)
        let created = Timestamp.now() / 1000
        let first = try await org.call(.GET, "/v1/requests/r1", created: created, nonce: "fixed-nonce-1")
        #expect(first.status == 200)
        let second = try await org.call(.GET, "/v1/requests/r1", created: created, nonce: "fixed-nonce-1")
        #expect(problem(second) == (401, "nonce_replayed"))
        try await v.stopDaemon()
        try await v.startDaemon()
        let third = try await org.call(.GET, "/v1/requests/r1", created: created, nonce: "fixed-nonce-1")
        #expect(problem(third) == (401, "nonce_replayed"))
        #expect(try await org.call(.GET, "/v1/requests/r1").status == 200, "a fresh nonce still works")
        try await v.stopDaemon()
    }

    @Test("The per-organization rate limit answers 429 with Retry-After")
    func rateLimit() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon(environment: ["EDGEVAULT_REQUESTS_PER_MINUTE": "3"])
        let org = TestOrg(v: v)
        #expect(try await org.call(.POST, "/v1/requests", body: org.submitBody(try await org.request(id: "r1"))).status == 202)
        #expect(try await org.call(.GET, "/v1/requests/r1").status == 200)
        #expect(try await org.call(.GET, "/v1/requests/r1").status == 200)
        let limited = try await org.call(.GET, "/v1/requests/r1")
        #expect(problem(limited) == (429, "rate_limited"))
        #expect(Int(limited.header("Retry-After") ?? "") ?? 0 >= 1)
        try await v.stopDaemon()
    }

    @Test("With unknown organizations refused, only a pinned key may ask")
    func pinnedOnly() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon(environment: ["EDGEVAULT_ALLOW_UNKNOWN_ORGS": "false"])
        let org = TestOrg(v: v), stranger = TestOrg(v: v)
        #expect(try await v.cli(["trust", "add", "--name", "Acme (checked by phone)", "--passphrase-file", v.passphraseFile, "--", org.keys.keyId]).status == 0)
        let before = try await stored(v)
        let refused = try await stranger.call(.POST, "/v1/requests", body: stranger.submitBody(try await stranger.request(id: "s1")))
        #expect(problem(refused) == (401, "unknown_key"))
        #expect(try await stored(v) == before)
        #expect(try await org.call(.POST, "/v1/requests", body: org.submitBody(try await org.request(id: "p1"))).status == 202)
        let list = try await v.cli(["trust", "list"])
        #expect(list.stdout.contains("pinned") && list.stdout.contains("Acme (checked by phone)"))
        try await v.stopDaemon()
    }

    @Test("Every path either router serves, asked with a method it is not served with, answers 405 with Allow; an unknown path 404")
    func methodNotAllowed() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        // The routes, read from the routers exactly as the daemon builds them.
        let store = try VaultStore.open(dataDir: v.dataDir)
        let ledger = try await LedgerService(store: store, dataDir: v.dataDir, logger: .init(label: "t"))
        let manager = try await SegmentManager(store: store, settings: .init(), logger: .init(label: "t"))
        let configuration = Configuration()
        let mqtt = MQTTMonitor(configuration: configuration.mqtt)
        let witnessing = try await Witnessing.make(store: store, ledger: ledger, dataDir: v.dataDir, configuration: configuration.witnessing,
                                                   logger: .init(label: "t"))
        let admin = buildAdminRouter(store: store, ledger: ledger, manager: manager, configuration: configuration, mqtt: mqtt,
                                     notifier: RequestNotifier(), metrics: Metrics(store: store, manager: manager, ledger: ledger, mqtt: mqtt),
                                     witnessing: witnessing)
            .routes.map { ($0.method.rawValue, $0.path.description) }
        let publicRoutes = try await buildPublicRouter(store: store, ledger: ledger, configuration: configuration, notifier: RequestNotifier(),
                                                       witnessing: witnessing)
            .routes.map { ($0.method.rawValue, $0.path.description) }
        try await v.startDaemon()

        let put = try await v.publicRequest("PUT", "/v1/requests/some-id")
        #expect(problem(put) == (405, "method_not_allowed"))
        #expect(put.header("Allow") == "DELETE, GET")
        let deleteCheckpoint = try await v.publicRequest("DELETE", "/v1/log/checkpoint")
        #expect(problem(deleteCheckpoint) == (405, "method_not_allowed") && deleteCheckpoint.header("Allow") == "GET")
        #expect(problem(try await v.publicRequest("GET", "/v1/nothing/here")) == (404, "not_found"))
        #expect(problem(try await v.request("GET", "/v1/nothing/here")) == (404, "not_found"))

        // No route is served with PATCH: every path of both routers answers it 405, Allow naming
        // exactly the methods its template is routed with.
        for (routes, isPublic) in [(publicRoutes, true), (admin, false)] {
            #expect(routes.count >= 10)
            for path in Set(routes.map(\.1)) {
                let allow = routes.filter { $0.1 == path }.map(\.0).sorted().joined(separator: ", ")
                let concrete = path.replacingOccurrences(of: "{id}", with: "x1").replacingOccurrences(of: "{segment}", with: "x2")
                    .replacingOccurrences(of: "{keyId}", with: "x3").replacingOccurrences(of: "{name}", with: "x4")
                    .replacingOccurrences(of: "{storageIndex}", with: "0123456789abcdef-01").replacingOccurrences(of: "{n}", with: "0")
                    .replacingOccurrences(of: "{org}", with: "x5").replacingOccurrences(of: "{grant}", with: "x6").replacingOccurrences(of: "{seq}", with: "7")
                let r = isPublic ? try await v.publicRequest("PATCH", concrete) : try await v.request("PATCH", concrete)
                #expect(problem(r) == (405, "method_not_allowed") && r.header("Allow") == allow, "PATCH \(concrete): \(r.status) \(r.header("Allow") ?? "")")
            }
        }
        try await v.stopDaemon()
    }

    @Test("openapi.yaml is served byte for byte as the server target's file, and documents exactly the routed operations")
    func openAPI() async throws {
        let repo = repositoryRoot
        let file = try Data(contentsOf: repo.appendingPathComponent("Sources/EdgeVaultServer/API/Public/openapi.yaml"))
        #expect([UInt8](file) == OpenAPIDocument.bytes)
        #expect(try Data(contentsOf: repo.appendingPathComponent("openapi.yaml")) == file, "the top-level openapi.yaml is that file")
        let v = try VaultFixture()
        try await v.initVault()
        let store = try VaultStore.open(dataDir: v.dataDir)
        let ledger = try await LedgerService(store: store, dataDir: v.dataDir, logger: .init(label: "t"))
        let witnessing = try await Witnessing.make(store: store, ledger: ledger, dataDir: v.dataDir, configuration: .init(), logger: .init(label: "t"))
        let router = try await buildPublicRouter(store: store, ledger: ledger, configuration: Configuration(), notifier: RequestNotifier(),
                                                 witnessing: witnessing)
        let routed = Set(router.routes.map { route in
            "\(route.method) " + route.path.description.split(separator: "/", omittingEmptySubsequences: false)
                .map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
        })
        let documented = Set(OpenAPIDocument.operations.map { "\($0.method) \($0.path)" })
        #expect(!documented.isEmpty)
        #expect(routed == documented, "routed: \(routed.sorted()) documented: \(documented.sorted())")
        try await v.startDaemon()
        let served = try await v.publicRequest("GET", "/v1/openapi.yaml")
        #expect(served.status == 200 && served.body == [UInt8](file))
        for op in OpenAPIDocument.operations {
            let r = try await v.publicRequest(op.method, op.path.replacingOccurrences(of: "{id}", with: "x").replacingOccurrences(of: "{segment}", with: "y")
                .replacingOccurrences(of: "{name}", with: "z").replacingOccurrences(of: "{storageIndex}", with: "0123456789abcdef-01")
                .replacingOccurrences(of: "{n}", with: "0"))
            #expect(!String(decoding: r.body, as: UTF8.self).contains("no such endpoint"), "\(op) is routed")
        }
        try await v.stopDaemon()
    }
}
