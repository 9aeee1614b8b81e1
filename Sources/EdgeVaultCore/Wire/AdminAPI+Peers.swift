/// Peers and witnesses on the admin socket (docs/PROTOCOL.md §"Peers").
extension AdminAPI {
    /// `POST /v1/peers`: the person's signed `edgevault.peer/v1` change.
    public struct PeerChangeInput: Codable, Sendable {
        public var change: String
        public init(change: String) { self.change = change }
    }

    public struct PeerChangeResult: Codable, Sendable, Equatable {
        /// `peer.added` or `peer.removed`.
        public var change: String
        public var name: String
        public var leafIndex: Int64
        public var checkpointSize: Int64
        public init(change: String, name: String, leafIndex: Int64, checkpointSize: Int64) {
            self.change = change
            self.name = name
            self.leafIndex = leafIndex
            self.checkpointSize = checkpointSize
        }
    }

    /// How one witness of this vault's log is doing.
    public struct WitnessTargetInfo: Codable, Sendable, Equatable {
        public var name: String
        public var key: String
        public var url: String
        /// The largest checkpoint of this log it cosigned, by a cosignature that verified (0: never).
        public var cosignedSize: Int64
        /// The size it holds by its own account (its last 409), which proves nothing.
        public var claimedSize: Int64
        public var lastSuccess: String?
        public var lastError: String?
        public var failures: Int
        public init(name: String, key: String, url: String, cosignedSize: Int64, claimedSize: Int64, lastSuccess: String?, lastError: String?, failures: Int) {
            self.name = name
            self.key = key
            self.url = url
            self.cosignedSize = cosignedSize
            self.claimedSize = claimedSize
            self.lastSuccess = lastSuccess
            self.lastError = lastError
            self.failures = failures
        }
    }

    public struct PeerInfo: Codable, Sendable, Equatable {
        public var name: String
        public var origin: String
        public var logKey: String
        public var witnessKey: String?
        public var url: String?
        public var addedAt: String
        /// The size of its log this vault last cosigned (nil: never).
        public var witnessedSize: Int64?
        public var witnessedAt: String?
        public init(name: String, origin: String, logKey: String, witnessKey: String?, url: String?, addedAt: String,
                    witnessedSize: Int64?, witnessedAt: String?) {
            self.name = name
            self.origin = origin
            self.logKey = logKey
            self.witnessKey = witnessKey
            self.url = url
            self.addedAt = addedAt
            self.witnessedSize = witnessedSize
            self.witnessedAt = witnessedAt
        }
    }

    public struct WitnessAlarmInfo: Codable, Sendable, Equatable {
        public var witness: String
        public var at: String
        public var status: Int
        public var detail: String
        public init(witness: String, at: String, status: Int, detail: String) {
            self.witness = witness
            self.at = at
            self.status = status
            self.detail = detail
        }
    }

    /// `GET /v1/peers`: this vault's keys, its peers, the witnesses of its log and the alarms.
    public struct Peers: Codable, Sendable, Equatable {
        /// This vault's witness key (cosignature/v1 vkey): what peers pass as `--witness-key`.
        public var witnessKey: String
        /// This vault's log key (signed-note vkey): what peers pass as `--log-key`.
        public var logKey: String
        public var peers: [PeerInfo]
        public var witnesses: [WitnessTargetInfo]
        public var alarms: [WitnessAlarmInfo]
        public init(witnessKey: String, logKey: String, peers: [PeerInfo], witnesses: [WitnessTargetInfo], alarms: [WitnessAlarmInfo]) {
            self.witnessKey = witnessKey
            self.logKey = logKey
            self.peers = peers
            self.witnesses = witnesses
            self.alarms = alarms
        }
    }
}
