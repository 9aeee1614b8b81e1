import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A process on the gateway between `vault-cli` and `vaultd`: it listens on a Unix socket of
/// its own, forwards each request to the real admin socket, and may rewrite the answers to
/// `GET` requests (what a compromised daemon would send): `rewrite(path, body)`. One request per connection, as
/// the project's HTTP client makes them. Every request it saw is kept.
final class AdminSocketProxy: @unchecked Sendable {
    let path: String
    let upstream: String
    private let rewrite: @Sendable (_ path: String, _ body: [UInt8]) -> [UInt8]
    private let listener: Int32
    private let lock = NSLock()
    private var seen: [String] = []

    /// Method and path of every request forwarded so far.
    var requests: [String] { lock.lock(); defer { lock.unlock() }; return seen }

    /// Rewrites only `GET /v1/segments` listings.
    convenience init(path: String, upstream: String, rewriteSegments: @escaping @Sendable ([UInt8]) -> [UInt8]) throws {
        try self.init(path: path, upstream: upstream, rewriteGET: { path, body in
            path.hasPrefix("/v1/segments?") || path == "/v1/segments" ? rewriteSegments(body) : body
        })
    }

    init(path: String, upstream: String, rewriteGET: @escaping @Sendable (String, [UInt8]) -> [UInt8]) throws {
        self.path = path
        self.upstream = upstream
        self.rewrite = rewriteGET
        listener = try Self.socket(path, listen: true)
        let thread = Thread { [self] in self.serve() }
        thread.start()
    }

    /// Stops accepting connections.
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        unlink(path)
    }

    static func socket(_ path: String, listen: Bool) throws -> Int32 {
        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket() failed") }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { p in
            let bytes = Array(path.utf8)
            for (i, b) in bytes.enumerated() where i < p.count - 1 { p[i] = b }
        }
        let len = socklen_t(MemoryLayout<sockaddr_un>.size)
        let rc = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { listen ? bind(fd, $0, len) : connect(fd, $0, len) }
        }
        guard rc == 0 else { close(fd); throw HarnessError("cannot \(listen ? "bind" : "connect") \(path): errno \(errno)") }
        if listen { Glibc.listen(fd, 16) }
        return fd
    }

    private func serve() {
        while true {
            let c = accept(listener, nil, nil)
            if c < 0 { if errno == EINTR { continue }; return }
            handle(c)
            close(c)
        }
    }

    /// Reads one HTTP/1.1 message (head and Content-Length body, or until EOF when `toEOF`).
    static func readMessage(_ fd: Int32, toEOF: Bool) -> (head: String, body: [UInt8])? {
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var headEnd: Int?
        var length: Int?
        while true {
            if let h = headEnd, let l = length, data.count >= h + l, !toEOF { break }
            if let h = headEnd, length == nil, !toEOF, data.count >= h { break }
            let n = read(fd, &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            data += buffer[0..<n]
            if headEnd == nil, let r = data.firstRange(of: Array("\r\n\r\n".utf8)) {
                headEnd = r.upperBound
                let head = String(decoding: data[0..<r.lowerBound], as: UTF8.self).lowercased()
                if let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }) {
                    length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
                }
            }
        }
        guard let h = headEnd else { return nil }
        return (String(decoding: data[0..<(h - 4)], as: UTF8.self), Array(data[h...]))
    }

    private func handle(_ c: Int32) {
        guard let (head, body) = Self.readMessage(c, toEOF: false) else { return }
        let requestLine = String(head.split(separator: "\r\n").first ?? "")
        lock.lock(); seen.append(requestLine); lock.unlock()
        // Forward with the connection closed after the answer, so the answer ends at EOF.
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
            .filter { !$0.lowercased().hasPrefix("connection:") }
        lines.append("Connection: close")
        guard let up = try? Self.socket(upstream, listen: false) else { return }
        defer { close(up) }
        write(up, Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8) + body)
        guard let (answerHead, answerBody) = Self.readMessage(up, toEOF: true) else { return }
        var out = answerBody
        let parts = requestLine.split(separator: " ")
        if parts.count >= 2, parts[0] == "GET" { out = rewrite(String(parts[1]), answerBody) }
        let headLines = answerHead.split(separator: "\r\n")
        let status = headLines.first ?? "HTTP/1.1 500 Internal Server Error"
        // The answer's own headers go along (a raw leaf page's X-Log-Size), but for the length.
        let kept = headLines.dropFirst().filter { line in
            let name = line.lowercased()
            return !name.hasPrefix("content-length:") && !name.hasPrefix("connection:") && !name.hasPrefix("transfer-encoding:")
        }
        let reply = ([String(status)] + kept.map(String.init) + ["Content-Length: \(out.count)", "Connection: close"]).joined(separator: "\r\n") + "\r\n\r\n"
        write(c, Array(reply.utf8) + out)
    }

    private func write(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            offset += n
        }
    }
}
