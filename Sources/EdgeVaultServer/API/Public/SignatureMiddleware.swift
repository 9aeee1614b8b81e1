import EdgeVaultCore
import EdgeVaultStore
import Hummingbird
import Synchronization
import NIOCore
import HTTPTypes

/// Verifies the RFC 9421 signature of every organization call (docs/PROTOCOL.md §"HTTP Message Signatures"): covered
/// components, `created` within ±300 s, a nonce never seen before (kept on disk), the
/// body's `Content-Digest`, the key (known, or introduced by the request's own JWS on
/// `POST /v1/requests`), blocked keys, and the per-organization rate. A bad signature, an
/// unknown key and a blocked key get one and the same answer (`refusal`). Handlers only ever see
/// the result, as `OrgRequestContext.org`.
struct SignatureMiddleware: RouterMiddleware {
    typealias Context = PublicRequestContext

    static let window: Int64 = 300
    static let maxBody = 64 * 1024

    /// The largest body a route behind this middleware takes (64 KiB; modules 4 MiB).
    var maxBody = Self.maxBody

    let store: VaultStore
    let nonces: NonceStore
    let limiter: RateLimiter
    let violations: ViolationRecorder

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let buffer = try await request.body.collect(upTo: maxBody)
        let body = Array(buffer.readableBytesView)
        let parts = HTTPMessageSignature.RequestParts(
            method: request.method.rawValue, path: request.uri.path, query: request.uri.query,
            authority: request.head.authority ?? "",
            headers: request.headers.map { ($0.name.canonicalName, $0.value) })

        let found: HTTPMessageSignature.Found
        do {
            found = try HTTPMessageSignature.parse(parts)
        } catch {
            throw Self.problem(error)
        }
        let p = found.parameters
        guard let keyId = p.keyId else { throw Problem(code: .signatureInvalid, detail: "the signature has no keyid parameter") }
        guard let nonce = p.nonce, !nonce.isEmpty, nonce.utf8.count <= 128 else {
            throw Problem(code: .signatureInvalid, detail: "the signature needs a nonce parameter (1…128 characters)")
        }
        if let alg = p.alg, alg != "ed25519" { throw Problem(code: .signatureInvalid, detail: "alg must be ed25519") }
        var required = ["@method", "@path"]
        if parts.query != nil { required.append("@query") }
        if !body.isEmpty { required.append("content-digest") }
        for c in required where !p.components.contains(c) {
            throw Problem(code: .signatureInvalid, detail: "the signature must cover \(required.map { "\"\($0)\"" }.joined(separator: " ")); \(c) is missing")
        }
        let now = Timestamp.now() / 1000
        guard abs(p.created - now) <= Self.window else {
            throw Problem(code: .signatureExpired, detail: "created is \(p.created - now) s from now; it must be within ±\(Self.window) s (check your clock)")
        }
        if let expires = p.expires, expires < now {
            throw Problem(code: .signatureExpired, detail: "the signature expired at \(expires)")
        }

        let identity = try await identify(keyId: keyId, request: request, body: body)
        let base: String
        do {
            base = try HTTPMessageSignature.signatureBase(parts, parameters: p)
        } catch {
            throw Self.problem(error)
        }
        // One answer, after the same work, for a bad signature, an unknown key and a blocked
        // key: anyone could otherwise test which organizations a person deals with. An unknown
        // key is checked against a dummy key so that every refusal costs one Ed25519 verify.
        let verifies = identity.key.isValidSignature(found.signature, for: Array(base.utf8))
        guard verifies, let org = identity.org else { throw Self.refusal }
        if !body.isEmpty {
            guard let digest = parts.field("content-digest"), HTTPMessageSignature.digestMatches(digest, body: body) else {
                throw Problem(code: .digestMismatch, detail: "Content-Digest must carry the sha-256 of the body (RFC 9530)")
            }
        }
        do {
            // Accepted while |created − now| ≤ window: remembered until created + window.
            try await nonces.record(keyId: keyId, nonce: nonce, expiresAt: p.created + Self.window, now: now)
        } catch let error as VaultError where error.code == .nonceReplayed {
            // A call that verifies under a known key but was accepted before: a replay (docs/SECURITY.md, threat model).
            if !org.isNew {
                await violations.record(org: keyId, kind: "replayed-call", detail: "\(request.method.rawValue) \(parts.path) sent again with nonce \(nonce)")
            }
            throw error
        }
        if let retry = limiter.take(keyId) {
            var problem = Problem(code: .rateLimited, detail: "too many calls; retry in \(retry) s")
            problem.retryAfter = retry
            throw problem
        }
        context.org = org
        context.body = body
        return try await next(request, context)
    }

    /// The answer to a bad signature, an unknown key and a blocked key alike (status, code and
    /// detail byte for byte the same).
    static let refusal = Problem(code: .signatureInvalid,
                                 detail: "the signature does not verify with a key this vault accepts calls from")

    static let orgKeyHeader = HTTPField.Name("EdgeVault-Org-Key")!

    /// Stands in for keys this vault does not know, so refusing one costs a real verify.
    static let dummyKey = SigningKeyPair.generate().publicKey

    /// The key a call's signature is checked with, and the organization it authenticates if it
    /// verifies (nil: refuse even a valid signature, as for a blocked key).
    struct Identity {
        var key: SigningPublicKey
        var org: AuthenticatedOrg?
    }

    /// The organization's key: a known one (a blocked key is checked, then refused), or on
    /// `POST /v1/requests` the JWK inside the request's own JWS, when its thumbprint is the keyid
    /// (first contact). Any other key is checked against a dummy key and refused.
    func identify(keyId: String, request: Request, body: [UInt8]) async throws -> Identity {
        let known = try await store.orgKey(keyId: keyId)
        if let raw = known?.publicKey, let key = try? SigningPublicKey(bytes: raw) {
            if known?.isBlocked == true { return Identity(key: key, org: nil) }
            return Identity(key: key, org: AuthenticatedOrg(keyId: keyId, publicKey: key, isNew: false))
        }
        // A first request whose JWS this vault will not read (crit, an unprotected header)
        // cannot introduce its key: it gets the one answer unknown and blocked keys get (saying
        // more would tell a blocked key from an unknown one).
        // Before its first request an organization uploads the module that request names
        // (docs/PROTOCOL.md §"Compute jobs"): `PUT /v1/modules/…` may carry the key in
        // `EdgeVault-Org-Key` (base64url Ed25519), accepted when its thumbprint is the keyid.
        if known?.isBlocked != true, request.method == .put, request.uri.path.hasPrefix("/v1/modules/"),
           let header = request.headers[values: Self.orgKeyHeader].first, let raw = Encoding.fromBase64url(header), raw.count == 32,
           JWKThumbprint.ed25519(raw) == keyId, let key = try? SigningPublicKey(bytes: raw) {
            return Identity(key: key, org: AuthenticatedOrg(keyId: keyId, publicKey: key, isNew: true))
        }
        guard known?.isBlocked != true, request.method == .post, request.uri.path == "/v1/requests",
              let jws = try? JWS(json: body), let first = jws.signatures.first,
              case .object(let jwk)? = first.header["jwk"], let x = jwk["x"]?.stringValue,
              let raw = Encoding.fromBase64url(x), raw.count == 32, JWKThumbprint.ed25519(raw) == keyId,
              let key = try? SigningPublicKey(bytes: raw)
        else {
            return Identity(key: Self.dummyKey, org: nil)
        }
        return Identity(key: key, org: AuthenticatedOrg(keyId: keyId, publicKey: key, isNew: true))
    }

    static func problem(_ failure: HTTPMessageSignature.SignatureFailure) -> Problem {
        switch failure {
        case .missing(let d): return Problem(code: .signatureMissing, detail: d)
        case .invalid(let d): return Problem(code: .signatureInvalid, detail: d)
        case .expired(let d): return Problem(code: .signatureExpired, detail: d)
        }
    }
}

/// A token bucket per organization: `perMinute` calls, refilled continuously.
final class RateLimiter: Sendable {
    let perMinute: Double
    private let buckets = Mutex<[String: (tokens: Double, at: Int64)]>([:])

    init(perMinute: Int) {
        self.perMinute = Double(perMinute)
    }

    /// Nil when the call may go ahead, else the seconds to wait.
    func take(_ key: String, now: Int64 = Timestamp.now()) -> Int? {
        buckets.withLock { buckets in
            var b = buckets[key] ?? (perMinute, now)
            b.tokens = min(perMinute, b.tokens + Double(now - b.at) * perMinute / 60_000)
            b.at = now
            if buckets.count > 10_000 { buckets.removeAll() }
            guard b.tokens >= 1 else {
                buckets[key] = b
                return max(1, Int(((1 - b.tokens) * 60 / perMinute).rounded(.up)))
            }
            b.tokens -= 1
            buckets[key] = b
            return nil
        }
    }
}
