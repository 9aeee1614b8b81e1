import CSodium
import Testing
@testable import EdgeVaultCompute
import EdgeVaultCore

@Suite("A job's clocks and random bytes depend only on its request")
struct ComputeDeterminismTests {
    let runner = SandboxRunner()

    @Test("clock_time_get answers clockNanos for every clock id")
    func clocks() async throws {
        let outcome = try await runner.run(module: GuestModules.clocks, stdin: [], limits: .test(), clockNanos: testClockNanos)
        #expect(outcome.failure == nil)
        var expected: [UInt8] = []
        for _ in 0..<4 { withUnsafeBytes(of: testClockNanos.littleEndian) { expected += $0 } }
        #expect(outcome.stdout == expected)
    }

    @Test("random_get: the XChaCha20 keystream under SHA-256(label ‖ stdin), the same per stdin, continued across calls")
    func random() async throws {
        let stdinA = Array("readings of one day".utf8), stdinB = Array("readings of another day".utf8)
        let module = GuestModules.random(37, 100)
        let a1 = try await runner.run(module: module, stdin: stdinA, limits: .test(), clockNanos: testClockNanos)
        let a2 = try await runner.run(module: module, stdin: stdinA, limits: .test(), clockNanos: 1)
        let b = try await runner.run(module: module, stdin: stdinB, limits: .test(), clockNanos: testClockNanos)
        #expect(a1.failure == nil && a1.stdout.count == 137)
        #expect(a1.stdout == a2.stdout)
        #expect(a1.stdout != b.stdout)
        #expect(a1.stdout == Self.keystream(stdin: stdinA, count: 137))
        #expect(b.stdout == Self.keystream(stdin: stdinB, count: 137))
        // Past one 64 KiB piece of the generator, from inside a block.
        let long = try await runner.run(module: GuestModules.random(5, 70_000), stdin: stdinA, limits: .test(), clockNanos: 0)
        #expect(long.failure == nil && long.stdout == Self.keystream(stdin: stdinA, count: 70_005))
    }

    /// The oracle, straight from libsodium: crypto_stream_xchacha20 with an all-zero nonce.
    static func keystream(stdin: [UInt8], count: Int) -> [UInt8] {
        _ = sodium_init()
        var key = [UInt8](repeating: 0, count: 32)
        let input = Array("edgevault/job-random/v1".utf8) + stdin
        crypto_hash_sha256(&key, input, UInt64(input.count))
        var out = [UInt8](repeating: 0, count: count)
        let nonce = [UInt8](repeating: 0, count: 24)
        crypto_stream_xchacha20(&out, UInt64(count), nonce, key)
        return out
    }
}
