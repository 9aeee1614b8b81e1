#if canImport(Glibc)
import Glibc
#endif
import EdgeVaultCore
import EdgeVaultSandboxFrame
import Synchronization
import SystemPackage

/// The sandbox could not be started at all (not a failed run: that is an outcome).
package struct SandboxUnavailable: Error, CustomStringConvertible {
    package let reason: String
    package var description: String { reason }
}

/// Runs an organization's module over a job's stdin in a fresh `edgevault-sandbox` process
/// (docs/SECURITY.md §"The compute sandbox"); vault-cli calls it for `schedule: once`,
/// vaultd for `per-segment`. Never blocks the calling task's thread, never waits past the
/// job's `wallMs` (plus the time to reap a killed process), never reads back more than the
/// outcome's caps.
package struct SandboxRunner: Sendable {
    /// The sandbox executable.
    package var executable: FilePath
    /// A cgroup v2 directory delegated to this user, under which each run gets its own
    /// cgroup with `memory.max`; nil: none.
    package var cgroup: FilePath?
    /// Told each sandbox's pid as soon as it exists (tests read its /proc status).
    package var onSpawn: (@Sendable (Int32) -> Void)?

    /// The name installed beside `vaultd` and `vault-cli`.
    package static let executableName = "edgevault-sandbox"
    /// What a sandbox process holds besides the guest's pages and the request's sizes (the
    /// runtime and WasmKit: about 15 MB for hello world), for `memory.max`.
    package static let cgroupOverheadBytes = 64 << 20

    /// `memory.max` of one run: the guest's pages, the overhead, stdin and stdout twice (the
    /// request and the guest's copy; the captured output and the outcome frame), the module
    /// 16 times (its bytes, parsed and translated forms).
    static func cgroupMemoryMax(limits: JobLimits, stdinBytes: Int, moduleBytes: Int) -> Int {
        limits.memoryPages * 65536 + cgroupOverheadBytes + 2 * (stdinBytes + limits.outputBytes) + 16 * moduleBytes
    }

    /// - Parameter executable: default: `edgevault-sandbox` in the directory of the running
    ///   executable (/proc/self/exe), which is where `swift build` and deploy/install.sh put it
    ///   (and where `swift test` runs from).
    package init(executable: FilePath? = nil, cgroup: FilePath? = nil, onSpawn: (@Sendable (Int32) -> Void)? = nil) {
        self.executable = executable ?? Self.besideThisExecutable()
        self.cgroup = cgroup
        self.onSpawn = onSpawn
    }

    /// Runs `module` once. A failed run (fuel, memory, wall, trap, output, non-zero exit)
    /// is a `SandboxOutcome` with `failure` set.
    ///
    /// - Parameter clockNanos: what every WASI clock reads during the run.
    /// - Throws: `SandboxUnavailable` when the sandbox cannot be started (missing executable,
    ///   limits outside what it takes, no process or cgroup could be made);
    ///   `CancellationError` when the task was cancelled (the sandbox is killed and reaped).
    package func run(module: [UInt8], stdin: [UInt8], limits: JobLimits, clockNanos: UInt64) async throws -> SandboxOutcome {
        let request: SandboxRequest
        do {
            request = try SandboxRequest(fuel: limits.fuel, memoryPages: limits.memoryPages, outputBytes: limits.outputBytes,
                                         wallMs: limits.wallMs, clockNanos: clockNanos, module: module, stdin: stdin).validated()
        } catch {
            throw SandboxUnavailable(reason: "the job cannot be run: \(error.description)")
        }
        guard access(executable.string, X_OK) == 0 else {
            throw SandboxUnavailable(reason: "\(Self.executableName) is missing or not executable at \(executable) (install it beside vaultd and vault-cli)")
        }

        let path = executable.string
        let outputCap = SandboxFrame.outcomeHeaderSize + limits.outputBytes + SandboxFrame.stderrCap + SandboxFrame.maxDetailBytes
        let memoryMax = Self.cgroupMemoryMax(limits: limits, stdinBytes: stdin.count, moduleBytes: module.count)
        let parentCgroup = cgroup, onSpawn = onSpawn
        let joined = Mutex<JobCgroup?>(nil)
        defer { joined.withLock { $0?.remove() } }
        let control = ChildProcess.Control()
        let frame = request.encoded()
        let result: ChildProcess.Result
        do {
            result = try await withTaskCancellationHandler {
                try await onOwnThread {
                    try ChildProcess.run(executable: path, environment: ["SWIFT_BACKTRACE=enable=no"], input: frame,
                                         outputCap: outputCap, wall: .milliseconds(limits.wallMs), control: control) { pid in
                        if let parentCgroup {
                            let cgroup = try JobCgroup.enter(parent: parentCgroup, pid: pid, memoryMax: memoryMax)
                            joined.withLock { $0 = cgroup }
                        }
                        onSpawn?(pid)
                    }
                }
            } onCancel: {
                control.cancel()
            }
        } catch let failed as ChildProcess.SpawnFailed {
            throw SandboxUnavailable(reason: "the sandbox could not be started: \(failed.reason)")
        }
        if result.killed == .cancelled { throw CancellationError() }
        return Self.outcome(of: result, outputBytes: limits.outputBytes, wallMs: limits.wallMs)
    }

    /// What a reaped sandbox's status and output mean (docs/SECURITY.md §"The compute
    /// sandbox", "Outcomes").
    static func outcome(of result: ChildProcess.Result, outputBytes: Int, wallMs: Int) -> SandboxOutcome {
        let signal = result.status & 0x7F
        if result.killed == .overflow { return .failed(.trap, "the sandbox wrote more than an outcome") }
        if signal == 0 {
            let code = (result.status >> 8) & 0xFF
            // 0: a run; 2: request refused; 3: could not harden. Each leaves a frame.
            if [0, 2, 3].contains(code), let frame = try? SandboxOutcomeFrame.decode(result.output, outputBytes: outputBytes) {
                return SandboxOutcome(frame: frame)
            }
            return .failed(.trap, "the sandbox exited with status \(code) without a valid outcome")
        }
        switch signal {
        case SIGKILL where result.killed == .deadline: return .failed(.wall, "killed after \(wallMs) ms")
        case SIGXCPU: return .failed(.wall, "killed at its CPU-time limit")
        case SIGKILL: return .failed(.memory, "killed by the kernel (out of memory)")
        case SIGSYS: return .failed(.trap, "killed for a forbidden system call (seccomp)")
        default: return .failed(.trap, "the sandbox died of signal \(signal)")
        }
    }

    static func besideThisExecutable() -> FilePath {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        let exe = n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
        return FilePath(exe).removingLastComponent().appending(executableName)
    }
}
