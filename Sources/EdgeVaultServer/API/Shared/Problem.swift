import EdgeVaultCore
import EdgeVaultStore
import Hummingbird
import NIOCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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

}

/// Turns every error a handler throws into problem+json: domain errors keep their code,
/// framework errors get one, anything unexpected is a logged 500 with no internals exposed.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The router's routes (filled from the router once its routes are added): a path served
    /// with other methods answers 405 with `Allow` rather than 404.
    var routes = RouteTable()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let p as Problem {
            throw p
        } catch let e as VaultError {
            throw Problem(e)
        } catch is NIOTooManyBytesError {
            throw Problem(code: .tooLarge, detail: "request body is too large")
        } catch let e as HTTPError {
            switch e.status.code {
            case 404:
                let allowed = routes.methods(of: request.uri.path)
                guard allowed.isEmpty else {
                    var p = Problem(code: .methodNotAllowed,
                                    detail: "\(request.uri.path) does not answer \(request.method); it answers \(allowed.joined(separator: ", "))")
                    p.allow = allowed
                    throw p
                }
                throw Problem(code: .notFound, detail: "no such endpoint: \(request.method) \(request.uri.path)")
            case 413: throw Problem(code: .tooLarge, detail: e.body ?? "request body is too large")
            case 415: throw Problem(code: .unsupportedMediaType, detail: e.body ?? e.status.reasonPhrase)
            case ..<500: throw Problem(code: .badRequest, detail: e.body ?? e.status.reasonPhrase)
            default:
                context.logger.error("framework error", metadata: ["status": "\(e.status.code)"])
                throw Problem(code: .internalError, detail: "internal error; see the vaultd log")
            }
        } catch is DecodingError {
            throw Problem(code: .badRequest, detail: "the JSON body does not have the expected fields")
        } catch let e as AccessRequest.Invalid {
            // Domain errors of the core a handler did not map itself: still the caller's 4xx.
            throw Problem(code: e.kind == .wrongVault ? .wrongVault : .requestInvalid, detail: e.detail)
        } catch let e as JWS.Failure {
            throw Problem(code: e.isUnsupported ? .requestInvalid : .jwsInvalid, detail: e.detail)
        } catch let e as LineError {
            throw Problem(code: .invalidReading, detail: "line \(e.line): \(e.reason); nothing was stored", line: e.line)
        } catch let e as ReadingError {
            throw Problem(code: .invalidReading, detail: e.reason)
        } catch let e as HTTPMessageSignature.SignatureFailure {
            throw SignatureMiddleware.problem(e)
        } catch let e as EdgeVaultCore.FileIO.Failure {
            // A file of the data directory (the path is for the log, not the caller).
            context.logger.error("file error", metadata: ["error": "\(e)"])
            throw Problem(code: .storageUnavailable, detail: "cannot \(e.action) a file of the vault; see the vaultd log")
        } catch {
            context.logger.error("unexpected error", metadata: ["error": "\(String(reflecting: type(of: error)))"])
            throw Problem(code: .internalError, detail: "internal error; see the vaultd log")
        }
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
