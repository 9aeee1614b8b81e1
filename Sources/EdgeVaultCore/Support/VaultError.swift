/// A domain error with a stable machine code and a one-line message for people.
///
/// The message says what failed and, where it can, what to do; it never holds a secret.
/// The API layer maps codes to HTTP statuses and RFC 9457 problem documents; the CLI prints
/// the message on one line and exits non-zero.
public struct VaultError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public init(stringLiteral value: String) { self.rawValue = value }
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

extension VaultError.Code {
    // Input
    public static let badRequest: Self = "bad_request"
    public static let invalidReading: Self = "invalid_reading"
    public static let invalidStream: Self = "invalid_stream"
    public static let unknownStream: Self = "unknown_stream"
    public static let streamExists: Self = "stream_exists"
    public static let tooLarge: Self = "too_large"
    public static let notFound: Self = "not_found"
    public static let methodNotAllowed: Self = "method_not_allowed"
    // Storage and service
    public static let storageUnavailable: Self = "storage_unavailable"
    public static let internalError: Self = "internal"
    public static let daemonUnreachable: Self = "daemon_unreachable"
    public static let protocolError: Self = "protocol_error"
    // Keys and vault set-up
    public static let keyFileMissing: Self = "key_file_missing"
    public static let keyFileInvalid: Self = "key_file_invalid"
    public static let keyFileExists: Self = "key_file_exists"
    public static let wrongPassphrase: Self = "wrong_passphrase"
    public static let passphraseUnavailable: Self = "passphrase_unavailable"
    public static let vaultExists: Self = "vault_exists"
    public static let vaultMissing: Self = "vault_missing"
    public static let keyMismatch: Self = "key_mismatch"
    public static let config: Self = "config_invalid"
    // Organizations (public API)
    public static let signatureMissing: Self = "signature_missing"
    public static let signatureInvalid: Self = "signature_invalid"
    public static let signatureExpired: Self = "signature_expired"
    public static let digestMismatch: Self = "digest_mismatch"
    public static let nonceReplayed: Self = "nonce_replayed"
    public static let unknownKey: Self = "unknown_key"
    public static let orgBlocked: Self = "org_blocked"
    public static let jwsInvalid: Self = "jws_invalid"
    public static let requestInvalid: Self = "request_invalid"
    public static let wrongVault: Self = "wrong_vault"
    public static let duplicateId: Self = "duplicate_id"
    public static let rateLimited: Self = "rate_limited"
    public static let tooManyPending: Self = "too_many_pending"
    public static let notPending: Self = "not_pending"
    public static let decisionInvalid: Self = "decision_invalid"
    public static let scopeViolation: Self = "scope_violation"
    public static let grantRevoked: Self = "grant_revoked"
    public static let verificationFailed: Self = "verification_failed"
    public static let grantExpired: Self = "grant_expired"
    // The person's trust changes (docs/PROTOCOL.md §"Trust changes")
    public static let trustChangeInvalid: Self = "trust_change_invalid"
    public static let trustChangeStale: Self = "trust_change_stale"
    public static let trustConflict: Self = "trust_conflict"
    public static let pendingChanged: Self = "pending_changed"
    // The person's range deletions (docs/PROTOCOL.md §"Deleting a range")
    public static let deletionInvalid: Self = "deletion_invalid"
    public static let streamChanged: Self = "stream_changed"
}
