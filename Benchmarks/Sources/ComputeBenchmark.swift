import EdgeVaultCompute
import EdgeVaultCore
import Foundation

/// `compute`: what one run of an organization's module costs (docs/SECURITY.md §"The compute
/// sandbox"): a module that does nothing, `runs` times (the sandbox process's start, hardening
/// and reaping), and a loop of about 10 million Wasm instructions (time and fuel).
struct ComputeBenchmark {
    let runs: Int

    /// `(module (memory (export "memory") 1) (func (export "_start")))`
    static let empty: [UInt8] = [
        0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x03, 0x02, 0x01, 0x00,
        0x05, 0x03, 0x01, 0x00, 0x01, 0x07, 0x13, 0x02, 0x06, 0x6D, 0x65, 0x6D, 0x6F, 0x72, 0x79, 0x02, 0x00, 0x06,
        0x5F, 0x73, 0x74, 0x61, 0x72, 0x74, 0x00, 0x00, 0x0A, 0x04, 0x01, 0x02, 0x00, 0x0B,
    ]

    /// `_start` counts a local from 0 to `iterations` (8 operators a turn):
    /// `(loop $l (local.set 0 (i32.add (local.get 0) (i32.const 1))) (br_if $l (i32.lt_u (local.get 0) (i32.const N))))`
    static func countingLoop(iterations: Int32) -> [UInt8] {
        let n = UInt32(bitPattern: iterations)
        let leb: [UInt8] = [UInt8(n & 0x7F) | 0x80, UInt8((n >> 7) & 0x7F) | 0x80, UInt8((n >> 14) & 0x7F) | 0x80,
                            UInt8((n >> 21) & 0x7F) | 0x80, UInt8((n >> 28) & 0x07)]
        return Array(empty[0..<44]) + [0x0A, 0x1B, 0x01, 0x19, 0x01, 0x01, 0x7F, 0x03, 0x40, 0x20, 0x00, 0x41, 0x01, 0x6A,
                                       0x21, 0x00, 0x20, 0x00, 0x41] + leb + [0x49, 0x0D, 0x00, 0x0B, 0x0B]
    }

    func run() async throws {
        print("\ncompute: \(runs) runs of an empty module against spawning /bin/true; aggregate over 100,000 readings in the sandbox against the same C built natively")
        let runner = SandboxRunner()
        let limits = JobLimits(fuel: 1 << 40, memoryPages: 256, outputBytes: 1 << 20, wallMs: 120_000)
        _ = try await runner.run(module: Self.empty, stdin: [], limits: limits, clockNanos: 0)
        var times: [Double] = [], baseline: [Double] = []
        for _ in 0..<runs {
            times.append(try await measureSeconds {
                let outcome = try await runner.run(module: Self.empty, stdin: [], limits: limits, clockNanos: 0)
                precondition(outcome.failure == nil, "empty run failed: \(outcome.detail)")
            })
            baseline.append(try measureProcess("/bin/true", [], stdin: []).seconds)
        }
        times.sort()
        baseline.sort()
        var figures = [Figure(name: "one run, spawn to reaped (ms, median)", ours: times[times.count / 2] * 1000,
                              baseline: baseline[baseline.count / 2] * 1000, baselineName: "posix_spawn /bin/true", goal: "—", format: "%.2f")]

        // The standard aggregate module over a job input of 100,000 readings, against the same
        // C sources compiled for this machine (clang -O2): what the interpreter and the
        // sandbox cost on real work.
        let stdin = Self.aggregateInput(readings: 100_000)
        let module = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "Modules/aggregate.wasm")))
        var outcome: SandboxOutcome?
        let ours = try await measureSeconds {
            outcome = try await runner.run(module: module, stdin: stdin, limits: limits, clockNanos: 0)
        }
        guard let outcome, outcome.failure == nil else { print("  aggregate failed: \(outcome?.detail ?? "")"); return }
        if let native = try? Self.buildNativeAggregate() {
            let base = try measureProcess(native, [], stdin: stdin)
            precondition(base.stdout == outcome.stdout, "the native aggregate and the module disagree")
            figures.append(Figure(name: "aggregate, 100k readings (readings/s)", ours: 100_000 / ours, baseline: 100_000 / base.seconds,
                                  baselineName: "native clang -O2", goal: "—"))
        }
        printTable("compute results", figures)
        print(String(format: "  aggregate used %llu fuel: %.0f per reading (a request's fuel limit should allow for it)",
                     outcome.fuelUsed, Double(outcome.fuelUsed) / 100_000))
    }

    /// A job input of `readings` readings of one stream (docs/PROTOCOL.md §"Compute jobs").
    static func aggregateInput(readings: Int) -> [UInt8] {
        var input = JobInput(grant: "bench", params: .object(["stats": .array(["count", "sum", "mean", "min", "max", "p50", "p99"].map { .string($0) }),
                                                              "window": .number("3600")]),
                             streams: ["home/temperature"], from: 1_800_000_000_000, to: 1_800_000_000_000 + Int64(readings) * 1000)
        for i in 0..<readings {
            input.append(stream: "home/temperature", t: 1_800_000_000_000 + Int64(i) * 1000, value: Array("\(Double(180 + (i * 37) % 90) / 10)".utf8))
        }
        return input.bytes
    }

    /// Modules/aggregate's C sources built for this machine.
    static func buildNativeAggregate() throws -> String {
        let out = FileManager.default.temporaryDirectory.path + "/edgevault-aggregate-native"
        let sources = ["Modules/aggregate/aggregate.c", "Modules/common/evinput.c", "Modules/common/evjson.c", "Modules/common/evlist.c"]
        let r = try measureProcess("/usr/bin/clang-14", ["-O2", "-o", out] + sources + ["-lm"], stdin: [])
        guard r.status == 0 else { throw CocoaError(.executableLoad) }
        return out
    }

    /// Runs a program with `stdin`, returning its wall time, status and stdout.
    static func measureProcess(_ path: String, _ arguments: [String], stdin: [UInt8]) throws -> (seconds: Double, status: Int32, stdout: [UInt8]) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = FileHandle.nullDevice
        let start = ContinuousClock.now
        try p.run()
        let writer = Thread { try? input.fileHandleForWriting.write(contentsOf: Data(stdin)); try? input.fileHandleForWriting.close() }
        writer.start()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let d = ContinuousClock.now - start
        return (Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18, p.terminationStatus, [UInt8](data))
    }

    func measureProcess(_ path: String, _ arguments: [String], stdin: [UInt8]) throws -> (seconds: Double, status: Int32, stdout: [UInt8]) {
        try Self.measureProcess(path, arguments, stdin: stdin)
    }
}
