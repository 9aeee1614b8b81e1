import EdgeVaultCore
import GRDB
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The person's signed trust changes and batch denials (docs/PROTOCOL.md §"Trust changes").
extension VaultStore {
    /// The person's checked denial of one pending request (its co-signature verified by the caller).
    public struct PendingDenial: Sendable {
        public var id: String
        public var reason: String?

        public init(id: String, reason: String?) {
            self.id = id
            self.reason = reason
        }
    }

    public struct TrustChangeOutcome: Sendable {
        /// The trust change's own leaf.
        public var leafIndex: Int64
        public var kind: LedgerLeaf.Kind
        /// The requests the change denied (a block), with their `request.denied` leaves.
        public var denied: [(id: String, leafIndex: Int64)]
        /// Pending requests a block with `keepArrivals` left pending (they arrived after the
        /// person listed them): the person's client denies them next.
        public var leftPending: [String] = []
        /// The last leaf written: anchoring it anchors all of them.
        public var lastIndex: Int64 { denied.last?.leafIndex ?? leafIndex }
    }

    /// Applies the person's checked trust change in one transaction: the `org.pinned`,
    /// `org.renamed`, `org.blocked` or `org.unblocked` leaf, the signed document, the
    /// organization's new trust, and for a block the denial of every pending request of the
    /// organization (`denials` must cover all of those, else `pending_changed` and nothing
    /// changes; listed requests no longer pending are skipped). Refuses a change signed for
    /// another vault, one whose `at` is more than `TrustChange.maxSkewMilliseconds` from `now`
    /// or not later than the last change applied to this organization (a replay), and a change
    /// that changes nothing.
    ///
    /// With `keepArrivals`, pending requests the denials do not cover (they arrived after the
    /// person listed them) stay pending instead, and are returned: the organization being
    /// blocked, no more arrive and they count against no vault-wide limit, so the client's
    /// next call denies them for certain. Clients ask for this only after `pending_changed`,
    /// so an organization that keeps sending cannot hold off its block.
    public func applyTrustChange(_ change: TrustChange.Checked, jws: [UInt8], denials: [PendingDenial], keepArrivals: Bool = false,
                                 now: Int64) async throws -> TrustChangeOutcome {
        defer { orgKeys.changed(change.org) }
        return try await write("apply the trust change") { db in
            try Self.expireRequests(in: db, now: now)
            guard change.vault == (try Self.origin(db)) else {
                throw VaultError(.trustChangeInvalid, "the trust change is signed for another vault (\(change.vault))")
            }
            guard TrustChange.isFresh(at: change.at, now: now) else {
                throw VaultError(.trustChangeStale, "the trust change was signed at \(Timestamp.rfc3339(milliseconds: change.at)), "
                    + "more than \(TrustChange.maxSkewMilliseconds / 60_000) minutes from the vault's clock (\(Timestamp.rfc3339(milliseconds: now))); sign a new one")
            }
            if let last = try Int64.fetchOne(db, sql: "SELECT max(at) FROM trust_change WHERE org = ?", arguments: [change.org]), change.at <= last {
                throw VaultError(.trustChangeStale, "a trust change for this organization signed at \(Timestamp.rfc3339(milliseconds: last)) "
                    + "is already applied; this one is not newer (a replay?); sign a new one")
            }
            guard change.action == .block || denials.isEmpty else {
                throw VaultError(.trustChangeInvalid, "only a block carries denials")
            }
            var org = try OrgRecord.fetchOne(db, key: change.org)
                ?? OrgRecord(keyId: change.org, publicKey: nil, name: "", contact: "", trust: .seen, pinnedName: nil, firstSeen: nil, updatedAt: now)
            let changeHash = Encoding.base64(Hash.sha256(jws))
            var fields: [String: JSONValue] = [
                "changeSha256": .string(changeHash), "signedAt": .string(Timestamp.rfc3339(milliseconds: change.at)),
            ]
            let kind: LedgerLeaf.Kind
            var pending: [AccessRequestRecord] = []
            var left: [String] = []
            switch change.action {
            case .pin:
                guard !org.isBlocked else { throw VaultError(.trustConflict, "this organization is blocked; unblock it first") }
                let name = change.name ?? ""
                if org.trust == .pinned, let previous = org.pinnedName {
                    if previous == name {
                        // Same name: a no-op, unless it confirms a pin made before trust
                        // changes were signed.
                        let signedBefore = try Bool.fetchOne(db, sql: "SELECT EXISTS(SELECT 1 FROM trust_change WHERE org = ? AND action = 'pin')",
                                                             arguments: [change.org]) ?? false
                        guard !signedBefore else { throw VaultError(.trustConflict, "this organization is already pinned as \"\(name)\"") }
                        kind = .orgPinned
                    } else {
                        kind = .orgRenamed
                        fields["previousName"] = .string(previous)
                    }
                } else {
                    kind = .orgPinned
                }
                fields["name"] = .string(name)
                org.trust = .pinned
                org.pinnedName = name
            case .block:
                guard !org.isBlocked else { throw VaultError(.trustConflict, "this organization is already blocked") }
                pending = try AccessRequestRecord.filter(Column("org") == change.org && Column("status") == "pending")
                    .order(Column("receivedAt")).fetchAll(db)
                let signed = denials.map(\.id)
                guard Set(signed).count == signed.count else { throw VaultError(.trustChangeInvalid, "a request id is listed twice in the block's denials") }
                // Every pending request must be denied; a listed one no longer pending
                // (withdrawn or expired since the person listed them) is skipped.
                let uncovered = pending.filter { !signed.contains($0.id) }
                if keepArrivals {
                    // Only requests that arrived while this block was listed and signed may be
                    // left for the follow-up denial; an older one must be among the denials.
                    let older = uncovered.filter { $0.receivedAt < change.at - TrustChange.keepArrivalsMilliseconds }
                    guard older.isEmpty else {
                        throw VaultError(.pendingChanged, "the block leaves pending \(older.count) request(s) that arrived before it was signed "
                            + "(\(older.prefix(5).map(\.id).joined(separator: ", "))); list them again and sign a denial for each")
                    }
                    left = uncovered.map(\.id)
                    pending = pending.filter { signed.contains($0.id) }
                } else if !uncovered.isEmpty {
                    throw VaultError(.pendingChanged, "the organization has \(uncovered.count) pending request(s) the block does not deny "
                        + "(\(uncovered.prefix(5).map(\.id).joined(separator: ", "))\(uncovered.count > 5 ? ", …" : "")); list them again and sign a denial for each")
                }
                kind = .orgBlocked
                fields["denied"] = .number("\(pending.count)")
                if !left.isEmpty { fields["leftPending"] = .number("\(left.count)") }
                org.trust = .blocked
            case .unblock:
                guard org.isBlocked else { throw VaultError(.trustConflict, "this organization is not blocked") }
                kind = .orgUnblocked
                org.trust = org.pinnedName == nil ? .seen : .pinned
                if let pinned = org.pinnedName { fields["name"] = .string(pinned) }
            }
            let index = try Self.appendLeaf(LedgerLeaf(kind: kind, fields: fields, org: change.org, time: now), in: db)
            try db.execute(sql: "INSERT INTO trust_change (leafIndex, org, action, at, jws) VALUES (?, ?, ?, ?, ?)",
                           arguments: [index, change.org, change.action.rawValue, change.at, Data(jws)])
            let reasons = Dictionary(denials.map { ($0.id, $0.reason) }, uniquingKeysWith: { a, _ in a })
            var denied: [(id: String, leafIndex: Int64)] = []
            for var request in pending {
                denied.append((request.id, try Self.deny(&request, reason: reasons[request.id] ?? nil, now: now, in: db)))
            }
            org.updatedAt = now
            try org.save(db)
            return TrustChangeOutcome(leafIndex: index, kind: kind, denied: denied, leftPending: left)
        }
    }

    /// Denies the listed pending requests of one organization in one transaction, each with its
    /// `request.denied` leaf (the person's co-signatures verified by the caller). A listed
    /// request that is no longer pending (withdrawn, expired or decided meanwhile) is skipped; an
    /// id the organization never used, or one listed twice, refuses the whole batch.
    public func denyPending(org: String, denials: [PendingDenial], now: Int64) async throws -> (denied: [(id: String, leafIndex: Int64)], skipped: [String]) {
        try await write("record the denials") { db in
            try Self.expireRequests(in: db, now: now)
            guard Set(denials.map(\.id)).count == denials.count else { throw VaultError(.badRequest, "a request id is listed twice") }
            var denied: [(id: String, leafIndex: Int64)] = []
            var skipped: [String] = []
            for d in denials {
                guard var request = try AccessRequestRecord.fetchOne(db, key: ["org": org, "id": d.id]) else {
                    throw VaultError(.notFound, "no request \(d.id) from \(org); nothing was denied")
                }
                if request.status != .pending {
                    skipped.append(d.id)
                    continue
                }
                denied.append((d.id, try Self.deny(&request, reason: d.reason, now: now, in: db)))
            }
            return (denied, skipped)
        }
    }

    /// The organizations that a signed pin ever pinned: a pinned organization not among them
    /// was pinned before trust changes were signed.
    public func signedPins() async throws -> Set<String> {
        try await read("read trust changes") { db in Set(try String.fetchAll(db, sql: "SELECT DISTINCT org FROM trust_change WHERE action = 'pin'")) }
    }
}
