import Testing
@testable import EdgeVaultCompute
import EdgeVaultCore

@Suite("A job's run in the sandbox: each way it can end is an outcome")
struct ComputeRunTests {
    let runner = SandboxRunner()

    func run(_ module: [UInt8], stdin: [UInt8] = [], _ limits: JobLimits = .test()) async throws -> SandboxOutcome {
        try await runner.run(module: module, stdin: stdin, limits: limits, clockNanos: testClockNanos)
    }

    @Test("Hello world: exit 0, no failure, stdout exactly what it wrote")
    func hello() async throws {
        let outcome = try await run(GuestModules.hello)
        #expect(outcome.failure == nil && outcome.exit == 0)
        #expect(outcome.stdout == Array("hello, world\n".utf8))
        #expect(outcome.stderr.isEmpty && outcome.fuelUsed > 0 && outcome.fuelUsed < 100)
    }

    @Test("The job's stdin is what the guest reads: echoed back byte for byte")
    func echo() async throws {
        let input = (0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let outcome = try await run(GuestModules.echo, stdin: input)
        #expect(outcome.failure == nil && outcome.exit == 0)
        #expect(outcome.stdout == input)
    }

    @Test("proc_exit(3) is failure exit with exit status 3")
    func procExit() async throws {
        let outcome = try await run(GuestModules.exit3)
        #expect(outcome.failure == .exit && outcome.exit == 3)
    }

    @Test("An endless loop with a small budget fails for fuel, having spent the budget")
    func fuel() async throws {
        let outcome = try await run(GuestModules.infiniteLoop, .test(fuel: 100_000))
        #expect(outcome.failure == .fuel && outcome.exit == nil)
        #expect(outcome.fuelUsed <= 100_000 && outcome.fuelUsed >= 99_990)
    }

    @Test("An endless loop with endless fuel is killed at wallMs (300 ms) and the runner returns promptly")
    func wall() async throws {
        let clock = ContinuousClock()
        let started = clock.now
        let outcome = try await run(GuestModules.infiniteLoop, .test(fuel: .max, wallMs: 300))
        let took = started.duration(to: clock.now)
        #expect(outcome.failure == .wall && outcome.exit == nil)
        // Without the kill it would spin for ever (fuel .max); the bound only tells "returned"
        // from "hung", with room for a loaded machine (the parallel suites once took it to 24 s).
        #expect(took >= .milliseconds(300) && took < .seconds(60), "took \(took)")
    }

    @Test("memory.grow past memoryPages is refused and the run that then traps fails for memory")
    func memoryGrowth() async throws {
        let refused = try await run(GuestModules.grow(100), .test(memoryPages: 50))
        #expect(refused.failure == .memory)
        let allowed = try await run(GuestModules.grow(49), .test(memoryPages: 50))
        #expect(allowed.failure == nil && allowed.exit == 0)
    }

    @Test("A memory whose minimum is above memoryPages fails for memory before it runs")
    func initialMemory() async throws {
        let outcome = try await run(GuestModules.memory(min: 60), .test(memoryPages: 50))
        #expect(outcome.failure == .memory && outcome.fuelUsed == 0)
    }

    @Test("Writing more than outputBytes fails for output, with exactly outputBytes kept")
    func output() async throws {
        let outcome = try await run(GuestModules.flood, .test(outputBytes: 5000))
        #expect(outcome.failure == .output)
        #expect(outcome.stdout.count == 5000)
    }

    @Test("unreachable is a trap, named in the detail")
    func unreachable() async throws {
        let outcome = try await run(GuestModules.unreachable)
        #expect(outcome.failure == .trap && outcome.detail.contains("unreachable"))
    }

    @Test("Endless recursion is a trap (call stack exhausted), not a crash")
    func recursion() async throws {
        let outcome = try await run(GuestModules.recursion)
        #expect(outcome.failure == .trap && outcome.detail.contains("call stack exhausted"))
    }

    @Test("A WASI call given a pointer past memory kills only the sandbox: a trap")
    func badPointer() async throws {
        let outcome = try await run(GuestModules.badPointer)
        #expect(outcome.failure == .trap && outcome.exit == nil)
        #expect(outcome.detail.contains("signal"))
    }

    @Test("The sandbox refuses, itself, a module importing what jobs may not use")
    func sandboxRechecksImports() async throws {
        let outcome = try await run(GuestModules.importing(module: "env", name: "foo"))
        #expect(outcome.failure == .trap && outcome.detail.contains("imports"))
    }

    @Test("A missing sandbox executable throws a clear error; limits outside the frame's ranges throw")
    func unavailable() async throws {
        let missing = SandboxRunner(executable: "/nonexistent/edgevault-sandbox")
        await #expect(throws: SandboxUnavailable.self) {
            try await missing.run(module: GuestModules.hello, stdin: [], limits: .test(), clockNanos: 0)
        }
        await #expect(throws: SandboxUnavailable.self) { try await run(GuestModules.hello, .test(wallMs: 0)) }
        await #expect(throws: SandboxUnavailable.self) { try await run(GuestModules.hello, .test(memoryPages: 70_000)) }
    }
}
