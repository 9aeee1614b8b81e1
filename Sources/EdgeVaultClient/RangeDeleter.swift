import EdgeVaultCore
import EdgeVaultStore
import Foundation

/// The person's side of `vault-cli delete` (docs/PROTOCOL.md §"Deleting a range"): find the
/// stream's segments overlapping the range, close the open ones, decrypt those the range cuts
/// through, count exactly what goes, write what stays into new segments under fresh keys
/// (sealed to the person, and to every live grant the person co-signed that covers them), sign
/// the deletion, and send it. The daemon never sees a key or a reading.
public struct RangeDeleter {
    let client: AdminClient

    public init(client: AdminClient) {
        self.client = client
    }

    /// What a deletion will do, counted from the decrypted readings: shown to the person
    /// before they confirm, then signed as it is.
    public struct Plan: Sendable {
        public var stream: String
        public var from: Int64
        public var to: Int64
        /// Segments inside the range, deleted whole, and their readings.
        public var whole: [String]
        public var wholeReadings: Int64
        /// Segments the range cuts through that lose readings.
        public var segments: [RangeDeletion.Segment]
        public var untouched: [String]
        public var replacements: [AdminAPI.DeletionInput.Replacement]
        /// Readings deleted.
        public var readings: Int64 { segments.reduce(wholeReadings) { $0 + $1.readings } }
        /// Readings of cut segments that stay (re-encrypted).
        public var kept: Int64 { segments.reduce(0) { $0 + ($1.replacement?.readings ?? 0) } }
        /// First and last deleted reading's time.
        public var first: Int64?
        public var last: Int64?
        /// Live grants covering deleted readings (organization name or key id, grant id).
        public var grants: [String]
    }

    /// The stream's segments overlapping `[from, to)`: a cheap check before the passphrase
    /// (no such stream, nothing in the range).
    public func overlapping(stream: String, from: Int64, to: Int64) async throws -> [AdminAPI.Segment] {
        guard try await client.streams().contains(where: { $0.name == stream }) else { throw VaultError(.notFound, "no stream \"\(stream)\"") }
        return try await client.segments(streams: [stream], from: from, to: to)
    }

    /// `logState`: where the person's side remembers the last verified checkpoint (the log is
    /// verified in full first: revocations are read from it); `verifying` follows that step.
    public func plan(stream: String, from: Int64, to: Int64, keys: UserKeys, logState: String? = nil,
                     verifying: (any WorkProgress)? = nil, progress: (any WorkProgress)? = nil) async throws -> Plan {
        let vault = try await client.vault()
        try keys.requireOwner(of: vault)
        var segments = try await overlapping(stream: stream, from: from, to: to)
        if segments.contains(where: \.open) {
            _ = try await client.closeSegments(.init(stream: stream, from: from, to: to))
            segments = try await overlapping(stream: stream, from: from, to: to)
            if let open = segments.first(where: \.open) {
                throw VaultError(.streamChanged, "segment \(open.id) of \(stream) is still being written; run vault-cli delete again")
            }
        }
        // A daemon's listing is checked before any number from it is used.
        for s in segments where s.readings < 0 || s.readings >= 1 << 40 || s.chunks < 0 || s.chunks >= 1 << 32 {
            throw VaultError(.scopeViolation, "segment \(s.id) is listed with \(s.readings) readings in \(s.chunks) chunks; nothing was deleted")
        }
        let bucketMs = (try await client.streams().first { $0.name == stream }?.bucketSeconds ?? 0) * 1000
        for s in segments {
            let sane = s.stream == stream && bucketMs > 0 && s.endMs - s.startMs == bucketMs && s.startMs % bucketMs == 0
                && s.endMs > from && s.startMs < to
                && (s.minTime.map { $0 >= s.startMs && $0 < s.endMs } ?? true) && (s.maxTime.map { $0 >= s.startMs && $0 < s.endMs } ?? true)
            guard sane else {
                throw VaultError(.scopeViolation, "segment \(s.id) is listed as \(s.stream) \(s.startMs)…\(s.endMs), not a bucket of \(stream) in the range; nothing was deleted")
            }
        }
        let wholeCount = segments.filter { $0.startMs >= from && $0.endMs <= to }.count
        guard wholeCount <= RangeDeletion.maxWhole else {
            throw VaultError(.tooLarge, "the range holds \(wholeCount) segments, more than one deletion takes (\(RangeDeletion.maxWhole)); delete it in parts, for example a month at a time; nothing was deleted")
        }
        let grants = try await liveGrants(origin: vault.origin, keys: keys, logState: logState ?? LogVerifier.defaultStatePath(origin: vault.origin),
                                          progress: verifying)
        var plan = Plan(stream: stream, from: from, to: to, whole: [], wholeReadings: 0, segments: [], untouched: [], replacements: [], grants: [])
        var covering = Set<String>()
        progress?.total = segments.filter { !($0.startMs >= from && $0.endMs <= to) }.reduce(0) { $0 + $1.chunks }
        for s in segments {
            for g in grants where g.access.scope.covers(stream: stream, bucketStart: s.startMs, bucketEnd: s.endMs) {
                covering.insert("\(TerminalText.escape(g.access.orgName)) (\(TerminalText.escape(g.access.id)))")
            }
            if s.startMs >= from && s.endMs <= to {
                // Inside the range: the whole segment goes; its count is the daemon's, checked
                // against its own records when it applies the deletion.
                plan.whole.append(s.id)
                plan.wholeReadings += s.readings
                plan.first = min(plan.first ?? .max, s.minTime ?? s.startMs)
                plan.last = max(plan.last ?? .min, s.maxTime ?? (s.endMs - 1))
                continue
            }
            let items = try await client.readAll(s, keys: keys, progress: progress)
            let gone = items.filter { $0.t >= from && $0.t < to }
            let kept = items.filter { $0.t < from || $0.t >= to }
            guard Int64(items.count) == s.readings, items.allSatisfy({ $0.t >= s.startMs && $0.t < s.endMs }) else {
                throw VaultError(.scopeViolation, "segment \(s.id) is listed with \(s.readings) readings but its chunks hold \(items.count); nothing was deleted")
            }
            if gone.isEmpty {
                plan.untouched.append(s.id)
                continue
            }
            plan.first = min(plan.first ?? .max, gone.map(\.t).min()!)
            plan.last = max(plan.last ?? .min, gone.map(\.t).max()!)
            guard !kept.isEmpty else {
                plan.segments.append(.init(id: s.id, readings: Int64(gone.count), replacement: nil))
                continue
            }
            let (body, signed) = try Self.replacement(of: s, keeping: kept, keys: keys, grants: grants)
            plan.segments.append(.init(id: s.id, readings: Int64(gone.count), replacement: signed))
            plan.replacements.append(body)
        }
        plan.grants = covering.sorted()
        // The signed document must fit a JWS (64 KiB): said now, before the person is asked.
        let size = RangeDeletion.make(vault: vault.origin, stream: stream, from: from, to: to, whole: plan.whole, wholeReadings: plan.wholeReadings,
                                      segments: plan.segments, untouched: plan.untouched, at: Timestamp.now(), keys: keys).serialized().count
        guard plan.segments.count <= RangeDeletion.maxSegments, size <= JWS.maxBytes else {
            throw VaultError(.tooLarge, "the range's edge buckets hold \(plan.segments.count) segments with readings to delete, more than one deletion "
                             + "can name; delete a range ending on bucket boundaries (whole buckets need no naming) or a narrower one; nothing was deleted")
        }
        return plan
    }

    /// Signs the plan and sends it.
    public func apply(_ plan: Plan, keys: UserKeys, now: Int64 = Timestamp.now()) async throws -> AdminAPI.DeletionResult {
        let vault = try await client.vault()
        let jws = RangeDeletion.make(vault: vault.origin, stream: plan.stream, from: plan.from, to: plan.to, whole: plan.whole,
                                     wholeReadings: plan.wholeReadings, segments: plan.segments, untouched: plan.untouched, at: now, keys: keys)
        return try await client.delete(.init(deletion: String(decoding: jws.serialized(), as: UTF8.self), replacements: plan.replacements))
    }

    struct LiveGrant {
        var org: String
        var access: AccessRequest
    }

    /// The live grants, each checked to carry the organization's and the person's signatures
    /// (a daemon cannot add a grant to have kept readings sealed to a key of its choosing), and
    /// not revoked in the ledger. Revocations are read while the whole log is verified
    /// (`LogVerifier`, against the checkpoint the person verified last): a daemon cannot leave
    /// a `grant.revoked` leaf out of what it shows without failing that verification.
    func liveGrants(origin: String, keys: UserKeys, logState: String, progress: (any WorkProgress)?) async throws -> [LiveGrant] {
        let now = Timestamp.now()
        let report = try await LogVerifier(client: client, statePath: logState)
            .verify(progress: progress, collect: [LedgerLeaf.Kind.grantRevoked.rawValue])
        let revoked = Set(report.collected.compactMap { leaf in
            leaf.org.flatMap { org in leaf.json["grant"]?.stringValue.map { "\(org)\n\($0)" } }
        })
        var out: [LiveGrant] = []
        for g in try await client.grants() where g.status == .live && !revoked.contains("\(g.org)\n\(g.id)") {
            let tampered = VaultError(.scopeViolation, "grant \(g.id) of \(g.org) does not carry your valid co-signature (the daemon's records look tampered); nothing was deleted")
            guard let access = g.coSignedRequest(origin: origin, keys: keys), access.expires > now else { throw tampered }
            // A compute grant holds no segment key: nothing to re-seal to it.
            if access.isCompute { continue }
            out.append(LiveGrant(org: g.org, access: access))
        }
        return out
    }

    /// The kept readings under a fresh key, in chunks of at most `ChunkFormat.maxPlaintextBytes`.
    static func replacement(of s: AdminAPI.Segment, keeping kept: [Exporter.Item], keys: UserKeys,
                            grants: [LiveGrant]) throws -> (AdminAPI.DeletionInput.Replacement, RangeDeletion.Replacement) {
        let dek = SecureBytes.random(count: AEAD.keyBytes)
        let id = Encoding.base32(Sodium.randomBytes(16), lowercase: true)
        let sealedKey = try SegmentKeySeal.seal(dek, bound: .init(segment: id, stream: s.stream, start: s.startMs, end: s.endMs), to: keys.box.publicKey)
        var chunks: [RangeDeletion.Chunk] = []
        var buffer: [UInt8] = []
        var count: Int64 = 0
        func seal() {
            guard count > 0 else { return }
            let seq = Int64(chunks.count)
            chunks.append(.init(seq: seq, readings: count, ciphertext: ChunkFormat.seal(buffer, dek: dek, segmentId: id, seq: seq)))
            buffer.removeAll(keepingCapacity: true)
            count = 0
        }
        for item in kept.sorted(by: { $0.t < $1.t }) {
            if buffer.count + ChunkFormat.lineLength(t: item.t, valueBytes: item.value.count) > ChunkFormat.maxPlaintextBytes { seal() }
            item.value.withUnsafeBytes { ChunkFormat.appendLine(t: item.t, value: $0, to: &buffer) }
            count += 1
        }
        seal()
        var grantKeys: [RangeDeletion.GrantKey] = []
        for g in grants where g.access.scope.covers(stream: s.stream, bucketStart: s.startMs, bucketEnd: s.endMs) {
            grantKeys.append(.init(org: g.org, grant: g.access.id, sealedKey: try SealedBox.seal(dek, to: g.access.deliveryKey)))
        }
        let (minTime, maxTime) = (kept.map(\.t).min()!, kept.map(\.t).max()!)
        let body = AdminAPI.DeletionInput.Replacement(
            id: id, replaces: s.id, sealedKey: Encoding.base64(sealedKey), minTime: minTime, maxTime: maxTime,
            chunks: chunks.map { .init(seq: $0.seq, readings: $0.readings, ciphertext: Encoding.base64($0.ciphertext)) },
            grantKeys: grantKeys.map { .init(org: $0.org, grant: $0.grant, sealedKey: Encoding.base64($0.sealedKey)) })
        let digest = RangeDeletion.replacementDigest(sealedKey: sealedKey, chunks: chunks, minTime: minTime, maxTime: maxTime, grantKeys: grantKeys)
        return (body, .init(id: id, readings: Int64(kept.count), sha256: digest))
    }
}
