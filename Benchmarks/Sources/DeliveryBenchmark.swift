import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation

/// `delivery`: readings/s of `vault-cli org fetch` (verify + fetch + decrypt over loopback)
/// against the person's own `vault-cli export` of the same data in the same run, and the
/// approval-to-fetchable latency (co-sign, re-seal, anchor, first successful grant fetch).
struct DeliveryBenchmark {
    let readings: Int

    func run() async throws {
        print("\ndelivery: \(readings) readings, one grant covering them all")
        let bin = IdleRSS.binDirectory
        guard toolsBuilt(["vaultd", "vault-cli"], for: "delivery") else { return }
        let dir = try benchmarkVault("delivery")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("benchmark passphrase\n".utf8).write(to: URL(fileURLWithPath: dir + "/pass"))

        let daemon = try RunningDaemon.start(dir: dir)
        defer { daemon.stop() }
        let port = daemon.port
        let common = ["--config", "/dev/null", "--admin-socket", dir + "/v.sock", "--user-key", dir + "/user.key"]
        func cli(_ args: [String]) throws -> Double {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: bin + "/vault-cli")
            p.arguments = args + common
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            let start = ContinuousClock.now
            try p.run()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { throw BenchError("vault-cli \(args.first ?? "") failed (\(p.terminationStatus))") }
            let d = ContinuousClock.now - start
            return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
        }

        // The data: past readings on one stream.
        let start: Int64 = 1_790_000_000_000
        var ndjson = ""
        ndjson.reserveCapacity(readings * 60)
        for i in 0..<readings { ndjson += "{\"stream\":\"home/t\",\"t\":\(start + Int64(i) * 1000),\"v\":\(20 + i % 10).\(i % 100)}\n" }
        try Data(ndjson.utf8).write(to: URL(fileURLWithPath: dir + "/in.ndjson"))
        _ = try cli(["ingest", dir + "/in.ndjson"])

        // Approval-to-fetchable, in process: decide, then fetch the grant until it answers.
        let admin = AdminClient(socketPath: dir + "/v.sock")
        var p2 = Array("benchmark passphrase".utf8)
        let keys = try UserKeyFile.read(from: dir + "/user.key").unlock(passphrase: SecureBytes(wiping: &p2))
        let maker = DecisionMaker(client: admin, keys: keys)
        let org = try OrgKeys.create(at: dir + "/org.key")
        let client = try OrgClient(vaultURL: "http://127.0.0.1:\(port)", keys: org)
        let origin = try await client.origin()
        var latencies: [Double] = []
        for n in 0..<9 {
            let id = n == 0 ? "all" : "small-\(n)"
            let to = n == 0 ? start + Int64(readings) * 1000 + 3_600_000 : start + 3_600_000
            _ = try await client.submit(AccessRequest(vault: origin, id: id, orgName: "Bench", orgContact: "", streams: ["home/t"], from: start - start % 3_600_000,
                                                      to: to, purpose: "bench", deliveryKey: org.delivery.publicKey,
                                                      expires: Timestamp.now() + 3_600_000, created: Timestamp.now()))
            let t0 = ContinuousClock.now
            _ = try await maker.decide(try await maker.pending(id: id, org: nil), kind: .grant)
            while try await client.send(.GET, "/v1/grants/\(id)").status != 200 {}
            let d = ContinuousClock.now - t0
            latencies.append(Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15)
        }
        latencies.sort()

        let exportSeconds = try cli(["export", "--passphrase-file", dir + "/pass", "-o", dir + "/export.ndjson"])
        let fetchSeconds = try cli(["org", "fetch", "all", "--vault", "http://127.0.0.1:\(port)", "--key", dir + "/org.key", "--out", dir + "/fetch.ndjson"])
        printTable("delivery results", [
            Figure(name: "readings/s delivered", ours: Double(readings) / fetchSeconds, baseline: Double(readings) / exportSeconds,
                   baselineName: "person's own export", goal: "ratio ≥ 0.8"),
            Figure(name: "approval → fetchable p50 (ms)", ours: latencies[latencies.count / 2], baseline: latencies.first ?? 0,
                   baselineName: "fastest of 9", goal: "report", format: "%.1f"),
        ])
    }
}
