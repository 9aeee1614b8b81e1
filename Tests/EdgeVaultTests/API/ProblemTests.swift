import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization
import Testing
@testable import EdgeVaultCore
@testable import EdgeVaultStore
@testable import EdgeVaultServer
@testable import EdgeVaultClient

/// A request context for driving a router in-process (no channel, no listener).
struct InProcessContext: RequestContext {
    struct Source: RequestContextSource {
        var logger: Logger
    }

    var coreContext: CoreRequestContextStorage

    init(source: Source) {
        coreContext = .init(source: source)
    }
}

/// Runs one request through `router` as the server would, and returns the problem document it
/// answers with (nil for a success).
func problem(_ router: Router<InProcessContext>, _ method: HTTPRequest.Method, _ path: String, body: [UInt8] = []) async throws -> Problem? {
    let request = Request(head: HTTPRequest(method: method, scheme: nil, authority: nil, path: path),
                          body: RequestBody(buffer: ByteBuffer(bytes: body)))
    let response = try await router.buildResponder().respond(to: request, context: InProcessContext(source: .init(logger: Logger(label: "test"))))
    guard response.status.code >= 400 else { return nil }
    #expect(response.headers[.contentType] == "application/problem+json")
    let sink = CollectedBody()
    try await response.body.write(CollectingWriter(sink: sink))
    let p = try JSONDecoder().decode(Problem.self, from: Data(sink.bytes.withLock { $0 }))
    #expect(p.statusCode == response.status.code, "the body's status is the response's")
    return p
}

final class CollectedBody: Sendable {
    let bytes = Mutex<[UInt8]>([])
}

struct CollectingWriter: ResponseBodyWriter {
    let sink: CollectedBody

    mutating func write(_ buffer: ByteBuffer) async throws {
        sink.bytes.withLock { $0 += buffer.readableBytesView }
    }

    mutating func write(contentsOf buffers: some Sequence<ByteBuffer>) async throws {
        for b in buffers { try await write(b) }
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}

@Suite("Error codes: one status per code, the documented table, no domain error as a 500")
struct ProblemTests {
    static var protocolDocument: String {
        get throws {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().deletingLastPathComponent()
            return try String(contentsOf: root.appendingPathComponent("docs/PROTOCOL.md"), encoding: .utf8)
        }
    }

    /// The rows `| \`code\` | status | … |` of docs/PROTOCOL.md §"Error codes".
    static func documentedCodes(_ document: String) throws -> [String: Int] {
        let section = try #require(document.components(separatedBy: "\n## Error codes\n").dropFirst().first)
            .components(separatedBy: "\n## ")[0]
        var rows: [String: Int] = [:]
        for line in section.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let code = cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            #expect(rows[code] == nil, "\(code) is listed twice")
            guard let status = Int(cells[1]) else {
                Issue.record("\(code): status \(cells[1]) is not a number")
                continue
            }
            rows[code] = status
        }
        return rows
    }

    @Test("Every code answers with a 4xx or 5xx status, and a problem carries its code's status")
    func statuses() {
        for code in VaultError.Code.allCases {
            #expect((400..<600).contains(code.status), "\(code)")
            let p = Problem(code: code, detail: "d")
            #expect(p.statusCode == code.status && p.code == code.rawValue)
            #expect(Problem(VaultError(code, "m")).statusCode == code.status)
        }
    }

    @Test("docs/PROTOCOL.md lists exactly the codes of VaultError.Code, each with its status")
    func documented() throws {
        let documented = try Self.documentedCodes(try Self.protocolDocument)
        let actual = Dictionary(uniqueKeysWithValues: VaultError.Code.allCases.map { ($0.rawValue, $0.status) })
        #expect(Set(documented.keys) == Set(actual.keys),
                "undocumented: \(Set(actual.keys).subtracting(documented.keys).sorted()), unknown: \(Set(documented.keys).subtracting(actual.keys).sorted())")
        for (code, status) in actual where documented[code] != nil {
            #expect(documented[code] == status, "\(code): documented \(documented[code]!), answers \(status)")
        }
    }

    @Test("The wire strings stay as other implementations know them")
    func wireStrings() {
        #expect(VaultError.Code.internalError.rawValue == "internal")
        #expect(VaultError.Code.config.rawValue == "config_invalid")
        #expect(VaultError.Code(rawValue: "verification_failed") == .verificationFailed)
        #expect(VaultError.Code(rawValue: "log_invalid") == .logInvalid)
        #expect(VaultError.Code(rawValue: "no_such_code") == nil)
    }

    @Test("Domain errors a handler does not map itself still answer 4xx with their code, not 500 internal")
    func unmappedDomainErrors() async throws {
        let router = Router(context: InProcessContext.self)
        router.add(middleware: ProblemMiddleware())
        router.get("/access") { _, _ -> String in throw AccessRequest.Invalid(kind: .request, detail: "purpose must be plain text") }
        router.get("/vault") { _, _ -> String in throw AccessRequest.Invalid(kind: .wrongVault, detail: "another vault") }
        router.get("/jws") { _, _ -> String in throw JWS.Failure("not a JWS") }
        router.get("/crit") { _, _ -> String in throw JWS.Failure("crit", unsupported: true) }
        router.get("/line") { _, _ -> String in throw LineError(line: 3, reason: "no value") }
        router.get("/signature") { _, _ -> String in throw HTTPMessageSignature.SignatureFailure.expired("late") }
        router.get("/file") { _, _ -> String in throw EdgeVaultCore.FileIO.Failure(path: "/secret/path", errno: EIO, action: "read") }
        router.get("/other") { _, _ -> String in throw CancellationError() }
        let expected: [(String, Int, String)] = [
            ("/access", 400, "request_invalid"), ("/vault", 400, "wrong_vault"), ("/jws", 400, "jws_invalid"),
            ("/crit", 400, "request_invalid"), ("/line", 400, "invalid_reading"), ("/signature", 401, "signature_expired"),
            ("/file", 503, "storage_unavailable"), ("/other", 500, "internal"),
        ]
        for (path, status, code) in expected {
            let p = try #require(try await problem(router, .get, path), "\(path)")
            #expect(p.statusCode == status && p.code == code, "\(path): \(p.statusCode) \(p.code)")
            #expect(!p.detail.contains("/secret/path"))
        }
        #expect(try await problem(router, .get, "/line")?.line == 3)
    }

    @Test("A grant of a stored request that no longer reads as one for this vault is 400 decision_invalid (was a 500)")
    func decisionOfInvalidStoredRequest() async throws {
        let vault = try TestVault()
        let logger = Logger(label: "test")
        let ledger = try await LedgerService(store: vault.store, dataDir: vault.dataDir, logger: logger)
        let manager = try await SegmentManager(store: vault.store, settings: .init(), logger: logger)
        let org = OrgKeys.generate()
        let now = Timestamp.now()
        // Stored as it arrived (the store does not check the origin; the public handler did).
        let access = AccessRequest(vault: "edgevault.local/another", id: "r1", orgName: "Acme", orgContact: "", streams: ["a/b"],
                                   from: 0, to: 1000, purpose: "a test", deliveryKey: org.delivery.publicKey,
                                   expires: now + 3_600_000, created: now)
        let jws = JWS.sign(payload: access.payload(), header: JWS.orgHeader(publicKey: org.signing.publicKey.bytes), keyPair: org.signing)
        try await vault.store.submitRequest(orgKeyId: org.keyId, orgPublicKey: org.signing.publicKey.bytes, request: access,
                                      payload: access.payload(), jws: jws.serialized(), limits: RequestLimits(), now: now)
        var decided = jws
        decided.appendSignature(header: Decision.header(kind: .grant, userKeyId: vault.keys.publicKeys.keyId, iat: now / 1000, segments: 0),
                                keyPair: vault.keys.signing)
        let input = AdminAPI.DecisionInput(org: org.keyId, id: "r1", jws: String(decoding: decided.serialized(), as: UTF8.self), sealedKeys: [])
        let router = Router(context: InProcessContext.self)
        router.add(middleware: ProblemMiddleware())
        AdminDecisionsController(store: vault.store, ledger: ledger, manager: manager).addRoutes(to: router)
        let p = try #require(try await problem(router, .post, "/v1/decisions", body: Array(try JSONEncoder().encode(input))))
        #expect(p.statusCode == 400 && p.code == "decision_invalid", "\(p.statusCode) \(p.code) \(p.detail)")
        #expect(p.detail.contains("edgevault.local/another"))
        await manager.shutdown()
    }

    @Test("An unknown stream is 400 unknown_stream wherever it is named (ingest and the segment listing)")
    func unknownStream() async throws {
        let vault = try TestVault()
        let logger = Logger(label: "test")
        let ledger = try await LedgerService(store: vault.store, dataDir: vault.dataDir, logger: logger)
        let manager = try await SegmentManager(store: vault.store, settings: .init(autoCreateStreams: false), logger: logger)
        let configuration = Configuration()
        let router = Router(context: InProcessContext.self)
        router.add(middleware: ProblemMiddleware())
        AdminController(store: vault.store, manager: manager, configuration: configuration, startedAt: Timestamp.now(),
                        mqtt: MQTTMonitor(configuration: configuration.mqtt), ledger: ledger).addRoutes(to: router)
        let listed = try #require(try await problem(router, .get, "/v1/segments?stream=nope"))
        #expect(listed.statusCode == 400 && listed.code == "unknown_stream")
        let ingested = try #require(try await problem(router, .post, "/v1/ingest", body: Array("{\"stream\":\"nope\",\"t\":1795600000000,\"v\":1}\n".utf8)))
        #expect(ingested.statusCode == 400 && ingested.code == "unknown_stream")
        await manager.shutdown()
    }
}
