/// The two frames between a runner and `edgevault-sandbox` (docs/SECURITY.md §"The compute
/// sandbox", "Frames"): the request on the sandbox's stdin, the outcome on its stdout.
/// Little-endian, every length bounded before anything is read or allocated for it.
package enum SandboxFrame {
    /// The request's first 8 bytes.
    package static let requestMagic: [UInt8] = Array("EVSBJOB1".utf8)
    /// The outcome's first 8 bytes.
    package static let outcomeMagic: [UInt8] = Array("EVSBOUT1".utf8)
    /// Bytes of the request's control header, before the module.
    package static let requestHeaderSize = 48
    /// Bytes of the outcome's header, before stdout.
    package static let outcomeHeaderSize = 40

    /// An organization's module: at most 4 MiB.
    package static let maxModuleBytes = 4 << 20
    /// The job's stdin (the person's readings for one run).
    package static let maxStdinBytes = 64 << 20
    /// The largest `outputBytes` a request may name.
    package static let maxOutputBytes = 16 << 20
    /// The largest `memoryPages`: all of wasm32's 4 GiB.
    package static let maxMemoryPages = 65536
    /// The longest `wallMs`: one hour.
    package static let maxWallMs = 3_600_000
    /// The guest's stderr is kept up to this many bytes; the rest is dropped and noted.
    package static let stderrCap = 64 << 10
    /// The outcome's one-line detail (a trap message, a refusal).
    package static let maxDetailBytes = 200
}

/// Where a frame is malformed; the sandbox names it in its outcome's detail.
package struct SandboxFrameError: Error, Equatable, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}

/// Why a run failed, as numbered in the outcome frame (0: it did not fail).
package enum SandboxFailureCode: UInt8, Sendable {
    case fuel = 1, memory, wall, trap, output, exit
}

/// The request frame: the job's limits and clock, the module, the job's stdin.
///
/// ```
/// offset size
///   0     8   "EVSBJOB1"
///   8     8   fuel                 u64, > 0
///  16     4   memory pages         u32, 0…65536
///  20     4   output bytes         u32, 0…16 MiB
///  24     4   wall ms              u32, 1…3 600 000
///  28     4   module length        u32, 8…4 MiB
///  32     8   clock nanos          u64
///  40     4   stdin length         u32, 0…64 MiB
///  44     4   reserved             0
///  48         module bytes, then stdin bytes, then end of stream
/// ```
package struct SandboxRequest: Sendable, Equatable {
    package var fuel: UInt64
    package var memoryPages: Int
    package var outputBytes: Int
    package var wallMs: Int
    package var clockNanos: UInt64
    package var module: [UInt8]
    package var stdin: [UInt8]

    package init(fuel: UInt64, memoryPages: Int, outputBytes: Int, wallMs: Int, clockNanos: UInt64, module: [UInt8], stdin: [UInt8]) {
        self.fuel = fuel
        self.memoryPages = memoryPages
        self.outputBytes = outputBytes
        self.wallMs = wallMs
        self.clockNanos = clockNanos
        self.module = module
        self.stdin = stdin
    }

    /// The fields of the control header; the lengths say how much follows.
    package struct Header: Sendable, Equatable {
        package var fuel: UInt64
        package var memoryPages: Int
        package var outputBytes: Int
        package var wallMs: Int
        package var clockNanos: UInt64
        package var moduleLength: Int
        package var stdinLength: Int
    }

    /// Refuses values a header may not carry (the same checks the sandbox makes).
    package func validated() throws(SandboxFrameError) -> SandboxRequest {
        _ = try Self.check(Header(fuel: fuel, memoryPages: memoryPages, outputBytes: outputBytes, wallMs: wallMs,
                                  clockNanos: clockNanos, moduleLength: module.count, stdinLength: stdin.count))
        return self
    }

    /// The whole frame.
    package func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(SandboxFrame.requestHeaderSize + module.count + stdin.count)
        out += SandboxFrame.requestMagic
        out.appendLE(fuel)
        out.appendLE(UInt32(clamping: memoryPages))
        out.appendLE(UInt32(clamping: outputBytes))
        out.appendLE(UInt32(clamping: wallMs))
        out.appendLE(UInt32(clamping: module.count))
        out.appendLE(clockNanos)
        out.appendLE(UInt32(clamping: stdin.count))
        out.appendLE(UInt32(0))
        out += module
        out += stdin
        return out
    }

    /// Reads and checks the control header (exactly `requestHeaderSize` bytes).
    package static func decodeHeader(_ bytes: [UInt8]) throws(SandboxFrameError) -> Header {
        guard bytes.count == SandboxFrame.requestHeaderSize else { throw SandboxFrameError("request header is not \(SandboxFrame.requestHeaderSize) bytes") }
        guard bytes[0..<8].elementsEqual(SandboxFrame.requestMagic) else { throw SandboxFrameError("not a sandbox request (bad magic)") }
        guard bytes.readLE(UInt32.self, at: 44) == 0 else { throw SandboxFrameError("reserved request bytes are not zero") }
        let header = Header(
            fuel: bytes.readLE(UInt64.self, at: 8),
            memoryPages: Int(bytes.readLE(UInt32.self, at: 16)),
            outputBytes: Int(bytes.readLE(UInt32.self, at: 20)),
            wallMs: Int(bytes.readLE(UInt32.self, at: 24)),
            clockNanos: bytes.readLE(UInt64.self, at: 32),
            moduleLength: Int(bytes.readLE(UInt32.self, at: 28)),
            stdinLength: Int(bytes.readLE(UInt32.self, at: 40))
        )
        return try check(header)
    }

    private static func check(_ h: Header) throws(SandboxFrameError) -> Header {
        guard h.fuel > 0 else { throw SandboxFrameError("fuel is 0") }
        guard (0...SandboxFrame.maxMemoryPages).contains(h.memoryPages) else { throw SandboxFrameError("memory pages out of range") }
        guard (0...SandboxFrame.maxOutputBytes).contains(h.outputBytes) else { throw SandboxFrameError("output bytes out of range") }
        guard (1...SandboxFrame.maxWallMs).contains(h.wallMs) else { throw SandboxFrameError("wall ms out of range") }
        guard (8...SandboxFrame.maxModuleBytes).contains(h.moduleLength) else { throw SandboxFrameError("module length out of range") }
        guard (0...SandboxFrame.maxStdinBytes).contains(h.stdinLength) else { throw SandboxFrameError("stdin length out of range") }
        return h
    }
}

/// The outcome frame, the sandbox's only output.
///
/// ```
/// offset size
///   0     8   "EVSBOUT1"
///   8     1   failure              0 none, 1 fuel, 2 memory, 3 wall, 4 trap, 5 output, 6 exit
///   9     1   flags                bit 0: exit status present; bit 1: stderr truncated
///  10     2   reserved             0
///  12     4   exit status          i32 (0 unless bit 0 is set)
///  16     8   fuel used            u64
///  24     4   stdout length        u32, ≤ the request's output bytes
///  28     4   stderr length        u32, ≤ 64 KiB
///  32     4   detail length        u32, ≤ 200, printable ASCII
///  36     4   reserved             0
///  40         stdout, stderr, detail, then end of stream
/// ```
package struct SandboxOutcomeFrame: Sendable, Equatable {
    package var failure: SandboxFailureCode?
    package var exit: Int32?
    package var stderrTruncated: Bool
    package var fuelUsed: UInt64
    package var stdout: [UInt8]
    package var stderr: [UInt8]
    package var detail: String

    package init(failure: SandboxFailureCode?, exit: Int32?, stderrTruncated: Bool = false, fuelUsed: UInt64, stdout: [UInt8], stderr: [UInt8], detail: String) {
        self.failure = failure
        self.exit = exit
        self.stderrTruncated = stderrTruncated
        self.fuelUsed = fuelUsed
        self.stdout = stdout
        self.stderr = stderr
        self.detail = detail
    }

    /// The whole frame; stderr and detail are cut to their caps, detail made one safe line.
    package func encoded() -> [UInt8] {
        let err = stderr.prefix(SandboxFrame.stderrCap)
        let line = SandboxOutcomeFrame.safeLine(detail)
        var out: [UInt8] = []
        out.reserveCapacity(SandboxFrame.outcomeHeaderSize + stdout.count + err.count + line.count)
        out += SandboxFrame.outcomeMagic
        out.append(failure?.rawValue ?? 0)
        out.append((exit != nil ? 1 : 0) | (stderrTruncated || err.count < stderr.count ? 2 : 0))
        out.appendLE(UInt16(0))
        out.appendLE(UInt32(bitPattern: exit ?? 0))
        out.appendLE(fuelUsed)
        out.appendLE(UInt32(clamping: stdout.count))
        out.appendLE(UInt32(err.count))
        out.appendLE(UInt32(line.count))
        out.appendLE(UInt32(0))
        out += stdout
        out += err
        out += line
        return out
    }

    /// Parses a whole outcome frame, refusing anything past the caps (`outputBytes`: the
    /// request's). Never trusts a length before checking it.
    package static func decode(_ bytes: [UInt8], outputBytes: Int) throws(SandboxFrameError) -> SandboxOutcomeFrame {
        guard bytes.count >= SandboxFrame.outcomeHeaderSize else { throw SandboxFrameError("outcome shorter than its header") }
        guard bytes[0..<8].elementsEqual(SandboxFrame.outcomeMagic) else { throw SandboxFrameError("not a sandbox outcome (bad magic)") }
        let code = bytes[8], flags = bytes[9]
        guard flags & ~3 == 0, bytes.readLE(UInt16.self, at: 10) == 0, bytes.readLE(UInt32.self, at: 36) == 0 else {
            throw SandboxFrameError("reserved outcome bits are not zero")
        }
        guard flags & 1 != 0 || bytes.readLE(UInt32.self, at: 12) == 0 else { throw SandboxFrameError("exit status without its flag") }
        let failure: SandboxFailureCode?
        if code == 0 { failure = nil } else if let f = SandboxFailureCode(rawValue: code) { failure = f } else {
            throw SandboxFrameError("unknown failure code")
        }
        let outLength = Int(bytes.readLE(UInt32.self, at: 24))
        let errLength = Int(bytes.readLE(UInt32.self, at: 28))
        let detailLength = Int(bytes.readLE(UInt32.self, at: 32))
        guard outLength <= outputBytes, errLength <= SandboxFrame.stderrCap, detailLength <= SandboxFrame.maxDetailBytes else {
            throw SandboxFrameError("outcome lengths past their caps")
        }
        guard bytes.count == SandboxFrame.outcomeHeaderSize + outLength + errLength + detailLength else {
            throw SandboxFrameError("outcome length does not match its header")
        }
        var at = SandboxFrame.outcomeHeaderSize
        let stdout = Array(bytes[at..<at + outLength]); at += outLength
        let stderr = Array(bytes[at..<at + errLength]); at += errLength
        let detailBytes = bytes[at..<at + detailLength]
        guard detailBytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { throw SandboxFrameError("outcome detail is not printable ASCII") }
        return SandboxOutcomeFrame(
            failure: failure,
            exit: flags & 1 != 0 ? Int32(bitPattern: bytes.readLE(UInt32.self, at: 12)) : nil,
            stderrTruncated: flags & 2 != 0,
            fuelUsed: bytes.readLE(UInt64.self, at: 16),
            stdout: stdout, stderr: stderr,
            detail: String(decoding: detailBytes, as: UTF8.self)
        )
    }

    /// One line of printable ASCII, at most `maxDetailBytes`: anything else becomes `?`.
    package static func safeLine(_ text: String) -> [UInt8] {
        Array(text.utf8.prefix(SandboxFrame.maxDetailBytes).map { $0 >= 0x20 && $0 < 0x7F ? $0 : UInt8(ascii: "?") })
    }
}

extension Array where Element == UInt8 {
    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    /// The little-endian integer at `offset`; the caller has checked the bounds.
    func readLE<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        var value: T = 0
        for i in 0..<MemoryLayout<T>.size { value |= T(self[offset + i]) << (8 * i) }
        return value
    }
}
