import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation

/// `footprint`: what vaultd costs a small gateway — idle RSS, peak RSS while 1,000,000
/// readings arrive over the admin socket, bytes written to the disk per reading (from
/// `/proc/<pid>/io` `write_bytes`: what wears an SD card), start-up time to ready and binary
/// size. Baselines in the same run: a bare Hummingbird daemon from the same build (memory,
/// start-up, size) and the ingest benchmark's plaintext per-row SQLite inserts (bytes written).
struct FootprintBenchmark {
    let readings: Int

    func run() async throws {
        print("\nfootprint: vaultd idle, under a \(readings)-reading ingest, start-up, binary")
        let bin = IdleRSS.binDirectory
        let vaultd = bin + "/vaultd", bare = bin + "/bare-hummingbird"
        guard FileManager.default.isExecutableFile(atPath: vaultd), FileManager.default.isExecutableFile(atPath: bare) else {
            print("(footprint skipped: build vaultd and bare-hummingbird next to edgevault-bench)")
            return
        }
        // On the real disk (write_bytes is 0 on tmpfs).
        let dir = "/var/tmp/edgevault-bench-footprint-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var pass = Array("benchmark passphrase".utf8)
        _ = try VaultSetup.initialize(dataDir: dir + "/data", keyFile: dir + "/user.key", passphrase: SecureBytes(wiping: &pass), cost: .interactive)

        // Start-up to ready: vaultd's "ready" line vs the bare daemon's first answer.
        var startups: [Double] = [], bareStartups: [Double] = []
        for _ in 0..<5 {
            var d: RunningDaemon? = nil
            startups.append(try await measureSeconds { d = try RunningDaemon.start(dir: dir) })
            d?.stop()
            bareStartups.append(try await measureSeconds { try await IdleRSS.startAndStop(bare, [dir + "/b.sock"], socket: dir + "/b.sock") })
        }

        // Idle, then 1,000,000 readings in batches of 10,000 (as vault-cli ingest sends them).
        let idle = try await IdleRSS.measure()
        let daemon = try RunningDaemon.start(dir: dir)
        defer { daemon.stop() }
        let pid = daemon.process.processIdentifier
        let admin = AdminClient(socketPath: dir + "/v.sock")
        let input = IngestBenchmark(readings: readings).makeInput()
        let writtenBefore = Self.writeBytes(pid: pid)
        var samples: [Double] = []
        for body in input.batches {
            _ = try await admin.ingest(ndjson: body)
            samples.append(Self.status(pid: pid, "VmRSS"))
        }
        let written = Self.writeBytes(pid: pid) - writtenBefore
        let peak = Self.status(pid: pid, "VmHWM")
        // A backup of all of it, streamed to a file: vaultd's peak must not grow with the vault.
        let header = try await admin.backup(to: dir + "/vault.backup")
        let peakWithBackup = Self.status(pid: pid, "VmHWM")

        // Baseline writes: the plaintext per-row store of the ingest benchmark, in this process.
        let baseBefore = Self.writeBytes(pid: getpid())
        _ = try IngestBenchmark(readings: readings).insertPlaintext(path: dir + "/plain.db", rows: input.rows)
        let baseWritten = Self.writeBytes(pid: getpid()) - baseBefore

        func size(_ path: String) -> Double { Double(fileSize(path)) / 1_048_576 }
        func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
        var figures: [Figure] = []
        if let idle {
            figures.append(Figure(name: "idle RSS (MB)", ours: idle.vaultd, baseline: idle.bare, baselineName: "bare Hummingbird",
                                  goal: "≤ 20 MB", format: "%.1f"))
        }
        figures += [
            Figure(name: "peak RSS, 1M-reading ingest (MB)", ours: peak, baseline: idle?.vaultd ?? .nan, baselineName: "vaultd idle",
                   goal: "≤ 64 MB", format: "%.1f"),
            Figure(name: "peak RSS after a \(header.databaseBytes / 1_048_576) MB backup (MB)", ours: peakWithBackup, baseline: peak,
                   baselineName: "peak before it", goal: "≤ 64 MB", format: "%.1f"),
            Figure(name: "disk bytes written/reading", ours: Double(written) / Double(readings), baseline: Double(baseWritten) / Double(readings),
                   baselineName: "SQLite per-row", goal: "report", format: "%.1f"),
            Figure(name: "start-up to ready (ms)", ours: median(startups) * 1000, baseline: median(bareStartups) * 1000,
                   baselineName: "bare Hummingbird", goal: "report", format: "%.0f"),
            Figure(name: "binary size (MB)", ours: size(vaultd), baseline: size(bare), baselineName: "bare Hummingbird", goal: "report", format: "%.1f"),
        ]
        printTable("footprint results (RSS during the ingest: min \(String(format: "%.1f", samples.min() ?? 0)) MB, last \(String(format: "%.1f", samples.last ?? 0)) MB)", figures)
    }

    /// `write_bytes` of `/proc/<pid>/io`.
    static func writeBytes(pid: Int32) -> Int64 {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/io", encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n").first { $0.hasPrefix("write_bytes:") } ?? ""
        return Int64(line.split(separator: " ").last ?? "0") ?? 0
    }

    /// A `kB` field of `/proc/<pid>/status`, in MB.
    static func status(pid: Int32, _ field: String) -> Double {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = text.split(separator: "\n").first { $0.hasPrefix(field + ":") } ?? ""
        return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
    }
}
