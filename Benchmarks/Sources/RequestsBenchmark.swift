import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation
import NIOHTTP1

/// `requests`: signed `GET /v1/requests/{id}` calls/s against a real vaultd over loopback, from
/// a bounded load generator (one thread per keep-alive connection, a fixed number of calls, a time limit), against
/// raw libsodium Ed25519 verifications/s on every core in the same run (the issue's goal), and
/// against the ceiling of any signed API on Hummingbird: a bare Hummingbird server doing one
/// verify per call, driven the same way; server CPU per call for both; p50/p99 latency.
struct RequestsBenchmark {
    let calls: Int
    let concurrency = 16
    let timeLimit: Duration = .seconds(60)

    func run() async throws {
        print("\nrequests: \(calls) signed GETs, \(concurrency) keep-alive connections, over loopback")
        guard toolsBuilt(["vaultd", "bare-hummingbird"], for: "requests") else { return }
        let dir = try benchmarkVault("requests")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try RunningDaemon.start(dir: dir, environment: ["EDGEVAULT_REQUESTS_PER_MINUTE": "1000000", "EDGEVAULT_MAX_CONNECTIONS_PER_ADDRESS": "64"])
        defer { daemon.stop() }
        let port = daemon.port
        let keys = OrgKeys.generate()
        let org = try OrgClient(vaultURL: "http://127.0.0.1:\(port)", keys: keys)
        let origin = try await org.origin()
        let request = AccessRequest(vault: origin, id: "bench-1", orgName: "Bench", orgContact: "", streams: ["a/b"],
                                    from: 0, to: 1_000_000, purpose: "benchmark", deliveryKey: keys.delivery.publicKey,
                                    expires: Timestamp.now() + 3_600_000, created: Timestamp.now())
        _ = try await org.submit(request)

        // Every call is signed before the clock starts (fresh nonce each), so the figure is the
        // daemon's: keep-alive connections, one thread each.
        let perWorker = calls / concurrency
        let prepared = try (0..<concurrency).map { _ in
            try (0..<perWorker).map { _ in try LoadGenerator.signedGet(path: "/v1/requests/bench-1", port: port, keys: keys) }
        }
        let (result, cpuPerCall) = try drive(daemon, prepared)
        let latencies = result.allLatencies
        let seconds = result.seconds
        let sorted = latencies.sorted()

        // The ceiling: a bare Hummingbird server doing one Ed25519 verify per call and nothing
        // else, driven the same way (same connections, same number of calls).
        let bare = try RunningDaemon.startBareHummingbird()
        defer { bare.stop() }
        let bareCall = Array("GET /verify HTTP/1.1\r\nHost: 127.0.0.1:\(bare.port)\r\n\r\n".utf8)
        let (bareResult, bareCPUPerCall) = try drive(bare, prepared.map { $0.map { _ in bareCall } })
        let bareRate = Double(bareResult.allLatencies.count) / bareResult.seconds

        // Baseline: Ed25519 verifications per second on every core.
        let kp = SigningKeyPair.generate()
        let message = [UInt8](repeating: 1, count: 300)
        let sig = kp.sign(message)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let perCore = 40_000
        let verifySeconds = try await measureSeconds {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<cores {
                    group.addTask {
                        for _ in 0..<perCore where !kp.publicKey.isValidSignature(sig, for: message) { throw BenchError("verify failed") }
                    }
                }
                try await group.waitForAll()
            }
        }
        let verifyRate = Double(perCore * cores) / verifySeconds
        let rate = Double(latencies.count) / seconds
        printTable("requests results (\(latencies.count) calls in \(String(format: "%.1f", seconds)) s)", [
            Figure(name: "signed GET calls/s", ours: rate, baseline: verifyRate,
                   baselineName: "Ed25519 verifies/s, \(cores) cores", goal: "ratio ≥ 0.6"),
            Figure(name: "signed GET calls/s", ours: rate, baseline: bareRate,
                   baselineName: "bare Hummingbird + 1 verify per call", goal: "report (the ceiling)"),
            Figure(name: "server CPU per call (µs)", ours: cpuPerCall, baseline: bareCPUPerCall,
                   baselineName: "bare Hummingbird + 1 verify per call", goal: "report"),
            Figure(name: "latency p50 (ms)", ours: sorted[sorted.count / 2], baseline: 1000 / verifyRate,
                   baselineName: "one verify", goal: "report", format: "%.3f"),
            Figure(name: "latency p99 (ms)", ours: sorted[min(sorted.count - 1, sorted.count * 99 / 100)], baseline: 1000 / verifyRate,
                   baselineName: "one verify", goal: "report", format: "%.3f"),
        ])
    }

    /// Sends `requests` to `server` (connection `c` sends `requests[c]`); the result, every
    /// call answered 200, and the server's CPU time per call in µs.
    func drive(_ server: RunningDaemon, _ requests: [[[UInt8]]]) throws -> (LoadGenerator.Result, cpuPerCall: Double) {
        let cpuBefore = server.cpuSeconds
        let result = LoadGenerator.run(port: server.port, requests: requests, deadline: ContinuousClock.now + timeLimit)
        let cpuPerCall = (server.cpuSeconds - cpuBefore) / Double(max(1, result.allLatencies.count)) * 1e6
        guard result.failureCount == 0 else { throw BenchError("\(result.failureCount) calls failed: \(result.failures)") }
        return (result, cpuPerCall)
    }
}
