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
        var line: String
        switch format {
        case .json:
            line = "{" + fields.map { JSONText.quote($0.0) + ":" + JSONText.quote($0.1) }.joined(separator: ",") + "}"
        case .logfmt:
            line = fields.map { k, v in
                let needsQuotes = v.isEmpty || v.contains { $0 == " " || $0 == "\"" || $0 == "=" || $0 == "\n" }
                return k + "=" + (needsQuotes ? JSONText.quote(v) : v)
            }.joined(separator: " ")
        }
        line += "\n"
        FileIO.writeStderr(line)
    }

    /// Bootstraps swift-log once per process with this handler.
    public static func bootstrap(level: String, format: String) {
        let lvl = Logger.Level(rawValue: level) ?? .info
        let fmt = Format(rawValue: format) ?? .logfmt
        LoggingSystem.bootstrap { label in LineLogHandler(label: label, level: lvl, format: fmt) }
    }
}
