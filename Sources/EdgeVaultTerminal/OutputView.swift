import EdgeVaultCore

/// A job's output as the person sees it before deciding (docs/SECURITY.md §"The compute
/// sandbox"): JSON pretty-printed, text escaped, anything else as a hex dump. Every line is
/// safe to write to a terminal: the organization's program wrote these bytes.
public enum OutputView {
    public enum Kind: String, Sendable { case json, text, binary, empty }

    public static func kind(of bytes: [UInt8]) -> Kind {
        if bytes.isEmpty { return .empty }
        if (try? JSONValue.parse(bytes)) != nil { return .json }
        if String(validating: bytes, as: UTF8.self) != nil { return .text }
        return .binary
    }

    /// The lines to show, each escaped.
    public static func lines(_ bytes: [UInt8]) -> [String] {
        switch kind(of: bytes) {
        case .empty:
            return ["(no output)"]
        case .json:
            var out: [String] = []
            pretty((try? JSONValue.parse(bytes)) ?? .null, indent: "", into: &out, prefix: "")
            return out
        case .text:
            return String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
                .map { TerminalText.escape(String($0)) }
        case .binary:
            return stride(from: 0, to: bytes.count, by: 16).map { start in
                let row = bytes[start..<min(start + 16, bytes.count)]
                let hex = row.map { b in String(b, radix: 16).count == 1 ? "0" + String(b, radix: 16) : String(b, radix: 16) }.joined(separator: " ")
                let ascii = String(row.map { $0 >= 0x20 && $0 < 0x7F ? Character(UnicodeScalar($0)) : "." })
                let offset = String(start, radix: 16)
                return String(repeating: "0", count: max(0, 8 - offset.count)) + offset + "  " + hex.padding(toLength: 48) + "  " + ascii
            }
        }
    }

    static func quoted(_ s: String) -> String { "\"" + TerminalText.escape(s).replacingQuotes() + "\"" }

    static func pretty(_ v: JSONValue, indent: String, into out: inout [String], prefix: String, trailer: String = "") {
        switch v {
        case .object(let o) where !o.isEmpty:
            out.append(indent + prefix + "{")
            let keys = o.keys.sorted()
            for (i, k) in keys.enumerated() {
                pretty(o[k]!, indent: indent + "  ", into: &out, prefix: quoted(k) + ": ", trailer: i == keys.count - 1 ? "" : ",")
            }
            out.append(indent + "}" + trailer)
        case .array(let a) where !a.isEmpty:
            out.append(indent + prefix + "[")
            for (i, e) in a.enumerated() { pretty(e, indent: indent + "  ", into: &out, prefix: "", trailer: i == a.count - 1 ? "" : ",") }
            out.append(indent + "]" + trailer)
        case .string(let s):
            out.append(indent + prefix + quoted(s) + trailer)
        default:
            out.append(indent + prefix + TerminalText.escape(String(decoding: v.serialized(), as: UTF8.self)) + trailer)
        }
    }
}

extension String {
    func replacingQuotes() -> String {
        var out = ""
        for c in self { out += c == "\"" ? "\\\"" : String(c) }
        return out
    }

    func padding(toLength n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
}
