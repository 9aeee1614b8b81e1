import EdgeVaultCore
import GRDB
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

// Byte fields are `Data`: GRDB stores `Data` as a BLOB (an `[UInt8]` would become JSON text).

/// The vault's identity: the person's public keys fixed at init, and the log's public key.
public struct VaultRecord: Codable, Sendable, Equatable {
    public var id: Int64 = 1
    public var userKeyId: String
    public var userSigningKey: Data
    public var userBoxKey: Data
    public var logPublicKey: Data
    public var origin: String
    public var createdAt: Int64

    public var userPublicKeys: UserPublicKeys { UserPublicKeys(signingKey: [UInt8](userSigningKey), boxKey: [UInt8](userBoxKey)) }

    package init(id: Int64 = 1, userKeyId: String, userSigningKey: Data, userBoxKey: Data, logPublicKey: Data, origin: String, createdAt: Int64) {
        self.id = id
        self.userKeyId = userKeyId
        self.userSigningKey = userSigningKey
        self.userBoxKey = userBoxKey
        self.logPublicKey = logPublicKey
        self.origin = origin
        self.createdAt = createdAt
    }
}

extension VaultRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "vault"
}

/// A named series of readings.
public struct StreamRecord: Codable, Sendable, Equatable {
    public var id: Int64?
    public var name: String
    public var kind: String
    public var unit: String
    public var bucketSeconds: Int64
    public var createdAt: Int64
    /// Seconds after a bucket ends that its segments are kept (nil: forever).
    public var retentionSeconds: Int64? = nil

    public enum Columns {
        static let name = Column(CodingKeys.name)
    }

    package init(id: Int64? = nil, name: String, kind: String, unit: String, bucketSeconds: Int64, createdAt: Int64, retentionSeconds: Int64? = nil) {
        self.id = id
        self.name = name
        self.kind = kind
        self.unit = unit
        self.bucketSeconds = bucketSeconds
        self.createdAt = createdAt
        self.retentionSeconds = retentionSeconds
    }
}

extension StreamRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "stream"
    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// One stream, one bucket, one DEK (stored only sealed to the person's box key).
public struct SegmentRecord: Codable, Sendable, Equatable {
    /// Row id: the order segments were opened in.
    public var ordinal: Int64?
    public var id: String
    public var streamId: Int64
    public var bucketStart: Int64
    public var bucketEnd: Int64
    public var sealedKey: Data
    public var openedAt: Int64
    public var closedAt: Int64?
    public var readingCount: Int64
    public var chunkCount: Int64
    public var minTime: Int64?
    public var maxTime: Int64?

    public enum Columns {
        static let ordinal = Column(CodingKeys.ordinal)
        static let id = Column(CodingKeys.id)
        static let streamId = Column(CodingKeys.streamId)
        static let bucketStart = Column(CodingKeys.bucketStart)
        static let bucketEnd = Column(CodingKeys.bucketEnd)
        static let closedAt = Column(CodingKeys.closedAt)
    }

    package init(ordinal: Int64? = nil, id: String, streamId: Int64, bucketStart: Int64, bucketEnd: Int64, sealedKey: Data, openedAt: Int64, closedAt: Int64? = nil, readingCount: Int64, chunkCount: Int64, minTime: Int64? = nil, maxTime: Int64? = nil) {
        self.ordinal = ordinal
        self.id = id
        self.streamId = streamId
        self.bucketStart = bucketStart
        self.bucketEnd = bucketEnd
        self.sealedKey = sealedKey
        self.openedAt = openedAt
        self.closedAt = closedAt
        self.readingCount = readingCount
        self.chunkCount = chunkCount
        self.minTime = minTime
        self.maxTime = maxTime
    }
}

extension SegmentRecord: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "segment"
    public mutating func didInsert(_ inserted: InsertionSuccess) { ordinal = inserted.rowID }
}

/// One encrypted batch of readings of a segment (docs/PROTOCOL.md §"Segments and chunks").
public struct ChunkRecord: Codable, Sendable, Equatable {
    public var segment: Int64
    public var seq: Int64
    public var readingCount: Int64
    public var ciphertext: Data

    public enum Columns {
        static let segment = Column(CodingKeys.segment)
        static let seq = Column(CodingKeys.seq)
    }

    package init(segment: Int64, seq: Int64, readingCount: Int64, ciphertext: Data) {
        self.segment = segment
        self.seq = seq
        self.readingCount = readingCount
        self.ciphertext = ciphertext
    }
}

extension ChunkRecord: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "chunk"
}

extension RequestStatus: DatabaseValueConvertible {}
extension GrantStatus: DatabaseValueConvertible {}
extension OrgTrust: DatabaseValueConvertible {}
