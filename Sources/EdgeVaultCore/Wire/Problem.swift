#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An RFC 9457 problem document (`application/problem+json`) with a stable machine code:
/// `"type":"urn:edgevault:problem:<code>"`. The only way errors leave the HTTP layer.
public struct Problem: Error, Sendable, Codable, Equatable {
    public var type: String
    public var title: String
    public var statusCode: Int
    public var detail: String
    /// Extra members (for instance the line of a bad reading).
    public var line: Int?
    /// Seconds to wait, for 429 answers (also sent as `Retry-After`).
    public var retryAfter: Int?
    /// The methods a path does serve, for 405 answers (sent as `Allow`, not in the body).
    public var allow: [String]?

    /// The status is the code's (`VaultError.Code.status`): a code goes out with one status
    /// wherever it is raised.
    public init(code: VaultError.Code, detail: String, line: Int? = nil) {
        self.type = "urn:edgevault:problem:\(code.rawValue)"
        self.title = Self.title(for: code.status)
        self.statusCode = code.status
        self.detail = detail
        self.line = line
    }

    public var code: String { String(type.dropFirst("urn:edgevault:problem:".count)) }

    enum CodingKeys: String, CodingKey {
        case type, title, detail, line, retryAfter
        case statusCode = "status"
    }

    package static func title(for status: Int) -> String {
        switch status {
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 409: return "Conflict"
        case 413: return "Content Too Large"
        case 415: return "Unsupported Media Type"
        case 429: return "Too Many Requests"
        case 503: return "Service Unavailable"
        case 507: return "Insufficient Storage"
        default: return status >= 500 ? "Internal Server Error" : "Error"
        }
    }

    public init(_ error: VaultError, line: Int? = nil) {
        self.init(code: error.code, detail: error.message, line: line)
    }
}

extension VaultError.Code {
    /// The HTTP status a problem with this code answers with (RFC 9110 §15), the one place it
    /// is decided; docs/PROTOCOL.md §"Error codes" lists the same table (a test keeps them equal).
    public var status: Int {
        switch self {
        // The request is malformed or asks for something that cannot be: fix it and send it again.
        case .badRequest, .invalidReading, .invalidStream, .unknownStream, .digestMismatch, .jwsInvalid, .requestInvalid,
             .wrongVault, .decisionInvalid, .trustChangeInvalid, .deletionInvalid, .resultInvalid, .peerChangeInvalid,
             .recoveryPolicyInvalid, .shareInvalid:
            return 400
        // The call is not authenticated (RFC 9421 signature, nonce, key).
        case .signatureMissing, .signatureInvalid, .signatureExpired, .nonceReplayed, .unknownKey:
            return 401
        // Authenticated, and refused.
        case .orgBlocked, .grantRevoked, .grantExpired, .computeOnly, .storageIndexForeign:
            return 403
        case .notFound:
            return 404
        case .methodNotAllowed:
            return 405
        // Conflicts with the vault's current state: look again, then retry.
        case .streamExists, .duplicateId, .notPending, .trustChangeStale, .trustConflict, .pendingChanged, .streamChanged, .moduleMissing, .moduleInUse,
             .peerConflict, .tooFewPeers:
            return 409
        case .tooLarge:
            return 413
        case .unsupportedMediaType:
            return 415
        // Understood, and not acceptable: a module that does not parse or asks for more than it may.
        case .moduleInvalid:
            return 422
        case .rateLimited, .tooManyPending:
            return 429
        case .internalError:
            return 500
        case .storageUnavailable, .witnessQuorum:
            return 503
        // A peer keeps no more of one vault's shares than its quota (docs/PROTOCOL.md §"Fragments").
        case .quotaExceeded:
            return 507
        // Raised by vault-cli and the client library on the person's or the organization's side
        // (or by vaultd while it starts), never in answer to a call: if one ever reached a
        // client it would be vaultd's own failure.
        case .daemonUnreachable, .protocolError, .keyFileMissing, .keyFileInvalid, .keyFileExists, .wrongPassphrase,
             .passphraseUnavailable, .vaultExists, .vaultMissing, .keyMismatch, .config, .scopeViolation,
             .verificationFailed, .notGranted, .logInvalid, .fragmentInvalid, .recoveryInvalid:
            return 500
        }
    }
}
