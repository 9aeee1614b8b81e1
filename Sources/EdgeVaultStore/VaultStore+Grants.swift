import EdgeVaultCore
import GRDB
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A co-signed grant: what an organization may fetch, and until when.
public struct GrantRecord: Codable, Sendable, Equatable {
    public var org: String
    public var id: String
    public var jws: Data
    public var deliveryKey: Data
    public var streams: String
    public var fromTime: Int64
    public var toTime: Int64
    public var expires: Int64
    public var status: GrantStatus
    public var issuedAt: Int64
    public var revokedAt: Int64?
    public var leafIndex: Int64
    /// The person's signed revocation, once revoked.
    public var revocation: Data?
    /// A compute grant's job (the request's `job` member, compact JSON); nil for a raw grant,
    /// which is the only kind any segment key is ever sealed to (docs/PROTOCOL.md §"Compute jobs").
    public var job: String?

    package init(org: String, id: String, jws: Data, deliveryKey: Data, streams: String, fromTime: Int64, toTime: Int64, expires: Int64, status: GrantStatus, issuedAt: Int64, revokedAt: Int64? = nil, leafIndex: Int64, revocation: Data? = nil, job: String? = nil) {
        self.org = org
        self.id = id
        self.jws = jws
        self.deliveryKey = deliveryKey
        self.streams = streams
        self.fromTime = fromTime
        self.toTime = toTime
        self.expires = expires
        self.status = status
        self.issuedAt = issuedAt
        self.revokedAt = revokedAt
        self.leafIndex = leafIndex
        self.revocation = revocation
        self.job = job
    }
}

extension GrantRecord {
    /// What the grant covers, from its stored streams and range.
    public var scope: GrantScope {
        GrantScope(streams: streamList, from: fromTime, to: toTime)
    }
}

extension GrantRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "grant_record"
}

extension VaultStore {
    /// Segments of `streams` whose whole bucket lies in `[from, to)`: a grant's scope.
    /// The segments `scope` covers, filtered in SQL: the same rule as `GrantScope.covers`
    /// (checked on generated cases by `GrantScopeTests`).
    public func segmentsInScope(_ scope: GrantScope) async throws -> [SegmentRecord] {
        try await segmentsInScope(streams: Array(scope.streams), from: scope.from, to: scope.to)
    }

    func segmentsInScope(streams: [String], from: Int64, to: Int64) async throws -> [SegmentRecord] {
        try await read("read segments") { db in
            let ids = try Int64.fetchAll(db, StreamRecord.select(Column("id")).filter(streams.contains(StreamRecord.Columns.name)))
            return try SegmentRecord
                .filter(ids.contains(SegmentRecord.Columns.streamId))
                .filter(SegmentRecord.Columns.bucketStart >= from && SegmentRecord.Columns.bucketEnd <= to)
                .order(SegmentRecord.Columns.ordinal)
                .fetchAll(db)
        }
    }

    /// Records the person's decision in one transaction: the grant (with its sealed keys) or the
    /// denial, the request's new status and its ledger leaf. Returns the leaf's index.
    public func recordDecision(
        org: String, id: String, decided: [UInt8], decision: Decision.Checked, sealedKeys: [Int64: [UInt8]], now: Int64
    ) async throws -> Int64 {
        try await write("record the decision") { db in
            try Self.expireRequests(in: db, now: now)
            guard var request = try AccessRequestRecord.fetchOne(db, key: ["org": org, "id": id]) else {
                throw VaultError(.notFound, "no request \(id) from \(org)")
            }
            guard request.status == .pending else { throw VaultError(.notPending, "request \(id) is \(request.status), not pending") }
            request.decidedAt = now
            let leaf: LedgerLeaf
            switch decision.kind {
            case .grant:
                request.status = .granted
                guard let access = try? AccessRequest(payload: [UInt8](request.payload), origin: try Self.origin(db), now: nil) else {
                    throw VaultError(.badRequest, "the stored request no longer parses")
                }
                leaf = LedgerEvent.grantIssued(id: id, name: access.orgName, payloadSha256: Hash.sha256([UInt8](request.payload)),
                                               segments: sealedKeys.count, streams: access.streams, from: access.from, to: access.to,
                                               expires: access.expires).leaf(org: org, time: now)
                let index = try Self.appendLeaf(leaf, in: db)
                try GrantRecord(org: org, id: id, jws: Data(decided), deliveryKey: Data(access.deliveryKey), streams: request.streams,
                                fromTime: access.from, toTime: access.to, expires: access.expires, status: .live, issuedAt: now,
                                revokedAt: nil, leafIndex: index, revocation: nil,
                                job: access.job.map { String(decoding: $0.json.serialized(), as: UTF8.self) }).insert(db)
                guard access.job == nil || sealedKeys.isEmpty else {
                    throw VaultError(.decisionInvalid, "a compute grant never carries a segment key")
                }
                let insert = try db.cachedStatement(sql: "INSERT INTO grant_key (org, grantId, segment, sealedKey) VALUES (?, ?, ?, ?)")
                for (segment, key) in sealedKeys.sorted(by: { $0.key < $1.key }) {
                    try insert.execute(arguments: [org, id, segment, Data(key)])
                }
                try request.update(db)
                return index
            case .deny:
                return try Self.deny(&request, reason: decision.reason, now: now, in: db)
            }
        }
    }

    /// Marks a pending request denied with its `request.denied` leaf (inside the caller's
    /// transaction); returns the leaf's index.
    static func deny(_ request: inout AccessRequestRecord, reason: String?, now: Int64, in db: Database) throws -> Int64 {
        request.status = .denied
        request.decidedAt = now
        request.reason = reason
        let event = LedgerEvent.requestDenied(id: request.id, payloadSha256: Hash.sha256([UInt8](request.payload)), reason: reason)
        let index = try appendLeaf(event.leaf(org: request.org, time: now), in: db)
        try request.update(db)
        return index
    }

    static func origin(_ db: Database) throws -> String {
        guard let v = try VaultRecord.fetchOne(db) else { throw VaultError(.vaultMissing, "no vault") }
        return v.origin
    }

    public func grant(org: String, id: String) async throws -> GrantRecord? {
        try await read("read the grant") { try GrantRecord.fetchOne($0, key: ["org": org, "id": id]) }
    }
}

extension VaultStore {
    /// The segments a grant covers, with the DEK sealed to its delivery key.
    public func grantSegments(org: String, id: String) async throws -> [(segment: SegmentRecord, stream: String, sealedKey: [UInt8])] {
        try await read("read the grant's segments") { db in
            try Row.fetchAll(db, sql: """
                SELECT s.*, st.name AS streamName, k.sealedKey AS grantKey FROM grant_key k
                JOIN segment s ON s.ordinal = k.segment JOIN stream st ON st.id = s.streamId
                WHERE k.org = ? AND k.grantId = ? ORDER BY st.name, s.bucketStart, s.ordinal
                """, arguments: [org, id]).map { row in
                (try SegmentRecord(row: row), row["streamName"], [UInt8](row["grantKey"] as Data))
            }
        }
    }

    /// The `data.released` leaf for a page of chunks handed to an organization.
    public static func releaseLeaf(org: String, grant: String, segment: String, chunks: [ChunkRecord], now: Int64) -> LedgerLeaf {
        var hasher = SHA256Hasher()
        for c in chunks { c.ciphertext.withUnsafeBytes { hasher.update($0) } }
        return LedgerEvent.dataReleased(.init(grant: grant, segment: segment, firstSeq: chunks.first?.seq ?? 0, lastSeq: chunks.last?.seq ?? 0,
                                              count: chunks.reduce(0) { $0 + $1.readingCount }, sha256: hasher.finalize()))
            .leaf(org: org, time: now)
    }
}

extension VaultStore {
    /// Revokes a live grant with the person's signed revocation and a `grant.revoked` leaf.
    public func revokeGrant(org: String, id: String, revocation: [UInt8], reason: String?, now: Int64) async throws -> Int64 {
        try await write("revoke the grant") { db in
            guard var g = try GrantRecord.fetchOne(db, key: ["org": org, "id": id]) else { throw VaultError(.notFound, "no grant \(id) for \(org)") }
            guard g.status == .live else { throw VaultError(.notPending, "grant \(id) is already \(g.status)") }
            g.status = .revoked
            g.revokedAt = now
            g.revocation = Data(revocation)
            try g.update(db)
            return try Self.appendLeaf(LedgerEvent.grantRevoked(grant: id, revocationSha256: Hash.sha256(revocation), reason: reason)
                .leaf(org: org, time: now), in: db)
        }
    }

    /// Replaces unbound sealed keys with the person's bound ones (`keys.upgraded` leaf, one
    /// transaction). A segment whose key is already bound, or that does not exist, is left as
    /// it is. Returns how many were replaced and the leaf's index.
    public func upgradeSealedKeys(_ keys: [(segment: String, sealedKey: [UInt8])], document: [UInt8], now: Int64) async throws -> (Int, Int64?) {
        try await write("upgrade sealed keys") { db in
            var count = 0
            for (segment, key) in keys {
                try db.execute(sql: "UPDATE segment SET sealedKey = ? WHERE id = ? AND length(sealedKey) = ?",
                               arguments: [Data(key), segment, SegmentKeySeal.unboundSealedLength])
                count += db.changesCount
            }
            guard count > 0 else { return (0, nil) }
            let index = try Self.appendLeaf(LedgerEvent.keysUpgraded(count: count, documentSha256: Hash.sha256(document)).leaf(time: now), in: db)
            return (count, index)
        }
    }

    /// Records an organization's violation (a fetch under a dead grant, another org's grant,
    /// a segment out of scope).
    @discardableResult
    public func recordViolation(org: String, kind: String, detail: String, now: Int64) async throws -> Int64 {
        try await write("record a violation") { db in
            try Self.appendLeaf(LedgerEvent.orgViolation(kind: kind, detail: detail).leaf(org: org, time: now), in: db)
        }
    }

    /// Live grants with their scope, for sealing new segments to ongoing grants.
    public func liveGrants(now: Int64) async throws -> [GrantRecord] {
        try await read("read grants") { db in
            try GrantRecord.filter(Column("status") == "live" && Column("expires") > now).fetchAll(db)
        }
    }

    public func grants() async throws -> [GrantRecord] {
        try await read("read grants") { try GrantRecord.order(Column("issuedAt")).fetchAll($0) }
    }

    /// Pages released under a grant (every one, re-downloads included) and the readings in
    /// them, each page of chunks counted once however often it was fetched: the grant row's
    /// counters, kept as release leaves are appended (`countRelease`).
    public func releases(org: String, grant: String) async throws -> (pages: Int, readings: Int64) {
        try await read("read releases") { db in
            let row = try Row.fetchOne(db, sql: "SELECT releasePages, releaseReadings FROM grant_record WHERE org = ? AND id = ?", arguments: [org, grant])
            return (row?["releasePages"] ?? 0, row?["releaseReadings"] ?? 0)
        }
    }
}

extension VaultStore {
    /// Requests by status, live grants and the ledger's size, for `/metrics`.
    public func metricCounts(now: Int64) async throws -> (requests: [String: Int], grantsLive: Int, ledgerSize: Int64) {
        try await read("read metrics") { db in
            var requests: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT CASE WHEN status = 'pending' AND expires <= ? THEN 'expired' ELSE status END AS s, count(*) AS n
                FROM access_request GROUP BY s
                """, arguments: [now]) {
                requests[row["s"]] = row["n"]
            }
            let live = try Int.fetchOne(db, sql: "SELECT count(*) FROM grant_record WHERE status = 'live' AND expires > ?", arguments: [now]) ?? 0
            return (requests, live, try Self.ledgerSize(in: db))
        }
    }
}

extension GrantRecord {
    /// The streams, as a list (stored one per line).
    public var streamList: [String] { streams.split(separator: "\n").map(String.init) }
}
