/// What an organization's module may import and declare (docs/SECURITY.md §"The compute
/// sandbox"): checked at upload (`WasmModuleInfo.validateForUpload`) and again inside the
/// sandbox, so both read it from here.
package enum JobPolicy {
    /// The only module name a job may import from.
    package static let importModule = "wasi_snapshot_preview1"

    /// The functions of `importModule` a job may import: arguments and environment (both
    /// empty), stdio, clocks and random bytes (both fixed by the request), its own exit and
    /// `sched_yield`. No files, sockets or polling.
    package static let allowedImports: Set<String> = [
        "args_get", "args_sizes_get", "environ_get", "environ_sizes_get",
        "fd_read", "fd_write", "fd_close", "fd_fdstat_get", "fd_seek",
        "clock_time_get", "random_get", "proc_exit", "sched_yield",
    ]

    /// The most elements a table may declare or grow to: table memory is not what
    /// `memoryPages` counts (8 bytes an element in WasmKit).
    package static let maxTableElements = 100_000

    /// The most tables a module may declare: with `maxTableElements` each, tables stay a few
    /// MB however the module fills them (many small tables once took the sandbox past 1 GB).
    package static let maxTables = 4

    /// The most globals and functions a module may define (clang's modules have hundreds to a
    /// few thousand functions): each costs the interpreter memory the job's pages do not count.
    package static let maxGlobals = 10_000
    package static let maxFunctions = 50_000
}
