import Testing
@testable import EdgeVaultCompute
import EdgeVaultCore

@Suite("Organizations' modules are checked at upload (422 module_invalid) and against a job's limits")
struct ComputeModuleCheckTests {
    @Test("A WASI command importing allowed functions passes, with its imports, exports and memory read")
    func acceptsCommand() throws {
        let info = try WasmModuleInfo.inspect(GuestModules.echo)
        try info.validateForUpload()
        #expect(info.imports == [.init(module: "wasi_snapshot_preview1", name: "fd_read", kind: "function"),
                                 .init(module: "wasi_snapshot_preview1", name: "fd_write", kind: "function")])
        #expect(info.exports.contains(.init(name: "_start", kind: "function")))
        #expect(info.exports.contains(.init(name: "memory", kind: "memory")))
        #expect(info.memoryMinPages == 1 && info.memoryMaxPages == nil)
        #expect(info.size == GuestModules.echo.count)
    }

    @Test("Imports outside the allowed WASI functions are refused: path_open, env.foo, a memory, another module")
    func refusesImports() throws {
        let refused: [[UInt8]] = [
            GuestModules.importing(module: "wasi_snapshot_preview1", name: "path_open"),
            GuestModules.importing(module: "wasi_snapshot_preview1", name: "sock_accept"),
            GuestModules.importing(module: "env", name: "foo"),
            GuestModules.importing(module: "wasi_unstable", name: "fd_write"),
            GuestModules.compile(#"(module (import "wasi_snapshot_preview1" "memory" (memory 1)) (func (export "_start")))"#),
            GuestModules.compile(#"(module (import "wasi_snapshot_preview1" "fd_write" (global i32)) (func (export "_start")))"#),
        ]
        for bytes in refused {
            let info = try WasmModuleInfo.inspect(bytes)
            #expect(throws: ModuleInvalid.self) { try info.validateForUpload() }
        }
        #expect(WasmModuleInfo.allowedImports.count == 13 && !WasmModuleInfo.allowedImports.contains("path_open"))
        // The organization's names reach the reason escaped, on one line.
        let hostile = try WasmModuleInfo.inspect(GuestModules.importing(module: #"env\1b[2J\0a"#, name: "x"))
        do {
            try hostile.validateForUpload()
            Issue.record("a foreign module name accepted")
        } catch {
            #expect(error.reason.contains("env\\u{1B}[2J") && !error.reason.contains("\u{1B}") && !error.reason.contains("\n"))
        }
    }

    @Test("No _start, or _start that is not a function, is refused")
    func needsStart() throws {
        let noStart = try WasmModuleInfo.inspect(GuestModules.compile(#"(module (func (export "main")))"#))
        #expect(throws: ModuleInvalid.self) { try noStart.validateForUpload() }
        let globalStart = try WasmModuleInfo.inspect(GuestModules.compile(#"(module (global (export "_start") i32 (i32.const 0)))"#))
        #expect(throws: ModuleInvalid.self) { try globalStart.validateForUpload() }
    }

    @Test("A memory of more than 65536 pages, two memories, or a huge table are refused")
    func refusesOddities() throws {
        let huge = WasmModuleInfo(imports: [], exports: [.init(name: "_start", kind: "function")], memoryMinPages: 65537, memoryMaxPages: nil, size: 0)
        #expect(throws: ModuleInvalid.self) { try huge.validateForUpload() }
        let bigTable = try WasmModuleInfo.inspect(GuestModules.compile(#"(module (table 200000 funcref) (func (export "_start")))"#))
        #expect(throws: ModuleInvalid.self) { try bigTable.validateForUpload() }
        var two = try WasmModuleInfo.inspect(GuestModules.hello)
        two.memoryCount = 2
        #expect(throws: ModuleInvalid.self) { try two.validateForUpload() }
        // The header, then a memory section: one memory, minimum 65537 pages (LEB 0x81 0x80 0x04).
        let bytes: [UInt8] = [0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00, 0x05, 0x05, 0x01, 0x00, 0x81, 0x80, 0x04]
        let parsed = try WasmModuleInfo.inspect(bytes)
        #expect(parsed.memoryMinPages == 65537)
        #expect(throws: ModuleInvalid.self) { try parsed.validateForUpload() }
    }

    @Test("check(against:) refuses a minimum or a declared maximum above the job's pages")
    func checkAgainstLimits() throws {
        try WasmModuleInfo.inspect(GuestModules.memory(min: 1, max: 100)).check(against: .test(memoryPages: 100))
        #expect(throws: ModuleInvalid.self) { try WasmModuleInfo.inspect(GuestModules.memory(min: 1, max: 100)).check(against: .test(memoryPages: 50)) }
        #expect(throws: ModuleInvalid.self) { try WasmModuleInfo.inspect(GuestModules.memory(min: 60)).check(against: .test(memoryPages: 50)) }
        try WasmModuleInfo.inspect(GuestModules.memory(min: 50)).check(against: .test(memoryPages: 50))
    }

    @Test("Garbage, truncated modules, components and anything over 4 MiB throw one plain line, never crash")
    func hostileBytes() throws {
        let hello = GuestModules.hello
        let cases: [[UInt8]] = [[], [0x00], Array("hello".utf8), [0x00, 0x61, 0x73, 0x6D, 0x0D, 0x00, 0x01, 0x00],
                                [UInt8](repeating: 0, count: WasmModuleInfo.maxModuleBytes + 1)]
        for bytes in cases {
            #expect(throws: ModuleInvalid.self) { try WasmModuleInfo.inspect(bytes) }
        }
        // Every cut of a valid module throws, except a cut between two sections (a smaller
        // complete module; hello has seven sections after its header).
        let accepted = (1..<hello.count).filter { (try? WasmModuleInfo.inspect(Array(hello.prefix($0)))) != nil }
        #expect(accepted.count <= 8, "cuts accepted at \(accepted)")
        do {
            _ = try WasmModuleInfo.inspect(Array("\u{1B}[2J evil".utf8) + [UInt8](repeating: 0xFF, count: 100))
            Issue.record("garbage accepted")
        } catch {
            #expect(error.reason.allSatisfy { $0.isASCII && !$0.isNewline && $0 != "\u{1B}" })
        }
        // Every single-byte change of a valid module, through a fixed generator: inspect
        // returns or throws, and whatever it returns validates or throws.
        var rng = SplitMix64(seed: 19)
        for _ in 0..<3000 {
            var bytes = hello
            for _ in 0..<(1 + Int(rng.next() % 3)) {
                bytes[8 + Int(rng.next() % UInt64(bytes.count - 8))] = UInt8(truncatingIfNeeded: rng.next())
            }
            if let info = try? WasmModuleInfo.inspect(bytes) { _ = try? info.validateForUpload() }
        }
    }

    @Test("More than four tables are refused: many tables filled cheaply once took the sandbox past 1 GB")
    func refusesManyTables() throws {
        let tables = { (n: Int) in
            GuestModules.compile("(module " + (0..<n).map { _ in "(table 100000 funcref)" }.joined() + #" (func (export "_start")))"#)
        }
        try WasmModuleInfo.inspect(tables(4)).validateForUpload()
        #expect(throws: ModuleInvalid.self) { try WasmModuleInfo.inspect(tables(5)).validateForUpload() }
    }


    @Test("What instantiation builds outside the job's pages is bounded: element segments past 100,000 entries are refused (4 MiB of them once took the sandbox to 445 MB at 0 fuel)")
    func refusesHugeElementSegments() throws {
        let module = { (n: Int) in
            GuestModules.compile("(module (table 1 funcref) (func $f) (elem declare func " + String(repeating: "$f ", count: n) + #") (func (export "_start")))"#)
        }
        try WasmModuleInfo.inspect(module(100_000)).validateForUpload()
        #expect(throws: ModuleInvalid.self) { try WasmModuleInfo.inspect(module(100_001)).validateForUpload() }
    }
}

/// A small deterministic generator for mutation loops.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
