import EdgeVaultSandboxFrame
import WasmParser

/// Why a module is refused (422 `module_invalid`, docs/PROTOCOL.md §"Compute jobs"): one
/// plain line, never the module's bytes.
package struct ModuleInvalid: Error, Equatable, CustomStringConvertible {
    package let reason: String
    package init(_ reason: String) { self.reason = reason }
    package var description: String { reason }
}

/// What an organization's WebAssembly module declares, read with WasmParser without running
/// any of it (docs/SECURITY.md §"The compute sandbox"): its imports, exports and memory.
package struct WasmModuleInfo: Sendable {
    package struct Import: Sendable, Equatable {
        package var module: String
        package var name: String
        /// `function`, `table`, `memory`, `global` or `tag`.
        package var kind: String
    }

    package struct Export: Sendable, Equatable {
        package var name: String
        /// `function`, `table`, `memory`, `global` or `tag`.
        package var kind: String
    }

    package var imports: [Import]
    package var exports: [Export]
    /// The first memory's minimum and maximum, in 64 KiB pages (nil: no memory, no maximum).
    package var memoryMinPages: UInt64?
    package var memoryMaxPages: UInt64?
    /// The module's size in bytes.
    package var size: Int

    /// Memories the module defines (imported ones are refused by `validateForUpload`).
    package var memoryCount: Int = 0
    /// Whether a memory is 64-bit or shared.
    package var hasMemory64OrShared = false
    /// The tables the module defines.
    package var tables: [Table] = []
    /// Elements of all element segments, globals and functions the module defines: each costs
    /// the sandbox memory outside the job's pages at instantiation, before any fuel is spent.
    package var elementEntries = 0
    package var globalCount = 0
    package var functionCount = 0

    package struct Table: Sendable, Equatable {
        package var min: UInt64
        package var max: UInt64?
        package var isTable64: Bool
    }

    /// Modules are at most 4 MiB (what the sandbox's request frame carries).
    package static let maxModuleBytes = SandboxFrame.maxModuleBytes

    /// Parses the module's sections. Throws, never traps, on any input: too large, a wrong
    /// header, a truncated or malformed section.
    package static func inspect(_ bytes: [UInt8]) throws(ModuleInvalid) -> WasmModuleInfo {
        guard bytes.count <= maxModuleBytes else { throw ModuleInvalid("module is larger than 4 MiB") }
        guard bytes.count >= 8 else { throw ModuleInvalid("not a WebAssembly module (too short)") }
        guard bytes[0..<4].elementsEqual([0x00, 0x61, 0x73, 0x6D]) else { throw ModuleInvalid("not a WebAssembly module (no \\0asm header)") }
        guard bytes[4..<8].elementsEqual([0x01, 0x00, 0x00, 0x00]) else { throw ModuleInvalid("not a version 1 WebAssembly module (a component?)") }
        var info = WasmModuleInfo(imports: [], exports: [], memoryMinPages: nil, memoryMaxPages: nil, size: bytes.count)
        // WasmKit's default features, as the sandbox parses with: reference types and
        // exception handling; no threads, memory64, multi-memory or GC.
        var parser = Parser(bytes: bytes)
        var functionCount = 0
        var codeCount = -1
        do {
            while let payload = try parser.parseNext() {
                switch payload {
                case .importSection(let imports):
                    info.imports = imports.map { Import(module: $0.module, name: $0.name, kind: kind(of: $0.descriptor)) }
                case .exportSection(let exports):
                    info.exports = exports.map { Export(name: $0.name, kind: kind(of: $0.descriptor)) }
                case .functionSection(let types):
                    functionCount = types.count
                    info.functionCount = types.count
                case .elementSection(let segments):
                    info.elementEntries = segments.reduce(0) { $0 + $1.initializer.count }
                case .globalSection(let globals):
                    info.globalCount = globals.count
                case .codeSection(let codes):
                    codeCount = codes.count
                case .memorySection(let memories):
                    info.memoryCount = memories.count
                    if let first = memories.first {
                        info.memoryMinPages = first.type.min
                        info.memoryMaxPages = first.type.max
                    }
                    info.hasMemory64OrShared = memories.contains { $0.type.isMemory64 || $0.type.shared }
                case .tableSection(let tables):
                    info.tables = tables.map { Table(min: $0.type.limits.min, max: $0.type.limits.max, isTable64: $0.type.limits.isMemory64) }
                default:
                    break
                }
            }
        } catch {
            throw ModuleInvalid("not a valid WebAssembly module (malformed near byte \(parser.offset))")
        }
        guard functionCount == max(codeCount, 0) else { throw ModuleInvalid("not a valid WebAssembly module (function and code sections differ)") }
        return info
    }

    private static func kind(of descriptor: ImportDescriptor) -> String {
        switch descriptor {
        case .function: "function"
        case .table: "table"
        case .memory: "memory"
        case .global: "global"
        case .tag: "tag"
        }
    }

    private static func kind(of descriptor: ExportDescriptor) -> String {
        switch descriptor {
        case .function: "function"
        case .table: "table"
        case .memory: "memory"
        case .global: "global"
        case .tag: "tag"
        }
    }
}
