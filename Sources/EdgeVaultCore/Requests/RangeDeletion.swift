/// The person's signed deletion of a stream's readings in a time range (docs/PROTOCOL.md
/// §"Deleting a range"): a JWS with exactly one signature, the person's, protected header
/// `{"alg":"Ed25519","kid":<user key id>}`, payload
///
/// ```json
/// {"type":"edgevault.deletion/v1","vault":<origin>,"stream":<name>,
///  "from":<RFC 3339>,"to":<RFC 3339>,"readings":<deleted>,"at":<RFC 3339>,
///  "whole":{"count":<segments>,"readings":<their readings>,"sha256":<base64>},
///  "segments":[{"id":<segment>,"readings":<deleted from it>,
///               "replacement":null | {"id":<new segment>,"readings":<kept>,"sha256":<base64>}}…],
///  "untouched":{"count":<segments>,"sha256":<base64>}}
/// ```
///
/// Segments whose bucket lies inside the range go whole (`whole`: their number, readings and
/// the digest of their ids). A segment the range cuts through is named in `segments`: the
/// readings of it inside the range go; what stays is written by the person's CLI into a new
/// segment under a fresh key sealed to the person (never the old key again, so a daemon cannot
/// make the CLI reuse a nonce), digested by `sha256` (`replacementDigest`). A cut segment with
/// nothing in the range is `untouched` (number and digest of ids). Together they name every
/// segment of the stream overlapping the range: a reading that arrived after the person looked
/// makes the deletion fail instead of surviving it. Only the holder of the person's key can
/// delete, and what was deleted is exact and signed.
public enum RangeDeletion {
    public static let type = "edgevault.deletion/v1"
    /// Cut segments one deletion may name (they lie in the range's two edge buckets).
    public static let maxSegments = 500
    /// Segments one deletion may delete whole (a year of 10-minute buckets); the CLI asks for
    /// a shorter range beyond.
    public static let maxWhole: Int64 = 60_000

    public struct Replacement: Sendable, Equatable {
        public var id: String
        public var readings: Int64
        public var sha256: [UInt8]

        public init(id: String, readings: Int64, sha256: [UInt8]) {
            self.id = id
            self.readings = readings
            self.sha256 = sha256
        }
    }

    public struct Segment: Sendable, Equatable {
        public var id: String
        /// Readings of this segment inside the range.
        public var readings: Int64
        public var replacement: Replacement?

        public init(id: String, readings: Int64, replacement: Replacement?) {
            self.id = id
            self.readings = readings
            self.replacement = replacement
        }
    }

    public struct Checked: Sendable, Equatable {
        public var vault: String
        public var stream: String
        public var from: Int64
        public var to: Int64
        public var readings: Int64
        /// Milliseconds since the epoch.
        public var at: Int64
        public var whole: IdSet
        public var wholeReadings: Int64
        public var segments: [Segment]
        public var untouched: IdSet
    }

    /// A set of segment ids by number and digest (`idDigest`).
    public struct IdSet: Sendable, Equatable {
        public var count: Int64
        public var sha256: [UInt8]

        public init(_ ids: [String]) {
            count = Int64(ids.count)
            sha256 = RangeDeletion.idDigest(ids)
        }

        public init(count: Int64, sha256: [UInt8]) {
            self.count = count
            self.sha256 = sha256
        }
    }

    /// SHA-256 over the ids sorted (byte order), each followed by a line feed.
    public static func idDigest(_ ids: [String]) -> [UInt8] {
        var bytes: [UInt8] = []
        for id in ids.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }) {
            bytes.append(contentsOf: Array(id.utf8))
            bytes.append(0x0A)
        }
        return Hash.sha256(bytes)
    }

    public static func make(vault: String, stream: String, from: Int64, to: Int64, whole: [String], wholeReadings: Int64,
                            segments: [Segment], untouched: [String], at: Int64, keys: UserKeys) -> JWS {
        let payload = JSONValue.object([
            "type": .string(type), "vault": .string(vault), "stream": .string(stream),
            "from": .string(Timestamp.rfc3339(milliseconds: from)), "to": .string(Timestamp.rfc3339(milliseconds: to)),
            "readings": .number("\(segments.reduce(wholeReadings) { $0 + $1.readings })"), "at": .string(Timestamp.rfc3339(milliseconds: at)),
            "whole": .object(["count": .number("\(whole.count)"), "readings": .number("\(wholeReadings)"),
                              "sha256": .string(Encoding.base64(idDigest(whole)))]),
            "segments": .array(segments.map { s in
                .object([
                    "id": .string(s.id), "readings": .number("\(s.readings)"),
                    "replacement": s.replacement.map { r in
                        .object(["id": .string(r.id), "readings": .number("\(r.readings)"), "sha256": .string(Encoding.base64(r.sha256))])
                    } ?? .null,
                ])
            }),
            "untouched": .object(["count": .number("\(untouched.count)"), "sha256": .string(Encoding.base64(idDigest(untouched)))]),
        ])
        let header = JSONValue.object(["alg": .string("Ed25519"), "kid": .string(keys.publicKeys.keyId)])
        return JWS.sign(payload: payload.serialized(), header: header, keyPair: keys.signing)
    }

    /// Checks the person's signature and the payload's form and arithmetic (whether it matches
    /// the vault's segments, its freshness and replay are the store's to check).
    public static func check(_ jws: JWS, userKeyId: String, userKey: SigningPublicKey) throws(JWS.Failure) -> Checked {
        try jws.verifyPersonSignature(userKeyId: userKeyId, userKey: userKey, document: "a deletion")
        guard case .object(let p)? = try? JSONValue.parse(jws.payload), p["type"]?.stringValue == type,
              let vault = p["vault"]?.stringValue, let stream = p["stream"]?.stringValue,
              let from = p["from"]?.stringValue.flatMap(Timestamp.parseRFC3339), let to = p["to"]?.stringValue.flatMap(Timestamp.parseRFC3339),
              let at = p["at"]?.stringValue.flatMap(Timestamp.parseRFC3339), let readings = count(p["readings"]),
              case .array(let list)? = p["segments"], let whole = idSet(p["whole"]), let wholeReadings = count(p["whole"]?["readings"]),
              let untouched = idSet(p["untouched"])
        else { throw JWS.Failure("the deletion payload needs type \(type), vault, stream, from, to, readings, at, whole, segments and untouched") }
        guard whole.count <= maxWhole else { throw JWS.Failure("a deletion deletes at most \(maxWhole) segments whole") }
        guard from < to else { throw JWS.Failure("the deletion's from must be before its to") }
        guard list.count <= maxSegments, !list.isEmpty || whole.count > 0 else {
            throw JWS.Failure("a deletion deletes at least one segment whole or names 1…\(maxSegments) cut segments")
        }
        var segments: [Segment] = []
        var ids = Set<String>()
        for item in list {
            guard let id = item["id"]?.stringValue, let n = count(item["readings"]), let r = item["replacement"] else {
                throw JWS.Failure("each deleted segment needs id, readings and replacement (null when it goes whole)")
            }
            var replacement: Replacement?
            if r != .null {
                guard let rid = r["id"]?.stringValue, let kept = count(r["readings"]), kept > 0,
                      let digest = r["sha256"]?.stringValue.flatMap(Encoding.fromBase64), digest.count == 32
                else { throw JWS.Failure("a replacement needs id, readings (at least 1) and sha256") }
                guard ids.insert(rid).inserted else { throw JWS.Failure("segment \(rid) is named twice") }
                replacement = Replacement(id: rid, readings: kept, sha256: digest)
            }
            guard ids.insert(id).inserted else { throw JWS.Failure("segment \(id) is named twice") }
            segments.append(Segment(id: id, readings: n, replacement: replacement))
        }
        guard segments.reduce(wholeReadings, { $0 + $1.readings }) == readings else {
            throw JWS.Failure("the deletion's readings is not the sum of its segments' readings")
        }
        return Checked(vault: vault, stream: stream, from: from, to: to, readings: readings, at: at, whole: whole,
                       wholeReadings: wholeReadings, segments: segments, untouched: untouched)
    }

    static func count(_ value: JSONValue?) -> Int64? {
        guard let n = value?.numberText.flatMap({ Int64($0) }), n >= 0, n < 1 << 48 else { return nil }
        return n
    }

    static func idSet(_ value: JSONValue?) -> IdSet? {
        guard let n = count(value?["count"]), let digest = value?["sha256"]?.stringValue.flatMap(Encoding.fromBase64), digest.count == 32 else { return nil }
        return IdSet(count: n, sha256: digest)
    }

    /// One chunk of a replacement segment.
    public struct Chunk: Sendable, Equatable {
        public var seq: Int64
        public var readings: Int64
        public var ciphertext: [UInt8]

        public init(seq: Int64, readings: Int64, ciphertext: [UInt8]) {
            self.seq = seq
            self.readings = readings
            self.ciphertext = ciphertext
        }
    }

    /// A replacement's key sealed to one live grant's delivery key.
    public struct GrantKey: Sendable, Equatable {
        public var org: String
        public var grant: String
        public var sealedKey: [UInt8]

        public init(org: String, grant: String, sealedKey: [UInt8]) {
            self.org = org
            self.grant = grant
            self.sealedKey = sealedKey
        }
    }

    /// SHA-256 over everything a replacement carries, each part length-prefixed (big-endian):
    /// `u32(len(sealedKey)) ‖ sealedKey`; per chunk in order
    /// `u64(seq) ‖ u64(readings) ‖ u32(len(ciphertext)) ‖ ciphertext`; `u64(minTime) ‖ u64(maxTime)`;
    /// `u32(number of grant keys)` and per grant key, sorted by organization then grant,
    /// `u32(len(org)) ‖ org ‖ u32(len(grant)) ‖ grant ‖ u32(len(sealedKey)) ‖ sealedKey`.
    public static func replacementDigest(sealedKey: [UInt8], chunks: [Chunk], minTime: Int64, maxTime: Int64, grantKeys: [GrantKey]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(sealedKey.count + chunks.reduce(0) { $0 + $1.ciphertext.count + 20 } + 4)
        func u32(_ n: Int) { for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: n >> shift)) } }
        func u64(_ n: Int64) { for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: n >> shift)) } }
        u32(sealedKey.count)
        bytes.append(contentsOf: sealedKey)
        for c in chunks {
            u64(c.seq)
            u64(c.readings)
            u32(c.ciphertext.count)
            bytes.append(contentsOf: c.ciphertext)
        }
        u64(minTime)
        u64(maxTime)
        u32(grantKeys.count)
        for k in grantKeys.sorted(by: { ($0.org, $0.grant) < ($1.org, $1.grant) }) {
            for part in [Array(k.org.utf8), Array(k.grant.utf8), k.sealedKey] {
                u32(part.count)
                bytes.append(contentsOf: part)
            }
        }
        return Hash.sha256(bytes)
    }
}
