import EdgeVaultSandboxFrame
@_spi(WASIPlatform) import WASI
@_spi(Fuzzing) import WasmKit
import WasmKitWASI

/// Refuses memory past the job's pages and tables past a fixed size, and remembers that it
/// did: a run that fails after a refusal failed for `memory`.
final class JobLimiter: ResourceLimiter, @unchecked Sendable {
    let maxMemoryBytes: Int
    let maxTableElements: Int
    private(set) var refusedMemory = false

    init(memoryPages: Int, maxTableElements: Int) {
        self.maxMemoryBytes = memoryPages * 65536
        self.maxTableElements = maxTableElements
    }

    func limitMemoryGrowth(to desired: Int) throws -> Bool {
        guard desired <= maxMemoryBytes else { refusedMemory = true; return false }
        return true
    }

    func limitTableGrowth(to desired: Int) throws -> Bool { desired <= maxTableElements }
}

/// One run of the request's module (docs/SECURITY.md §"The compute sandbox", layers 1 to 3):
/// WasmKit with fuel metering, a bounded interpreter stack and the limiter; WASI with argv
/// `["job"]`, no environment, no preopens, in-memory stdio, fixed clocks, keyed random.
enum GuestRun {
    /// The interpreter's own stack (Wasm frames and locals): deep recursion traps here.
    static let stackBytes = 1 << 20

    static func run(_ request: SandboxRequest) -> SandboxOutcomeFrame {
        let stdout = GuestOutput(cap: request.outputBytes, endsRunWhenFull: true)
        let stderr = GuestOutput(cap: SandboxFrame.stderrCap, endsRunWhenFull: false)
        let limiter = JobLimiter(memoryPages: request.memoryPages, maxTableElements: JobPolicy.maxTableElements)
        let engine = Engine(configuration: EngineConfiguration(stackSize: stackBytes, fuelMetering: true))
        let store = Store(engine: engine)
        store.resourceLimiter = limiter
        store.fuel = Fuel(remaining: request.fuel)

        func outcome(_ failure: SandboxFailureCode?, exit: Int32?, _ detail: String) -> SandboxOutcomeFrame {
            let left = store.fuel?.remaining ?? 0
            return SandboxOutcomeFrame(failure: failure, exit: exit, stderrTruncated: stderr.truncated,
                                       fuelUsed: request.fuel - min(left, request.fuel),
                                       stdout: stdout.bytes, stderr: stderr.bytes, detail: detail)
        }

        let module: Module
        do {
            module = try parseWasm(bytes: request.module, features: .default)
        } catch {
            return outcome(.trap, exit: nil, "module does not parse")
        }
        for i in module.imports {
            guard i.module == JobPolicy.importModule, case .function = i.descriptor, JobPolicy.allowedImports.contains(i.name) else {
                return outcome(.trap, exit: nil, "module imports something jobs may not use")
            }
        }

        let wasi: WASIBridgeToHost
        do {
            wasi = try WASIBridgeToHost(
                args: ["job"], environment: [:],
                fileSystem: .memory(MemoryFileSystem()).withStdio(stdin: GuestInput(request.stdin), stdout: stdout, stderr: stderr),
                wallClock: FixedWallClock(nanos: request.clockNanos),
                monotonicClock: FixedMonotonicClock(nanos: request.clockNanos),
                randomGenerator: JobRandom(stdin: request.stdin))
        } catch {
            return outcome(.trap, exit: nil, "WASI could not be set up")
        }
        defer { try? wasi.close() }

        var imports = Imports()
        wasi.link(to: &imports, store: store, capabilities: WASICapability.all, stubUnlinked: false)
        defineDeterministicOverrides(&imports, store: store, clockNanos: request.clockNanos)

        do {
            let instance = try module.instantiate(store: store, imports: imports)
            let status = Int32(bitPattern: try wasi.start(instance))
            return outcome(status == 0 ? nil : (limiter.refusedMemory ? .memory : .exit), exit: status,
                           status == 0 ? "" : "exited with status \(status)")
        } catch is OutputLimitReached {
            return outcome(.output, exit: nil, "stdout passed \(request.outputBytes) bytes")
        } catch {
            let text = firstLine(String(describing: error))
            if text.hasPrefix("Trap: out of fuel") { return outcome(.fuel, exit: nil, "out of fuel") }
            if limiter.refusedMemory { return outcome(.memory, exit: nil, "memory past \(request.memoryPages) pages refused; then: \(text)") }
            return outcome(.trap, exit: nil, text)
        }
    }

    /// `clock_time_get` answers `clockNanos` for every clock id (WASI's own answers ENOTSUP
    /// for the CPU-time clocks); `sched_yield` does nothing (one thread, nothing to yield to).
    private static func defineDeterministicOverrides(_ imports: inout Imports, store: Store, clockNanos: UInt64) {
        imports.define(module: JobPolicy.importModule, name: "clock_time_get",
                       Function(store: store, parameters: [.i32, .i64, .i32], results: [.i32]) { caller, args in
            guard case .memory(let memory) = caller.instance?.export("memory") else { return [.i32(8)] }  // EBADF
            let offset = Int(args[2].i32)
            guard offset + 8 <= memory.byteCount else { return [.i32(21)] }  // EFAULT
            var value = clockNanos.littleEndian
            withUnsafeBytes(of: &value) { bytes in memory.withUnsafeMutableBufferPointer(offset: UInt(offset), count: 8) { $0.copyMemory(from: bytes) } }
            return [.i32(0)]
        })
        imports.define(module: JobPolicy.importModule, name: "sched_yield",
                       Function(store: store, parameters: [], results: [.i32]) { _, _ in [.i32(0)] })
    }

    private static func firstLine(_ text: String) -> String {
        String(text.prefix { $0 != "\n" }.prefix(SandboxFrame.maxDetailBytes))
    }
}
