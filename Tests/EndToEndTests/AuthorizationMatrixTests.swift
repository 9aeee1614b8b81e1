import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation
import GRDB
import NIOHTTP1
import Testing

/// Every organization-facing route, tried as (no signature, bad signature, another organization,
/// the right organization, a replay of the right organization's call) against a request in each
/// state an organization can meet: the exact status and problem code of each answer, and for
/// each refusal the threat model (docs/SECURITY.md) makes a violation, the `org.violation` leaf — and no other leaf.
@Suite("Authorization matrix: routes × callers × request states", .serialized)
struct AuthorizationMatrixTests {
    enum Caller: String, CaseIterable { case none, badSignature, otherOrg, rightOrg, replay }

    /// What one cell must answer.
    struct Expected {
        var status: Int
        var code: String?
        /// `status` field of a 200 request-status body.
        var requestStatus: String?
        /// The `org.violation` kind this refusal must record, and for which organization.
        var violation: (org: String, kind: String)?
        /// Leaf types a successful call may append.
        var leaves: Set<String> = []
    }

    static let states = ["pending", "denied", "withdrawn", "granted", "revoked", "expired", "lapsed"]
    static let grantStates: Set<String> = ["granted", "revoked", "expired"]

    @Test("Every org-facing route × caller × request state answers the exact status and code; every violation is a leaf")
    func matrix() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        let base = Timestamp.parseRFC3339("2026-11-01T00:00:00Z")!
        var lines = ""
        for i in 0..<24 {
            lines += "{\"stream\":\"home/t\",\"t\":\(base + Int64(i) * 300_000),\"v\":\(i)}\n"
            lines += "{\"stream\":\"home/other\",\"t\":\(base + Int64(i) * 300_000),\"v\":\(i)}\n"
        }
        #expect(try await v.cli(["ingest"], stdin: Array(lines.utf8)).status == 0)

        let a = TestOrg(v: v), b = TestOrg(v: v)
        for id in Self.states {
            let r = try await a.request(id: id, from: "2026-11-01T00:00:00Z", to: "2026-11-01T02:00:00Z", streams: ["home/t"])
            #expect(try await a.client.submit(r).status == "pending")
        }
        _ = try await b.client.submit(try await b.request(id: "b-own", streams: ["home/t"]))
        for id in ["granted", "revoked", "expired"] {
            let r = try await v.cli(["approve", id, "--passphrase-file", v.passphraseFile])
            #expect(r.status == 0, "\(r.stderr)")
        }
        #expect(try await v.cli(["deny", "denied", "--passphrase-file", v.passphraseFile]).status == 0)
        #expect(try await a.client.withdraw(id: "withdrawn").status == "withdrawn")
        #expect(try await v.cli(["revoke", "revoked", "--passphrase-file", v.passphraseFile]).status == 0)
        // Time passes for two of them: the grant's expiry and a pending request's expiry.
        try await v.stopDaemon()
        let db = try DatabaseQueue(path: v.dataDir + "/vault.db")
        let past = Timestamp.now() - 1000
        try await db.write { db in
            try db.execute(sql: "UPDATE grant_record SET expires = ? WHERE id = 'expired'", arguments: [past])
            try db.execute(sql: "UPDATE access_request SET expires = ? WHERE id = 'lapsed'", arguments: [past])
        }
        let (inScope, outOfScope): ([String: String], String) = try await db.read { db in
            var scope: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT k.grantId, s.id FROM grant_key k JOIN segment s ON s.ordinal = k.segment ORDER BY s.ordinal") {
                scope[row[0]] = scope[row[0]] ?? row[1]
            }
            let other: String = try String.fetchOne(db, sql: "SELECT s.id FROM segment s JOIN stream t ON t.id = s.streamId WHERE t.name = 'home/other' LIMIT 1")!
            return (scope, other)
        }
        try await v.startDaemon()

        struct Route {
            let name: String
            let method: HTTPMethod
            let path: (String) -> String
            let expect: (_ state: String) -> Expected
        }
        let orgA = a.keys.keyId, orgB = b.keys.keyId
        let firstSegment = inScope["granted"]!
        func fetchRule(_ state: String, success: Set<String>) -> Expected {
            switch state {
            case "granted": return Expected(status: 200, leaves: success)
            case "revoked": return Expected(status: 403, code: "grant_revoked", violation: (orgA, "fetch-after-revocation"))
            case "expired": return Expected(status: 403, code: "grant_expired", violation: (orgA, "fetch-after-expiry"))
            default: return Expected(status: 404, code: "not_found")
            }
        }
        let routes: [(route: Route, otherOrgKind: String, states: [String])] = [
            (Route(name: "GET /v1/requests/{id}", method: .GET, path: { "/v1/requests/\($0)" }, expect: { state in
                let shown = ["lapsed": "expired"][state] ?? state
                return Expected(status: 200, requestStatus: shown)
            }), "other-org-request", Self.states),
            (Route(name: "GET /v1/grants/{id}", method: .GET, path: { "/v1/grants/\($0)" }, expect: { state in
                Self.grantStates.contains(state) ? Expected(status: 200) : Expected(status: 404, code: "not_found")
            }), "other-org-grant", Self.states),
            (Route(name: "GET /v1/grants/{id}/segments", method: .GET, path: { "/v1/grants/\($0)/segments" }, expect: { state in
                fetchRule(state, success: [])
            }), "other-org-grant", Self.states),
            (Route(name: "GET /v1/grants/{id}/segments/{segment}/chunks", method: .GET,
                   path: { "/v1/grants/\($0)/segments/\(inScope[$0] ?? firstSegment)/chunks" }, expect: { state in
                fetchRule(state, success: ["data.released"])
            }), "other-org-grant", Self.states),
            (Route(name: "GET /v1/grants/{id}/segments/{out-of-scope segment}/chunks", method: .GET,
                   path: { "/v1/grants/\($0)/segments/\(outOfScope)/chunks" }, expect: { _ in
                Expected(status: 404, code: "not_found", violation: (orgA, "segment-out-of-scope"))
            }), "other-org-grant", ["granted"]),
            // Last: a withdrawal changes the state it is tried on.
            (Route(name: "DELETE /v1/requests/{id}", method: .DELETE, path: { "/v1/requests/\($0)" }, expect: { state in
                state == "pending" ? Expected(status: 200, requestStatus: "withdrawn", leaves: ["request.withdrawn"])
                    : Expected(status: 409, code: "not_pending")
            }), "other-org-request", Self.states),
        ]

        var cells = 0, passed = 0
        var violationsSeen = Set<String>()
        func check(_ name: String, _ response: HTTPClient.Response, _ e: Expected, since: Int64) async throws {
            cells += 1
            var failures: [String] = []
            let (status, code) = problem(response)
            if status != e.status { failures.append("status \(status), expected \(e.status)") }
            if let want = e.code, code != want { failures.append("code \(code), expected \(want)") }
            if let want = e.requestStatus {
                let got = try? JSONDecoder().decode(OrgClient.Status.self, from: Data(response.body))
                if got?.status != want { failures.append("request status \(got?.status ?? "none"), expected \(want)") }
            }
            // The leaves this call appended: the violation it must record, or what success logs; nothing else.
            let page = try JSONDecoder().decode(AdminAPI.Leaves.self, from: Data(try await v.request("GET", "/v1/log/leaves?from=\(since)&limit=100").body))
            var violations: [(String, String)] = []
            for leaf in page.leaves {
                let json = try JSONSerialization.jsonObject(with: Encoding.fromBase64(leaf.data).map { Data($0) } ?? Data()) as? [String: Any] ?? [:]
                let type = json["type"] as? String ?? "?"
                if type == "org.violation" {
                    violations.append((json["org"] as? String ?? "?", json["kind"] as? String ?? "?"))
                } else if !e.leaves.contains(type) {
                    failures.append("unexpected \(type) leaf")
                }
            }
            if let want = e.violation {
                let key = want.org + " " + want.kind
                // Violations are rate-limited to one per organization and kind per minute.
                if !violations.contains(where: { $0 == want }) && !violationsSeen.contains(key) {
                    failures.append("no org.violation \(want.kind) leaf for the organization")
                }
                violationsSeen.insert(key)
                violations.removeAll { $0 == want }
            }
            if !violations.isEmpty { failures.append("unexpected violation leaves \(violations)") }
            #expect(failures.isEmpty, "\(name): \(failures.joined(separator: "; "))")
            if failures.isEmpty { passed += 1 }
        }
        func size() async throws -> Int64 {
            try JSONDecoder().decode(AdminAPI.Leaves.self, from: Data(try await v.request("GET", "/v1/log/leaves?limit=1").body)).size
        }

        for (route, otherKind, states) in routes {
            for state in states {
                let path = route.path(state)
                var rightHeaders: [(String, String)] = []
                for caller in Caller.allCases {
                    let since = try await size()
                    let response: HTTPClient.Response
                    let expected: Expected
                    switch caller {
                    case .none:
                        response = try await a.send(route.method, path, headers: [], body: nil)
                        expected = Expected(status: 401, code: "signature_missing")
                    case .badSignature:
                        response = try await a.call(route.method, path, flipSignature: true)
                        expected = Expected(status: 401, code: "signature_invalid")
                    case .otherOrg:
                        response = try await b.call(route.method, path)
                        expected = Expected(status: 404, code: "not_found", violation: (orgB, otherKind))
                    case .rightOrg:
                        rightHeaders = try a.signedHeaders(route.method, path)
                        response = try await a.send(route.method, path, headers: rightHeaders, body: nil)
                        expected = route.expect(state)
                    case .replay:
                        response = try await a.send(route.method, path, headers: rightHeaders, body: nil)
                        expected = Expected(status: 401, code: "nonce_replayed", violation: (orgA, "replayed-call"))
                    }
                    try await check("\(route.name) [\(state)] as \(caller)", response, expected, since: since)
                }
            }
        }

        // POST /v1/requests: the same callers, against an id already taken (the org's "pending").
        let fresh = try a.submitBody(try await a.request(id: "post-\(UUID().uuidString.prefix(8))", streams: ["home/t"]))
        let taken = try a.submitBody(try await a.request(id: "pending", streams: ["home/t"]))
        let post: [(String, () async throws -> HTTPClient.Response, Expected)] = [
            ("none", { try await a.send(.POST, "/v1/requests", headers: [("Content-Type", "application/jose+json")], body: fresh) },
             Expected(status: 401, code: "signature_missing")),
            ("bad signature", { try await a.call(.POST, "/v1/requests", body: fresh, flipSignature: true) }, Expected(status: 401, code: "signature_invalid")),
            // Another organization's HTTP signature over A's JWS.
            ("other org", { try await b.call(.POST, "/v1/requests", body: fresh) }, Expected(status: 400, code: "jws_invalid")),
            ("right org, id taken", { try await a.call(.POST, "/v1/requests", body: taken) }, Expected(status: 409, code: "duplicate_id")),
        ]
        for (name, send, expected) in post {
            let since = try await size()
            try await check("POST /v1/requests as \(name)", try await send(), expected, since: since)
        }
        let headers = try a.signedHeaders(.POST, "/v1/requests", body: fresh)
        let accepted = try await a.send(.POST, "/v1/requests", headers: headers, body: fresh)
        #expect(accepted.status == 202)
        let since = try await size()
        try await check("POST /v1/requests replayed", try await a.send(.POST, "/v1/requests", headers: headers, body: fresh),
                        Expected(status: 401, code: "nonce_replayed", violation: (orgA, "replayed-call")), since: since)

        #expect(cells == passed)
        #expect(try await v.cli(["log", "verify", "--state", v.root + "/state.json"]).status == 0)
        try await v.stopDaemon()
        try recordReliability("authorization_matrix cells=\(cells) passed=\(passed)")
    }
}
