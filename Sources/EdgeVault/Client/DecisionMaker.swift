/// The person's side of a decision (`vault-cli approve` / `deny`, and the review prompt):
/// open the sealed DEKs of the segments in scope with the person's box key, re-seal each to
/// the request's delivery key, co-sign the organization's JWS, and send both to the daemon,
/// which never sees the person's secret or a plaintext DEK of a closed segment.
public struct DecisionMaker {
    let client: AdminClient
    let keys: UserKeys

    public init(client: AdminClient, keys: UserKeys) {
        self.client = client
        self.keys = keys
    }

    /// The pending request `id` (of `org` when several organizations used the same id).
    public func pending(id: String, org: String?) async throws -> AdminAPI.RequestSummary {
        let matches = try await client.requests(status: nil).filter { $0.id == id && (org == nil || $0.org == org) }
        guard let first = matches.first else { throw VaultError(.notFound, "no request \(id)" + (org.map { " from \($0)" } ?? "")) }
        guard matches.count == 1 else {
            throw VaultError(.badRequest, "several organizations used the id \(id); say which with --org KEYID (\(matches.map(\.org).joined(separator: ", ")))")
        }
        guard first.status == "pending" else { throw VaultError(.notPending, "request \(id) is \(first.status), not pending") }
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
        if kind == .grant {
            let access = try AccessRequest(payload: jws.payload, origin: vault.origin, now: nil)
            for segment in try await client.segments(streams: [], from: access.from, to: access.to)
            where access.streams.contains(segment.stream) && segment.startMs >= access.from && segment.endMs <= access.to {
                guard let sealed = Encoding.fromBase64(segment.sealedKey) else {
                    throw VaultError(.protocolError, "segment \(segment.id) has a malformed sealed key")
                }
                let dek = try SealedBox.open(sealed, keyPair: keys.box)
                sealedKeys.append(.init(segment: segment.id, sealedKey: Encoding.base64(try SealedBox.seal(dek, to: access.deliveryKey))))
            }
        }
        jws.appendSignature(header: Decision.header(kind: kind, userKeyId: keys.publicKeys.keyId, iat: now / 1000, reason: reason),
                            keyPair: keys.signing)
        return try await client.decide(.init(org: request.org, id: request.id, jws: String(decoding: jws.serialized(), as: UTF8.self),
                                              sealedKeys: sealedKeys))
    }
}
