/// What an organization's module may import (docs/SECURITY.md §"The compute sandbox"): these
/// `wasi_snapshot_preview1` functions and nothing else: no files, sockets, polling or
/// process control beyond its own exit. Checked at upload and again inside the sandbox.
package enum JobImports {
    /// The only module name a job may import from.
    package static let module = "wasi_snapshot_preview1"

    /// The functions of `module` a job may import.
    package static let allowed: Set<String> = [
        "args_get", "args_sizes_get", "environ_get", "environ_sizes_get",
        "fd_read", "fd_write", "fd_close", "fd_fdstat_get", "fd_seek",
        "clock_time_get", "random_get", "proc_exit", "sched_yield",
    ]
}
