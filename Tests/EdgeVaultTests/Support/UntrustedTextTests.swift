import Foundation
import Testing
@testable import EdgeVaultCore
@testable import EdgeVaultStore
@testable import EdgeVaultServer
@testable import EdgeVaultClient
@testable import EdgeVaultTerminal

@Suite("Text from outside: refused at the boundary, escaped at every output")
struct UntrustedTextTests {
    static let hostile: [(String, String)] = [
        ("escape sequence (clear screen)", "City Hospital\u{1B}[2J\u{1B}[H"),
        ("8-bit CSI", "Acme\u{9B}31m"),
        ("unterminated DCS", "Acme\u{1B}P"),
        ("OSC title with BEL", "x\u{1B}]0;pwned\u{07}"),
        ("right-to-left override", "Acme \u{202E}ydutS"),
        ("isolate", "Acme \u{2066}x\u{2069}"),
        ("zero-width space", "Ac\u{200B}me"),
        ("line feed in a name", "Acme\nCity Hospital"),
        ("DEL", "Acme\u{7F}"),
        ("unassigned code point", "Acme \u{0378}"),
        ("private use", "Acme \u{E000}"),
        ("noncharacter", "Acme \u{FFFE}"),
        ("only invisible characters", "\u{200B}\u{200C}\u{2060}\u{FEFF}"),
        ("stacked combining marks", "A" + String(repeating: "\u{0301}", count: 3000)),
        ("not NFC", "Cafe\u{0301}"),
        ("Braille blanks only", "\u{2800}\u{2800}\u{2800}"),
        ("interlinear annotation (format)", "Acme\u{FFF9}x"),
        ("Arabic number sign (format)", "\u{0600}Acme"),
        ("musical null notehead only", "\u{1D159}"),
        ("Cyrillic look-alikes in a Latin word", "\u{0410}\u{0441}m\u{0435} Health Study"),
        ("fullwidth letters", "\u{FF21}\u{FF43}\u{FF4D}\u{FF45} Health Study"),
        ("mathematical sans-serif letters", "\u{1D5A0}\u{1D5BC}\u{1D5C6}\u{1D5BE} Health Study"),
    ]

    @Test("Names with controls, bidi overrides, invisible, unassigned or stacked characters, or not in NFC are refused with the field named",
          arguments: hostile)
    func refused(_ c: (String, String)) {
        let problem = UntrustedText.problem(with: c.1, field: "org.name", limits: .name)
        #expect(problem != nil, "\(c.0) was accepted")
        #expect(problem?.hasPrefix("org.name") == true)
    }

    @Test("Ordinary names in many scripts, emoji sequences and a purpose with paragraphs are accepted", arguments: [
        "Acme Health Study", "Hôpital Saint-Louis", "東京大学 医学部", "مستشفى القاهرة", "Ärztekammer Zürich",
        "Family 👨‍👩‍👧‍👦 study", "❤️ Heart Lab", "🇨🇭 Swiss Cohort", "Dr. O'Brien & Partners (cardiology)", "Ιατρείο Αθηνών",
        "Клиника Москва", "東京（本院）", "Acme Health Study — Москва",
    ])
    func accepted(_ name: String) {
        #expect(UntrustedText.problem(with: UntrustedText.normalized(name), field: "org.name", limits: .name) == nil)
        #expect(UntrustedText.problem(with: "First paragraph.\nSecond one.", field: "purpose", limits: .purpose) == nil)
        #expect(UntrustedText.problem(with: "a\tb", field: "purpose", limits: .purpose) != nil, "a tab is a control character")
    }

    @Test("Length limits count both bytes and characters: 200 characters pass, 201 or too many bytes do not")
    func limits() {
        #expect(UntrustedText.problem(with: String(repeating: "a", count: 200), field: "org.name", limits: .name) == nil)
        #expect(UntrustedText.problem(with: String(repeating: "a", count: 201), field: "org.name", limits: .name)?.contains("201 characters") == true)
        // 200 characters of 4-byte emoji fit (800 bytes); a 10-scalar grapheme repeated does not.
        #expect(UntrustedText.problem(with: "A" + String(repeating: "😀", count: 199), field: "org.name", limits: .name) == nil)
        #expect(UntrustedText.problem(with: String(repeating: "😀", count: 3), field: "org.name", limits: .name)?.contains("letter or digit") == true)
        let heavy = "A" + String(repeating: "👨‍👩‍👧‍👦", count: 29)  // 30 characters, 726 bytes
        #expect(UntrustedText.problem(with: heavy, field: "org.name", limits: .name) == nil)
        #expect(UntrustedText.problem(with: String(repeating: "👨‍👩‍👧‍👦", count: 40), field: "org.name", limits: .name)?.contains("bytes") == true)
        #expect(UntrustedText.problem(with: "", field: "org.name", limits: .name) != nil)
        #expect(UntrustedText.problem(with: "   ", field: "org.name", limits: .name) != nil)
        #expect(UntrustedText.problem(with: "", field: "org.contact", limits: .contact) == nil)
    }

    /// Bytes that would make a terminal act: C0 except line feed, DEL, C1 in UTF-8 (C2 80…C2 9F).
    static func controlBytes(_ s: String) -> [UInt8] {
        let b = Array(s.utf8)
        var found: [UInt8] = []
        for (i, x) in b.enumerated() {
            if (x < 0x20 && x != 0x0A) || x == 0x7F { found.append(x) }
            if x == 0xC2, i + 1 < b.count, (0x80...0x9F).contains(b[i + 1]) { found.append(b[i + 1]) }
        }
        return found
    }

    @Test("Escaping leaves no control byte, C1 code, bidi control or invisible character, and shows each as \\u{…}", arguments: hostile)
    func escaped(_ c: (String, String)) {
        let out = TerminalText.escape(c.1)
        #expect(Self.controlBytes(out).isEmpty, "\(c.0)")
        #expect(!out.unicodeScalars.contains { $0.properties.isBidiControl || $0.properties.isDefaultIgnorableCodePoint })
        #expect(out.unicodeScalars.count <= c.1.unicodeScalars.count * 9)
    }

    @Test("Escaping keeps printable text as it is and line feeds only when asked")
    func escapeKeeps() {
        #expect(TerminalText.escape("Hôpital 東京 👨‍👩‍👧‍👦 ❤️") == "Hôpital 東京 👨‍👩‍👧‍👦 ❤️")
        #expect(TerminalText.escape("a\u{1B}[2Jb") == "a\\u{1B}[2Jb")
        #expect(TerminalText.escape("a\nb") == "a\\u{A}b")
        #expect(TerminalText.escape("a\nb", keepLineFeeds: true) == "a\nb")
        #expect(TerminalText.escape("A" + String(repeating: "\u{0301}", count: 30)).hasPrefix("A" + String(repeating: "\u{0301}", count: 9) + "\\u{301}"))
    }

    @Test("Escaped JSON is the same document: it parses to the same values and holds no control byte")
    func json() throws {
        let doc = JSONValue.object(["name": .string("Acme\u{9B}31m\u{202E}\u{1F}\u{E0001}"), "n": .number("1")])
        let text = String(decoding: doc.serialized(), as: UTF8.self)
        let escaped = TerminalText.escapeJSON(text)
        #expect(Self.controlBytes(escaped).isEmpty)
        #expect(try JSONValue.parse(Array(escaped.utf8)) == doc)
        let viaFoundation = try JSONSerialization.jsonObject(with: Data(escaped.utf8)) as? [String: Any]
        #expect(viaFoundation?["name"] as? String == "Acme\u{9B}31m\u{202E}\u{1F}\u{E0001}")
    }

    @Test("Log lines hold no control byte of outside text, in logfmt and JSON, and the JSON line keeps the value")
    func logLines() throws {
        let hostile = "Acme\u{1B}[2J\u{9B}31m\u{202E}"
        for format in [LineLogHandler.Format.logfmt, .json] {
            let line = LineLogHandler.line([("msg", "request"), ("org", hostile)], format: format)
            #expect(Self.controlBytes(String(line.dropLast())).isEmpty, "\(format): \(line)")
            #expect(line.hasSuffix("\n") && line.filter { $0 == "\n" }.count == 1)
        }
        let json = LineLogHandler.line([("org", hostile)], format: .json)
        #expect(try JSONValue.parse(Array(json.utf8.dropLast()))["org"]?.stringValue == hostile)
        #expect(LineLogHandler.line([("org", "plain")], format: .logfmt) == "org=plain\n")
    }

    @Test("Look-alike names share a skeleton: case, spacing, fullwidth and styled letters, Cyrillic and Greek look-alikes", arguments: [
        "ACME health-study", "\u{0410}\u{0441}m\u{0435} Health Study", "\u{FF21}\u{FF43}\u{FF4D}\u{FF45} Health Study",
        "\u{1D5A0}\u{1D5BC}\u{1D5C6}\u{1D5BE} Health Study", "Acme Hea1th Study", "\u{0410}\u{0421}\u{041C}\u{0415} Health Study",
    ])
    func skeletons(_ name: String) {
        #expect(UntrustedText.skeleton(name) == UntrustedText.skeleton("Acme Health Study"), "\(name)")
        #expect(UntrustedText.skeleton("Apex Health Study") != UntrustedText.skeleton("Acme Health Study"))
    }
}
