/// Ledger leaves: JSON objects stored as exact bytes, each with `type`, `time` and a random
/// 16-byte `salt` so that a leaf hash reveals nothing about the leaf (docs/PROTOCOL.md §"The ledger").
public struct LedgerLeaf: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case genesis = "vault.genesis"
        case orgSeen = "org.seen"
        case requestReceived = "request.received"
        case requestWithdrawn = "request.withdrawn"
        case requestDenied = "request.denied"
        case grantIssued = "grant.issued"
        case grantRevoked = "grant.revoked"
        case dataReleased = "data.released"
        case orgViolation = "org.violation"
        case dataDeleted = "data.deleted"
        /// The person's CLI re-sealed segment keys of the earlier unbound format, bound to
        /// their segment (docs/PROTOCOL.md §"Segment keys sealed to the person").
        case keysUpgraded = "keys.upgraded"
        /// The person's signed retention change (docs/PROTOCOL.md §"Retention changes").
        case streamRetention = "stream.retention"
        // The person's signed trust changes (docs/PROTOCOL.md §"Trust changes").
        case orgPinned = "org.pinned"
        case orgRenamed = "org.renamed"
        case orgBlocked = "org.blocked"
        case orgUnblocked = "org.unblocked"
        // Runs of a compute grant's job (docs/PROTOCOL.md §"Compute results").
        case computeReleased = "compute.released"
        case computeFailed = "compute.failed"
        case computeWithheld = "compute.withheld"
        // The person's signed peer changes (docs/PROTOCOL.md §"Peers").
        case peerAdded = "peer.added"
        case peerRemoved = "peer.removed"
        /// Where every share of one fragment set is (docs/PROTOCOL.md §"Fragments").
        case fragmentsPlaced = "fragments.placed"
        /// The person's signed SLIP-0039 split policy (docs/PROTOCOL.md §"Key recovery").
        case recoveryPolicy = "recovery.policy"
        /// This vault's person opened a recovery share a peer left here (docs/PROTOCOL.md §"Key recovery").
        case recoveryShareOpened = "recovery.share-opened"
    }

    public static let maxBytes = 64 * 1024

    /// The exact bytes that are hashed and stored.
    public let bytes: [UInt8]
    public let type: String
    /// The organization (key id) the leaf is about, when there is one: for filtering and for
    /// showing an organization the leaves about itself.
    public let org: String?
    public let time: Int64
    /// The leaf as JSON, parsed once.
    public let json: JSONValue

    /// Builds a leaf of `kind` with `fields` (keys sorted, compact JSON).
    public init(kind: Kind, fields: [String: JSONValue], org: String? = nil, time: Int64 = Timestamp.now(), salt: [UInt8] = Sodium.randomBytes(16)) {
        var object = fields
        object["type"] = .string(kind.rawValue)
        object["time"] = .string(Timestamp.rfc3339(milliseconds: time))
        object["salt"] = .string(Encoding.base64url(salt))
        if let org { object["org"] = .string(org) }
        json = .object(object)
        bytes = json.serialized()
        type = kind.rawValue
        self.org = org
        self.time = time
    }

    /// Reads a stored leaf back (for display and verification).
    public init(bytes: [UInt8]) throws {
        let parsed = bytes.count <= Self.maxBytes ? try JSONValue.parse(bytes) : .null
        guard case .object(let o) = parsed,
              let type = o["type"]?.stringValue, let timeText = o["time"]?.stringValue,
              let time = Timestamp.parseRFC3339(timeText), o["salt"]?.stringValue != nil
        else { throw VaultError(.protocolError, "a ledger leaf must be a JSON object with type, time and salt") }
        self.bytes = bytes
        self.json = parsed
        self.type = type
        self.org = o["org"]?.stringValue
        self.time = time
    }

    public var hash: Merkle.Hash { Merkle.leafHash(bytes) }


    /// The first leaf of every vault: who the person is and which key signs the log.
    /// `personSignature` binds the origin and log key to the person (`VaultBinding`).
    public static func genesis(userKeyId: String, logVerifierKey: String, origin: String, personSignature: String, time: Int64) -> LedgerLeaf {
        LedgerLeaf(kind: .genesis, fields: [
            "userKeyId": .string(userKeyId), "logKey": .string(logVerifierKey), "origin": .string(origin),
            VaultBinding.member: .string(personSignature),
        ], time: time)
    }
}
