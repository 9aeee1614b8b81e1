/// A strict, allocation-light JSON reader over raw bytes (RFC 8259).
///
/// Ingest reads millions of small objects: building a tree for each would cost more than
/// encrypting them. The scanner validates a value and reports its byte span, so a reading's
/// value is stored byte-for-byte as the sensor sent it.
public struct JSONScanner {
    public struct Failure: Error, Equatable, Sendable {
        public let offset: Int
        public let reason: String
    }

    public static let maxDepth = 64

    let bytes: UnsafeRawBufferPointer
    public internal(set) var position: Int
    let end: Int

    public init(_ bytes: UnsafeRawBufferPointer, start: Int = 0, end: Int? = nil) {
        self.bytes = bytes
        self.position = start
        self.end = end ?? bytes.count
    }

    @inline(__always) var atEnd: Bool { position >= end }
    @inline(__always) func peek() -> UInt8 { bytes[position] }

    func fail(_ reason: String) -> Failure { Failure(offset: position, reason: reason) }

    @inline(__always)
    public mutating func skipWhitespace() {
        while position < end {
            let c = bytes[position]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { position += 1 } else { return }
        }
    }

    mutating func expect(_ c: UInt8, _ what: String) throws(Failure) {
        skipWhitespace()
        guard !atEnd, peek() == c else { throw fail("expected \(what)") }
        position += 1
    }

    /// Skips one value and returns its byte range.
    public mutating func scanValue(depth: Int = 0) throws(Failure) -> Range<Int> {
        skipWhitespace()
        guard !atEnd else { throw fail("unexpected end of input, expected a value") }
        let start = position
        switch peek() {
        case 0x22: _ = try scanString(decode: false)
        case 0x7B:
            guard depth < Self.maxDepth else { throw fail("nesting deeper than \(Self.maxDepth)") }
            position += 1
            skipWhitespace()
            if !atEnd, peek() == 0x7D { position += 1; break }
            while true {
                skipWhitespace()
                guard !atEnd, peek() == 0x22 else { throw fail("expected a string key") }
                _ = try scanString(decode: false)
                try expect(0x3A, "':'")
                _ = try scanValue(depth: depth + 1)
                skipWhitespace()
                guard !atEnd else { throw fail("unterminated object") }
                if peek() == 0x2C { position += 1; continue }
                if peek() == 0x7D { position += 1; break }
                throw fail("expected ',' or '}'")
            }
        case 0x5B:
            guard depth < Self.maxDepth else { throw fail("nesting deeper than \(Self.maxDepth)") }
            position += 1
            skipWhitespace()
            if !atEnd, peek() == 0x5D { position += 1; break }
            while true {
                _ = try scanValue(depth: depth + 1)
                skipWhitespace()
                guard !atEnd else { throw fail("unterminated array") }
                if peek() == 0x2C { position += 1; continue }
                if peek() == 0x5D { position += 1; break }
                throw fail("expected ',' or ']'")
            }
        case 0x74: try literal("true")
        case 0x66: try literal("false")
        case 0x6E: try literal("null")
        case 0x2D, 0x30...0x39: _ = try scanNumber()
        default: throw fail("unexpected character")
        }
        return start..<position
    }

    mutating func literal(_ word: StaticString) throws(Failure) {
        let n = word.utf8CodeUnitCount
        guard end - position >= n else { throw fail("invalid literal") }
        let w = word.utf8Start
        for i in 0..<n where bytes[position + i] != w[i] { throw fail("invalid literal") }
        position += n
    }

    /// Scans a number; returns whether it is an integer (no fraction, no exponent).
    public mutating func scanNumber() throws(Failure) -> Bool {
        var isInteger = true
        if !atEnd, peek() == 0x2D { position += 1 }
        guard !atEnd else { throw fail("invalid number") }
        if peek() == 0x30 {
            position += 1
        } else if peek() >= 0x31 && peek() <= 0x39 {
            while !atEnd, peek() >= 0x30 && peek() <= 0x39 { position += 1 }
        } else {
            throw fail("invalid number")
        }
        if !atEnd, peek() == 0x2E {
            isInteger = false
            position += 1
            let s = position
            while !atEnd, peek() >= 0x30 && peek() <= 0x39 { position += 1 }
            guard position > s else { throw fail("invalid number: digits expected after '.'") }
        }
        if !atEnd, peek() == 0x65 || peek() == 0x45 {
            isInteger = false
            position += 1
            if !atEnd, peek() == 0x2B || peek() == 0x2D { position += 1 }
            let s = position
            while !atEnd, peek() >= 0x30 && peek() <= 0x39 { position += 1 }
            guard position > s else { throw fail("invalid number: exponent digits expected") }
        }
        return isInteger
    }

    /// Scans a string starting at the opening quote; decodes it when asked.
    public mutating func scanString(decode: Bool) throws(Failure) -> String? {
        guard !atEnd, peek() == 0x22 else { throw fail("expected a string") }
        position += 1
        let start = position
        var simple = true
        while true {
            guard !atEnd else { throw fail("unterminated string") }
            let c = peek()
            if c == 0x22 { break }
            if c < 0x20 { throw fail("control character in string") }
            if c == 0x5C {
                simple = false
                position += 1
                guard !atEnd else { throw fail("unterminated string") }
                switch peek() {
                case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74: position += 1
                case 0x75:
                    position += 1
                    guard end - position >= 4 else { throw fail("invalid \\u escape") }
                    for _ in 0..<4 {
                        guard Self.hexValue(peek()) != nil else { throw fail("invalid \\u escape") }
                        position += 1
                    }
                default: throw fail("invalid escape")
                }
                continue
            }
            if c >= 0x80 {
                simple = false
                position += try utf8SequenceLength(at: position)
                continue
            }
            position += 1
        }
        let stop = position
        position += 1  // closing quote
        guard decode else { return nil }
        let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<stop])
        if simple { return String(decoding: raw, as: UTF8.self) }
        return try Self.unescape(raw, offset: start)
    }

    func utf8SequenceLength(at i: Int) throws(Failure) -> Int {
        let b0 = bytes[i]
        let n: Int
        let minScalar: UInt32
        switch b0 {
        case 0xC2...0xDF: n = 2; minScalar = 0x80
        case 0xE0...0xEF: n = 3; minScalar = 0x800
        case 0xF0...0xF4: n = 4; minScalar = 0x10000
        default: throw Failure(offset: i, reason: "invalid UTF-8")
        }
        guard end - i >= n else { throw Failure(offset: i, reason: "invalid UTF-8") }
        var scalar = UInt32(b0) & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07)
        for k in 1..<n {
            let b = bytes[i + k]
            guard b & 0xC0 == 0x80 else { throw Failure(offset: i, reason: "invalid UTF-8") }
            scalar = scalar << 6 | UInt32(b & 0x3F)
        }
        guard scalar >= minScalar, scalar <= 0x10FFFF, !(0xD800...0xDFFF).contains(scalar) else {
            throw Failure(offset: i, reason: "invalid UTF-8")
        }
        return n
    }

    static func hexValue(_ c: UInt8) -> UInt32? {
        switch c {
        case 0x30...0x39: return UInt32(c - 0x30)
        case 0x61...0x66: return UInt32(c - 0x61 + 10)
        case 0x41...0x46: return UInt32(c - 0x41 + 10)
        default: return nil
        }
    }

    static func unescape(_ raw: UnsafeRawBufferPointer, offset: Int) throws(Failure) -> String {
        var out = [UInt8]()
        out.reserveCapacity(raw.count)
        var i = 0
        func hex4(_ at: Int) -> UInt32 {
            var v: UInt32 = 0
            for k in 0..<4 { v = v << 4 | hexValue(raw[at + k])! }
            return v
        }
        while i < raw.count {
            let c = raw[i]
            guard c == 0x5C else { out.append(c); i += 1; continue }
            let e = raw[i + 1]
            i += 2
            switch e {
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x6E: out.append(0x0A)
            case 0x72: out.append(0x0D)
            case 0x74: out.append(0x09)
            case 0x75:
                var scalar = hex4(i)
                i += 4
                if (0xD800...0xDBFF).contains(scalar) {
                    guard i + 6 <= raw.count, raw[i] == 0x5C, raw[i + 1] == 0x75 else {
                        throw Failure(offset: offset + i, reason: "unpaired surrogate in \\u escape")
                    }
                    let low = hex4(i + 2)
                    guard (0xDC00...0xDFFF).contains(low) else {
                        throw Failure(offset: offset + i, reason: "unpaired surrogate in \\u escape")
                    }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw Failure(offset: offset + i, reason: "unpaired surrogate in \\u escape")
                }
                out.append(contentsOf: Array(String(Character(Unicode.Scalar(scalar)!)).utf8))
            default: out.append(e)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Reads a whole object, calling `field` with each key and the scanner positioned at its value;
    /// `field` must consume the value.
    public mutating func scanObject(_ field: (String, inout JSONScanner) throws(Failure) -> Void) throws(Failure) {
        try expect(0x7B, "'{'")
        skipWhitespace()
        if !atEnd, peek() == 0x7D { position += 1; return }
        while true {
            skipWhitespace()
            guard !atEnd, peek() == 0x22 else { throw fail("expected a string key") }
            let key = try scanString(decode: true)!
            try expect(0x3A, "':'")
            skipWhitespace()
            try field(key, &self)
            skipWhitespace()
            guard !atEnd else { throw fail("unterminated object") }
            if peek() == 0x2C { position += 1; continue }
            if peek() == 0x7D { position += 1; return }
            throw fail("expected ',' or '}'")
        }
    }

    /// Requires that only whitespace remains.
    public mutating func expectEnd() throws(Failure) {
        skipWhitespace()
        guard atEnd else { throw fail("unexpected data after the value") }
    }

    /// Whether `bytes` is exactly one JSON value (surrounding whitespace allowed).
    public static func isValidValue(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            var s = JSONScanner(raw)
            do {
                _ = try s.scanValue()
                try s.expectEnd()
                return true
            } catch {
                return false
            }
        }
    }
}
