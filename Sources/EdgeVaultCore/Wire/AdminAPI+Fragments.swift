/// Fragments on peers, on the admin socket (docs/PROTOCOL.md §"Fragments").
extension AdminAPI {
    /// `POST /v1/fragments/push`: encode a fresh backup k-of-n and place it on the peers.
    public struct FragmentsPushInput: Codable, Sendable, Equatable {
        public var k: Int
        public var n: Int
        /// Bytes per segment (one set each); nil: 64 MiB.
        public var segmentBytes: Int?
        public init(k: Int, n: Int, segmentBytes: Int? = nil) {
            self.k = k
            self.n = n
            self.segmentBytes = segmentBytes
        }
    }

    /// One share of a set, where it is and how it last answered an audit.
    public struct FragmentShareInfo: Codable, Sendable, Equatable {
        public var n: Int
        public var peer: String
        public var peerName: String?
        public var sha256: String
        public var auditedAt: String?
        public var healthy: Bool?
        public var lastError: String?
        public init(n: Int, peer: String, peerName: String?, sha256: String, auditedAt: String?, healthy: Bool?, lastError: String?) {
            self.n = n
            self.peer = peer
            self.peerName = peerName
            self.sha256 = sha256
            self.auditedAt = auditedAt
            self.healthy = healthy
            self.lastError = lastError
        }
    }

    /// One fragment set (the leaf that records it, its shares and their health).
    public struct FragmentSetInfo: Codable, Sendable, Equatable {
        public var storageIndex: String
        public var leafIndex: Int64
        public var push: String
        public var segment: Int
        public var segments: Int
        public var k: Int
        public var n: Int
        public var size: Int
        public var sha256: String
        public var placedAt: String
        public var replacedBy: String?
        public var shares: [FragmentShareInfo]
        public init(storageIndex: String, leafIndex: Int64, push: String, segment: Int, segments: Int, k: Int, n: Int, size: Int, sha256: String,
                    placedAt: String, replacedBy: String?, shares: [FragmentShareInfo]) {
            self.storageIndex = storageIndex
            self.leafIndex = leafIndex
            self.push = push
            self.segment = segment
            self.segments = segments
            self.k = k
            self.n = n
            self.size = size
            self.sha256 = sha256
            self.placedAt = placedAt
            self.replacedBy = replacedBy
            self.shares = shares
        }

        /// Shares whose last audit passed.
        public var healthyShares: Int { shares.filter { $0.healthy == true }.count }
    }

    public struct FragmentsPushResult: Codable, Sendable, Equatable {
        public var push: String
        public var backupBytes: Int
        public var sets: [FragmentSetInfo]
        public var checkpointSize: Int64
        public init(push: String, backupBytes: Int, sets: [FragmentSetInfo], checkpointSize: Int64) {
            self.push = push
            self.backupBytes = backupBytes
            self.sets = sets
            self.checkpointSize = checkpointSize
        }
    }

    /// One line of `POST /v1/fragments/push`'s NDJSON answer: a set placed, then the result or
    /// the problem that stopped the push.
    public struct FragmentsPushEvent: Codable, Sendable, Equatable {
        public var set: FragmentSetInfo?
        public var result: FragmentsPushResult?
        public var problem: Problem?
        public init(set: FragmentSetInfo? = nil, result: FragmentsPushResult? = nil, problem: Problem? = nil) {
            self.set = set
            self.result = result
            self.problem = problem
        }
    }

    /// `GET /v1/fragments`: every set placed, newest push last.
    public struct FragmentsStatus: Codable, Sendable, Equatable {
        public var sets: [FragmentSetInfo]
        public init(sets: [FragmentSetInfo]) { self.sets = sets }
    }
}

extension AdminAPI {
    /// `POST /v1/fragments/audit`: every live set's shares challenged now; sets left with fewer
    /// than k + 1 healthy shares re-encoded onto the peers that answer.
    public struct FragmentsAuditResult: Codable, Sendable, Equatable {
        public struct Repair: Codable, Sendable, Equatable {
            public var replaced: String
            public var by: String?
            /// Why the set could not be repaired, when it could not.
            public var error: String?
            public init(replaced: String, by: String?, error: String?) {
                self.replaced = replaced
                self.by = by
                self.error = error
            }
        }

        public var sets: Int
        public var shares: Int
        public var healthy: Int
        /// "<storageIndex>/<n> on <peer>: <why>" for each share that failed.
        public var failures: [String]
        public var repairs: [Repair]
        public init(sets: Int, shares: Int, healthy: Int, failures: [String], repairs: [Repair]) {
            self.sets = sets
            self.shares = shares
            self.healthy = healthy
            self.failures = failures
            self.repairs = repairs
        }
    }
}

/// Recovery shares sealed to peers, on the admin socket (docs/PROTOCOL.md §"Key recovery",
/// "Shares sealed to peers").
extension AdminAPI {
    /// `POST /v1/recovery/peer-shares`: sealed shares for vaultd to leave with the named peers.
    public struct RecoverySharesInput: Codable, Sendable, Equatable {
        public struct Item: Codable, Sendable, Equatable {
            /// The peer's name (as added).
            public var peer: String
            /// The `SealedRecoveryShare` JSON text.
            public var share: String
            public init(peer: String, share: String) {
                self.peer = peer
                self.share = share
            }
        }
        public var shares: [Item]
        public init(shares: [Item]) { self.shares = shares }
    }

    public struct RecoverySharesResult: Codable, Sendable, Equatable {
        /// The peers that took their share.
        public var delivered: [String]
        public init(delivered: [String]) { self.delivered = delivered }
    }

    /// `POST /v1/recovery/held-shares/open`: the share the peer named `peer` left here, opened.
    public struct OpenShareInput: Codable, Sendable, Equatable {
        public var peer: String
        public init(peer: String) { self.peer = peer }
    }

    public struct OpenShareResult: Codable, Sendable, Equatable {
        /// The SLIP-0039 mnemonic (a secret of the peer's person: shown to them only).
        public var mnemonic: String
        public var vault: String
        public var group: Int
        public var member: Int
        public var storedAt: String
        /// The ledger entry recording that it was opened.
        public var leafIndex: Int64
        public init(mnemonic: String, vault: String, group: Int, member: Int, storedAt: String, leafIndex: Int64) {
            self.mnemonic = mnemonic
            self.vault = vault
            self.group = group
            self.member = member
            self.storedAt = storedAt
            self.leafIndex = leafIndex
        }
    }
}
