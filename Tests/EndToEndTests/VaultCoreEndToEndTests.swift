import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation
import GRDB
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// One reading as the test expects to see it exported.
private struct Expected: Comparable {
    var t: Int64
    var stream: String
    var value: String

    static func < (a: Expected, b: Expected) -> Bool { (a.t, a.stream) < (b.t, b.stream) }

    var line: String { "{\"stream\":\(JSONText.quote(stream)),\"t\":\(t),\"v\":\(value)}" }
}

private let temperature = "home/livingroom/temperature"
private let steps = "phone/steps"
private let base = Timestamp.parseRFC3339("2026-10-01T00:00:00Z")!

/// Writes the three input files (40,000 NDJSON + 30,000 CSV + 30,000 SenML readings over two
/// streams) and returns what export must give back.
private func writeInputs(in dir: String) throws -> [Expected] {
    var expected: [Expected] = []
    let ndjsonValues = ["21.50", "-3", "1e3", "\"ok\"", "{\"a\":[1,2],\"b\":null}", "true", "\"caf\\u00e9 ☕\""]
    var ndjson = ""
    for i in 0..<40_000 {
        let t = base + Int64(i) * 3000
        let v = ndjsonValues[i % ndjsonValues.count]
        // every other line uses an RFC 3339 time
        let tText = i % 2 == 0 ? "\(t)" : "\"\(Timestamp.rfc3339(milliseconds: t))\""
        ndjson += "{\"stream\":\"\(temperature)\",\"t\":\(tText),\"v\":\(v)}\n"
        expected.append(Expected(t: t, stream: temperature, value: v))
    }
    try Data(ndjson.utf8).write(to: URL(fileURLWithPath: dir + "/a.ndjson"))

    var csv = "stream,t,v\n"
    let csvValues = [("123", "123"), ("walk", "\"walk\""), ("12.5", "12.5"), ("\"a, b\"", "\"a, b\"")]
    for i in 0..<30_000 {
        let t = base + Int64(i) * 4000 + 1
        let (field, json) = csvValues[i % csvValues.count]
        csv += "\(steps),\(t),\(field)\n"
        expected.append(Expected(t: t, stream: steps, value: json))
    }
    try Data(csv.utf8).write(to: URL(fileURLWithPath: dir + "/b.csv"))

    var records: [String] = ["{\"bn\":\"\",\"bt\":\(base / 1000)}"]
    for i in 0..<30_000 {
        let offsetMs = Int64(i) * 3000 + 7
        let name = i % 3 == 0 ? steps : temperature
        let (field, json): (String, String) = switch i % 3 {
        case 0: ("\"v\":20.25", "20.25")
        case 1: ("\"vs\":\"x\"", "\"x\"")
        default: ("\"vb\":false", "false")
        }
        records.append("{\"n\":\"\(name)\",\"t\":\(Double(offsetMs) / 1000),\(field)}")
        expected.append(Expected(t: base + offsetMs, stream: name, value: json))
    }
    try Data(("[" + records.joined(separator: ",\n") + "]").utf8).write(to: URL(fileURLWithPath: dir + "/c.senml.json"))
    return expected
}

private func exportLines(_ r: RunResult) -> [String] {
    r.stdout.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
}

@Suite("End to end: the vault core with the real vaultd and vault-cli", .serialized)
struct VaultCoreEndToEndTests {
    @Test("init → ingest 100,000 mixed readings → SIGTERM → restart → ingest more → export gives exactly the readings, in order")
    func fullRoundTrip() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        var expected = try writeInputs(in: v.root)
        for file in ["a.ndjson", "b.csv", "c.senml.json"] {
            let r = try await v.cli(["ingest", v.root + "/" + file])
            #expect(r.status == 0, "\(file): \(r.stderr)")
        }
        #expect(try await v.stopDaemon(signal: SIGTERM) == 0)

        try await v.startDaemon()
        var more = ""
        for i in 0..<10_000 {
            let t = base + 200_000_000 + Int64(i) * 500
            more += "{\"stream\":\"\(steps)\",\"t\":\(t),\"v\":\(i)}\n"
            expected.append(Expected(t: t, stream: steps, value: "\(i)"))
        }
        let r = try await v.cli(["ingest"], stdin: Array(more.utf8))
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("stored 10000 readings"))

        let export = try await v.cli(["export", "--passphrase-file", v.passphraseFile])
        #expect(export.status == 0, "\(export.stderr)")
        expected.sort()
        let lines = exportLines(export)
        #expect(lines.count == 110_000)
        #expect(lines == expected.map(\.line))

        // A time window of one stream, as CSV.
        let from = base + 3_600_000, to = base + 7_200_000
        let window = try await v.cli(["export", "--passphrase-file", v.passphraseFile, "--stream", steps,
                                      "--from", Timestamp.rfc3339(milliseconds: from), "--to", "\(to)", "--format", "csv"])
        #expect(window.status == 0, "\(window.stderr)")
        let csvLines = exportLines(window)
        let want = expected.filter { $0.stream == steps && $0.t >= from && $0.t < to }
        #expect(csvLines.first == "stream,t,v")
        #expect(csvLines.count == want.count + 1)
        #expect(csvLines.dropFirst().map { $0.split(separator: ",", maxSplits: 2)[1] } == want.map { Substring(Timestamp.rfc3339(milliseconds: $0.t)) },
                "CSV times are RFC 3339 unless asked otherwise")
        let msWindow = try await v.cli(["export", "--passphrase-file", v.passphraseFile, "--stream", steps, "--from", "\(from)", "--to", "\(to)",
                                        "--format", "csv", "--time-format", "ms"])
        #expect(exportLines(msWindow).dropFirst().map { $0.split(separator: ",", maxSplits: 2)[1] } == want.map { Substring("\($0.t)") })
        #expect(msWindow.stderr.contains("exported \(want.count) readings from"))

        let status = try await v.cli(["status", "--json"])
        let decoded = try JSONDecoder().decode(AdminAPI.Status.self, from: Data(status.stdout.utf8))
        #expect(decoded.streams.map(\.name) == [temperature, steps].sorted())
        #expect(decoded.streams.reduce(0) { $0 + $1.readings } == 110_000)
        try await v.stopDaemon()
    }

    @Test("After a crash and restart the daemon holds no earlier segment key: the bucket gets a new segment")
    func noKeyAfterRestart() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        let now = Timestamp.now()
        #expect(try await v.cli(["ingest"], stdin: Array("{\"stream\":\"s\",\"t\":\(now),\"v\":1}\n".utf8)).status == 0)
        let before = try JSONDecoder().decode(AdminAPI.Status.self, from: Data(try await v.cli(["status", "--json"]).stdout.utf8))
        #expect(before.openSegments.count == 1)

        try await v.stopDaemon(signal: SIGKILL)
        try await v.startDaemon()
        let after = try JSONDecoder().decode(AdminAPI.Status.self, from: Data(try await v.cli(["status", "--json"]).stdout.utf8))
        #expect(after.openSegments.isEmpty, "no segment survives a restart")
        #expect(try await v.cli(["ingest"], stdin: Array("{\"stream\":\"s\",\"t\":\(now + 1),\"v\":2}\n".utf8)).status == 0)

        let listed = try await v.request("GET", "/v1/segments?stream=s")
        let segments = try JSONDecoder().decode(AdminAPI.Segments.self, from: Data(listed.body)).segments
        #expect(segments.count == 2)
        #expect(Set(segments.map(\.id)).count == 2)
        #expect(Set(segments.map(\.startMs)).count == 1, "same bucket, new segment")
        #expect(segments.filter(\.open).count == 1)
        #expect(segments[0].id == before.openSegments[0].id && !segments[0].open)

        let export = try await v.cli(["export", "--passphrase-file", v.passphraseFile])
        #expect(exportLines(export) == ["{\"stream\":\"s\",\"t\":\(now),\"v\":1}", "{\"stream\":\"s\",\"t\":\(now + 1),\"v\":2}"])
        try await v.stopDaemon()
    }

    @Test("No code compiled into vaultd can open a sealed segment key or read the person's key file")
    func daemonCannotOpenSealedKeys() throws {
        let repo = repositoryRoot
        // The daemon's code: its executable and the server and store modules (the core's
        // primitives are linked too, but only this code calls them).
        let daemonFolders = ["Sources/vaultd", "Sources/EdgeVaultServer", "Sources/EdgeVaultStore"]
        let forbidden = ["SealedBox.open", "UserKeyFile", "Passphrase.", ".unlock(", "UserKeys(", "crypto_box_seal_open"]
        var scanned = 0
        for folder in daemonFolders {
            let dir = repo.appendingPathComponent(folder).path
            let files = try #require(FileManager.default.enumerator(atPath: dir)).compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
            for file in files {
                let text = try String(contentsOfFile: dir + "/" + file, encoding: .utf8)
                scanned += 1
                for word in forbidden {
                    #expect(!text.contains(word), "\(folder)/\(file) mentions \(word)")
                }
            }
        }
        #expect(scanned > 40)
    }

    @Test("Flipping one byte of a stored chunk makes export fail for exactly that chunk")
    func tamperedChunk() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        var lines = ""
        for i in 0..<6000 { lines += "{\"stream\":\"s\",\"t\":\(base + Int64(i) * 1000),\"v\":\"reading number \(i)\"}\n" }
        #expect(try await v.cli(["ingest"], stdin: Array(lines.utf8)).status == 0)
        try await v.stopDaemon()

        let db = try DatabaseQueue(path: v.dataDir + "/vault.db")
        let (segmentId, seq, count): (String, Int64, Int64) = try await db.write { db in
            let row = try #require(try Row.fetchOne(db, sql: """
                SELECT s.id, c.seq, c.readingCount, c.rowid AS r, c.ciphertext FROM chunk c JOIN segment s ON s.ordinal = c.segment
                ORDER BY c.rowid LIMIT 1 OFFSET 2
                """))
            var ct: Data = row["ciphertext"]
            ct[ct.count / 2] ^= 0x01
            try db.execute(sql: "UPDATE chunk SET ciphertext = ? WHERE rowid = ?", arguments: [ct, row["r"] as Int64])
            return (row["id"], row["seq"], row["readingCount"])
        }
        try await v.startDaemon()
        let export = try await v.cli(["export", "--passphrase-file", v.passphraseFile])
        #expect(export.status == 3)
        #expect(export.stderr.contains("segment \(segmentId) chunk \(seq): failed authentication"))
        #expect(export.stderr.components(separatedBy: "failed authentication (tampered").count == 2, "exactly one chunk reported")
        #expect(Int64(exportLines(export).count) == 6000 - count)
        try await v.stopDaemon()
    }
}
