import EdgeVaultCore
import EdgeVaultStore
/// The person reads their own data back: fetch sealed DEKs and chunks through the admin
/// socket, open the DEKs with the person's box key, decrypt in the CLI, and write readings
/// in time order. A chunk that fails authentication is reported and skipped; the rest is
/// still exported.
public struct Exporter {
    public enum Format: String, CaseIterable, Sendable { case ndjson, csv }

    public struct ChunkFailure: Sendable, Equatable, CustomStringConvertible {
        public var segment: String
        public var seq: Int64?
        public var reason: String
        public var description: String {
            if let seq { return "segment \(segment) chunk \(seq): \(reason)" }
            return "segment \(segment): \(reason)"
        }
    }

    public struct Summary: Sendable {
        public var readings = 0
        public var chunks = 0
        public var segments = 0
        public var failures: [ChunkFailure] = []
    }

    let client: AdminClient
    let keys: UserKeys

    public init(client: AdminClient, keys: UserKeys) {
        self.client = client
        self.keys = keys
    }

    public struct Item {
        public var t: Int64
        public var value: [UInt8]

        public init(t: Int64, value: [UInt8]) {
            self.t = t
            self.value = value
        }
    }

    /// One stream's readings, one bucket at a time.
    final class Cursor {
        let stream: String
        var groups: [[AdminAPI.Segment]]
        var items: [Item] = []
        var position = 0

        init(stream: String, groups: [[AdminAPI.Segment]]) {
            self.stream = stream
            self.groups = groups
        }

        var head: Item? { position < items.count ? items[position] : nil }
    }

    /// How times are written: integer milliseconds (what the chunks hold) or RFC 3339 (what a
    /// person reads in a spreadsheet). Both read back with `vault-cli ingest`.
    public enum TimeFormat: String, Sendable, CaseIterable {
        case ms, rfc3339
    }

    /// Exports readings of `streams` (all when empty) with `from ≤ t < to`.
    public func export(
        streams: [String], from: Int64, to: Int64, format: Format, time: TimeFormat = .ms,
        progress: (any WorkProgress)? = nil, write: ([UInt8]) throws -> Void
    ) async throws -> Summary {
        let segments = try await client.segments(streams: streams, from: from, to: to)
        var summary = Summary()
        summary.segments = segments.count
        progress?.total = segments.reduce(0) { $0 + $1.chunks }
        var byStream: [String: [AdminAPI.Segment]] = [:]
        for s in segments { byStream[s.stream, default: []].append(s) }
        let cursors: [Cursor] = byStream.keys.sorted().map { name in
            var groups: [[AdminAPI.Segment]] = []
            for s in byStream[name]! {  // already ordered by bucket, then opening order
                if let last = groups.last?.first, last.startMs == s.startMs { groups[groups.count - 1].append(s) } else { groups.append([s]) }
            }
            return Cursor(stream: name, groups: groups)
        }
        if format == .csv { try write(Array("stream,t,v\n".utf8)) }
        for c in cursors { try await fill(c, from: from, to: to, summary: &summary, progress: progress) }
        var line: [UInt8] = []
        while true {
            var best: Cursor? = nil
            for c in cursors {
                guard let h = c.head else { continue }
                if best == nil || h.t < best!.head!.t { best = c }
            }
            guard let cursor = best, let item = cursor.head else { break }
            line.removeAll(keepingCapacity: true)
            Self.render(stream: cursor.stream, item: item, format: format, time: time, into: &line)
            try write(line)
            summary.readings += 1
            cursor.position += 1
            if cursor.head == nil { try await fill(cursor, from: from, to: to, summary: &summary, progress: progress) }
        }
        return summary
    }

    public static func render(stream: String, item: Item, format: Format, time: TimeFormat = .ms, into line: inout [UInt8]) {
        switch format {
        case .ndjson:
            line.append(contentsOf: Array("{\"stream\":".utf8))
            JSONText.appendQuoted(stream, to: &line)
            line.append(contentsOf: Array(",\"t\":".utf8))
            if time == .rfc3339 { JSONText.appendQuoted(Timestamp.rfc3339(milliseconds: item.t), to: &line) } else { JSONText.appendInt(item.t, to: &line) }
            line.append(contentsOf: Array(",\"v\":".utf8))
            line.append(contentsOf: item.value)
            line.append(contentsOf: [0x7D, 0x0A])
        case .csv:
            line.append(contentsOf: CSVParser.field(Array(stream.utf8)))
            line.append(0x2C)
            if time == .rfc3339 { line.append(contentsOf: Array(Timestamp.rfc3339(milliseconds: item.t).utf8)) } else { JSONText.appendInt(item.t, to: &line) }
            line.append(0x2C)
            line.append(contentsOf: CSVParser.field(CSVParser.text(ofValue: item.value)))
            line.append(0x0A)
        }
    }

    /// Loads the cursor's next non-empty bucket.
    func fill(_ cursor: Cursor, from: Int64, to: Int64, summary: inout Summary, progress: (any WorkProgress)?) async throws {
        cursor.items.removeAll(keepingCapacity: true)
        cursor.position = 0
        while cursor.items.isEmpty, !cursor.groups.isEmpty {
            let group = cursor.groups.removeFirst()
            for segment in group {
                try await decrypt(segment, from: from, to: to, into: &cursor.items, summary: &summary, progress: progress)
            }
            // Stable: equal times keep segment-opening and chunk order.
            cursor.items.sort { $0.t < $1.t }
        }
    }

    func decrypt(
        _ segment: AdminAPI.Segment, from: Int64, to: Int64, into items: inout [Item], summary: inout Summary, progress: (any WorkProgress)?
    ) async throws {
        let dek: SecureBytes
        do {
            guard let sealed = Encoding.fromBase64(segment.sealedKey) else { throw CryptoError.authenticationFailed }
            let opened = try SegmentKeySeal.open(sealed, keyPair: keys.box)
            // A bound key must be the one of the segment it was listed under.
            if case .bound(let bound, _) = opened, bound.segment != segment.id || bound.stream != segment.stream {
                throw CryptoError.authenticationFailed
            }
            dek = opened.dek
        } catch {
            summary.failures.append(ChunkFailure(segment: segment.id, seq: nil, reason: "its sealed key does not open with your key (tampered or not yours); \(segment.readings) readings skipped"))
            progress?.advance(by: segment.chunks)
            return
        }
        try await client.forEachChunk(segment: segment.id) { chunk in
            summary.chunks += 1
            progress?.advance(by: 1)
            do {
                for r in try chunk.readings(dek: dek, segmentId: segment.id) where r.t >= from && r.t < to {
                    items.append(Item(t: r.t, value: r.value))
                }
            } catch {
                summary.failures.append(ChunkFailure(segment: segment.id, seq: chunk.seq, reason: "failed authentication (tampered or corrupt); its readings are not in the output"))
            }
        }
    }
}
