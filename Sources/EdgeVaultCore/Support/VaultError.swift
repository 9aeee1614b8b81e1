/// A domain error with a stable machine code and a one-line message for people.
///
/// The message says what failed and, where it can, what to do; it never holds a secret.
/// The API layer maps codes to HTTP statuses and RFC 9457 problem documents; the CLI prints
/// the message on one line and exits non-zero.
public struct VaultError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The stable machine code: the last part of a problem document's
    /// `urn:edgevault:problem:<code>` (docs/PROTOCOL.md §"Error codes", which lists every case
    /// with its HTTP status; other implementations and tests rely on the strings).
    public enum Code: String, CaseIterable, Hashable, Sendable, CustomStringConvertible {
        // Input
        case badRequest = "bad_request"
        case unsupportedMediaType = "unsupported_media_type"
        case invalidReading = "invalid_reading"
        case invalidStream = "invalid_stream"
        case unknownStream = "unknown_stream"
        case streamExists = "stream_exists"
        case tooLarge = "too_large"
        case notFound = "not_found"
        case methodNotAllowed = "method_not_allowed"
        // Storage and service
        case storageUnavailable = "storage_unavailable"
        case internalError = "internal"
        case daemonUnreachable = "daemon_unreachable"
        case protocolError = "protocol_error"
        // Keys and vault set-up
        case keyFileMissing = "key_file_missing"
        case keyFileInvalid = "key_file_invalid"
        case keyFileExists = "key_file_exists"
        case wrongPassphrase = "wrong_passphrase"
        case passphraseUnavailable = "passphrase_unavailable"
        case vaultExists = "vault_exists"
        case vaultMissing = "vault_missing"
        case keyMismatch = "key_mismatch"
        case config = "config_invalid"
        // Organizations (public API)
        case signatureMissing = "signature_missing"
        case signatureInvalid = "signature_invalid"
        case signatureExpired = "signature_expired"
        case digestMismatch = "digest_mismatch"
        case nonceReplayed = "nonce_replayed"
        case unknownKey = "unknown_key"
        case orgBlocked = "org_blocked"
        case jwsInvalid = "jws_invalid"
        case requestInvalid = "request_invalid"
        case wrongVault = "wrong_vault"
        case duplicateId = "duplicate_id"
        case rateLimited = "rate_limited"
        case tooManyPending = "too_many_pending"
        case notPending = "not_pending"
        case decisionInvalid = "decision_invalid"
        case scopeViolation = "scope_violation"
        case grantRevoked = "grant_revoked"
        case grantExpired = "grant_expired"
        // An organization's tools checking what a vault served
        case verificationFailed = "verification_failed"
        case notGranted = "not_granted"
        case logInvalid = "log_invalid"
        // The person's trust changes (docs/PROTOCOL.md §"Trust changes")
        case trustChangeInvalid = "trust_change_invalid"
        case trustChangeStale = "trust_change_stale"
        case trustConflict = "trust_conflict"
        case pendingChanged = "pending_changed"
        // The person's range deletions (docs/PROTOCOL.md §"Deleting a range")
        case deletionInvalid = "deletion_invalid"
        case streamChanged = "stream_changed"
        // Compute grants (docs/PROTOCOL.md §"Compute jobs")
        case moduleInvalid = "module_invalid"
        case moduleMissing = "module_missing"
        case moduleInUse = "module_in_use"
        case computeOnly = "compute_only"
        case resultInvalid = "result_invalid"
        // Peers and witnesses (docs/PROTOCOL.md §"Peers")
        case peerChangeInvalid = "peer_change_invalid"
        case peerConflict = "peer_conflict"
        case witnessQuorum = "witness_quorum"
        // Fragments on peers and key recovery (docs/PROTOCOL.md §"Fragments", §"Key recovery")
        case fragmentInvalid = "fragment_invalid"
        case shareInvalid = "share_invalid"
        case storageIndexForeign = "storage_index_foreign"
        case quotaExceeded = "quota_exceeded"
        case tooFewPeers = "too_few_peers"
        case recoveryInvalid = "recovery_invalid"
        case recoveryPolicyInvalid = "recovery_policy_invalid"

        public var description: String { rawValue }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
