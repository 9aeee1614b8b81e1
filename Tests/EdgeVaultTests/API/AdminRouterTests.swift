import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Testing
@testable import EdgeVaultCore
@testable import EdgeVaultStore
@testable import EdgeVaultServer

/// The daemon's admin router, exactly as `vaultd` builds it, driven in-process: every
/// endpoint's refusal of bad input, with its status and code (the end-to-end suites keep what
/// needs the real binaries).
@Suite("Admin API in-process: each endpoint's refusals", .serialized)
struct AdminRouterTests {
    struct Case: Sendable, CustomStringConvertible {
        var method: HTTPRequest.Method
        var path: String
        var body: String = ""
        var status: Int
        var code: String
        var description: String { "\(method) \(path) → \(status) \(code)" }
    }

    static let cases: [Case] = [
        Case(method: .post, path: "/v1/ingest", body: "{\"stream\":\"a/b\",\"t\":1795600000000,\"v\":1}\n{\"stream\":\"a/b\",\"t\":\n", status: 400, code: "invalid_reading"),
        Case(method: .post, path: "/v1/ingest", body: "{\"stream\":\"a/b\",\"t\":1795600000,\"v\":1}\n", status: 400, code: "invalid_reading"),
        Case(method: .post, path: "/v1/ingest", body: String(repeating: "x", count: 70_000), status: 413, code: "too_large"),
        Case(method: .get, path: "/v1/segments?from=yesterday", status: 400, code: "bad_request"),
        Case(method: .get, path: "/v1/segments?from=5&to=1", status: 400, code: "bad_request"),
        Case(method: .get, path: "/v1/segments?stream=no/such", status: 400, code: "unknown_stream"),
        Case(method: .get, path: "/v1/segments/nope/chunks", status: 404, code: "not_found"),
        Case(method: .post, path: "/v1/streams", body: "{\"name\":\"a/c\",\"retentionSeconds\":1}", status: 400, code: "bad_request"),
        Case(method: .put, path: "/v1/streams/retention", body: "{\"stream\":\"a/b\",\"retentionSeconds\":1}", status: 400, code: "decision_invalid"),
        Case(method: .post, path: "/v1/segments/keys", body: "{}", status: 400, code: "decision_invalid"),
        Case(method: .post, path: "/v1/segments/close", body: "{}", status: 400, code: "bad_request"),
        Case(method: .post, path: "/v1/deletions", body: "{\"readings\":5}", status: 400, code: "deletion_invalid"),
        Case(method: .get, path: "/v1/requests?status=lost", status: 400, code: "bad_request"),
        Case(method: .post, path: "/v1/compute/decisions", body: "{}", status: 400, code: "bad_request"),
        Case(method: .post, path: "/v1/compute/decisions", body: "{\"org\":\"o\",\"grant\":\"g\",\"jws\":\"{}\"}", status: 400, code: "result_invalid"),
        Case(method: .post, path: "/v1/compute/decisions", body: String(repeating: "x", count: 9 * 1024 * 1024), status: 413, code: "too_large"),
        Case(method: .get, path: "/v1/modules/sha256:nothere", status: 404, code: "not_found"),
        Case(method: .post, path: "/v1/recovery/policy", body: "{}", status: 400, code: "recovery_policy_invalid"),
        Case(method: .post, path: "/v1/recovery/policy", body: "{\"policy\":\"{}\"}", status: 400, code: "recovery_policy_invalid"),
        Case(method: .post, path: "/v1/recovery/policy", body: foreignPolicy, status: 400, code: "recovery_policy_invalid"),
        Case(method: .delete, path: "/v1/compute/pending", status: 405, code: "method_not_allowed"),
        Case(method: .delete, path: "/v1/ingest", status: 405, code: "method_not_allowed"),
        Case(method: .get, path: "/v1/nothing-here", status: 404, code: "not_found"),
    ]

    /// A well-formed recovery policy signed by a key that is not the vault's.
    static let foreignPolicy: String = {
        let jws = RecoveryPolicy.make(vault: "edgevault.local/x", groupThreshold: 1, groups: [.init(threshold: 2, count: 3)], passphrase: false,
                                      at: Timestamp.now(), keys: UserKeys(root: SecureBytes.random(count: 32)))
        let body = try! JSONEncoder().encode(AdminAPI.RecoveryPolicyInput(policy: String(decoding: jws.serialized(), as: UTF8.self)))
        return String(decoding: body, as: UTF8.self)
    }()

    @Test("Each admin endpoint refuses bad input with its documented status and code, as problem+json", arguments: cases)
    func refusals(_ c: Case) async throws {
        let vault = try TestVault()
        let logger = Logger(label: "test")
        let ledger = try await LedgerService(store: vault.store, dataDir: vault.dataDir, logger: logger)
        var configuration = Configuration()
        configuration.maxIngestBodyBytes = 64 * 1024
        let manager = try await SegmentManager(store: vault.store, settings: .init(), logger: logger)
        let mqtt = MQTTMonitor(configuration: configuration.mqtt)
        let router = buildAdminRouter(context: InProcessContext.self, store: vault.store, ledger: ledger, manager: manager,
                                      configuration: configuration, mqtt: mqtt, notifier: RequestNotifier(),
                                      metrics: Metrics(store: vault.store, manager: manager, ledger: ledger, mqtt: mqtt))
        let p = try #require(try await problem(router, c.method, c.path, body: Array(c.body.utf8)), "\(c) succeeded")
        #expect(p.statusCode == c.status && p.code == c.code, "\(c): got \(p.statusCode) \(p.code) \(p.detail)")
        #expect(try await vault.store.streams().isEmpty, "\(c): nothing was created")
        await manager.shutdown()
    }
}
