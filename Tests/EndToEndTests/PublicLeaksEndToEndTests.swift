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

@Suite("End to end: nothing public about the person's activity (issue 16, part 7)", .serialized)
struct PublicLeaksEndToEndTests {
    @Test("Unknown key, blocked key and bad signature get byte-identical answers: 401 signature_invalid, same detail; first contact still works")
    func oneAnswer() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        let known = TestOrg(v: v), blocked = TestOrg(v: v), stranger = TestOrg(v: v), newcomer = TestOrg(v: v)
        #expect(try await known.call(.POST, "/v1/requests", body: known.submitBody(try await known.request(id: "k1"))).status == 202)
        #expect(try await blocked.call(.POST, "/v1/requests", body: blocked.submitBody(try await blocked.request(id: "b1"))).status == 202)
        #expect(try await v.cli(["trust", "block", "--passphrase-file", v.passphraseFile, "--", blocked.keys.keyId]).status == 0)

        let answers: [(String, HTTPClient.Response)] = [
            ("bad signature (known key)", try await known.call(.GET, "/v1/requests/k1", flipSignature: true)),
            ("unknown key", try await stranger.call(.GET, "/v1/requests/k1")),
            ("blocked key, valid signature", try await blocked.call(.GET, "/v1/requests/b1")),
            ("blocked key, its own JWS", try await blocked.call(.POST, "/v1/requests", body: blocked.submitBody(try await blocked.request(id: "b2")))),
            ("unknown key, JWS without it", try await stranger.call(.POST, "/v1/requests", body: known.submitBody(try await known.request(id: "k2")))),
        ]
        let (_, first) = answers[0]
        #expect(problem(first) == (401, "signature_invalid"))
        for (name, r) in answers {
            #expect(r.status == 401, "\(name)")
            #expect(r.header("Content-Type") == first.header("Content-Type"), "\(name)")
            #expect(r.body == first.body, "\(name): \(String(decoding: r.body, as: UTF8.self)) vs \(String(decoding: first.body, as: UTF8.self))")
        }
        let detail = try JSONDecoder().decode(Problem.self, from: Data(first.body)).detail
        #expect(!detail.contains(known.keys.keyId) && !detail.contains(stranger.keys.keyId))

        // First contact: a new key introduced by its own request's JWS is accepted.
        #expect(try await newcomer.call(.POST, "/v1/requests", body: newcomer.submitBody(try await newcomer.request(id: "n1"))).status == 202)
        #expect(try await newcomer.call(.GET, "/v1/requests/n1").status == 200)
        // The blocked organization's request was not stored.
        let listed = try JSONDecoder().decode(AdminAPI.Requests.self, from: Data(try await v.request("GET", "/v1/requests").body))
        #expect(!listed.requests.contains { $0.id == "b2" })
        try await v.stopDaemon()
    }

    @Test("Probing another organization's existing request id grows the public ledger exactly as probing an id nobody holds")
    func ledgerGrowth() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        let owner = TestOrg(v: v), prober1 = TestOrg(v: v), prober2 = TestOrg(v: v)
        for (org, id) in [(owner, "secret-study"), (prober1, "p1"), (prober2, "p2")] {
            #expect(try await org.call(.POST, "/v1/requests", body: org.submitBody(try await org.request(id: id))).status == 202)
        }
        for route in ["/v1/requests/", "/v1/grants/"] {
            let s0 = try await treeSize(v)
            let existing = try await prober1.call(.GET, route + "secret-study")
            let s1 = try await treeSize(v)
            let missing = try await prober2.call(.GET, route + "nobody-has-this")
            let s2 = try await treeSize(v)
            #expect(problem(existing) == (404, "not_found") && problem(missing) == (404, "not_found"), "\(route)")
            #expect(s1 - s0 == s2 - s1, "\(route): growth \(s1 - s0) for an existing foreign id, \(s2 - s1) for a missing one")
            // Both are still recorded against the prober (docs/SECURITY.md threat model).
            #expect(try await violations(v, since: s0).count == 2, "\(route)")
        }
        // The same prober again inside the minute: rate-limited alike for existing and missing ids.
        let s3 = try await treeSize(v)
        _ = try await prober1.call(.GET, "/v1/requests/nobody-has-this")
        _ = try await prober2.call(.GET, "/v1/requests/secret-study")
        #expect(try await treeSize(v) == s3)
        // The owner's own view is unchanged.
        #expect(try await owner.call(.GET, "/v1/requests/secret-study").status == 200)
        try await v.stopDaemon()
    }
}

