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

extension AdminAPI {
    public struct Org: Codable, Sendable, Equatable {
        public var keyId: String
        public var fingerprint: String
        /// The name the organization claims.
        public var name: String
        /// The name the person gave it when pinning its key.
        public var pinnedName: String?
        public var contact: String
        /// seen, pinned or blocked.
        public var trust: OrgTrust
        public var firstSeen: String?
        /// For a pinned organization: whether a pin signed by the person made it (false: pinned
        /// before trust changes were signed, by whatever could reach the admin socket then;
        /// docs/PROTOCOL.md §"Trust changes"). Absent when not pinned.
        public var pinSigned: Bool?

        package init(keyId: String, fingerprint: String, name: String, pinnedName: String? = nil, contact: String, trust: OrgTrust, firstSeen: String? = nil, pinSigned: Bool? = nil) {
            self.keyId = keyId
            self.fingerprint = fingerprint
            self.name = name
            self.pinnedName = pinnedName
            self.contact = contact
            self.trust = trust
            self.firstSeen = firstSeen
            self.pinSigned = pinSigned
        }
    }

    public struct Orgs: Codable, Sendable, Equatable {
        public var orgs: [Org]

        package init(orgs: [Org]) {
            self.orgs = orgs
        }
    }
}

extension AdminAPI {
    public struct RequestSummary: Codable, Sendable, Equatable {
        public var org: String
        public var id: String
        public var status: RequestStatus
        public var streams: [String]
        public var from: String
        public var to: String
        public var expires: String
        public var received: String
        public var reason: String?
        /// The organization's signed JWS, as received.
        public var jws: String

        package init(org: String, id: String, status: RequestStatus, streams: [String], from: String, to: String, expires: String, received: String, reason: String? = nil, jws: String) {
            self.org = org
            self.id = id
            self.status = status
            self.streams = streams
            self.from = from
            self.to = to
            self.expires = expires
            self.received = received
            self.reason = reason
            self.jws = jws
        }
    }

    public struct Requests: Codable, Sendable, Equatable {
        public var requests: [RequestSummary]

        package init(requests: [RequestSummary]) {
            self.requests = requests
        }
    }
}

extension AdminAPI {
    public struct SealedSegmentKey: Codable, Sendable, Equatable {
        public var segment: String
        /// The DEK sealed to the request's delivery key, standard base64.
        public var sealedKey: String

        public init(segment: String, sealedKey: String) {
            self.segment = segment
            self.sealedKey = sealedKey
        }
    }

    public struct DecisionInput: Codable, Sendable, Equatable {
        public var org: String
        public var id: String
        /// The co-signed JWS (general JSON serialization) as text.
        public var jws: String
        public var sealedKeys: [SealedSegmentKey]

        public init(org: String, id: String, jws: String, sealedKeys: [SealedSegmentKey]) {
            self.org = org
            self.id = id
            self.jws = jws
            self.sealedKeys = sealedKeys
        }
    }

    /// The answer to `POST /v1/segments/keys` (docs/PROTOCOL.md §"Segment keys sealed to the person").
    public struct KeyUpgradeResult: Codable, Sendable, Equatable {
        public var upgraded: Int
        /// The `keys.upgraded` leaf; nil when no key was replaced (no leaf is written then).
        public var leafIndex: Int64?
        public var checkpointSize: Int64?

        public init(upgraded: Int, leafIndex: Int64?, checkpointSize: Int64?) {
            self.upgraded = upgraded
            self.leafIndex = leafIndex
            self.checkpointSize = checkpointSize
        }
    }

    public struct DecisionResult: Codable, Sendable, Equatable {
        public var id: String
        public var status: String
        public var leafIndex: Int64
        public var checkpointSize: Int64
        public var segments: Int
        /// Segments in scope left out because their key could not be bound (person's side only).
        public var unboundSkipped: Int?

        package init(id: String, status: String, leafIndex: Int64, checkpointSize: Int64, segments: Int, unboundSkipped: Int? = nil) {
            self.id = id
            self.status = status
            self.leafIndex = leafIndex
            self.checkpointSize = checkpointSize
            self.segments = segments
            self.unboundSkipped = unboundSkipped
        }
    }
}

extension AdminAPI {
    public struct RevocationResult: Codable, Sendable, Equatable {
        public var grant: String
        public var org: String
        public var leafIndex: Int64
        public var checkpointSize: Int64

        package init(grant: String, org: String, leafIndex: Int64, checkpointSize: Int64) {
            self.grant = grant
            self.org = org
            self.leafIndex = leafIndex
            self.checkpointSize = checkpointSize
        }
    }

    public struct GrantSummary: Codable, Sendable, Equatable {
        public var org: String
        /// The organization's name as it was in the signed request (not its latest claim).
        public var name: String?
        public var id: String
        /// live, revoked or expired.
        public var status: GrantStatus
        public var streams: [String]
        public var from: String
        public var to: String
        public var expires: String
        public var issued: String
        public var revoked: String?
        /// Pages of chunks released under the grant, and the readings in them.
        public var releases: Int
        public var readingsReleased: Int64
        /// The co-signed request (the organization's and the person's signatures), as stored:
        /// what the person's CLI checks before it seals anything to the grant's delivery key.
        public var jws: String? = nil

        package init(org: String, name: String? = nil, id: String, status: GrantStatus, streams: [String], from: String, to: String, expires: String, issued: String, revoked: String? = nil, releases: Int, readingsReleased: Int64, jws: String? = nil) {
            self.org = org
            self.name = name
            self.id = id
            self.status = status
            self.streams = streams
            self.from = from
            self.to = to
            self.expires = expires
            self.issued = issued
            self.revoked = revoked
            self.releases = releases
            self.readingsReleased = readingsReleased
            self.jws = jws
        }
    }

    public struct Grants: Codable, Sendable, Equatable {
        public var grants: [GrantSummary]

        package init(grants: [GrantSummary]) {
            self.grants = grants
        }
    }
}

extension AdminAPI {
    /// The person's co-signature denying one pending request: the second entry of the
    /// `signatures` array of the request's JWS (docs/PROTOCOL.md §"Trust changes"). The daemon
    /// appends it to the stored JWS and checks it as `POST /v1/decisions` checks a denial.
    public struct Denial: Codable, Sendable, Equatable {
        public var id: String
        /// The person's protected header (base64url): `{"alg","decision":"deny","iat","kid","reason"?}`.
        public var protected: String
        /// The Ed25519 signature over `protected.payload`, base64url.
        public var signature: String

        public init(id: String, protected: String, signature: String) {
            self.id = id
            self.protected = protected
            self.signature = signature
        }
    }

    /// `POST /v1/orgs/{keyId}/pin|block|unblock`: the person's signed trust change and, for a
    /// block, a denial of each of the organization's pending requests.
    public struct TrustChangeInput: Codable, Sendable, Equatable {
        /// The signed `edgevault.trust/v1` JWS (general JSON serialization) as text.
        public var change: String
        public var denials: [Denial]?
        /// A block only: leave pending (and list in the answer) requests that arrived after the
        /// person listed them, instead of answering `pending_changed`.
        public var keepArrivals: Bool?

        public init(change: String, denials: [Denial]?, keepArrivals: Bool? = nil) {
            self.change = change
            self.denials = denials
            self.keepArrivals = keepArrivals
        }
    }

    public struct DeniedRequest: Codable, Sendable, Equatable {
        public var id: String
        public var leafIndex: Int64

        package init(id: String, leafIndex: Int64) {
            self.id = id
            self.leafIndex = leafIndex
        }
    }

    public struct TrustChangeResult: Codable, Sendable, Equatable {
        public var org: Org
        /// The leaf type written: org.pinned, org.renamed, org.blocked or org.unblocked.
        public var change: String
        public var leafIndex: Int64
        public var denied: [DeniedRequest]
        /// With `keepArrivals`: pending requests the block left for the client to deny next.
        public var leftPending: [String]?
        public var checkpointSize: Int64

        package init(org: Org, change: String, leafIndex: Int64, denied: [DeniedRequest], leftPending: [String]? = nil, checkpointSize: Int64) {
            self.org = org
            self.change = change
            self.leafIndex = leafIndex
            self.denied = denied
            self.leftPending = leftPending
            self.checkpointSize = checkpointSize
        }
    }

    /// `POST /v1/orgs/{keyId}/denials`: deny several pending requests of one organization.
    public struct DenyPendingInput: Codable, Sendable, Equatable {
        public var denials: [Denial]

        public init(denials: [Denial]) {
            self.denials = denials
        }
    }

    public struct DenyPendingResult: Codable, Sendable, Equatable {
        public var org: String
        public var denied: [DeniedRequest]
        /// Listed requests that were no longer pending (withdrawn, expired, decided meanwhile).
        public var skipped: [String]
        public var checkpointSize: Int64?

        package init(org: String, denied: [DeniedRequest], skipped: [String], checkpointSize: Int64? = nil) {
            self.org = org
            self.denied = denied
            self.skipped = skipped
            self.checkpointSize = checkpointSize
        }
    }
}

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
