import ArgumentParser
import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import EdgeVaultTerminal
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

struct StatusCommand: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the daemon, streams with counts and time span, and open segments.", discussion: "Example: vault-cli status   or   vault-cli status --json")

    @OptionGroup var global: GlobalOptions

    @Flag(help: "Print the daemon's status as JSON.")
    var json = false

    func execute() async throws {
        let client = try global.client()
        let s = try await client.status()
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            printJSON(String(decoding: try encoder.encode(s), as: UTF8.self))
            return
        }
        print("vaultd \(s.version): running for \(Duration.seconds(s.uptimeSeconds).formattedShort) (since \(s.startedAt))")
        print("vault \(s.vault.origin), person \(s.vault.userFingerprint)")
        print("stream creation on first reading: \(s.settings.autoCreateStreams ? "on" : "off")")
        print("readings ingested since start: \(s.counters.readingsIngested), chunks written: \(s.counters.chunksWritten)")
        if s.streams.isEmpty {
            print("no streams yet")
        } else {
            let table = s.streams.map { st in
                [st.name, st.kind.isEmpty ? "-" : st.kind, st.unit.isEmpty ? "-" : st.unit, "\(st.readings)", "\(st.segments)",
                 st.first.map { Timestamp.rfc3339(milliseconds: $0) } ?? "-", st.last.map { Timestamp.rfc3339(milliseconds: $0) } ?? "-"]
            }
            printTable(header: ["STREAM", "KIND", "UNIT", "READINGS", "SEGMENTS", "FIRST", "LAST"], rows: table)
        }
        print("open segments: \(s.openSegments.count)")
        for seg in s.openSegments {
            print("  \(seg.stream) [\(Timestamp.rfc3339(milliseconds: seg.bucketStart)), \(Timestamp.rfc3339(milliseconds: seg.bucketEnd))) \(seg.readings) readings")
        }
        printMQTT(s.mqtt)
        printWitnesses(try await client.peers())
    }

    func printMQTT(_ m: MQTTMonitor.Snapshot) {
        guard m.state != "disabled" else {
            print("mqtt: off (set mqtt.broker and [[mqtt.subscription]] in the config)")
            return
        }
        var line = "mqtt: \(m.state) \(m.state == "connected" ? "to" : "from") \(m.broker) since \(Timestamp.rfc3339(milliseconds: m.since))"
        if let d = m.detail { line += " (\(d))" }
        print(line)
        print("  connections: \(m.connects), redelivered: \(m.redelivered), retained skipped: \(m.retainedSkipped), unmatched: \(m.unmatched)")
        printTable(header: ["  TOPIC", "FORMAT", "RECEIVED", "STORED", "REJECTED", "LAST REJECTION"], rows: m.subscriptions.map {
            ["  " + $0.topic, $0.format, "\($0.received)", "\($0.stored)", "\($0.rejected)", $0.lastRejection ?? "-"]
        })
    }
}

extension Duration {
    var formattedShort: String {
        let total = components.seconds
        if total < 60 { return "\(total)s" }
        if total < 3600 { return "\(total / 60)m \(total % 60)s" }
        if total < 86_400 { return "\(total / 3600)h \(total % 3600 / 60)m" }
        return "\(total / 86_400)d \(total % 86_400 / 3600)h"
    }
}

/// The widest a table may be before it is printed one record at a time, field per line.
let tableWidth = 80

func printTable(header: [String], rows: [[String]]) {
    // Every cell is one line of escaped text: a name cannot break the table or the terminal.
    let rows = rows.map { $0.map { TerminalText.escape($0) } }
    var widths = header.map(\.count)
    for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { i, c in i == cells.count - 1 ? c : c + String(repeating: " ", count: widths[i] - c.count) }
            .joined(separator: "  ")
    }
    let leading = header.first.map { String($0.prefix { $0 == " " }) } ?? ""
    guard widths.reduce(0, +) + 2 * (widths.count - 1) > tableWidth else {
        print(line(header))
        for r in rows { print(line(r)) }
        return
    }
    // Too wide for 80 columns: one record at a time, each field on its own line, nothing cut
    // (a key id must stay whole to be copied).
    let labelWidth = header.map { $0.trimmingCharacters(in: [" "]).count }.max() ?? 0
    for (n, r) in rows.enumerated() {
        if n > 0 { print("") }
        for (i, cell) in r.enumerated() where i < header.count {
            let label = header[i].trimmingCharacters(in: [" "])
            print(leading + label + String(repeating: " ", count: labelWidth - label.count) + "  " + cell)
        }
    }
}
