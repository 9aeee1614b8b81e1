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
        print("\ncompute: \(runs) runs of an empty module, then a loop of ~10M instructions")
        let runner = SandboxRunner()
        let limits = JobLimits(fuel: 1 << 40, memoryPages: 16, outputBytes: 1 << 16, wallMs: 60_000)
        _ = try await runner.run(module: Self.empty, stdin: [], limits: limits, clockNanos: 0)
        var times: [Double] = []
        for _ in 0..<runs {
            times.append(try await measureSeconds {
                let outcome = try await runner.run(module: Self.empty, stdin: [], limits: limits, clockNanos: 0)
                precondition(outcome.failure == nil, "empty run failed: \(outcome.detail)")
            })
        }
        times.sort()
        print(String(format: "  one run, spawn to reaped: median %.2f ms, p90 %.2f ms", times[times.count / 2] * 1000, times[times.count * 9 / 10] * 1000))
        var outcome: SandboxOutcome?
        let loop = Self.countingLoop(iterations: 1_250_000)
        let seconds = try await measureSeconds {
            outcome = try await runner.run(module: loop, stdin: [], limits: limits, clockNanos: 0)
        }
        guard let outcome, outcome.failure == nil else { print("  loop failed: \(outcome?.detail ?? "")"); return }
        print(String(format: "  10M-instruction loop: %.3f s, fuel %llu (%.1f M fuel/s after the spawn)", seconds, outcome.fuelUsed,
                     Double(outcome.fuelUsed) / max(seconds - times[times.count / 2], 1e-6) / 1e6))
    }
}
