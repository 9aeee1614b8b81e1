import EdgeVaultCore
import EdgeVaultStore
/// The person's side of trust changes and batch denials (`vault-cli trust add/block/unblock`,
/// `vault-cli deny --org KEY --all`): sign with the person's key what the daemon then checks
/// against the user key fixed at init (docs/PROTOCOL.md §"Trust changes").
public struct TrustChanger {
    let client: AdminClient
    let keys: UserKeys
    let vault: AdminAPI.VaultInfo

    /// How often a block lists and signs the pending requests again when new ones arrived
    /// between the listing and the daemon applying it, before it blocks with `keepArrivals`.
    public static let strictBlockAttempts = 3

    public init(client: AdminClient, keys: UserKeys, vault: AdminAPI.VaultInfo) throws {
        try keys.requireOwner(of: vault)
        self.client = client
        self.keys = keys
        self.vault = vault
    }

    /// The organization's pending requests, oldest first.
    public static func pending(_ client: AdminClient, org: String) async throws -> [AdminAPI.RequestSummary] {
        try await client.requests(status: .pending).filter { $0.org == org }
    }

    /// The person's co-signature denying `request`: what `vault-cli deny` appends, sent alone.
    /// Refuses a stored request that is not signed by the organization it is listed under.
    public func denial(of request: AdminAPI.RequestSummary, reason: String?, now: Int64 = Timestamp.now()) throws -> AdminAPI.Denial {
        var jws: JWS
        do {
            jws = try JWS(json: Array(request.jws.utf8))
            guard jws.signatures.count == 1, try jws.verifyOrgSignature(jws.signatures[0]).keyId == request.org else {
                throw JWS.Failure("the stored request \(request.id) is not signed by its organization")
            }
        } catch let e as JWS.Failure {
            throw VaultError(.decisionInvalid, "refusing to sign: \(e.detail)")
        }
        jws.appendSignature(header: Decision.header(kind: .deny, userKeyId: keys.publicKeys.keyId, iat: now / 1000, reason: reason),
                            keyPair: keys.signing)
        let mine = jws.signatures[1]
        return AdminAPI.Denial(id: request.id, protected: mine.protected, signature: Encoding.base64url(mine.signature))
    }

    func signed(org: String, action: TrustChange.Action, name: String?) -> String {
        let jws = TrustChange.make(vault: vault.origin, org: org, action: action, name: name, at: Timestamp.now(), keys: keys)
        return String(decoding: jws.serialized(), as: UTF8.self)
    }

    /// Pins `org` with the person's name for it (a rename when it is pinned already).
    public func pin(org: String, name: String) async throws -> AdminAPI.TrustChangeResult {
        try await client.changeTrust(keyId: org, action: .pin, .init(change: signed(org: org, action: .pin, name: name), denials: nil))
    }

    public func unblock(org: String) async throws -> AdminAPI.TrustChangeResult {
        try await client.changeTrust(keyId: org, action: .unblock, .init(change: signed(org: org, action: .unblock, name: nil), denials: nil))
    }

    /// What a block did: the block (with the denials it carried) and, when requests arrived
    /// while it was being signed, the denials of those sent right after.
    public struct BlockOutcome: Sendable {
        public var block: AdminAPI.TrustChangeResult
        public var followUp: AdminAPI.DenyPendingResult?
        /// How many times the pending requests were listed and signed again.
        public var relisted: Int

        public var denied: [AdminAPI.DeniedRequest] { block.denied + (followUp?.denied ?? []) }
    }

    /// Blocks `org` and, in the same command, denies each of its pending requests with the
    /// person's co-signature. A request that arrives between the listing and the block makes
    /// the daemon answer `pending_changed`; the list is read and signed again. After
    /// `strictBlockAttempts` such answers (an organization that keeps sending) the block is
    /// sent with `keepArrivals`: it applies, and the few requests that arrived meanwhile —
    /// no more can, the key being blocked — are denied by the next call.
    public func block(org: String, reason: String? = nil) async throws -> BlockOutcome {
        var relisted = 0
        while true {
            let pending = try await Self.pending(client, org: org)
            let denials = try pending.map { try denial(of: $0, reason: reason) }
            let lenient = relisted >= Self.strictBlockAttempts
            let result: AdminAPI.TrustChangeResult
            do {
                result = try await client.changeTrust(keyId: org, action: .block, .init(
                    change: signed(org: org, action: .block, name: nil), denials: denials, keepArrivals: lenient ? true : nil))
            } catch let e as VaultError where e.code == .pendingChanged && !lenient {
                relisted += 1
                continue
            }
            var followUp: AdminAPI.DenyPendingResult?
            if let left = result.leftPending, !left.isEmpty {
                let now = try await Self.pending(client, org: org).filter { left.contains($0.id) }
                if !now.isEmpty { followUp = try await denyAll(org: org, requests: now, reason: reason) }
            }
            return BlockOutcome(block: result, followUp: followUp, relisted: relisted)
        }
    }

    /// Denies `requests` (pending requests of `org`) in one call.
    public func denyAll(org: String, requests: [AdminAPI.RequestSummary], reason: String?) async throws -> AdminAPI.DenyPendingResult {
        let denials = try requests.map { r -> AdminAPI.Denial in
            guard r.org == org else { throw VaultError(.badRequest, "request \(r.id) is not from \(org)") }
            return try denial(of: r, reason: reason)
        }
        return try await client.denyPending(keyId: org, .init(denials: denials))
    }
}
