/// The ledger's leaves as typed events (docs/PROTOCOL.md §"The ledger"): each kind of leaf is
/// built here, once, from typed values, so the store and the services append what this file
/// says and nothing re-spells a field name. `LedgerLeaf(kind:fields:)` stays the one encoder
/// (sorted keys, compact JSON, `type`, `time`, `salt` and `org` added).
public enum LedgerEvent: Sendable, Equatable {
    case orgSeen(name: String)
    case requestReceived(id: String, name: String, streams: [String], from: Int64, to: Int64, expires: Int64, payloadSha256: [UInt8])
    case requestWithdrawn(id: String)
    case requestDenied(id: String, payloadSha256: [UInt8], reason: String?)
    case grantIssued(id: String, name: String, payloadSha256: [UInt8], segments: Int, streams: [String], from: Int64, to: Int64, expires: Int64)
    case grantRevoked(grant: String, revocationSha256: [UInt8], reason: String?)
    case dataReleased(DataReleased)
    case orgViolation(kind: String, detail: String)
    case keysUpgraded(count: Int, documentSha256: [UInt8])
    case streamRetention(stream: String, retentionSeconds: Int64?, changeSha256: [UInt8], signedAt: Int64)
    case retentionDeleted(stream: String, segments: [String], readings: Int64, chunks: Int64, before: Int64, retentionSeconds: Int64)
    case rangeDeleted(RangeDeleted)

    /// One page of chunks released under a grant.
    public struct DataReleased: Sendable, Equatable {
        public var grant: String
        public var segment: String
        /// First and last `seq` of the page.
        public var firstSeq: Int64
        public var lastSeq: Int64
        /// Readings in the page.
        public var count: Int64
        /// SHA-256 of the page's ciphertexts.
        public var sha256: [UInt8]

        public init(grant: String, segment: String, firstSeq: Int64, lastSeq: Int64, count: Int64, sha256: [UInt8]) {
            self.grant = grant
            self.segment = segment
            self.firstSeq = firstSeq
            self.lastSeq = lastSeq
            self.count = count
            self.sha256 = sha256
        }

        /// Reads a `data.released` leaf back; nil for any other leaf.
        public init?(_ leaf: LedgerLeaf) {
            let j = leaf.json
            guard leaf.type == LedgerLeaf.Kind.dataReleased.rawValue, let grant = j["grant"]?.stringValue, let segment = j["segment"]?.stringValue,
                  let range = j["chunks"]?.stringValue, let count = j["count"]?.numberText.flatMap({ Int64($0) }) else { return nil }
            let ends = range.split(separator: "-").compactMap { Int64($0) }
            guard ends.count == 2 else { return nil }
            self.init(grant: grant, segment: segment, firstSeq: ends[0], lastSeq: ends[1], count: count,
                      sha256: j["sha256"]?.stringValue.flatMap(Encoding.fromBase64) ?? [])
        }
    }

    /// The person's deletion of a range (docs/PROTOCOL.md §"Deleting a range").
    public struct RangeDeleted: Sendable, Equatable {
        public var stream: String
        public var cut: [String]
        public var wholeCount: Int64
        public var wholeSha256: [UInt8]
        public var replacements: [String]
        public var readings: Int64
        public var chunks: Int64
        public var from: Int64
        public var to: Int64
        public var deletionSha256: [UInt8]
        public var signedAt: Int64

        public init(stream: String, cut: [String], wholeCount: Int64, wholeSha256: [UInt8], replacements: [String], readings: Int64,
                    chunks: Int64, from: Int64, to: Int64, deletionSha256: [UInt8], signedAt: Int64) {
            self.stream = stream
            self.cut = cut
            self.wholeCount = wholeCount
            self.wholeSha256 = wholeSha256
            self.replacements = replacements
            self.readings = readings
            self.chunks = chunks
            self.from = from
            self.to = to
            self.deletionSha256 = deletionSha256
            self.signedAt = signedAt
        }
    }

    public var kind: LedgerLeaf.Kind {
        switch self {
        case .orgSeen: .orgSeen
        case .requestReceived: .requestReceived
        case .requestWithdrawn: .requestWithdrawn
        case .requestDenied: .requestDenied
        case .grantIssued: .grantIssued
        case .grantRevoked: .grantRevoked
        case .dataReleased: .dataReleased
        case .orgViolation: .orgViolation
        case .keysUpgraded: .keysUpgraded
        case .streamRetention: .streamRetention
        case .retentionDeleted, .rangeDeleted: .dataDeleted
        }
    }

    /// The leaf's fields (without `type`, `time`, `salt`, `org`).
    public var fields: [String: JSONValue] {
        func time(_ ms: Int64) -> JSONValue { .string(Timestamp.rfc3339(milliseconds: ms)) }
        func number(_ n: some BinaryInteger) -> JSONValue { .number("\(n)") }
        func b64(_ bytes: [UInt8]) -> JSONValue { .string(Encoding.base64(bytes)) }
        func strings(_ list: [String]) -> JSONValue { .array(list.map { .string($0) }) }
        switch self {
        case .orgSeen(let name):
            return ["name": .string(name)]
        case .requestReceived(let id, let name, let streams, let from, let to, let expires, let payloadSha256):
            return ["id": .string(id), "name": .string(name), "streams": strings(streams), "from": time(from), "to": time(to),
                    "expires": time(expires), "payloadSha256": b64(payloadSha256)]
        case .requestWithdrawn(let id):
            return ["id": .string(id)]
        case .requestDenied(let id, let payloadSha256, let reason):
            var f: [String: JSONValue] = ["id": .string(id), "payloadSha256": b64(payloadSha256)]
            if let reason { f["reason"] = .string(reason) }
            return f
        case .grantIssued(let id, let name, let payloadSha256, let segments, let streams, let from, let to, let expires):
            return ["id": .string(id), "name": .string(name), "payloadSha256": b64(payloadSha256), "segments": number(segments),
                    "streams": strings(streams), "from": time(from), "to": time(to), "expires": time(expires)]
        case .grantRevoked(let grant, let revocationSha256, let reason):
            var f: [String: JSONValue] = ["grant": .string(grant), "revocationSha256": b64(revocationSha256)]
            if let reason { f["reason"] = .string(reason) }
            return f
        case .dataReleased(let r):
            return ["grant": .string(r.grant), "segment": .string(r.segment), "chunks": .string("\(r.firstSeq)-\(r.lastSeq)"),
                    "count": number(r.count), "sha256": b64(r.sha256)]
        case .orgViolation(let kind, let detail):
            return ["kind": .string(kind), "detail": .string(detail)]
        case .keysUpgraded(let count, let documentSha256):
            return ["count": number(count), "documentSha256": b64(documentSha256)]
        case .streamRetention(let stream, let retentionSeconds, let changeSha256, let signedAt):
            return ["stream": .string(stream), "retentionSeconds": retentionSeconds.map(number) ?? .null,
                    "changeSha256": b64(changeSha256), "signedAt": time(signedAt)]
        case .retentionDeleted(let stream, let segments, let readings, let chunks, let before, let retentionSeconds):
            return ["stream": .string(stream), "segments": strings(segments), "readings": number(readings), "chunks": number(chunks),
                    "before": time(before), "retentionSeconds": number(retentionSeconds)]
        case .rangeDeleted(let d):
            return ["stream": .string(d.stream), "cut": strings(d.cut),
                    "whole": .object(["count": number(d.wholeCount), "sha256": b64(d.wholeSha256)]),
                    "replacements": strings(d.replacements), "readings": number(d.readings), "chunks": number(d.chunks),
                    "from": time(d.from), "to": time(d.to), "deletionSha256": b64(d.deletionSha256), "signedAt": time(d.signedAt)]
        }
    }

    /// The leaf of this event about `org` (when it is about an organization) at `time`.
    public func leaf(org: String? = nil, time: Int64) -> LedgerLeaf {
        LedgerLeaf(kind: kind, fields: fields, org: org, time: time)
    }
}
