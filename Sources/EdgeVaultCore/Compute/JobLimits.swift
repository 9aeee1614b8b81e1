/// docs/PROTOCOL.md §"Compute jobs": the request's job.limits.
///
/// What one run of an organization's module may use; the sandbox enforces each one
/// (docs/SECURITY.md §"The compute sandbox").
package struct JobLimits: Codable, Sendable, Equatable {
    package var fuel: UInt64        // ~one unit per Wasm instruction
    package var memoryPages: Int    // 64 KiB pages
    package var outputBytes: Int    // stdout cap; more is a failed run
    package var wallMs: Int         // wall-clock cap; the child is killed

    package init(fuel: UInt64, memoryPages: Int, outputBytes: Int, wallMs: Int) {
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
package enum JobFailure: String, Codable, Sendable { case fuel, memory, wall, trap, output, exit }
