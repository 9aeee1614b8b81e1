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

@Suite("End to end: a JWS with crit is refused (issue 16, part 8)", .serialized)
struct JWSCritEndToEndTests {
    /// A request JWS whose protected header carries `crit:["b64"]` and `b64:false`, signed.
    func critJWS(_ org: TestOrg, id: String) async throws -> [UInt8] {
        guard case .object(var header) = JWS.orgHeader(publicKey: org.keys.signing.publicKey.bytes) else { throw HarnessError("header") }
        header["crit"] = .array([.string("b64")])
        header["b64"] = .bool(false)
        let request = try await org.request(id: id)
        return JWS.sign(payload: request.payload(), header: .object(header), keyPair: org.keys.signing).serialized()
    }

    @Test("A request JWS with crit:[\"b64\"] and b64:false, or with an unprotected header, is refused (400 request_invalid naming it; a new key gets the one 401); nothing stored")
    func critRefused() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        let known = TestOrg(v: v), newcomer = TestOrg(v: v)
        #expect(try await known.call(.POST, "/v1/requests", body: known.submitBody(try await known.request(id: "ok-1"))).status == 202)
        let size = try await treeSize(v)
        let r = try await known.call(.POST, "/v1/requests", body: try await critJWS(known, id: "crit-1"))
        #expect(problem(r) == (400, "request_invalid"))
        #expect(r.header("Content-Type") == "application/problem+json")
        let detail = (try? JSONDecoder().decode(Problem.self, from: Data(r.body)))?.detail ?? ""
        #expect(detail.contains("crit") && detail.contains("b64"), "\(detail)")
        // A new key cannot introduce itself with such a JWS: it gets the one answer every
        // unknown or blocked key gets (anything more would tell them apart).
        #expect(problem(try await newcomer.call(.POST, "/v1/requests", body: try await critJWS(newcomer, id: "crit-1"))) == (401, "signature_invalid"))
        // An unprotected header that repeats alg (or anything else) is refused too.
        var plain = try JSONValue.parse(known.submitBody(try await known.request(id: "unprotected-1")))
        if case .object(var o) = plain, case .array(var sigs)? = o["signatures"], case .object(var first) = sigs[0] {
            first["header"] = .object(["alg": .string("none")])
            sigs[0] = .object(first)
            o["signatures"] = .array(sigs)
            plain = .object(o)
        }
        let unprotected = try await known.call(.POST, "/v1/requests", body: plain.serialized())
        #expect(problem(unprotected) == (400, "request_invalid"))
        #expect(try await treeSize(v) == size, "nothing appended")
        let listed = try JSONDecoder().decode(AdminAPI.Requests.self, from: Data(try await v.request("GET", "/v1/requests").body))
        #expect(listed.requests.map(\.id) == ["ok-1"])
        // The same request without crit is accepted.
        #expect(try await known.call(.POST, "/v1/requests", body: known.submitBody(try await known.request(id: "crit-1"))).status == 202)
        try await v.stopDaemon()
    }
}
