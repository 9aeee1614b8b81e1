import EdgeVaultCore
import EdgeVaultStore
/// The person's side of a decision (`vault-cli approve` / `deny`, and the review prompt):
/// open the sealed DEKs of the segments in scope with the person's box key, re-seal each to
/// the request's delivery key, co-sign the organization's JWS, and send both to the daemon,
/// which never sees the person's secret or a plaintext DEK of a closed segment.
///
/// The daemon is not trusted with the scope: every key it offers must be bound (docs/PROTOCOL.md
/// §"Segment keys sealed to the person") to the segment it was listed under and to a stream and
/// bucket inside the request, or nothing is re-sealed and nothing is sent.
public struct DecisionMaker {
    let client: AdminClient
    let keys: UserKeys

    public init(client: AdminClient, keys: UserKeys) {
        self.client = client
        self.keys = keys
    }

    /// The pending request `id` (of `org` when several organizations used the same id).
    public func pending(id: String, org: String?) async throws -> AdminAPI.RequestSummary {
        try await Self.pending(id: id, org: org, client: client)
    }

    /// The same, before the person's key is unlocked (a cheap check before the passphrase).
    public static func pending(id: String, org: String?, client: AdminClient) async throws -> AdminAPI.RequestSummary {
        let matches = try await client.requests(status: nil).filter { $0.id == id && (org == nil || $0.org == org) }
        guard let first = matches.first else { throw VaultError(.notFound, "no request \(id)" + (org.map { " from \($0)" } ?? "")) }
        guard matches.count == 1 else {
            throw VaultError(.badRequest, "several organizations used the id \(id); say which with --org KEYID (\(matches.map(\.org).joined(separator: ", ")))")
        }
        guard first.status == .pending else { throw VaultError(.notPending, "request \(id) is \(first.status), not pending") }
        return first
    }

    public func decide(_ request: AdminAPI.RequestSummary, kind: Decision.Kind, reason: String? = nil,
                       now: Int64 = Timestamp.now()) async throws -> AdminAPI.DecisionResult {
        var jws: JWS
        do {
            jws = try JWS(json: Array(request.jws.utf8))
            guard jws.signatures.count == 1, try jws.verifyOrgSignature(jws.signatures[0]).keyId == request.org else {
                throw JWS.Failure("the stored request is not signed by its organization")
            }
        } catch let e as JWS.Failure {
            throw VaultError(.decisionInvalid, "refusing to sign: \(e.detail)")
        }
        let vault = try await client.vault()
        try keys.requireOwner(of: vault)
        var sealedKeys: [AdminAPI.SealedSegmentKey] = []
        var skipped = 0
        if kind == .grant {
            let access = try AccessRequest(payload: jws.payload, origin: vault.origin, now: nil)
            if access.isCompute {
                // A compute grant never carries a segment key (docs/PROTOCOL.md §"Compute jobs").
                return try await send(jws: jws, request: request, kind: kind, reason: reason, now: now, sealedKeys: [], skipped: 0)
            }
            let offered = try await client.segments(streams: [], from: access.from, to: access.to)
                .filter { access.scope.covers(stream: $0.stream, bucketStart: $0.startMs, bucketEnd: $0.endMs) }
            (sealedKeys, skipped) = try Self.reseal(offered, for: access, keys: keys)
        }
        return try await send(jws: jws, request: request, kind: kind, reason: reason, now: now, sealedKeys: sealedKeys, skipped: skipped)
    }

    func send(jws: JWS, request: AdminAPI.RequestSummary, kind: Decision.Kind, reason: String?, now: Int64,
              sealedKeys: [AdminAPI.SealedSegmentKey], skipped: Int) async throws -> AdminAPI.DecisionResult {
        var jws = jws
        jws.appendSignature(header: Decision.header(kind: kind, userKeyId: keys.publicKeys.keyId, iat: now / 1000, reason: reason,
                                                    segments: kind == .grant ? sealedKeys.count : nil),
                            keyPair: keys.signing)
        var result = try await client.decide(.init(org: request.org, id: request.id, jws: String(decoding: jws.serialized(), as: UTF8.self),
                                                   sealedKeys: sealedKeys))
        // What the person re-sealed and signed for (the daemon may add open segments it sealed).
        result.segments = sealedKeys.count
        result.unboundSkipped = skipped
        return result
    }

    /// Opens each offered key, checks what it is bound to against the request and the listing,
    /// and re-seals the DEK to the delivery key. Throws (nothing re-sealed) at the first key
    /// outside the scope, bound to another segment, or offered twice. A key still of the earlier
    /// unbound format (one the upgrade could not bind) is left out and counted: never re-sealed.
    static func reseal(_ offered: [AdminAPI.Segment], for access: AccessRequest, keys: UserKeys) throws -> ([AdminAPI.SealedSegmentKey], skipped: Int) {
        var out: [AdminAPI.SealedSegmentKey] = []
        var skipped = 0
        var seen = Set<String>()
        let refuse = { (why: String) in
            VaultError(.scopeViolation, "refusing to grant: \(why); nothing was sent (the daemon offered a key this request does not cover)")
        }
        for segment in offered {
            guard let sealed = Encoding.fromBase64(segment.sealedKey), let opened = try? SegmentKeySeal.open(sealed, keyPair: keys.box) else {
                throw refuse("the key listed for segment \(segment.id) does not open with your key")
            }
            guard case .bound(let bound, let dek) = opened else {
                skipped += 1
                continue
            }
            guard bound.segment == segment.id else {
                throw refuse("the key listed for segment \(segment.id) belongs to segment \(bound.segment)")
            }
            guard bound.stream == segment.stream, bound.start == segment.startMs, bound.end == segment.endMs else {
                throw refuse("the key listed as \(segment.stream) \(segment.start) is bound to \(bound)")
            }
            guard access.scope.covers(stream: bound.stream, bucketStart: bound.start, bucketEnd: bound.end) else {
                throw refuse("\(bound) is outside the request")
            }
            guard seen.insert(bound.segment).inserted else { throw refuse("segment \(bound.segment) was offered twice") }
            out.append(.init(segment: segment.id, sealedKey: Encoding.base64(try SealedBox.seal(dek, to: access.deliveryKey))))
        }
        return (out, skipped)
    }
}

extension AdminAPI.GrantSummary {
    /// The request this grant carries, when its JWS holds this organization's signature and
    /// the person's grant decision over it (checked against the person's own key): what the
    /// person's CLI trusts before it seals anything to a grant's delivery key. Nil when the
    /// daemon's record does not check out (missing, tampered, another organization's).
    public func coSignedRequest(origin: String, keys: UserKeys) -> AccessRequest? {
        guard let text = jws, let decided = try? JWS(json: Array(text.utf8)), decided.signatures.count == 2 else { return nil }
        var stored = decided
        stored.signatures = [decided.signatures[0]]
        guard let userKey = try? SigningPublicKey(bytes: keys.publicKeys.signingKey),
              let d = try? Decision.check(decided, stored: stored, userKeyId: keys.publicKeys.keyId, userKey: userKey), d.kind == .grant,
              (try? decided.verifyOrgSignature(decided.signatures[0]).keyId) == org
        else { return nil }
        return try? AccessRequest(payload: decided.payload, origin: origin, now: nil)
    }
}
