import EdgeVaultCore
import EdgeVaultSandboxFrame

/// How one run went (docs/SECURITY.md §"The compute sandbox"). A failed run is an outcome,
/// never a thrown error: `failure` says why, and only a run with `failure == nil` has a
/// `stdout` worth releasing.
package struct SandboxOutcome: Sendable, Equatable {
    /// The guest's exit status: 0 when `_start` returned, n for `proc_exit(n)`; nil when the
    /// run ended otherwise (trap, fuel, output, wall, a killed sandbox).
    package var exit: Int32?
    package var failure: JobFailure?
    /// Fuel spent (0 when the sandbox was killed before it could say).
    package var fuelUsed: UInt64
    /// What the guest wrote to stdout, at most the job's `outputBytes`.
    package var stdout: [UInt8]
    /// What the guest wrote to stderr, at most 64 KiB; `stderrTruncated` when it wrote more.
    package var stderr: [UInt8]
    package var stderrTruncated: Bool
    /// One line of printable ASCII: a trap's message, the signal that killed the sandbox.
    package var detail: String

    package init(exit: Int32?, failure: JobFailure?, fuelUsed: UInt64, stdout: [UInt8], stderr: [UInt8], stderrTruncated: Bool = false, detail: String) {
        self.exit = exit
        self.failure = failure
        self.fuelUsed = fuelUsed
        self.stdout = stdout
        self.stderr = stderr
        self.stderrTruncated = stderrTruncated
        self.detail = detail
    }

    /// A run that ended without an outcome frame of its own.
    static func failed(_ failure: JobFailure, _ detail: String) -> SandboxOutcome {
        SandboxOutcome(exit: nil, failure: failure, fuelUsed: 0, stdout: [], stderr: [], detail: detail)
    }

    init(frame: SandboxOutcomeFrame) {
        let failure: JobFailure? = switch frame.failure {
        case nil: nil
        case .fuel: .fuel
        case .memory: .memory
        case .wall: .wall
        case .trap: .trap
        case .output: .output
        case .exit: .exit
        }
        self.init(exit: frame.exit, failure: failure, fuelUsed: frame.fuelUsed, stdout: frame.stdout,
                  stderr: frame.stderr, stderrTruncated: frame.stderrTruncated, detail: frame.detail)
    }
}
