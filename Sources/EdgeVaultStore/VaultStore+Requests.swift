import EdgeVaultCore
import GRDB
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An organization known to the vault: seen on first contact, pinned or blocked by the person.
public struct OrgRecord: Codable, Sendable, Equatable {
    public var keyId: String
    public var publicKey: Data?
    public var name: String
    public var contact: String
    public var trust: OrgTrust
    public var pinnedName: String?
    public var firstSeen: Int64?
    public var updatedAt: Int64

    public var isBlocked: Bool { trust == .blocked }

    package init(keyId: String, publicKey: Data? = nil, name: String, contact: String, trust: OrgTrust, pinnedName: String? = nil, firstSeen: Int64? = nil, updatedAt: Int64) {
        self.keyId = keyId
        self.publicKey = publicKey
        self.name = name
        self.contact = contact
        self.trust = trust
        self.pinnedName = pinnedName
        self.firstSeen = firstSeen
        self.updatedAt = updatedAt
    }
}

extension OrgRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "org"
}

/// A stored access request and its status.
public struct AccessRequestRecord: Codable, Sendable, Equatable {
    public var org: String
    public var id: String
    public var status: RequestStatus
    public var jws: Data
    public var payload: Data
    public var streams: String
    public var fromTime: Int64
    public var toTime: Int64
    public var expires: Int64
    public var receivedAt: Int64
    public var decidedAt: Int64?
    public var reason: String?

    package init(org: String, id: String, status: RequestStatus, jws: Data, payload: Data, streams: String, fromTime: Int64, toTime: Int64, expires: Int64, receivedAt: Int64, decidedAt: Int64? = nil, reason: String? = nil) {
        self.org = org
        self.id = id
        self.status = status
        self.jws = jws
        self.payload = payload
        self.streams = streams
        self.fromTime = fromTime
        self.toTime = toTime
        self.expires = expires
        self.receivedAt = receivedAt
        self.decidedAt = decidedAt
        self.reason = reason
    }
}

extension AccessRequestRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "access_request"
}

/// Limits on pending requests.
public struct RequestLimits: Sendable {
    public var maxPendingPerOrg: Int
    public var maxPendingTotal: Int
    public var allowUnknownOrgs: Bool

    public init(maxPendingPerOrg: Int = 20, maxPendingTotal: Int = 200, allowUnknownOrgs: Bool = true) {
        self.maxPendingPerOrg = maxPendingPerOrg
        self.maxPendingTotal = maxPendingTotal
        self.allowUnknownOrgs = allowUnknownOrgs
    }
}

extension VaultStore {
    public func org(keyId: String) async throws -> OrgRecord? {
        try await read("read organizations") { try OrgRecord.fetchOne($0, key: keyId) }
    }

    public func orgs() async throws -> [OrgRecord] {
        try await read("read organizations") { try OrgRecord.order(Column("firstSeen")).fetchAll($0) }
    }

    /// What the signature check needs of an organization (nil for a key never seen nor
    /// pinned), from memory after the first call: `OrgKeyCache` keeps it equal to the table.
    public func orgKey(keyId: String) async throws -> OrgKey? {
        try orgKeys.lookup(keyId) {
            try hotRead("read organizations", .orgKey, [keyId]) { row in
                OrgKey(publicKey: row.blob(0), isBlocked: row.text(1) == "blocked")
            }
        }
    }

    /// Pending requests whose `expires` passed become `expired`.
    static func expireRequests(in db: Database, now: Int64) throws {
        try db.execute(sql: "UPDATE access_request SET status = 'expired', decidedAt = ? WHERE status = 'pending' AND expires <= ?", arguments: [now, now])
    }

    /// Stores a verified request as pending, with `org.seen` (first contact) and
    /// `request.received` leaves, in one transaction. Returns the new leaves' indexes.
    @discardableResult
    public func submitRequest(
        orgKeyId: String, orgPublicKey: [UInt8], request: AccessRequest, payload: [UInt8], jws: [UInt8], limits: RequestLimits, now: Int64
    ) async throws -> [Int64] {
        defer { orgKeys.changed(orgKeyId) }
        return try await write("store the request") { db in
            try Self.expireRequests(in: db, now: now)
            var leaves: [Int64] = []
            if var org = try OrgRecord.fetchOne(db, key: orgKeyId) {
                if org.isBlocked { throw VaultError(.orgBlocked, "the person has blocked this organization's key") }
                // A row for a key never seen and not pinned (blocked ahead of contact, then
                // unblocked) does not make it known.
                if org.firstSeen == nil, org.trust != .pinned, !limits.allowUnknownOrgs {
                    throw VaultError(.unknownKey, "this vault accepts requests only from organizations the person added (vault-cli trust add)")
                }
                if org.publicKey == nil || org.firstSeen == nil {
                    org.publicKey = Data(orgPublicKey)
                    org.firstSeen = now
                    leaves.append(try Self.appendLeaf(LedgerEvent.orgSeen(name: request.orgName).leaf(org: orgKeyId, time: now), in: db))
                }
                org.name = request.orgName
                org.contact = request.orgContact
                org.updatedAt = now
                try org.update(db)
            } else {
                guard limits.allowUnknownOrgs else {
                    throw VaultError(.unknownKey, "this vault accepts requests only from organizations the person added (vault-cli trust add)")
                }
                try OrgRecord(keyId: orgKeyId, publicKey: Data(orgPublicKey), name: request.orgName, contact: request.orgContact,
                              trust: .seen, pinnedName: nil, firstSeen: now, updatedAt: now).insert(db)
                leaves.append(try Self.appendLeaf(LedgerEvent.orgSeen(name: request.orgName).leaf(org: orgKeyId, time: now), in: db))
            }
            if try AccessRequestRecord.fetchOne(db, key: ["org": orgKeyId, "id": request.id]) != nil {
                throw VaultError(.duplicateId, "you already used the request id \(request.id); choose a new id")
            }
            let pendingOrg = try Int.fetchOne(db, sql: "SELECT count(*) FROM access_request WHERE status = 'pending' AND org = ?", arguments: [orgKeyId]) ?? 0
            guard pendingOrg < limits.maxPendingPerOrg else {
                throw VaultError(.tooManyPending, "you have \(pendingOrg) pending requests, the most this vault keeps per organization; wait for decisions or withdraw some")
            }
            // Pending requests of blocked organizations never count against the vault-wide
            // limit: a flood of throwaway keys, once blocked, frees every slot at once.
            let pendingAll = try Int.fetchOne(db, sql: """
                SELECT count(*) FROM access_request r JOIN org o ON o.keyId = r.org WHERE r.status = 'pending' AND o.trust != 'blocked'
                """) ?? 0
            guard pendingAll < limits.maxPendingTotal else {
                throw VaultError(.tooManyPending, "the vault has too many pending requests; try again later")
            }
            try AccessRequestRecord(
                org: orgKeyId, id: request.id, status: .pending, jws: Data(jws), payload: Data(payload),
                streams: request.streams.joined(separator: "\n"), fromTime: request.from, toTime: request.to, expires: request.expires,
                receivedAt: now, decidedAt: nil, reason: nil
            ).insert(db)
            leaves.append(try Self.appendLeaf(LedgerEvent.requestReceived(
                id: request.id, name: request.orgName, streams: request.streams, from: request.from, to: request.to, expires: request.expires,
                payloadSha256: Hash.sha256(payload)).leaf(org: orgKeyId, time: now), in: db))
            return leaves
        }
    }

    /// The status (and reason) of one organization's request, expiry applied, nil for another
    /// organization's id: what `GET /v1/requests/{id}` answers, without the stored documents.
    public func requestStatus(org: String, id: String, now: Int64) async throws -> (status: String, reason: String?)? {
        try hotRead("read the request", .requestStatus, [org, id]) { row in
            let stored = (RequestStatus(rawValue: row.text(0) ?? "") ?? .pending).effective(expires: row.int64(1), now: now)
            // A granted request reports what became of its grant: revoked by the person, or
            // past its expiry. A well-behaved organization stops there (fetching would be a
            // violation).
            guard stored == .granted, !row.isNull(3) else { return (stored.rawValue, row.text(2)) }
            switch (GrantStatus(rawValue: row.text(3) ?? "") ?? .live).effective(expires: row.int64(4), now: now) {
            case .revoked: return (GrantStatus.revoked.rawValue, nil)
            case .expired: return (GrantStatus.expired.rawValue, nil)
            case .live: return (stored.rawValue, row.text(2))
            }
        }
    }

    /// One organization's request (with expiry applied), nil for another organization's id.
    public func request(org: String, id: String, now: Int64) async throws -> AccessRequestRecord? {
        // A read: a pending request past `expires` is reported as expired without a write;
        // the next write (submit, withdraw, decision) records it.
        try await read("read the request") { db in
            try AccessRequestRecord.fetchOne(db, key: ["org": org, "id": id]).map { Self.applyingExpiry($0, now: now) }
        }
    }

    /// Whether another organization holds a request (and so maybe a grant) with this id: what
    /// turns a 404 for `org` into an `org.violation` (asking for someone else's records).
    public func idBelongsToAnotherOrg(_ id: String, org: String) async throws -> Bool {
        try await read("read the request") { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM access_request WHERE id = ? AND org != ?)", arguments: [id, org]) ?? false
        }
    }

    static func applyingExpiry(_ r: AccessRequestRecord, now: Int64) -> AccessRequestRecord {
        var r = r
        r.status = r.status.effective(expires: r.expires, now: now)
        return r
    }

    /// Requests with `status` (all when nil), oldest first.
    public func requests(status: RequestStatus?, now: Int64) async throws -> [AccessRequestRecord] {
        try await read("read requests") { db in
            try AccessRequestRecord.order(Column("receivedAt")).fetchAll(db)
                .map { Self.applyingExpiry($0, now: now) }
                .filter { status == nil || $0.status == status }
        }
    }

    /// Withdraws a pending request (`request.withdrawn` leaf); a decided one is `not_pending`.
    @discardableResult
    public func withdrawRequest(org: String, id: String, now: Int64) async throws -> Int64 {
        try await write("withdraw the request") { db in
            try Self.expireRequests(in: db, now: now)
            guard var r = try AccessRequestRecord.fetchOne(db, key: ["org": org, "id": id]) else {
                throw VaultError(.notFound, "no request \(id) of yours")
            }
            guard r.status == .pending else { throw VaultError(.notPending, "request \(id) is \(r.status), not pending") }
            r.status = .withdrawn
            r.decidedAt = now
            try r.update(db)
            return try Self.appendLeaf(LedgerEvent.requestWithdrawn(id: id).leaf(org: org, time: now), in: db)
        }
    }

    /// Sets an organization's trust directly, without the person's signature nor a ledger
    /// leaf: for tests only. The daemon changes trust only through `applyTrustChange`.
    func setTrust(keyId: String, trust: OrgTrust, name: String?, now: Int64) async throws {
        defer { orgKeys.changed(keyId) }
        try await write("update the organization") { db in
            if var org = try OrgRecord.fetchOne(db, key: keyId) {
                org.trust = trust
                if let name { org.pinnedName = name }
                org.updatedAt = now
                try org.update(db)
            } else {
                try OrgRecord(keyId: keyId, publicKey: nil, name: "", contact: "", trust: trust, pinnedName: name, firstSeen: nil, updatedAt: now).insert(db)
            }
        }
    }
}

extension AccessRequestRecord {
    /// The streams, as a list (stored one per line).
    public var streamList: [String] { streams.split(separator: "\n").map(String.init) }
}
