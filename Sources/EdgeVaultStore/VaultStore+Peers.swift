import EdgeVaultCore
import GRDB
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A peer as the person added it (docs/PROTOCOL.md §"Peers").
public struct PeerRecord: Sendable, Equatable {
    public var name: String
    public var origin: String
    public var logKey: String
    /// Its witness's cosignature key; nil for a log witnessed only.
    public var witnessKey: String?
    /// Its public URL (submission prefix `<url>/v1/witness`); nil for a log witnessed only.
    public var url: String?
    public var leafIndex: Int64
    public var signedAt: Int64
}

/// The person's signed peer changes (docs/PROTOCOL.md §"Peers").
extension VaultStore {
    /// Applies the person's checked peer change in one transaction: the `peer.added` or
    /// `peer.removed` leaf, the signed document, the peer list and the witnessed logs. Refuses a
    /// change signed for another vault, one outside the time window or not newer than the last
    /// change (a replay), a peer whose name or log is already added, this vault's own log, and
    /// a removal of a peer that is not there. A removed peer's witness state is kept.
    /// Removing a peer also forgets every share and deposit this vault held for it; their
    /// files are returned in `forgotten` for the caller to delete.
    public func applyPeerChange(_ change: PeerChange.Checked, jws: [UInt8], now: Int64)
        async throws -> (leafIndex: Int64, kind: LedgerLeaf.Kind, forgotten: [(storageIndex: String, n: Int)]) {
        try await write("apply the peer change") { db in
            try Self.checkSignedChange(db, what: "peer change", vault: change.vault, at: change.at, now: now,
                                       lastAt: "SELECT max(at) FROM peer_change", invalid: .peerChangeInvalid, replay: .peerConflict)
            let own = try Self.origin(db)
            var fields: [String: JSONValue] = [
                "name": .string(change.name), "changeSha256": .string(Encoding.base64(Hash.sha256(jws))),
                "signedAt": .string(Timestamp.rfc3339(milliseconds: change.at)),
            ]
            let kind: LedgerLeaf.Kind
            switch change.action {
            case .add:
                guard let logKey = change.logKey, let origin = change.origin else {
                    throw VaultError(.peerChangeInvalid, "an addition needs the log's key")
                }
                guard origin != own else { throw VaultError(.peerConflict, "that is this vault's own log") }
                if try Self.peer(db, name: change.name) != nil {
                    throw VaultError(.peerConflict, "a peer named \"\(change.name)\" is already added; remove it first or pick another name")
                }
                if let other = try String.fetchOne(db, sql: "SELECT name FROM peer WHERE origin = ?", arguments: [origin]) {
                    throw VaultError(.peerConflict, "the log \(origin) is already added as \"\(other)\"")
                }
                // One Ed25519 key is one witness, whatever name it comes under (a cosignature's
                // key ID is not signed: a key added twice would count twice).
                if let key = change.witnessKey, let added = try? CosignatureVerifier(key) {
                    for row in try Row.fetchAll(db, sql: "SELECT name, witnessKey FROM peer WHERE witnessKey IS NOT NULL") {
                        let text: String = row[1]
                        if (try? CosignatureVerifier(text))?.publicKey == added.publicKey {
                            throw VaultError(.peerConflict, "that witness key is already \"\(row[0] as String)\"'s")
                        }
                    }
                }
                if let logKey = try? SignedNote.Verifier(logKey),
                   logKey.publicKey.bytes == [UInt8](try Data.fetchOne(db, sql: "SELECT logPublicKey FROM vault") ?? Data()) {
                    throw VaultError(.peerConflict, "that is this vault's own log key")
                }
                kind = .peerAdded
                fields["origin"] = .string(origin)
                fields["logKey"] = .string(logKey)
                if let key = change.witnessKey { fields["witnessKey"] = .string(key) }
                if let url = change.url { fields["url"] = .string(url) }
            case .remove:
                guard try Self.peer(db, name: change.name) != nil else {
                    throw VaultError(.peerConflict, "no peer named \"\(change.name)\"")
                }
                kind = .peerRemoved
            }
            let index = try Self.appendLeaf(LedgerLeaf(kind: kind, fields: fields, time: now), in: db)
            try db.execute(sql: "INSERT INTO peer_change (leafIndex, name, action, at, jws) VALUES (?, ?, ?, ?, ?)",
                           arguments: [index, change.name, change.action.rawValue, change.at, Data(jws)])
            var forgotten: [(storageIndex: String, n: Int)] = []
            switch change.action {
            case .add:
                let origin = change.origin ?? ""
                try db.execute(sql: "INSERT INTO peer (name, origin, logKey, witnessKey, url, leafIndex, signedAt) VALUES (?, ?, ?, ?, ?, ?, ?)",
                               arguments: [change.name, origin, change.logKey, change.witnessKey, change.url, index, change.at])
                try WitnessTables.activate(db, origin: origin, logKey: change.logKey ?? "")
            case .remove:
                if let peer = try Self.peer(db, name: change.name) {
                    try WitnessTables.deactivate(db, origin: peer.origin)
                    forgotten = try Self.forgetHeld(db, sender: peer.origin)
                }
                try db.execute(sql: "DELETE FROM peer WHERE name = ?", arguments: [change.name])
            }
            return (index, kind, forgotten)
        }
    }

    /// Refuses a document the person signed (`what`: "peer change") for another vault, signed
    /// at `at` outside the window around `now` (`TrustChange.isFresh`), or not newer than the
    /// last one applied (`lastAt`, a query for it: a replay).
    static func checkSignedChange(_ db: Database, what: String, vault: String, at: Int64, now: Int64, lastAt: String,
                                  invalid: VaultError.Code, replay: VaultError.Code) throws {
        guard vault == (try origin(db)) else {
            throw VaultError(invalid, "the \(what) is signed for another vault (\(vault))")
        }
        guard TrustChange.isFresh(at: at, now: now) else {
            throw VaultError(invalid, "the \(what) was signed at \(Timestamp.rfc3339(milliseconds: at)), "
                + "more than \(TrustChange.maxSkewMilliseconds / 60_000) minutes from the vault's clock (\(Timestamp.rfc3339(milliseconds: now))); sign a new one")
        }
        if let last = try Int64.fetchOne(db, sql: lastAt), at <= last {
            throw VaultError(replay, "a \(what) signed at \(Timestamp.rfc3339(milliseconds: last)) is already applied; "
                + "this one is not newer (a replay?); sign a new one")
        }
    }

    static func peer(_ db: Database, name: String) throws -> PeerRecord? {
        try Row.fetchOne(db, sql: "SELECT name, origin, logKey, witnessKey, url, leafIndex, signedAt FROM peer WHERE name = ?",
                         arguments: [name]).map(peer)
    }

    static func peer(_ row: Row) -> PeerRecord {
        PeerRecord(name: row[0], origin: row[1], logKey: row[2], witnessKey: row[3], url: row[4], leafIndex: row[5], signedAt: row[6])
    }

    public func peers() async throws -> [PeerRecord] {
        try await read("list peers") { db in
            try Row.fetchAll(db, sql: "SELECT name, origin, logKey, witnessKey, url, leafIndex, signedAt FROM peer ORDER BY name").map(Self.peer)
        }
    }
}
