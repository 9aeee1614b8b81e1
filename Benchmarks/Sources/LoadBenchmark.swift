import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation

/// `load` (issue #8): 200 concurrent organization connections polling their requests and
/// fetching chunk pages of their grants, while the person's sensors keep ingesting, for 60 s
/// over loopback (bounded in calls and time). Reports throughput, p50/p99 latency per kind,
/// errors (goal 0) and vaultd's RSS every 5 s (goal: flat).
struct LoadBenchmark {
    var connections = 200
    var seconds = 60
    let organizations = 20
    let maxCallsPerConnection = 100_000

    func run() async throws {
        print("\nload: \(connections) organization connections (\(organizations) organizations), polling and fetching for \(seconds) s while ingest runs")
        guard toolsBuilt(["vaultd"], for: "load") else { return }
        let dir = try benchmarkVault("load")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let daemon = try RunningDaemon.start(dir: dir, environment: ["EDGEVAULT_REQUESTS_PER_MINUTE": "1000000", "EDGEVAULT_MAX_CONNECTIONS_PER_ADDRESS": "256"])
        defer { daemon.stop() }
        let port = daemon.port
        let admin = AdminClient(socketPath: dir + "/v.sock")

        // Six hours of history to fetch (one reading a second), then a grant per organization.
        let start: Int64 = 1_790_000_000_000 - 1_790_000_000_000 % 3_600_000
        for hour in 0..<6 {
            var ndjson = ""
            for s in 0..<3600 { ndjson += "{\"stream\":\"home/t\",\"t\":\(start + Int64(hour * 3600 + s) * 1000),\"v\":\(s % 50)}\n" }
            _ = try await admin.ingest(ndjson: Array(ndjson.utf8))
        }
        var p2 = Array("benchmark passphrase".utf8)
        let userKeys = try UserKeyFile.read(from: dir + "/user.key").unlock(passphrase: SecureBytes(wiping: &p2))
        let maker = DecisionMaker(client: admin, keys: userKeys)
        var orgs: [(keys: OrgKeys, segments: [String])] = []
        for n in 0..<organizations {
            let keys = OrgKeys.generate()
            let client = try OrgClient(vaultURL: "http://127.0.0.1:\(port)", keys: keys)
            let origin = try await client.origin()
            _ = try await client.submit(AccessRequest(vault: origin, id: "load-\(n)", orgName: "Load \(n)", orgContact: "", streams: ["home/t"],
                                                      from: start, to: start + 6 * 3_600_000, purpose: "load test", deliveryKey: keys.delivery.publicKey,
                                                      expires: Timestamp.now() + 3_600_000, created: Timestamp.now()))
            _ = try await maker.decide(try await maker.pending(id: "load-\(n)", org: nil), kind: .grant)
            let listed = try await client.send(.GET, "/v1/grants/load-\(n)/segments")
            let segments = try JSONDecoder().decode(OrgAPI.Segments.self, from: Data(listed.body)).segments.map(\.id)
            guard !segments.isEmpty else { throw BenchError("grant load-\(n) covers no segment") }
            orgs.append((keys, segments))
        }

        // Ingest while the organizations work: a batch of 100 live readings every 100 ms.
        let deadline = ContinuousClock.now + .seconds(seconds)
        let ingest = Task { () -> (acknowledged: Int, failed: Int) in
            var acknowledged = 0, failed = 0, n = 0
            while ContinuousClock.now < deadline {
                let now = Timestamp.now()
                let batch = (0..<100).map { "{\"stream\":\"live/power\",\"t\":\(now + Int64($0)),\"v\":\(n + $0)}\n" }.joined()
                n += 100
                do { acknowledged += try await admin.ingest(ndjson: Array(batch.utf8)) } catch { failed += 1 }
                try? await Task.sleep(for: .milliseconds(100))
            }
            return (acknowledged, failed)
        }
        // vaultd's RSS every 5 s.
        let pid = daemon.process.processIdentifier
        let sampler = Task { () -> [Double] in
            var samples: [Double] = []
            while ContinuousClock.now < deadline + .seconds(1) {
                samples.append(FootprintBenchmark.status(pid: pid, "VmRSS"))
                try? await Task.sleep(for: .seconds(5))
            }
            return samples
        }
        // Even calls poll the request's status, odd ones fetch the next page of a segment.
        let result = await Task.detached { [orgs, connections, organizations, maxCallsPerConnection] in
            LoadGenerator.run(port: port, connections: connections, callsPerConnection: maxCallsPerConnection, deadline: deadline) { c, i in
                let o = c % organizations
                let (keys, segments) = orgs[o]
                if i % 2 == 0 {
                    return ("poll", try! LoadGenerator.signedGet(path: "/v1/requests/load-\(o)", port: port, keys: keys))
                }
                let segment = segments[(c / organizations + i / 2) % segments.count]
                let after = (i / 2 * 16) % 240
                return ("fetch", try! LoadGenerator.signedGet(path: "/v1/grants/load-\(o)/segments/\(segment)/chunks",
                                                             query: "after=\(after)&limit=16", port: port, keys: keys))
            }
        }.value
        let (acknowledged, ingestFailures) = await ingest.value
        let rss = await sampler.value

        func percentile(_ values: [Double], _ p: Int) -> Double {
            let sorted = values.sorted()
            return sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, sorted.count * p / 100)]
        }
        let all = result.allLatencies
        let calls = all.count + result.failureCount
        print(String(format: "  %d calls in %.1f s: %.0f calls/s; errors %d %@", calls, result.seconds, Double(calls) / result.seconds,
                     result.failureCount, result.failures.isEmpty ? "" : "\(result.failures)"))
        for kind in result.latenciesMs.keys.sorted() {
            let l = result.latenciesMs[kind]!
            print(String(format: "  %@: %d answered, p50 %.2f ms, p99 %.2f ms", kind, l.count, percentile(l, 50), percentile(l, 99)))
        }
        print("  ingest during the run: \(acknowledged) readings acknowledged, \(ingestFailures) batches failed")
        print("  vaultd RSS every 5 s (MB): " + rss.map { String(format: "%.1f", $0) }.joined(separator: " "))
        let settled = rss.dropFirst(rss.count / 3)
        print("reliability_load connections=\(connections) seconds=\(seconds) calls=\(calls) " + String(format: "per_second=%.0f p50_ms=%.2f p99_ms=%.2f ", Double(calls) / result.seconds, percentile(all, 50), percentile(all, 99))
              + "poll_p99_ms=" + String(format: "%.2f", percentile(result.latenciesMs["poll"] ?? [], 99))
              + " fetch_p99_ms=" + String(format: "%.2f", percentile(result.latenciesMs["fetch"] ?? [], 99))
              + " errors=\(result.failureCount + ingestFailures) ingested=\(acknowledged) "
              + String(format: "rss_first_mb=%.1f rss_last_mb=%.1f rss_max_mb=%.1f rss_settled_spread_mb=%.1f", rss.first ?? 0, rss.last ?? 0, rss.max() ?? 0,
                       (settled.max() ?? 0) - (settled.min() ?? 0)))
    }
}
