/// docs/PROTOCOL.md §"Compute jobs": the request's job.limits.
///
/// What one run of an organization's module may use; the sandbox enforces each one
/// (docs/SECURITY.md §"The compute sandbox").
public struct JobLimits: Codable, Sendable, Equatable {
    public var fuel: UInt64        // ~one unit per Wasm instruction
    public var memoryPages: Int    // 64 KiB pages
    public var outputBytes: Int    // stdout cap; more is a failed run
    public var wallMs: Int         // wall-clock cap; the child is killed

    public init(fuel: UInt64, memoryPages: Int, outputBytes: Int, wallMs: Int) {
        self.fuel = fuel
        self.memoryPages = memoryPages
        self.outputBytes = outputBytes
        self.wallMs = wallMs
    }
}

/// Why a run failed (the compute.failed leaf's `reason`).
///
/// `fuel`: the budget ran out; `memory`: the module asked for more than `memoryPages` (or
/// the sandbox's memory cgroup killed it); `wall`: killed at `wallMs` (or its CPU-time
/// limit); `trap`: a Wasm trap, a host error or a sandbox that died; `output`: stdout past
/// `outputBytes`; `exit`: `proc_exit` with a non-zero status.
public enum JobFailure: String, Codable, Sendable, CaseIterable {
    case fuel, memory, wall, trap, output, exit

    /// In plain words, for the person.
    public var explanation: String {
        switch self {
        case .fuel: "it used up its fuel (instruction budget)"
        case .memory: "it needed more memory than the request allows"
        case .wall: "it ran longer than the request's time limit"
        case .trap: "it crashed (a WebAssembly trap)"
        case .output: "its output was larger than the request allows"
        case .exit: "it exited with a non-zero status"
        }
    }
}
