import EdgeVaultCore
import EdgeVaultStore
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// A `LogHandler` writing one line per event to stderr, in logfmt or JSON, for journald.
///
/// Messages and metadata are written as given: callers never pass secrets (keys, passphrases,
/// plaintext readings) to a logger.
public struct LineLogHandler: LogHandler {
    public enum Format: String, Sendable { case logfmt, json }

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String
    let format: Format

    public init(label: String, level: Logger.Level, format: Format) {
        self.label = label
        self.logLevel = level
        self.format = format
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [(String, String)] = [
            ("time", Timestamp.rfc3339(milliseconds: Timestamp.now())), ("level", event.level.rawValue), ("msg", "\(event.message)"),
        ]
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for (k, v) in merged.sorted(by: { $0.key < $1.key }) { fields.append((k, "\(v)")) }
        FileIO.writeStderr(Self.line(fields, format: format))
    }

    /// One log line (with its line feed) of `fields` in `format`.
    static func line(_ fields: [(String, String)], format: Format) -> String {
        let line: String
        switch format {
        case .json:
            line = "{" + fields.map { JSONText.quote($0.0) + ":" + JSONText.quote($0.1) }.joined(separator: ",") + "}"
        case .logfmt:
            line = fields.map { k, v in
                let needsQuotes = v.isEmpty || v.contains { $0 == " " || $0 == "\"" || $0 == "=" || $0 == "\n" }
                    || TerminalText.escape(v) != v
                return k + "=" + (needsQuotes ? JSONText.quote(v) : v)
            }.joined(separator: " ")
        }
        // Text from outside (an organization's name in a message, a topic) never reaches a
        // terminal reading the journal as control sequences: non-printable code points inside
        // the quoted values are written as JSON escapes.
        return TerminalText.escapeJSON(line) + "\n"
    }

    /// Bootstraps swift-log once per process with this handler.
    public static func bootstrap(level: String, format: String) {
        let lvl = Logger.Level(rawValue: level) ?? .info
        let fmt = Format(rawValue: format) ?? .logfmt
        LoggingSystem.bootstrap { label in LineLogHandler(label: label, level: lvl, format: fmt) }
    }
}
