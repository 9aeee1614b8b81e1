/// A parsed JSON document for the places that need a tree (SenML packs, MQTT payload
/// mapping). Numbers keep their exact source text, so a value is never reformatted.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// A number, as its JSON source text.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses exactly one JSON value; duplicate object keys are an error.
    public static func parse(_ bytes: [UInt8]) throws(JSONScanner.Failure) -> JSONValue {
        let result: Result<JSONValue, JSONScanner.Failure> = bytes.withUnsafeBytes { raw in
            var s = JSONScanner(raw)
            do throws(JSONScanner.Failure) {
                let v = try s.parseValue(depth: 0)
                try s.expectEnd()
                return .success(v)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var numberText: String? { if case .number(let n) = self { return n } else { return nil } }
    public var doubleValue: Double? { numberText.flatMap(Double.init) }

    /// Compact JSON text (object keys sorted, for a stable form).
    public func serialized() -> [UInt8] {
        var out = [UInt8]()
        serialize(into: &out)
        return out
    }

    func serialize(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: Array("null".utf8))
        case .bool(let b): out.append(contentsOf: Array((b ? "true" : "false").utf8))
        case .number(let n): out.append(contentsOf: Array(n.utf8))
        case .string(let s): JSONText.appendQuoted(s, to: &out)
        case .array(let a):
            out.append(0x5B)
            for (i, v) in a.enumerated() {
                if i > 0 { out.append(0x2C) }
                v.serialize(into: &out)
            }
            out.append(0x5D)
        case .object(let o):
            out.append(0x7B)
            for (i, k) in o.keys.sorted().enumerated() {
                if i > 0 { out.append(0x2C) }
                JSONText.appendQuoted(k, to: &out)
                out.append(0x3A)
                o[k]!.serialize(into: &out)
            }
            out.append(0x7D)
        }
    }
}

extension JSONScanner {
    mutating func parseValue(depth: Int) throws(Failure) -> JSONValue {
        skipWhitespace()
        guard !atEnd else { throw fail("unexpected end of input, expected a value") }
        switch peek() {
        case 0x22: return .string(try scanString(decode: true)!)
        case 0x7B:
            guard depth < Self.maxDepth else { throw fail("nesting deeper than \(Self.maxDepth)") }
            var object: [String: JSONValue] = [:]
            try scanObject { (key, s) throws(Failure) in
                guard object[key] == nil else { throw s.fail("duplicate key \"\(key)\"") }
                object[key] = try s.parseValue(depth: depth + 1)
            }
            return .object(object)
        case 0x5B:
            guard depth < Self.maxDepth else { throw fail("nesting deeper than \(Self.maxDepth)") }
            position += 1
            var array: [JSONValue] = []
            skipWhitespace()
            if !atEnd, peek() == 0x5D { position += 1; return .array(array) }
            while true {
                array.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                guard !atEnd else { throw fail("unterminated array") }
                if peek() == 0x2C { position += 1; continue }
                if peek() == 0x5D { position += 1; return .array(array) }
                throw fail("expected ',' or ']'")
            }
        case 0x74: try literal("true"); return .bool(true)
        case 0x66: try literal("false"); return .bool(false)
        case 0x6E: try literal("null"); return .null
        default:
            let start = position
            _ = try scanNumber()
            return .number(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self))
        }
    }
}
