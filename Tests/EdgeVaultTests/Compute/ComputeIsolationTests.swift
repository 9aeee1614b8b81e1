import Foundation
import Synchronization
import Testing
@testable import EdgeVaultCompute
import EdgeVaultCore
import EdgeVaultSandboxFrame

@Suite("The sandbox process: hardened, killable, and refusing what it cannot parse")
struct ComputeIsolationTests {
    @Test("While a guest runs, the sandbox has a seccomp filter (Seccomp: 2) and no_new_privs; cancelling kills it")
    func hardenedWhileRunning() async throws {
        let (pids, pidSink) = AsyncStream<Int32>.makeStream()
        let runner = SandboxRunner(onSpawn: { pidSink.yield($0) })
        let run = Task { try await runner.run(module: GuestModules.infiniteLoop, stdin: [], limits: .test(fuel: .max, wallMs: 60_000), clockNanos: 0) }
        var iterator = pids.makeAsyncIterator()
        let pid = try #require(await iterator.next())
        // The filter goes on once the request is read: wait for it, at most 20 s.
        var status = ""
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
            if status.contains("Seccomp:\t2") { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(status.contains("Seccomp:\t2"))
        #expect(status.contains("NoNewPrivs:\t1"))
        let clock = ContinuousClock(), cancelled = clock.now
        run.cancel()
        await #expect(throws: CancellationError.self) { try await run.value }
        #expect(cancelled.duration(to: clock.now) < .seconds(10))
        #expect(kill(pid, 0) != 0, "the sandbox is gone (reaped)")
    }

    @Test("A sandbox given bytes it cannot parse exits with status 2 and an outcome saying so")
    func garbageRequest() async throws {
        let executable = SandboxRunner().executable.string
        for input in [Array("GET / HTTP/1.1\r\n\r\n".utf8), [UInt8](repeating: 0xAB, count: 4096),
                      Array(SandboxRequest(fuel: 1, memoryPages: 1, outputBytes: 1, wallMs: 1000, clockNanos: 0, module: GuestModules.hello, stdin: []).encoded().dropLast(3))] {
            let result = try await onOwnThread {
                try ChildProcess.run(executable: executable, environment: [], input: input, outputCap: 4096,
                                     wall: .seconds(30), control: .init()) { _ in }
            }
            #expect(result.status & 0x7F == 0 && (result.status >> 8) & 0xFF == 2, "exited, status 2")
            let frame = try SandboxOutcomeFrame.decode(result.output, outputBytes: 0)
            #expect(frame.failure == .trap && frame.detail.hasPrefix("sandbox request refused"))
        }
    }

    @Test("With a cgroup directory, each run gets its own sub-cgroup holding its pid and memory.max")
    func cgroup() async throws {
        let dir = TemporaryDirectory()
        let seen = Mutex<[Int32]>([])
        let runner = SandboxRunner(cgroup: .init(dir.path), onSpawn: { pid in seen.withLock { $0.append(pid) } })
        let outcome = try await runner.run(module: GuestModules.hello, stdin: [1, 2, 3], limits: .test(memoryPages: 10), clockNanos: 0)
        #expect(outcome.failure == nil)
        let pid = try #require(seen.withLock { $0.first })
        // A plain directory stands in for a delegated cgroup here: the files are as written,
        // and it is not removed (only an empty real cgroup is).
        let sub = "\(dir.path)/edgevault-job-\(pid)"
        let memoryMax = 10 * 65536 + SandboxRunner.cgroupOverheadBytes + 2 * (3 + (1 << 20)) + 16 * GuestModules.hello.count
        #expect(try String(contentsOfFile: sub + "/memory.max", encoding: .utf8) == "\(memoryMax)\n")
        #expect(try String(contentsOfFile: sub + "/cgroup.procs", encoding: .utf8) == "\(pid)\n")
        let missing = SandboxRunner(cgroup: "/nonexistent/cgroup")
        await #expect(throws: SandboxUnavailable.self) {
            try await missing.run(module: GuestModules.hello, stdin: [], limits: .test(), clockNanos: 0)
        }
    }

    @Test("Outcome frames past their caps, with bad lengths or unsafe detail are refused")
    func outcomeFrames() throws {
        let good = SandboxOutcomeFrame(failure: .exit, exit: 3, fuelUsed: 7, stdout: [1, 2, 3], stderr: [4], detail: "exited\u{1B}[2J")
        let bytes = good.encoded()
        let decoded = try SandboxOutcomeFrame.decode(bytes, outputBytes: 3)
        #expect(decoded.exit == 3 && decoded.failure == .exit && decoded.stdout == [1, 2, 3] && decoded.detail == "exited?[2J")
        #expect(throws: SandboxFrameError.self) { try SandboxOutcomeFrame.decode(bytes, outputBytes: 2) }
        #expect(throws: SandboxFrameError.self) { try SandboxOutcomeFrame.decode(bytes + [0], outputBytes: 3) }
        #expect(throws: SandboxFrameError.self) { try SandboxOutcomeFrame.decode(Array(bytes.dropLast()), outputBytes: 3) }
        var badCode = bytes
        badCode[8] = 9
        #expect(throws: SandboxFrameError.self) { try SandboxOutcomeFrame.decode(badCode, outputBytes: 3) }
        var badDetail = bytes
        badDetail[badDetail.count - 1] = 0x0A
        #expect(throws: SandboxFrameError.self) { try SandboxOutcomeFrame.decode(badDetail, outputBytes: 3) }
    }
}
