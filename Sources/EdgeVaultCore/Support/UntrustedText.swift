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
        /// Whether the text must hold at least one letter or digit (a name must be visible).
        public var requiresLetterOrDigit = false
        /// With `allowsLineFeeds`: how many (so a text cannot push the rest off a screen).
        public var maxLineFeeds = 10

        public init(maxGraphemes: Int, maxBytes: Int? = nil, allowsLineFeeds: Bool = false, allowsEmpty: Bool = false) {
            self.maxGraphemes = maxGraphemes
            self.maxBytes = maxBytes ?? maxGraphemes * 4
            self.allowsLineFeeds = allowsLineFeeds
            self.allowsEmpty = allowsEmpty
        }

        public static let name: Limits = {
            var l = Limits(maxGraphemes: 200)
            l.requiresLetterOrDigit = true
            return l
        }()
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
                return "\(field) contains \(kind) (\(codePoint(s)), code point \(i + 1)); use plain text"
            }
        }
        if limits.allowsLineFeeds {
            let feeds = text.utf8.filter { $0 == 0x0A }.count
            if feeds > limits.maxLineFeeds { return "\(field) has \(feeds) line breaks; at most \(limits.maxLineFeeds) are allowed" }
            if text.contains("\n\n\n") || text.hasPrefix("\n") || text.hasSuffix("\n") {
                return "\(field) may not start or end with a line break or hold more than one empty line in a row"
            }
        }
        if limits.requiresLetterOrDigit, !scalars.contains(where: { $0.properties.isAlphabetic || $0.properties.numericType != nil }) {
            return "\(field) must hold at least one letter or digit"
        }
        if let word = mixedScriptWord(text) {
            return "\(field) mixes letters of different scripts in one word (\"\(TerminalText.escape(word))\"), as look-alike names do"
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

    /// The script of a letter, for the three whose letters look alike; nil for others.
    static func confusableScript(_ s: Unicode.Scalar) -> String? {
        guard s.properties.isAlphabetic else { return nil }
        switch s.value {
        case 0x41...0x5A, 0x61...0x7A, 0xC0...0x24F, 0x1E00...0x1EFF: return "Latin"
        case 0x370...0x3FF, 0x1F00...0x1FFF: return "Greek"
        case 0x400...0x52F, 0x1C80...0x1C8F, 0x2DE0...0x2DFF, 0xA640...0xA69F: return "Cyrillic"
        default: return nil
        }
    }

    /// The first word that mixes Latin, Greek and Cyrillic letters ("Асmе": Cyrillic А, с, е
    /// with a Latin m), or nil.
    static func mixedScriptWord(_ text: String) -> String? {
        for word in text.split(whereSeparator: { !$0.unicodeScalars.contains { $0.properties.isAlphabetic } }) {
            let scripts = Set(word.unicodeScalars.compactMap(confusableScript))
            if scripts.count > 1 { return String(word) }
        }
        return nil
    }

    /// Look-alike letters of Cyrillic and Greek, mapped to the Latin letter they pass for.
    static let lookAlikes: [Unicode.Scalar: Character] = [
        "а": "a", "в": "b", "е": "e", "ё": "e", "з": "3", "і": "i", "ї": "i", "ј": "j", "к": "k", "м": "m", "н": "h", "о": "o",
        "п": "n", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "һ": "h", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l",
        "ь": "b", "α": "a", "β": "b", "γ": "y", "ε": "e", "ζ": "z", "η": "n", "ι": "i", "κ": "k", "μ": "u", "ν": "v", "ο": "o",
        "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w", "0": "o", "1": "l",
    ]

    /// What a name looks like, for telling whether two names would pass for each other: NFKC
    /// (fullwidth and styled letters become plain), lower case, Cyrillic and Greek look-alikes
    /// as the Latin letters they pass for, only letters and digits kept. A small subset of
    /// Unicode's confusables (UTS #39), covering the scripts that pass for Latin.
    public static func skeleton(_ text: String) -> String {
        var out = ""
        for s in text.precomposedStringWithCompatibilityMapping.lowercased().unicodeScalars
        where s.properties.isAlphabetic || s.properties.numericType != nil {
            if let latin = lookAlikes[s] { out.append(latin) } else { out.unicodeScalars.append(s) }
        }
        return out
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
        if s.properties.isDefaultIgnorableCodePoint || s.properties.generalCategory == .format {
            let emoji = { (x: Unicode.Scalar?) in x.map { $0.properties.isEmoji && $0.value > 0xFF } ?? false }
            if v == 0x200D, emoji(before) || before.map({ $0.value == 0xFE0F }) == true, emoji(after) { return nil }
            if v == 0xFE0F || v == 0xFE0E, emoji(before) || before.map({ $0.properties.isEmoji }) == true { return nil }
            return s.properties.isDefaultIgnorableCodePoint ? "an invisible character" : "a formatting character"
        }
        // Characters drawn as nothing, though not marked invisible.
        if [0x2800, 0x1D159, 0x3164, 0xFFA0, 0x115F, 0x1160].contains(v) { return "a blank-looking character" }
        // Fullwidth and mathematically styled letters pass for plain ones.
        if (0xFF10...0xFF19).contains(v) || (0xFF21...0xFF3A).contains(v) || (0xFF41...0xFF5A).contains(v) || (0x1D400...0x1D7FF).contains(v) {
            return "a fullwidth or styled letter"
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
