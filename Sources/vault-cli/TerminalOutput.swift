import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import EdgeVaultTerminal
#if canImport(Glibc)
import Glibc
#endif

// Everything vault-cli prints goes through these functions, so text from outside (an
// organization's name, contact, purpose and ids, leaf contents, a daemon's error details) never
// reaches the terminal as control sequences (docs/SECURITY.md, "terminal injection").

/// `print` for this module: the text is shown through `TerminalText.escape` (line feeds kept,
/// every other control or invisible character shown as `\u{…}`). It shadows `Swift.print`, so
/// no command can print outside text raw by accident.
func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    let text = items.map { "\($0)" }.joined(separator: separator)
    writeRaw(TerminalText.escape(text, keepLineFeeds: true) + terminator)
}

/// One JSON document on a line of standard output, its non-printable code points written as
/// JSON escapes (same document, safe on a terminal).
func printJSON(_ json: String) {
    writeRaw(TerminalText.escapeJSON(json) + "\n")
}

/// Writes `text` to standard output as is. Only for text this program composed itself (the
/// review screen after it escaped every outside field, and its ANSI emphasis).
func writeRaw(_ text: String) {
    try? FileIO.writeAll(1, Array(text.utf8), path: "standard output", action: "write to")
}

/// Writes to standard error through `TerminalText.escape` (line feeds kept): every message
/// vault-cli writes there may hold text from outside (segment ids a daemon sent, a reading's
/// reason, an organization's name).
func eprint(_ text: String) {
    FileIO.writeStderr(TerminalText.escape(text, keepLineFeeds: true))
}

/// Bold and warning emphasis (ANSI on a terminal, nothing otherwise), applied only to text this
/// program composed or already escaped.
func emphasis() -> (bold: (String) -> String, warn: (String) -> String) {
    let color = isatty(1) != 0
    return ({ color ? "\u{1B}[1m\($0)\u{1B}[0m" : $0 }, { color ? "\u{1B}[1;33m\($0)\u{1B}[0m" : $0 })
}

/// `1 reading`, `2 readings`.
func count<N: BinaryInteger>(_ n: N, _ word: String, plural: String? = nil) -> String {
    n == 1 ? "1 \(word)" : "\(n) \(plural ?? word + "s")"
}
