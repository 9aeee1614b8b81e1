/// The ledger on the admin socket: leaves, checkpoints, proofs and the log key.
extension AdminAPI {
    public struct Leaf: Codable, Sendable, Equatable {
        public var index: Int64
        /// The leaf's exact bytes, standard base64.
        public var data: String
        /// The leaf hash the database stores for it, standard base64.
        public var hash: String

        package init(index: Int64, data: String, hash: String) {
            self.index = index
            self.data = data
            self.hash = hash
        }
    }

    public struct Leaves: Codable, Sendable, Equatable {
        public var leaves: [Leaf]
        /// The log's size now.
        public var size: Int64
        public var next: Int64?

        package init(leaves: [Leaf], size: Int64, next: Int64? = nil) {
            self.leaves = leaves
            self.size = size
            self.next = next
        }
    }

    public struct StoredCheckpoint: Codable, Sendable, Equatable {
        public var size: Int64
        public var note: String
        public var createdAt: String

        package init(size: Int64, note: String, createdAt: String) {
            self.size = size
            self.note = note
            self.createdAt = createdAt
        }
    }

    public struct Checkpoints: Codable, Sendable, Equatable {
        public var checkpoints: [StoredCheckpoint]
        public var next: Int64?

        package init(checkpoints: [StoredCheckpoint], next: Int64? = nil) {
            self.checkpoints = checkpoints
            self.next = next
        }
    }

    public struct LogKey: Codable, Sendable, Equatable {
        public var origin: String
        public var verifierKey: String

        package init(origin: String, verifierKey: String) {
            self.origin = origin
            self.verifierKey = verifierKey
        }
    }

    public struct InclusionProof: Codable, Sendable, Equatable {
        public var index: Int64
        public var size: Int64
        public var hashes: [String]

        package init(index: Int64, size: Int64, hashes: [String]) {
            self.index = index
            self.size = size
            self.hashes = hashes
        }
    }

    public struct ConsistencyProof: Codable, Sendable, Equatable {
        public var from: Int64
        public var to: Int64
        public var hashes: [String]

        package init(from: Int64, to: Int64, hashes: [String]) {
            self.from = from
            self.to = to
            self.hashes = hashes
        }
    }
}
