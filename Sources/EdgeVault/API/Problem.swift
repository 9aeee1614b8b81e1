import Hummingbird
import NIOCore
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


}

extension Problem: HTTPResponseError {
    public var status: HTTPResponse.Status { .init(code: self.statusCode) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/problem+json"
        if statusCode == 503 { headers[.retryAfter] = "5" }
        if statusCode == 429 { headers[.retryAfter] = "\(retryAfter ?? 60)" }
        if let allow { headers[.allow] = allow.joined(separator: ", ") }
        // Sorted keys: the same problem is the same bytes every time (refusals that must not
        // be told apart are compared byte for byte).
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body = try encoder.encode(self)
        return Response(status: .init(code: statusCode), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func title(for status: Int) -> String {
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

/// Turns every error a handler throws into problem+json: domain errors keep their code,
/// framework errors get one, anything unexpected is a logged 500 with no internals exposed.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The router's operations as (method, path template with `{param}`s): a path served with
    /// other methods answers 405 with `Allow` rather than 404.
    var operations: [(method: String, path: String)] = []

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let p as Problem {
            throw p
        } catch let e as VaultError {
            throw Problem(e)
        } catch is NIOTooManyBytesError {
            throw Problem(code: .tooLarge, status: 413, detail: "request body is too large")
        } catch let e as HTTPError {
            switch e.status.code {
            case 404:
                let allowed = Self.methods(of: request.uri.path, in: operations)
                guard allowed.isEmpty else {
                    var p = Problem(code: .methodNotAllowed, status: 405,
                                    detail: "\(request.uri.path) does not answer \(request.method); it answers \(allowed.joined(separator: ", "))")
                    p.allow = allowed
                    throw p
                }
                throw Problem(code: .notFound, status: 404, detail: "no such endpoint: \(request.method) \(request.uri.path)")
            case 413: throw Problem(code: .tooLarge, status: 413, detail: e.body ?? "request body is too large")
            default: throw Problem(code: .badRequest, status: e.status.code < 500 ? e.status.code : 500, detail: e.body ?? e.status.reasonPhrase)
            }
        } catch is DecodingError {
            throw Problem(code: .badRequest, status: 400, detail: "the JSON body does not have the expected fields")
        } catch {
            context.logger.error("unexpected error", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            throw Problem(code: .internalError, status: 500, detail: "internal error; see the vaultd log")
        }
    }
}

extension ProblemMiddleware {
    /// The methods `operations` serve `path` with (a `{param}` matches one non-empty segment).
    static func methods(of path: String, in operations: [(method: String, path: String)]) -> [String] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        return operations.filter { op in
            let pattern = op.path.split(separator: "/", omittingEmptySubsequences: false)
            return pattern.count == segments.count && zip(pattern, segments).allSatisfy { p, s in
                p.hasPrefix("{") && p.hasSuffix("}") ? !s.isEmpty : p == s
            }
        }.map(\.method)
    }
}

/// JSON response helper: `Codable` values rendered with a fixed content type.
struct JSONBody<T: Encodable & Sendable>: ResponseGenerator {
    var value: T
    var status: HTTPResponse.Status = .ok

    init(_ value: T, status: HTTPResponse.Status = .ok) {
        self.value = value
        self.status = status
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(value)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
