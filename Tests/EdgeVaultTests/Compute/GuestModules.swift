import EdgeVaultCore
import WAT

/// The tiny WASI modules the compute tests run, compiled from WAT text here (WasmKit's WAT).
enum GuestModules {
    static func compile(_ wat: String) -> [UInt8] {
        do { return try wat2wasm(wat) } catch { fatalError("test module does not compile: \(error)") }
    }

    static let fdWrite = #"(import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))"#

    /// Writes memory [ptr, ptr+len) to stdout (iovec at 0, count at 8).
    static func writeOut(_ ptr: String, _ len: String) -> String {
        "(i32.store (i32.const 0) \(ptr)) (i32.store (i32.const 4) \(len)) (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))"
    }

    static let hello = compile("""
        (module \(fdWrite)
          (memory (export "memory") 1)
          (data (i32.const 16) "hello, world\\n")
          (func (export "_start") \(writeOut("(i32.const 16)", "(i32.const 13)"))))
        """)

    /// Copies stdin to stdout, 4 KiB at a time.
    static let echo = compile("""
        (module
          (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
          \(fdWrite)
          (memory (export "memory") 1)
          (func (export "_start")
            (loop $more
              (i32.store (i32.const 0) (i32.const 1024))
              (i32.store (i32.const 4) (i32.const 4096))
              (drop (call $fd_read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
              (if (i32.gt_u (i32.load (i32.const 8)) (i32.const 0))
                (then \(writeOut("(i32.const 1024)", "(i32.load (i32.const 8))")) (br $more))))))
        """)

    static let exit3 = compile("""
        (module (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (memory (export "memory") 1)
          (func (export "_start") (call $exit (i32.const 3))))
        """)

    static let infiniteLoop = compile(#"(module (memory (export "memory") 1) (func (export "_start") (loop $l (br $l))))"#)

    /// A loop of `count` iterations of a few instructions each, then exit 0.
    static func countedLoop(_ count: Int) -> [UInt8] {
        compile("""
            (module (memory (export "memory") 1)
              (func (export "_start") (local $i i32)
                (loop $l (local.set $i (i32.add (local.get $i) (i32.const 1)))
                  (br_if $l (i32.lt_u (local.get $i) (i32.const \(count)))))))
            """)
    }

    /// Grows its memory by `pages`; traps (unreachable) when refused.
    static func grow(_ pages: Int) -> [UInt8] {
        compile("""
            (module (memory (export "memory") 1)
              (func (export "_start") (if (i32.eq (memory.grow (i32.const \(pages))) (i32.const -1)) (then unreachable))))
            """)
    }

    static func memory(min: Int, max: Int? = nil) -> [UInt8] {
        compile(#"(module (memory (export "memory") \#(min) \#(max.map(String.init) ?? "")) (func (export "_start")))"#)
    }

    /// Writes 1000 bytes to stdout, forever.
    static let flood = compile("""
        (module \(fdWrite) (memory (export "memory") 1)
          (func (export "_start") (loop $l \(writeOut("(i32.const 64)", "(i32.const 1000)")) (br $l))))
        """)

    static let unreachable = compile(#"(module (memory (export "memory") 1) (func (export "_start") unreachable))"#)

    static let recursion = compile(#"(module (memory (export "memory") 1) (func $f (export "_start") (call $f)))"#)

    /// clock_time_get for clock ids 0…3, the four results (u64 LE) to stdout.
    static let clocks = compile("""
        (module
          (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
          \(fdWrite) (memory (export "memory") 1)
          (func (export "_start")
            (drop (call $clock (i32.const 0) (i64.const 1) (i32.const 100)))
            (drop (call $clock (i32.const 1) (i64.const 1) (i32.const 108)))
            (drop (call $clock (i32.const 2) (i64.const 1) (i32.const 116)))
            (drop (call $clock (i32.const 3) (i64.const 1) (i32.const 124)))
            \(writeOut("(i32.const 100)", "(i32.const 32)"))))
        """)

    /// random_get of `first` bytes, then of `second` more (starting inside a 64-byte block
    /// unless `first` is a multiple of 64); all of them to stdout.
    static func random(_ first: Int, _ second: Int) -> [UInt8] {
        compile("""
            (module
              (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
              \(fdWrite) (memory (export "memory") \((100 + first + second) / 65536 + 1))
              (func (export "_start")
                (drop (call $random (i32.const 100) (i32.const \(first))))
                (drop (call $random (i32.const \(100 + first)) (i32.const \(second))))
                \(writeOut("(i32.const 100)", "(i32.const \(first + second))"))))
            """)
    }

    /// fd_write with an iovec pointing past the end of memory.
    static let badPointer = compile("""
        (module \(fdWrite) (memory (export "memory") 1)
          (func (export "_start") \(writeOut("(i32.const 65000)", "(i32.const 100000)"))))
        """)

    static func importing(module: String, name: String) -> [UInt8] {
        compile(#"(module (import "\#(module)" "\#(name)" (func (param i32) (result i32))) (memory (export "memory") 1) (func (export "_start")))"#)
    }
}

extension JobLimits {
    /// Generous limits for a small test module.
    static func test(fuel: UInt64 = 10_000_000, memoryPages: Int = 16, outputBytes: Int = 1 << 20, wallMs: Int = 10_000) -> JobLimits {
        JobLimits(fuel: fuel, memoryPages: memoryPages, outputBytes: outputBytes, wallMs: wallMs)
    }
}

/// 2026-11-27T12:00:00Z in nanoseconds.
let testClockNanos: UInt64 = 1_795_780_800_000_000_000
