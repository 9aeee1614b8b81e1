import Foundation

/// Text that comes from outside the person's own hands: an organization's name, contact and
/// purpose, ids and reasons, and anything a daemon hands back. Two rules (docs/SECURITY.md,
/// "terminal injection"):
///
/// - **At the input boundary** (`UntrustedText.check`): refuse text holding C0/C1 controls,
///   bidirectional overrides and isolates, zero-width and other default-ignorable characters,
///   unassigned or private-use code points and noncharacters; require Unicode NFC; limit both
///   the bytes and the grapheme clusters (what a person counts as characters), and the code
///   points in one grapheme (so `"A"` plus 3,000 combining marks is not "one character").
/// - **At every output** that shows such text on a terminal (`TerminalText.escape`): anything
///   that is not printable is shown as a visible escape (`\u{1B}`), never written raw, so
///   strings stored before the input rules existed cannot drive the terminal either.
public enum UntrustedText {
    /// Limits for one field.
    public struct Limits: Sendable {
        public var maxGraphemes: Int
        public var maxBytes: Int
        /// Whether line feeds may separate paragraphs (a purpose); never any other control.
        public var allowsLineFeeds: Bool
        public var allowsEmpty: Bool
        /// With `allowsLineFeeds`: how many (so a text cannot push the rest off a screen).
        public var maxLineFeeds = 10

        public init(maxGraphemes: Int, maxBytes: Int? = nil, allowsLineFeeds: Bool = false, allowsEmpty: Bool = false) {
            self.maxGraphemes = maxGraphemes
            self.maxBytes = maxBytes ?? maxGraphemes * 4
            self.allowsLineFeeds = allowsLineFeeds
            self.allowsEmpty = allowsEmpty
        }

        public static let name = Limits(maxGraphemes: 200)
        public static let contact = Limits(maxGraphemes: 200, allowsEmpty: true)
        public static let purpose = Limits(maxGraphemes: 2000, allowsLineFeeds: true)
        public static let reason = Limits(maxGraphemes: 500, allowsEmpty: true)
    }

    /// The most code points one grapheme cluster may hold (an emoji family is 7, a flag 2).
    public static let maxScalarsPerGrapheme = 10

    /// Nil when `text` is acceptable for a field with `limits`, else why not (one sentence
    /// naming the field, for a problem document or a CLI error line).
    public static func problem(with text: String, field: String, limits: Limits) -> String? {
        if text.isEmpty { return limits.allowsEmpty ? nil : "\(field) must not be empty" }
        if text.utf8.count > limits.maxBytes {
            return "\(field) is \(text.utf8.count) bytes; at most \(limits.maxBytes) are allowed"
        }
        var graphemes = 0
        for g in text {
            graphemes += 1
            if g.unicodeScalars.count > maxScalarsPerGrapheme {
                return "\(field) has a character made of \(g.unicodeScalars.count) code points (stacked marks); at most \(maxScalarsPerGrapheme) are allowed"
            }
        }
        if graphemes > limits.maxGraphemes {
            return "\(field) is \(graphemes) characters; at most \(limits.maxGraphemes) are allowed"
        }
        let scalars = Array(text.unicodeScalars)
        for (i, s) in scalars.enumerated() {
            if s == "\n" && limits.allowsLineFeeds { continue }
            if let kind = disallowed(s, before: i > 0 ? scalars[i - 1] : nil, after: i + 1 < scalars.count ? scalars[i + 1] : nil) {
                return "\(field) contains \(kind) (\(codePoint(s)), code point \(i + 1)); send plain text"
            }
        }
        if limits.allowsLineFeeds {
            let feeds = text.utf8.filter { $0 == 0x0A }.count
            if feeds > limits.maxLineFeeds { return "\(field) has \(feeds) line breaks; at most \(limits.maxLineFeeds) are allowed" }
            if text.contains("\n\n\n") || text.hasPrefix("\n") || text.hasSuffix("\n") {
                return "\(field) may not start or end with a line break or hold more than one empty line in a row"
            }
        }
        if text.trimmingCharacters(in: .whitespaces).isEmpty && !limits.allowsEmpty {
            return "\(field) must not be blank"
        }
        if text.precomposedStringWithCanonicalMapping.unicodeScalars.elementsEqual(text.unicodeScalars) == false {
            return "\(field) must be in Unicode normalization form C (NFC)"
        }
        return nil
    }

    /// Throws `VaultError(.requestInvalid, …)` when `text` is not acceptable.
    public static func check(_ text: String, field: String, limits: Limits) throws {
        if let p = problem(with: text, field: field, limits: limits) { throw VaultError(.requestInvalid, p) }
    }

    /// NFC form of `text`: what an organization's client signs.
    public static func normalized(_ text: String) -> String {
        text.precomposedStringWithCanonicalMapping
    }

    /// Why `s` may not appear in outside text, or nil when it may. A zero-width joiner or a
    /// variation selector is allowed only inside an emoji sequence (where it is part of one
    /// picture, not hidden text).
    static func disallowed(_ s: Unicode.Scalar, before: Unicode.Scalar?, after: Unicode.Scalar?) -> String? {
        let v = s.value
        if v < 0x20 || v == 0x7F { return "a control character" }
        if (0x80...0x9F).contains(v) { return "a C1 control character" }
        if s.properties.isBidiControl { return "a bidirectional override or isolate" }
        if v == 0x2028 || v == 0x2029 { return "a line or paragraph separator" }
        if s.properties.isNoncharacterCodePoint { return "a noncharacter" }
        switch s.properties.generalCategory {
        case .unassigned: return "an unassigned code point"
        case .privateUse: return "a private-use character"
        case .surrogate: return "a surrogate"
        default: break
        }
        if s.properties.isDefaultIgnorableCodePoint {
            let emoji = { (x: Unicode.Scalar?) in x.map { $0.properties.isEmoji && $0.value > 0xFF } ?? false }
            if v == 0x200D, emoji(before) || before.map({ $0.value == 0xFE0F }) == true, emoji(after) { return nil }
            if v == 0xFE0F || v == 0xFE0E, emoji(before) || before.map({ $0.properties.isEmoji }) == true { return nil }
            return "an invisible character"
        }
        return nil
    }

    static func codePoint(_ s: Unicode.Scalar) -> String {
        let hex = String(s.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }
}

/// Shows outside text on a terminal: the one function every output of outside strings goes
/// through (the review screen, details, trust, grants, log show, status, errors).
public enum TerminalText {
    /// `text` with everything that is not printable shown as a visible escape `\u{XXXX}`: C0
    /// and C1 controls (ESC, CSI, OSC, DCS …), DEL, bidirectional controls, invisible and
    /// unassigned code points, private use, and marks past the tenth code point of one
    /// character. A backslash stays a backslash. Line feeds stay only with `keepLineFeeds`.
    public static func escape(_ text: String, keepLineFeeds: Bool = false) -> String {
        var out = String.UnicodeScalarView()
        for g in text {
            var n = 0
            let scalars = Array(g.unicodeScalars)
            for (i, s) in scalars.enumerated() {
                n += 1
                if s == "\n" && keepLineFeeds {
                    out.append(s)
                    continue
                }
                if n > UntrustedText.maxScalarsPerGrapheme
                    || UntrustedText.disallowed(s, before: i > 0 ? scalars[i - 1] : nil,
                                                after: i + 1 < scalars.count ? scalars[i + 1] : nil) != nil {
                    out.append(contentsOf: "\\u{\(String(s.value, radix: 16, uppercase: true))}".unicodeScalars)
                } else {
                    out.append(s)
                }
            }
        }
        return String(out)
    }

    /// JSON text (one document) made safe for a terminal without changing what it means: a
    /// non-printable code point can only sit inside a JSON string, where `\uXXXX` (a surrogate
    /// pair past U+FFFF) stands for the same code point.
    public static func escapeJSON(_ json: String) -> String {
        var out = String.UnicodeScalarView()
        let scalars = Array(json.unicodeScalars)
        for (i, s) in scalars.enumerated() {
            if s == "\n" || s == "\t" || s == "\r" || UntrustedText.disallowed(s, before: i > 0 ? scalars[i - 1] : nil,
                                                                               after: i + 1 < scalars.count ? scalars[i + 1] : nil) == nil {
                out.append(s)
                continue
            }
            func unit(_ u: UInt32) -> String {
                let hex = String(u, radix: 16)
                return "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            }
            if s.value > 0xFFFF {
                let v = s.value - 0x10000
                out.append(contentsOf: (unit(0xD800 + (v >> 10)) + unit(0xDC00 + (v & 0x3FF))).unicodeScalars)
            } else {
                out.append(contentsOf: unit(s.value).unicodeScalars)
            }
        }
        return String(out)
    }
}
