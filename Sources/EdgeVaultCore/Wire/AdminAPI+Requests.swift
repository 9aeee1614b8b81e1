/// Organizations, their requests, the person's decisions and the grants they made.
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
