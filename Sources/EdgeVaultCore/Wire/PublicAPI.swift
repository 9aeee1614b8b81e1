/// `GET /v1/vault` on the public listener: what an organization pins at first contact.
public struct PublicVaultInfo: Codable, Sendable, Equatable {
    public var origin: String
    public var userKeyId: String
    /// The person's Ed25519 public key, base64url (its RFC 7638 thumbprint is `userKeyId`).
    public var userKey: String
    /// The log's verifier key.
    public var logKey: String

    package init(origin: String, userKeyId: String, userKey: String, logKey: String) {
        self.origin = origin
        self.userKeyId = userKeyId
        self.userKey = userKey
        self.logKey = logKey
    }
}

/// Bodies of the organization-facing fetch endpoints (docs/PROTOCOL.md §"Fetch", MUST).
public enum OrgAPI {
    /// `POST /v1/requests`, `GET /v1/requests/{id}`, `DELETE /v1/requests/{id}`: where an
    /// organization's request stands (`pending`, `granted`, `denied`, `withdrawn`, `expired`, or
    /// for a granted one what became of its grant: `revoked`, `expired`), with the person's reason.
    public struct RequestState: Codable, Sendable, Equatable {
        public var id: String
        public var status: String
        public var reason: String?

        package init(id: String, status: String, reason: String? = nil) {
            self.id = id
            self.status = status
            self.reason = reason
        }
    }

    public struct Segment: Codable, Sendable, Equatable {
        public var id: String
        public var stream: String
        public var start: String
        public var end: String
        public var chunks: Int64
        /// The segment's DEK sealed to the grant's delivery key, standard base64.
        public var sealedKey: String

        package init(id: String, stream: String, start: String, end: String, chunks: Int64, sealedKey: String) {
            self.id = id
            self.stream = stream
            self.start = start
            self.end = end
            self.chunks = chunks
            self.sealedKey = sealedKey
        }
    }

    public struct Segments: Codable, Sendable, Equatable {
        public var segments: [Segment]

        package init(segments: [Segment]) {
            self.segments = segments
        }
    }

    /// The same page shape as the person's admin API.
    public typealias Chunk = AdminAPI.Chunk
    public typealias Chunks = AdminAPI.Chunks
}
