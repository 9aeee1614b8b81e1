import ArgumentParser
import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import EdgeVaultTerminal

struct ExportCommand: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Read your own readings back, decrypted, in time order.",
        discussion: """
            Asks for your passphrase, fetches the sealed segment keys and encrypted chunks \
            from vaultd, and decrypts them here: the daemon never sees a key that opens a \
            closed segment. A chunk that fails authentication is reported (segment and seq), \
            the rest is still written, and the exit status is 3.

            Example: vault-cli export --stream home/livingroom/temperature --from 2026-11-01 -o temps.ndjson
            """)

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: "Stream to export (repeatable; default: all).")
    var stream: [String] = []

    @Option(help: "Start time, inclusive (RFC 3339, date, or ms since epoch).")
    var from: String?

    @Option(help: "End time, exclusive (RFC 3339, date, or ms since epoch).")
    var to: String?

    @Option(help: "Output format: ndjson or csv.")
    var format: String = "ndjson"

    @Option(help: "Times as ms (milliseconds since 1970) or rfc3339 (2026-11-01T10:00:00Z); default rfc3339 for csv, ms for ndjson. Both read back with ingest.")
    var timeFormat: String?

    @Option(name: .shortAndLong, help: "Write to this file instead of standard output.")
    var output: String?

    @Option(help: "Read the passphrase from this file instead of asking.")
    var passphraseFile: String?

    func validate() throws {
        if Exporter.Format(rawValue: format) == nil { throw ValidationError("--format must be ndjson or csv") }
        if let timeFormat, Exporter.TimeFormat(rawValue: timeFormat) == nil { throw ValidationError("--time-format must be ms or rfc3339") }
        if let from, Timestamp.parseFlexible(from) == nil { throw ValidationError("--from: not a time: \(from)") }
        if let to, Timestamp.parseFlexible(to) == nil { throw ValidationError("--to: not a time: \(to)") }
        if let a = from.flatMap(Timestamp.parseFlexible), let b = to.flatMap(Timestamp.parseFlexible), a >= b {
            throw ValidationError("--from must be before --to")
        }
    }

    func execute() async throws {
        let client = try global.client()
        let keys = try await global.unlock(passphraseFile: passphraseFile, for: client)
        let sink = try OutputSink(path: output)
        if output == nil, isatty(1) != 0 {
            sink.terminalEscape = format == "csv" ? { TerminalText.escape($0, keepLineFeeds: true) } : TerminalText.escapeJSON
        }
        let progress = ProgressBar(label: "export", total: 0, unit: "chunks", enabled: ProgressBar.stderrIsTerminal && (output != nil || !ProgressBar.stdoutIsTerminal))
        let summary = try await Exporter(client: client, keys: keys).export(
            streams: stream, from: from.flatMap(Timestamp.parseFlexible) ?? 0,
            to: to.flatMap(Timestamp.parseFlexible) ?? Timestamp.maxMilliseconds,
            format: Exporter.Format(rawValue: format)!,
            time: timeFormat.flatMap(Exporter.TimeFormat.init) ?? (format == "csv" ? .rfc3339 : .ms), progress: progress, write: sink.write)
        try sink.close()
        progress.finish()
        for f in summary.failures { eprint("vault-cli: \(f)\n") }
        eprint("exported \(count(summary.readings, "reading")) from \(count(summary.segments, "segment")) (\(count(summary.chunks, "chunk")))\n")
        if !summary.failures.isEmpty {
            eprint("vault-cli: \(summary.failures.count) chunk(s) failed authentication; the output lacks their readings\n")
            throw ExitCode(3)
        }
    }
}

/// Buffered writes to stdout or a new file.
final class OutputSink {
    let fd: Int32
    var buffer: [UInt8] = []
    /// Set when the output is a terminal: readings come from sensors (outside text), so each
    /// line is shown escaped — JSON escapes for NDJSON (the same document), visible `\u{…}`
    /// otherwise. A file or a pipe gets the exact bytes.
    var terminalEscape: ((String) -> String)?

    init(path: String?) throws {
        if let path {
            fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw FileIO.Failure(path: path, errno: errno, action: "create") }
        } else {
            fd = 1
        }
        buffer.reserveCapacity(1 << 16)
    }

    func write(_ bytes: [UInt8]) throws {
        if let escape = terminalEscape {
            buffer.append(contentsOf: Array(escape(String(decoding: bytes, as: UTF8.self)).utf8))
        } else {
            buffer.append(contentsOf: bytes)
        }
        if buffer.count >= 1 << 16 { try flush() }
    }

    func flush() throws {
        try FileIO.writeAll(fd, buffer, path: fd == 1 ? "standard output" : "output file", action: "write to")
        buffer.removeAll(keepingCapacity: true)
    }

    func close() throws {
        try flush()
        if fd != 1 { Glibc.close(fd) }
    }
}

#if canImport(Glibc)
import Glibc
#endif
