import EdgeVaultCore
import EdgeVaultStore
import Hummingbird

/// The public API's request context: what the signature middleware learned, if anything.
public struct PublicRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    var org: AuthenticatedOrg?
    var body: [UInt8] = []
    /// The caller's network (its IPv4 /24 or IPv6 /64), for limits on unauthenticated calls.
    let network: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        network = ConnectionGuardHandler.key(source.channel.remoteAddress)
    }
}

/// An organization whose RFC 9421 signature verified.
public struct AuthenticatedOrg: Sendable, Equatable {
    public let keyId: String
    public let publicKey: SigningPublicKey
    /// Not yet known to the vault (trust on first use, only for `POST /v1/requests`).
    public let isNew: Bool
}

/// The context of every organization-facing handler: its identity is not optional.
public struct OrgRequestContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let org: AuthenticatedOrg
    /// The request body, already read and checked against `Content-Digest`.
    public let body: [UInt8]

    public init(context: PublicRequestContext) throws {
        guard let org = context.org else {
            throw Problem(code: .signatureMissing, detail: "this endpoint needs an RFC 9421 signature")
        }
        self.coreContext = context.coreContext
        self.org = org
        self.body = context.body
    }
}
