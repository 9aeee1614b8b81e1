/// Request and response bodies of the admin API (Unix socket), shared by the daemon's
/// handlers and the CLI's client so the two cannot drift.
public enum AdminAPI {
    public struct IngestResponse: Codable, Sendable, Equatable {
        public var accepted: Int

        package init(accepted: Int) {
            self.accepted = accepted
        }
    }

    public struct VaultInfo: Codable, Sendable, Equatable {
        public var origin: String
        public var userKeyId: String
        public var userFingerprint: String
        /// The person's X25519 box key, base64url.
        public var userBoxKey: String
        public var createdAt: String

        package init(origin: String, userKeyId: String, userFingerprint: String, userBoxKey: String, createdAt: String) {
            self.origin = origin
            self.userKeyId = userKeyId
            self.userFingerprint = userFingerprint
            self.userBoxKey = userBoxKey
            self.createdAt = createdAt
        }
    }

    public struct Settings: Codable, Sendable, Equatable {
        public var autoCreateStreams: Bool
        public var defaultBucketSeconds: Int64
        public var segmentGraceSeconds: Int64
        public var maxIngestBodyBytes: Int

        package init(autoCreateStreams: Bool, defaultBucketSeconds: Int64, segmentGraceSeconds: Int64, maxIngestBodyBytes: Int) {
            self.autoCreateStreams = autoCreateStreams
            self.defaultBucketSeconds = defaultBucketSeconds
            self.segmentGraceSeconds = segmentGraceSeconds
            self.maxIngestBodyBytes = maxIngestBodyBytes
        }
    }

    public struct Status: Codable, Sendable, Equatable {
        public var version: String
        public var startedAt: String
        public var uptimeSeconds: Int64
        public var vault: VaultInfo
        public var settings: Settings
        public var streams: [StreamStats]
        public var openSegments: [OpenSegment]
        public var counters: IngestCounters
        /// MQTT ingest: connection state and per-subscription counts (state "disabled" when off).
        public var mqtt: MQTTStatus

        package init(version: String, startedAt: String, uptimeSeconds: Int64, vault: VaultInfo, settings: Settings, streams: [StreamStats], openSegments: [OpenSegment], counters: IngestCounters, mqtt: MQTTStatus) {
            self.version = version
            self.startedAt = startedAt
            self.uptimeSeconds = uptimeSeconds
            self.vault = vault
            self.settings = settings
            self.streams = streams
            self.openSegments = openSegments
            self.counters = counters
            self.mqtt = mqtt
        }
    }

    /// One stream's totals over its segments.
    public struct StreamStats: Sendable, Codable, Equatable {
        public var name: String
        public var kind: String
        public var unit: String
        public var bucketSeconds: Int64
        public var segments: Int64
        public var readings: Int64
        public var first: Int64?
        public var last: Int64?

        package init(name: String, kind: String, unit: String, bucketSeconds: Int64, segments: Int64, readings: Int64, first: Int64? = nil, last: Int64? = nil) {
            self.name = name
            self.kind = kind
            self.unit = unit
            self.bucketSeconds = bucketSeconds
            self.segments = segments
            self.readings = readings
            self.first = first
            self.last = last
        }
    }

    /// A segment the daemon is writing (its key in memory).
    public struct OpenSegment: Sendable, Codable, Equatable {
        public var id: String
        public var stream: String
        public var bucketStart: Int64
        public var bucketEnd: Int64
        public var readings: Int64

        package init(id: String, stream: String, bucketStart: Int64, bucketEnd: Int64, readings: Int64) {
            self.id = id
            self.stream = stream
            self.bucketStart = bucketStart
            self.bucketEnd = bucketEnd
            self.readings = readings
        }
    }

    /// The segment manager's counters since the daemon started.
    public struct IngestCounters: Sendable, Codable, Equatable {
        public var readingsIngested: Int64 = 0
        public var chunksWritten: Int64 = 0
        public var segmentsOpened: Int64 = 0
        public var commitsFailed: Int64 = 0

        public init() {}
    }

    /// MQTT ingest's state.
    public struct MQTTStatus: Codable, Sendable, Equatable {
        /// disabled, connecting, connected or disconnected.
        public var state: String
        public var broker: String
        /// Why the last connection ended or failed, while not connected.
        public var detail: String?
        /// When the state last changed (ms since the epoch).
        public var since: Int64
        public var connects: Int64
        /// Messages the broker sent again (DUP flag) after a reconnect.
        public var redelivered: Int64
        /// Retained messages skipped (subscriptions without store_retained).
        public var retainedSkipped: Int64
        /// Messages on topics no configured subscription maps (a subscription the broker
        /// still holds from an earlier configuration): acknowledged and dropped.
        public var unmatched: Int64
        public var subscriptions: [MQTTSubscriptionStatus]

        package init(state: String, broker: String, detail: String? = nil, since: Int64, connects: Int64, redelivered: Int64, retainedSkipped: Int64, unmatched: Int64, subscriptions: [MQTTSubscriptionStatus]) {
            self.state = state
            self.broker = broker
            self.detail = detail
            self.since = since
            self.connects = connects
            self.redelivered = redelivered
            self.retainedSkipped = retainedSkipped
            self.unmatched = unmatched
            self.subscriptions = subscriptions
        }
    }

    public struct MQTTSubscriptionStatus: Codable, Sendable, Equatable {
        public var topic: String
        public var format: String
        /// Messages that matched this subscription.
        public var received: Int64
        /// Readings stored from them.
        public var stored: Int64
        /// Messages dropped: unparseable, wrong type, unmapped or oversized.
        public var rejected: Int64
        public var lastRejection: String?

        package init(topic: String, format: String, received: Int64, stored: Int64, rejected: Int64, lastRejection: String? = nil) {
            self.topic = topic
            self.format = format
            self.received = received
            self.stored = stored
            self.rejected = rejected
            self.lastRejection = lastRejection
        }
    }

    public struct AddStream: Codable, Sendable, Equatable {
        public var name: String
        public var kind: String?
        public var unit: String?
        public var bucketSeconds: Int64?
        public var retentionSeconds: Int64?

        public init(name: String, kind: String? = nil, unit: String? = nil, bucketSeconds: Int64? = nil, retentionSeconds: Int64? = nil) {
            self.name = name
            self.kind = kind
            self.unit = unit
            self.bucketSeconds = bucketSeconds
            self.retentionSeconds = retentionSeconds
        }
    }

    /// `PUT /v1/streams/retention`: seconds to keep a stream's buckets after they end, or null
    /// to keep them forever.
    /// `PUT /v1/streams/retention`: the person's signed `edgevault.retention/v1` change.
    public struct SignedRetention: Codable, Sendable, Equatable {
        public var change: String
        public init(change: String) { self.change = change }
    }

    public struct RetentionResult: Codable, Sendable, Equatable {
        public var stream: Stream
        public var leafIndex: Int64
        public var checkpointSize: Int64

        package init(stream: Stream, leafIndex: Int64, checkpointSize: Int64) {
            self.stream = stream
            self.leafIndex = leafIndex
            self.checkpointSize = checkpointSize
        }
    }

    public struct Stream: Codable, Sendable, Equatable {
        public var name: String
        public var kind: String
        public var unit: String
        public var bucketSeconds: Int64
        public var createdAt: String
        public var retentionSeconds: Int64?


        package init(name: String, kind: String, unit: String, bucketSeconds: Int64, createdAt: String, retentionSeconds: Int64? = nil) {
            self.name = name
            self.kind = kind
            self.unit = unit
            self.bucketSeconds = bucketSeconds
            self.createdAt = createdAt
            self.retentionSeconds = retentionSeconds
        }
    }

    public struct Streams: Codable, Sendable, Equatable {
        public var streams: [Stream]

        package init(streams: [Stream]) {
            self.streams = streams
        }
    }

    public struct Segment: Codable, Sendable, Equatable {
        public var id: String
        public var stream: String
        public var start: String
        public var end: String
        public var startMs: Int64
        public var endMs: Int64
        public var chunks: Int64
        public var readings: Int64
        public var open: Bool
        /// The DEK sealed to the person's box key, standard base64.
        public var sealedKey: String
        /// The first and last reading's time (ms), as the daemon counted them.
        public var minTime: Int64? = nil
        public var maxTime: Int64? = nil

        package init(id: String, stream: String, start: String, end: String, startMs: Int64, endMs: Int64, chunks: Int64, readings: Int64, open: Bool, sealedKey: String, minTime: Int64? = nil, maxTime: Int64? = nil) {
            self.id = id
            self.stream = stream
            self.start = start
            self.end = end
            self.startMs = startMs
            self.endMs = endMs
            self.chunks = chunks
            self.readings = readings
            self.open = open
            self.sealedKey = sealedKey
            self.minTime = minTime
            self.maxTime = maxTime
        }
    }

    public struct Segments: Codable, Sendable, Equatable {
        public var segments: [Segment]

        public init(segments: [Segment]) {
            self.segments = segments
        }
    }

    public struct Chunk: Codable, Sendable, Equatable {
        public var seq: Int64
        public var ciphertext: String

        package init(seq: Int64, ciphertext: String) {
            self.seq = seq
            self.ciphertext = ciphertext
        }
    }

    public struct Chunks: Codable, Sendable, Equatable {
        public var chunks: [Chunk]
        public var next: Int64?

        package init(chunks: [Chunk], next: Int64? = nil) {
            self.chunks = chunks
            self.next = next
        }

        /// `next` is null on the last page, not left out: docs/PROTOCOL.md and openapi.yaml
        /// require it (the conformance run found it missing).
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(chunks, forKey: .chunks)
            try container.encode(next, forKey: .next)
        }
    }
}
