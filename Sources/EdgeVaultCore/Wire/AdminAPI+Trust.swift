/// The person's signed trust changes and denials (docs/PROTOCOL.md §"Trust changes").
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
