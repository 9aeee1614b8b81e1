import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A minimal HTTP/1.1 client over SwiftNIO for a Unix socket or a TCP address: one
/// connection per request, whole bodies, a response size limit.
///
/// `vault-cli` needs only this, so it does not pull in a full HTTP client library.
public struct HTTPClient: Sendable {
    public enum Target: Sendable, Equatable, CustomStringConvertible {
        case unix(path: String)
        case tcp(host: String, port: Int)

        public var description: String {
            switch self {
            case .unix(let path): return path
            case .tcp(let host, let port): return "\(host):\(port)"
            }
        }

        /// The Host header for this target.
        public var authority: String {
            switch self {
            case .unix: return "localhost"
            case .tcp(let host, let port): return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            }
        }

        /// Parses `http://host:port` (the public API's address).
        public init(url: String) throws {
            guard url.hasPrefix("http://") else {
                throw VaultError(.config, "the vault URL must look like http://host:port or https://host:port, not \(url)")
            }
            var rest = Substring(url.dropFirst("http://".count))
            if rest.hasSuffix("/") { rest = rest.dropLast() }
            guard let address = ListenAddress(String(rest)) ?? ListenAddress(String(rest) + ":80"), address.port > 0 else {
                throw VaultError(.config, "the vault URL must look like http://host:port, not \(url)")
            }
            self = .tcp(host: address.host, port: address.port)
        }
    }

    public struct Response: Sendable {
        public var status: Int
        public var headers: [(String, String)]
        public var body: [UInt8]

        public func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    public let target: Target
    /// TLS to the target (https://); `trustRoots` a PEM file of certificates to trust instead
    /// of the system's (a gateway's self-signed certificate).
    public var tls: TLSOptions?
    public var maxResponseBytes = 64 * 1024 * 1024

    public struct TLSOptions: Sendable {
        public var trustRoots: String?
        public init(trustRoots: String? = nil) { self.trustRoots = trustRoots }
    }
    public var timeout: TimeAmount = .seconds(120)

    public init(target: Target, tls: TLSOptions? = nil) {
        self.target = target
        self.tls = tls
    }

    /// A client for `http://host:port` or `https://host:port`.
    public init(url: String, trustRoots: String? = nil) throws {
        if url.hasPrefix("https://") {
            self.init(target: try Target(url: "http://" + url.dropFirst("https://".count)), tls: TLSOptions(trustRoots: trustRoots))
        } else {
            self.init(target: try Target(url: url))
        }
    }

    func sslContext() throws -> NIOSSLContext? {
        guard let tls else { return nil }
        return try TLSClient.context(trustRoots: tls.trustRoots)
    }

    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    /// Where a successful (2xx) response's body goes instead of memory: each piece as it
    /// arrives, with the announced Content-Length.
    public typealias BodySink = @Sendable (_ piece: ByteBuffer, _ contentLength: Int?) async throws -> Void

    public func send(method: HTTPMethod, path: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
                     sink: BodySink? = nil) async throws -> Response {
        let bootstrap = ClientBootstrap(group: Self.group).connectTimeout(.seconds(10))
        let ssl = try sslContext()
        let serverName: String? = {
            if case .tcp(let host, _) = target, !host.contains(":"), host.first?.isLetter == true { return host }
            return nil
        }()
        let initializer: @Sendable (any Channel) -> EventLoopFuture<NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>> = { channel in
            channel.eventLoop.makeCompletedFuture {
                if let ssl {
                    try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: ssl, serverHostname: serverName))
                }
                try channel.pipeline.syncOperations.addHTTPClientHandlers()
                return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
            }
        }
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        do {
            switch target {
            case .unix(let socketPath): channel = try await bootstrap.connect(unixDomainSocketPath: socketPath, channelInitializer: initializer)
            case .tcp(let host, let port): channel = try await bootstrap.connect(host: host, port: port, channelInitializer: initializer)
            }
        } catch {
            throw Self.connectError(target: target, error)
        }
        let limit = maxResponseBytes
        let deadline = NIODeadline.now() + timeout
        return try await withThrowingTaskGroup(of: Response?.self) { group in
            group.addTask {
                try await channel.executeThenClose { inbound, outbound in
                    var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
                    head.headers.add(name: "Host", value: target.authority)
                    head.headers.add(name: "Connection", value: "close")
                    for (k, v) in headers { head.headers.add(name: k, value: v) }
                    head.headers.add(name: "Content-Length", value: "\(body?.count ?? 0)")
                    // A server may answer and close before reading the whole body (413 on an
                    // oversized upload): a failed write still lets us read that answer.
                    var writeError: (any Error)?
                    do {
                        try await outbound.write(.head(head))
                        if let body, !body.isEmpty { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
                        try await outbound.write(.end(nil))
                    } catch {
                        writeError = error
                    }
                    var status = 0
                    var responseHeaders: [(String, String)] = []
                    var contentLength: Int?
                    var collected = ByteBuffer()
                    do {
                    for try await part in inbound {
                        switch part {
                        case .head(let h):
                            status = Int(h.status.code)
                            responseHeaders = h.headers.map { ($0.name, $0.value) }
                            contentLength = h.headers.first(name: "Content-Length").flatMap { Int($0) }
                        case .body(let b) where sink != nil && (200..<300).contains(status):
                            try await sink!(b, contentLength)
                        case .body(var b):
                            guard collected.readableBytes + b.readableBytes <= limit else {
                                throw VaultError(.protocolError, "response from \(target) is larger than \(limit) bytes")
                            }
                            collected.writeBuffer(&b)
                        case .end:
                            return Response(status: status, headers: responseHeaders, body: Array(collected.readableBytesView))
                        }
                    }
                    } catch let e as VaultError {
                        throw e
                    } catch {
                        if let writeError { throw VaultError(.protocolError, "sending to \(target) failed: \(Self.reason(writeError))") }
                        throw VaultError(.protocolError, "reading from \(target) failed: \(Self.reason(error))")
                    }
                    if let writeError { throw VaultError(.protocolError, "sending to \(target) failed: \(Self.reason(writeError))") }
                    throw VaultError(.protocolError, "\(target) closed the connection before the response was complete" + (tls == nil ? " (does it expect https://?)" : ""))
                }
            }
            group.addTask {
                try await Task.sleep(for: .nanoseconds(max(0, (deadline - .now()).nanoseconds)))
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let response = first else {
                try? await channel.channel.close()
                throw VaultError(.daemonUnreachable, "\(target) did not answer within \(timeout.nanoseconds / 1_000_000_000) s")
            }
            return response
        }
    }

    static func connectError(target: Target, _ error: any Error) -> VaultError {
        switch target {
        case .unix(let path):
            if !FileIO.exists(path) {
                return VaultError(.daemonUnreachable, "vaultd is not running: no admin socket at \(path) (start it with `vaultd`, or pass --admin-socket)")
            }
            return VaultError(.daemonUnreachable, "cannot reach vaultd at \(path): \(Self.reason(error)) (is it running, and may you use the socket?)")
        case .tcp(let host, let port):
            let reason = Self.reason(error)
            if reason.contains("Connection refused") || reason.contains("errno: 111") {
                return VaultError(.daemonUnreachable, "cannot reach the vault at \(host):\(port) (connection refused): is vaultd running with --listen on that address?")
            }
            return VaultError(.daemonUnreachable, "cannot connect to \(host):\(port): \(reason)")
        }
    }

    static func reason(_ error: any Error) -> String {
        if let e = error as? IOError { return e.description }
        if error is NIOSSLError || error is BoringSSLError {
            if "\(error)".contains("CERTIFICATE_VERIFY_FAILED") {
                return "its TLS certificate is not trusted (for a gateway's self-signed certificate pass --cacert FILE)"
            }
            return "the TLS handshake failed (is the address right, and does it speak https?)"
        }
        return "\(error)"
    }
}
