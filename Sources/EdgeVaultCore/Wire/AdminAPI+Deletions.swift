/// Range deletions (docs/PROTOCOL.md §"Deleting a range").
extension AdminAPI {
    /// `POST /v1/segments/close`: close a stream's open segments overlapping a range now (the
    /// first step of a range deletion; harmless otherwise: a later reading opens a new segment).
    public struct CloseSegments: Codable, Sendable, Equatable {
        public var stream: String
        public var from: Int64
        public var to: Int64

        public init(stream: String, from: Int64, to: Int64) {
            self.stream = stream
            self.from = from
            self.to = to
        }
    }

    public struct CloseSegmentsResult: Codable, Sendable, Equatable {
        public var closed: Int

        package init(closed: Int) {
            self.closed = closed
        }
    }

    /// `POST /v1/deletions` (docs/PROTOCOL.md §"Deleting a range"): the person's signed
    /// deletion and the segments written in place of those the range cuts through.
    public struct DeletionInput: Codable, Sendable, Equatable {
        /// The person's JWS (general JSON serialization), as a string.
        public var deletion: String
        public var replacements: [Replacement]

        public init(deletion: String, replacements: [Replacement]) {
            self.deletion = deletion
            self.replacements = replacements
        }

        public struct Replacement: Codable, Sendable, Equatable {
            public var id: String
            public var replaces: String
            /// The new DEK sealed to the person's box key, bound (EVSKEY02), standard base64.
            public var sealedKey: String
            public var minTime: Int64
            public var maxTime: Int64
            public var chunks: [Chunk]
            public var grantKeys: [GrantKey]

            public init(id: String, replaces: String, sealedKey: String, minTime: Int64, maxTime: Int64, chunks: [Chunk], grantKeys: [GrantKey]) {
                self.id = id
                self.replaces = replaces
                self.sealedKey = sealedKey
                self.minTime = minTime
                self.maxTime = maxTime
                self.chunks = chunks
                self.grantKeys = grantKeys
            }
        }

        public struct Chunk: Codable, Sendable, Equatable {
            public var seq: Int64
            public var readings: Int64
            public var ciphertext: String

            public init(seq: Int64, readings: Int64, ciphertext: String) {
                self.seq = seq
                self.readings = readings
                self.ciphertext = ciphertext
            }
        }

        /// The new DEK sealed to a live grant's delivery key.
        public struct GrantKey: Codable, Sendable, Equatable {
            public var org: String
            public var grant: String
            public var sealedKey: String

            public init(org: String, grant: String, sealedKey: String) {
                self.org = org
                self.grant = grant
                self.sealedKey = sealedKey
            }
        }
    }

    public struct DeletionResult: Codable, Sendable, Equatable {
        public var stream: String
        public var readings: Int64
        public var deletedSegments: Int
        public var replacedSegments: Int
        public var leafIndex: Int64
        public var checkpointSize: Int64

        package init(stream: String, readings: Int64, deletedSegments: Int, replacedSegments: Int, leafIndex: Int64, checkpointSize: Int64) {
            self.stream = stream
            self.readings = readings
            self.deletedSegments = deletedSegments
            self.replacedSegments = replacedSegments
            self.leafIndex = leafIndex
            self.checkpointSize = checkpointSize
        }
    }
}
