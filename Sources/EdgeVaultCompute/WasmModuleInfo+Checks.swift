import EdgeVaultCore
import EdgeVaultSandboxFrame

extension WasmModuleInfo {
    /// The `wasi_snapshot_preview1` functions a job may import (docs/SECURITY.md §"The
    /// compute sandbox"): arguments and environment (both empty), stdio, clocks and random
    /// (both deterministic), its own exit and `sched_yield`. No files, sockets or polling.
    package static let allowedImports: Set<String> = JobPolicy.allowedImports

    /// The checks made when an organization uploads a module (422 `module_invalid`,
    /// docs/PROTOCOL.md §"Compute jobs"): a WASI command (`_start`) importing only allowed
    /// functions, one 32-bit unshared memory of at most 4 GiB, small 32-bit tables.
    package func validateForUpload() throws(ModuleInvalid) {
        for i in imports {
            guard i.module == JobPolicy.importModule else {
                throw ModuleInvalid("imports from module \"\(Self.printable(i.module))\"; only \(JobPolicy.importModule) is provided")
            }
            guard i.kind == "function" else {
                throw ModuleInvalid("imports a \(i.kind) (\(Self.printable(i.name))); only functions may be imported")
            }
            guard Self.allowedImports.contains(i.name) else {
                throw ModuleInvalid("imports \(JobPolicy.importModule).\(Self.printable(i.name)), which jobs may not use")
            }
        }
        guard exports.contains(where: { $0.name == "_start" && $0.kind == "function" }) else {
            throw ModuleInvalid("exports no _start function (a WASI command module is expected)")
        }
        guard memoryCount <= 1 else { throw ModuleInvalid("declares more than one memory") }
        guard !hasMemory64OrShared else { throw ModuleInvalid("declares a 64-bit or shared memory") }
        if let min = memoryMinPages, min > 65536 { throw ModuleInvalid("declares a memory of more than 65536 pages") }
        if let min = memoryMinPages, let max = memoryMaxPages, max < min { throw ModuleInvalid("declares a memory whose maximum is below its minimum") }
        // What instantiation builds outside the job's pages, bounded (a 4 MiB module of
        // element segments once took the sandbox to 445 MB at 0 fuel).
        guard elementEntries <= JobPolicy.maxTableElements else {
            throw ModuleInvalid("declares \(elementEntries) table elements in its element segments; at most \(JobPolicy.maxTableElements)")
        }
        guard globalCount <= JobPolicy.maxGlobals else { throw ModuleInvalid("declares \(globalCount) globals; at most \(JobPolicy.maxGlobals)") }
        guard functionCount <= JobPolicy.maxFunctions else {
            throw ModuleInvalid("declares \(functionCount) functions; at most \(JobPolicy.maxFunctions)")
        }
        guard tables.count <= JobPolicy.maxTables else {
            throw ModuleInvalid("declares \(tables.count) tables; at most \(JobPolicy.maxTables) (tables are memory outside the job's pages)")
        }
        for table in tables {
            guard !table.isTable64 else { throw ModuleInvalid("declares a 64-bit table") }
            guard table.min <= UInt64(JobPolicy.maxTableElements) else {
                throw ModuleInvalid("declares a table of more than \(JobPolicy.maxTableElements) elements")
            }
        }
    }

    /// Refuses, before anything is instantiated, a module whose memory cannot fit the job's
    /// limits: a minimum, or a declared maximum, above `limits.memoryPages`.
    package func check(against limits: JobLimits) throws(ModuleInvalid) {
        if let min = memoryMinPages, min > UInt64(max(limits.memoryPages, 0)) {
            throw ModuleInvalid("needs \(min) memory pages at start; the job allows \(limits.memoryPages)")
        }
        if let max = memoryMaxPages, max > UInt64(Swift.max(limits.memoryPages, 0)) {
            throw ModuleInvalid("declares up to \(max) memory pages; the job allows \(limits.memoryPages)")
        }
    }

    /// An import's name, as the organization wrote it, cut to 64 characters and escaped
    /// (TerminalText, docs/SECURITY.md: every output of outside text goes through it).
    static func printable(_ text: String) -> String {
        TerminalText.escape(String(text.prefix(64)))
    }
}
