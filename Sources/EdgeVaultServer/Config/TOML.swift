import EdgeVaultCore
import EdgeVaultStore
/// A small TOML reader for EdgeVault's configuration files.
///
/// It covers what the configuration uses: comments, `[tables]`, `[[arrays of tables]]`,
/// bare and quoted keys, basic and literal strings, integers, floats, booleans and arrays.
/// Anything else is an error with its line number, never a silent guess.
public enum TOML {
    public indirect enum Value: Sendable, Equatable {
        case string(String)
        case integer(Int64)
        case float(Double)
        case boolean(Bool)
        case array([Value])
        case table([String: Value])
    }

    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public let line: Int
        public let reason: String
        public var description: String { "line \(line): \(reason)" }
    }

    public static let maxBytes = 1024 * 1024

    /// Parses a document into its root table.
    public static func parse(_ text: String) throws(ParseError) -> [String: Value] {
        guard text.utf8.count <= maxBytes else { throw ParseError(line: 0, reason: "file is larger than 1 MiB") }
        var p = Parser(Array(text.utf8))
        return try p.document()
    }

    struct Parser {
        let b: [UInt8]
        var i = 0
        var line = 1
        var root: [String: Value] = [:]
        var current: [String] = []
        var currentIsArrayElement = false
        /// How many arrays the value being read is inside.
        var depth = 0
        static let maxNesting = 32

        init(_ b: [UInt8]) { self.b = b }

        func fail(_ reason: String) -> ParseError { ParseError(line: line, reason: reason) }
        var atEnd: Bool { i >= b.count }

        mutating func skipSpaces() {
            while !atEnd, b[i] == 0x20 || b[i] == 0x09 { i += 1 }
        }

        mutating func skipComment() {
            if !atEnd, b[i] == 0x23 { while !atEnd, b[i] != 0x0A { i += 1 } }
        }

        mutating func endOfLine() throws(ParseError) {
            skipSpaces()
            skipComment()
            if atEnd { return }
            if b[i] == 0x0D, i + 1 < b.count, b[i + 1] == 0x0A { i += 1 }
            guard b[i] == 0x0A else { throw fail("unexpected text after the value") }
            i += 1
            line += 1
        }

        mutating func document() throws(ParseError) -> [String: Value] {
            while !atEnd {
                skipSpaces()
                if atEnd { break }
                let c = b[i]
                if c == 0x23 || c == 0x0A || c == 0x0D { try endOfLine(); continue }
                if c == 0x5B {
                    let isArray = i + 1 < b.count && b[i + 1] == 0x5B
                    i += isArray ? 2 : 1
                    skipSpaces()
                    let path = try keyPath()
                    skipSpaces()
                    guard !atEnd, b[i] == 0x5D else { throw fail("expected ']'") }
                    i += 1
                    if isArray {
                        guard !atEnd, b[i] == 0x5D else { throw fail("expected ']]'") }
                        i += 1
                    }
                    try openTable(path, arrayElement: isArray)
                    try endOfLine()
                    continue
                }
                let key = try keyPath()
                skipSpaces()
                guard !atEnd, b[i] == 0x3D else { throw fail("expected '=' after the key") }
                i += 1
                skipSpaces()
                let v = try value()
                try set(current + key, v)
                try endOfLine()
            }
            return root
        }

        mutating func keyPath() throws(ParseError) -> [String] {
            var parts: [String] = []
            while true {
                skipSpaces()
                guard !atEnd else { throw fail("expected a key") }
                if b[i] == 0x22 || b[i] == 0x27 {
                    guard case .string(let s) = try value() else { throw fail("invalid key") }
                    parts.append(s)
                } else {
                    let start = i
                    while !atEnd, isBare(b[i]) { i += 1 }
                    guard i > start else { throw fail("expected a key") }
                    parts.append(String(decoding: b[start..<i], as: UTF8.self))
                }
                skipSpaces()
                if !atEnd, b[i] == 0x2E { i += 1; continue }
                return parts
            }
        }

        func isBare(_ c: UInt8) -> Bool {
            (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39) || c == 0x5F || c == 0x2D
        }

        mutating func openTable(_ path: [String], arrayElement: Bool) throws(ParseError) {
            current = path
            currentIsArrayElement = arrayElement
            if arrayElement {
                try mutateArray(path) { arr in arr.append(.table([:])) }
            } else {
                try ensureTable(path)
            }
        }

        // Navigation over nested tables; the last element of an array of tables is "current".
        mutating func ensureTable(_ path: [String]) throws(ParseError) {
            try Self.update(&root, path: path, line: line) { (slot) throws(ParseError) in
                switch slot {
                case nil: slot = .table([:])
                case .table?: break
                default: throw ParseError(line: line, reason: "\(path.joined(separator: ".")) is not a table")
                }
            }
        }

        mutating func mutateArray(_ path: [String], _ body: (inout [Value]) -> Void) throws(ParseError) {
            let line = self.line
            try Self.update(&root, path: path, line: line, arrayTail: false) { (slot) throws(ParseError) in
                var arr: [Value]
                switch slot {
                case nil: arr = []
                case .array(let a)?: arr = a
                default: throw ParseError(line: line, reason: "\(path.joined(separator: ".")) is not an array of tables")
                }
                body(&arr)
                slot = .array(arr)
            }
        }

        mutating func set(_ path: [String], _ v: Value) throws(ParseError) {
            let line = self.line
            try Self.update(&root, path: path, line: line) { (slot) throws(ParseError) in
                guard slot == nil else { throw ParseError(line: line, reason: "\(path.joined(separator: ".")) is defined twice") }
                slot = v
            }
        }

        /// Walks `path`, descending into tables (and into the last table of an array of
        /// tables), and lets `body` change the final slot.
        static func update(
            _ table: inout [String: Value], path: [String], line: Int, arrayTail: Bool = true,
            _ body: (inout Value?) throws(ParseError) -> Void
        ) throws(ParseError) {
            guard let first = path.first else { return }
            if path.count == 1 {
                var slot = table[first]
                try body(&slot)
                table[first] = slot
                return
            }
            let rest = Array(path.dropFirst())
            switch table[first] {
            case nil:
                var sub: [String: Value] = [:]
                try update(&sub, path: rest, line: line, arrayTail: arrayTail, body)
                table[first] = .table(sub)
            case .table(var sub)?:
                try update(&sub, path: rest, line: line, arrayTail: arrayTail, body)
                table[first] = .table(sub)
            case .array(var arr)? where arrayTail:
                guard case .table(var sub)? = arr.last else {
                    throw ParseError(line: line, reason: "\(first) is not a table")
                }
                try update(&sub, path: rest, line: line, arrayTail: arrayTail, body)
                arr[arr.count - 1] = .table(sub)
                table[first] = .array(arr)
            default:
                throw ParseError(line: line, reason: "\(first) is not a table")
            }
        }

        mutating func value() throws(ParseError) -> Value {
            guard !atEnd else { throw fail("expected a value") }
            switch b[i] {
            case 0x22: return .string(try basicString())
            case 0x27:
                i += 1
                let start = i
                while !atEnd, b[i] != 0x27 {
                    guard b[i] != 0x0A else { throw fail("unterminated string") }
                    i += 1
                }
                guard !atEnd else { throw fail("unterminated string") }
                defer { i += 1 }
                return .string(String(decoding: b[start..<i], as: UTF8.self))
            case 0x5B:
                // Arrays nest by recursion: bounded, so a file of brackets cannot exhaust the stack.
                guard depth < Self.maxNesting else { throw fail("arrays nested more than \(Self.maxNesting) deep") }
                depth += 1
                defer { depth -= 1 }
                i += 1
                var items: [Value] = []
                while true {
                    skipArraySpace()
                    guard !atEnd else { throw fail("unterminated array") }
                    if b[i] == 0x5D { i += 1; return .array(items) }
                    items.append(try value())
                    skipArraySpace()
                    guard !atEnd else { throw fail("unterminated array") }
                    if b[i] == 0x2C { i += 1; continue }
                    guard b[i] == 0x5D else { throw fail("expected ',' or ']' in array") }
                }
            case 0x7B: throw fail("inline tables are not supported; use a [table] section")
            default:
                let start = i
                while !atEnd, b[i] != 0x20, b[i] != 0x09, b[i] != 0x0A, b[i] != 0x0D, b[i] != 0x2C, b[i] != 0x5D, b[i] != 0x23 { i += 1 }
                let word = String(decoding: b[start..<i], as: UTF8.self)
                if word == "true" { return .boolean(true) }
                if word == "false" { return .boolean(false) }
                let digits = word.replacingUnderscores()
                if let n = Int64(digits) { return .integer(n) }
                if let d = Double(digits), digits.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) { return .float(d) }
                throw fail("cannot read value \"\(word)\" (strings need quotes)")
            }
        }

        mutating func skipArraySpace() {
            while !atEnd {
                switch b[i] {
                case 0x20, 0x09, 0x0D: i += 1
                case 0x0A: i += 1; line += 1
                case 0x23: skipComment()
                default: return
                }
            }
        }

        mutating func basicString() throws(ParseError) -> String {
            i += 1
            var out: [UInt8] = []
            while true {
                guard !atEnd, b[i] != 0x0A else { throw fail("unterminated string") }
                let c = b[i]
                if c == 0x22 { i += 1; return String(decoding: out, as: UTF8.self) }
                if c == 0x5C {
                    i += 1
                    guard !atEnd else { throw fail("unterminated string") }
                    switch b[i] {
                    case 0x22: out.append(0x22)
                    case 0x5C: out.append(0x5C)
                    case 0x6E: out.append(0x0A)
                    case 0x74: out.append(0x09)
                    case 0x72: out.append(0x0D)
                    case 0x75, 0x55:
                        let n = b[i] == 0x75 ? 4 : 8
                        guard i + n < b.count, let v = UInt32(String(decoding: b[(i + 1)...(i + n)], as: UTF8.self), radix: 16),
                              let scalar = Unicode.Scalar(v)
                        else { throw fail("invalid \\u escape") }
                        out.append(contentsOf: Array(String(Character(scalar)).utf8))
                        i += n
                    default: throw fail("invalid escape in string")
                    }
                    i += 1
                    continue
                }
                out.append(c)
                i += 1
            }
        }
    }
}

extension String {
    fileprivate func replacingUnderscores() -> String { String(filter { $0 != "_" }) }
}
