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

    public init(code: VaultError.Code, status: Int, detail: String, line: Int? = nil) {
        self.type = "urn:edgevault:problem:\(code.rawValue)"
        self.title = Self.title(for: status)
        self.statusCode = status
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
        default: return status >= 500 ? "Internal Server Error" : "Error"
        }
    }

    /// The HTTP status for a domain error code.
    public static func status(for code: VaultError.Code) -> Int {
        switch code {
        case .signatureMissing, .signatureInvalid, .signatureExpired, .nonceReplayed, .unknownKey: return 401
        case .orgBlocked, .grantRevoked, .grantExpired: return 403
        case .duplicateId, .notPending, .trustChangeStale, .trustConflict, .pendingChanged, .streamChanged: return 409
        case .rateLimited, .tooManyPending: return 429
        case .notFound, .vaultMissing: return 404
        case .methodNotAllowed: return 405
        case .streamExists: return 409
        case .tooLarge: return 413
        case .storageUnavailable: return 503
        case .internalError: return 500
        default: return 400
        }
    }

    public init(_ error: VaultError, line: Int? = nil) {
        self.init(code: error.code, status: Self.status(for: error.code), detail: error.message, line: line)
    }
}
