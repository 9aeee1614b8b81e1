import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation

/// `edgevault-bench [ingest|all] [--readings N]`: prints each figure next to its baseline
/// measured in the same run, and the ratio. See docs/BENCHMARKS.md.
@main
struct Bench {
    static func main() async throws {
        var args = Array(CommandLine.arguments.dropFirst())
        var readings = 1_000_000
        var leaves = 1_000_000
        var calls = 20_000
        var messages = 200_000
        var connections = 200, seconds = 60
        var runs = 200
        var checkpoints = 2000
        var megabytes = 100
        if let i = args.firstIndex(of: "--megabytes"), i + 1 < args.count, let n = Int(args[i + 1]), n > 0, n <= 1000 {
            megabytes = n
            args.removeSubrange(i...(i + 1))
        }
        if let i = args.firstIndex(of: "--checkpoints"), i + 1 < args.count, let n = Int(args[i + 1]), n > 0, n <= 1_000_000 {
            checkpoints = n
            args.removeSubrange(i...(i + 1))
        }
        if let i = args.firstIndex(of: "--connections"), i + 1 < args.count, let n = Int(args[i + 1]), n > 0, n <= 250 {
            connections = n
            args.removeSubrange(i...(i + 1))
        }
        if let i = args.firstIndex(of: "--seconds"), i + 1 < args.count, let n = Int(args[i + 1]), n > 0, n <= 3600 {
            seconds = n
            args.removeSubrange(i...(i + 1))
        }
        if let i = args.firstIndex(of: "--runs"), i + 1 < args.count, let n = Int(args[i + 1]), n > 0 {
            runs = n
            args.removeSubrange(i...(i + 1))
        }
        if let i = args.firstIndex(of: "--messages"), i + 1 < args.count, let n = Int(args[i + 1]) {
            messages = n
            args.removeSubrange(i...(i + 1))
        }
        if let i = args.firstIndex(of: "--calls"), i + 1 < args.count, let n = Int(args[i + 1]) {
            calls = n
            args.removeSubrange(i...(i + 1))
        }
        if let i = args.firstIndex(of: "--leaves"), i + 1 < args.count, let n = Int(args[i + 1]) {
            leaves = n
            args.removeSubrange(i...(i + 1))
        }
        if let i = args.firstIndex(of: "--readings"), i + 1 < args.count, let n = Int(args[i + 1]) {
            readings = n
            args.removeSubrange(i...(i + 1))
        }
        let which = args.first ?? "all"
        let known = ["ingest", "ledger", "requests", "delivery", "mqtt", "footprint", "load", "compute", "witness", "fragments", "all"]
        guard known.contains(which) else {
            print("usage: edgevault-bench [\(known.joined(separator: "|"))] [--readings N] [--leaves N] [--calls N] [--messages N] [--connections N] [--seconds S] [--runs N] [--checkpoints N] [--megabytes N]")
            exit(2)
        }
        printMachine()
        if which == "ingest" || which == "all" {
            try await IngestBenchmark(readings: readings).run()
        }
        if which == "ledger" || which == "all" {
            try await LedgerBenchmark(leaves: leaves).run()
        }
        if which == "requests" || which == "all" {
            try await RequestsBenchmark(calls: calls).run()
        }
        if which == "delivery" || which == "all" {
            try await DeliveryBenchmark(readings: min(readings, 500_000)).run()
        }
        if which == "footprint" || which == "all" {
            try await FootprintBenchmark(readings: readings).run()
        }
        if which == "mqtt" || which == "all" {
            try await MQTTBenchmark(messages: messages).run()
        }
        if which == "compute" || which == "all" {
            try await ComputeBenchmark(runs: runs).run()
        }
        if which == "witness" || which == "all" {
            try await WitnessBenchmark(checkpoints: checkpoints).run()
        }
        if which == "fragments" || which == "all" {
            try await FragmentsBenchmark(megabytes: megabytes).run()
        }
        if which == "load" || which == "all" {
            try await LoadBenchmark(connections: connections, seconds: seconds).run()
        }
    }

    static func printMachine() {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }?.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "unknown CPU"
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(cpu)")
    }
}

/// A row of the results table.
struct Figure {
    var name: String
    var ours: Double
    var baseline: Double
    var baselineName: String
    var goal: String
    var format: String = "%.0f"

    var ratio: Double { baseline == 0 ? .nan : ours / baseline }
}

func printTable(_ title: String, _ figures: [Figure]) {
    print("\n\(title)")
    let header = ["figure", "edgevault", "baseline", "ratio", "goal"]
    var rows: [[String]] = [header]
    for f in figures {
        rows.append([f.name, String(format: f.format, f.ours), String(format: f.format, f.baseline) + " (\(f.baselineName))",
                     String(format: "%.2f", f.ratio), f.goal])
    }
    var widths = [Int](repeating: 0, count: header.count)
    for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
    for r in rows {
        print(r.enumerated().map { i, c in c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }.joined(separator: "  "))
    }
}

/// Seconds of wall-clock time `body` takes.
func measureSeconds(_ body: () async throws -> Void) async rethrows -> Double {
    let start = ContinuousClock.now
    try await body()
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

func fileSize(_ path: String) -> Int64 {
    ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
}

func temporaryDirectory(_ name: String) throws -> String {
    let dir = FileManager.default.temporaryDirectory.path + "/edgevault-bench-\(name)-\(getpid())"
    try? FileManager.default.removeItem(atPath: dir)
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// A running release `vaultd` on a benchmark's data directory.
/// A fresh vault in a temporary folder, its key file unlocked by "benchmark passphrase".
func benchmarkVault(_ name: String) throws -> String {
    let dir = try temporaryDirectory(name)
    var pass = Array("benchmark passphrase".utf8)
    _ = try VaultSetup.initialize(dataDir: dir + "/data", keyFile: dir + "/user.key", passphrase: SecureBytes(wiping: &pass), cost: .interactive)
    return dir
}

/// Whether `tools` are built next to edgevault-bench; says why `benchmark` is skipped if not.
func toolsBuilt(_ tools: [String], for benchmark: String) -> Bool {
    for tool in tools where !FileManager.default.isExecutableFile(atPath: IdleRSS.binDirectory + "/" + tool) {
        print("(\(benchmark) skipped: build \(tool) next to edgevault-bench)")
        return false
    }
    return true
}

struct RunningDaemon {
    let process: Process
    let port: Int
    /// The end of what the daemon wrote (for a benchmark's error message).
    let output: DaemonOutput

    /// Starts `vaultd` (admin socket `<dir>/v.sock`, public API on a free loopback port) and
    /// waits for its ready line.
    static func start(dir: String, environment: [String: String] = [:], config: String = "/dev/null") throws -> RunningDaemon {
        try start("vaultd", ["--config", config, "--data-dir", dir + "/data", "--admin-socket", dir + "/v.sock", "--listen", "127.0.0.1:0"],
                  environment: environment)
    }

    /// Starts `bare-hummingbird` on a free loopback port (`/healthz`, `/verify`).
    static func startBareHummingbird() throws -> RunningDaemon {
        try start("bare-hummingbird", ["--listen", "127.0.0.1:0"])
    }

    /// Starts one of the built tools and waits for its ready line (`… ready … listen=HOST:PORT`).
    private static func start(_ tool: String, _ arguments: [String], environment: [String: String] = [:]) throws -> RunningDaemon {
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: IdleRSS.binDirectory + "/" + tool)
        daemon.arguments = arguments
        if !environment.isEmpty { daemon.environment = environment }
        let log = Pipe()
        daemon.standardError = log
        daemon.standardOutput = log
        try daemon.run()
        var port = 0, seen = ""
        while port == 0 {
            let chunk = log.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw BenchError("\(tool) exited: \(seen)") }
            seen += String(decoding: chunk, as: UTF8.self)
            if let line = seen.split(separator: "\n").first(where: { $0.contains(" ready") }),
               let field = line.split(separator: " ").first(where: { $0.hasPrefix("listen=") }) {
                port = Int(field.split(separator: ":").last ?? "") ?? 0
            }
        }
        // The log is read on until the daemon exits: a pipe nobody reads blocks the daemon's
        // next write once 64 KiB are waiting (a long run with several vaultd logs that much).
        let output = DaemonOutput()
        output.append(Data(seen.utf8))
        Thread {
            while true {
                let chunk = log.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                output.append(chunk)
            }
        }.start()
        return RunningDaemon(process: daemon, port: port, output: output)
    }

    /// CPU time (user + system) the process used so far, in seconds.
    var cpuSeconds: Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return 0 }
        // Fields after the command name: state is field 3; utime and stime are 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}

/// The last 64 KiB a daemon wrote to its standard output and error.
final class DaemonOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var tail: [UInt8] = []

    func append(_ data: Data) {
        lock.lock()
        defer { lock.unlock() }
        tail += data
        if tail.count > 65_536 { tail.removeFirst(tail.count - 65_536) }
    }

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: tail, as: UTF8.self)
    }
}
