import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A small keep-alive HTTP/1.1 load generator over loopback: one OS thread per connection (so
/// every connection really has a call in flight, whatever the core count) sends requests one
/// after another and reads each response (Content-Length framed). Bounded by a call count per
/// connection and by a deadline.
enum LoadGenerator {
    struct Result {
        /// Latency (ms) of every answered call, by the kind `next` gave it.
        var latenciesMs: [String: [Double]]
        var seconds: Double
        /// Calls answered with another status than 200, or not answered, by kind and status
        /// (0 = connection failed or closed).
        var failures: [String: [Int: Int]]

        var allLatencies: [Double] { latenciesMs.values.flatMap { $0 } }
        var failureCount: Int { failures.values.flatMap(\.values).reduce(0, +) }
    }

    /// Runs `connections` connections; connection `c` sends `next(c, i)` as its `i`th call
    /// (a kind for the figures and the raw request) until it returns nil, `callsPerConnection`
    /// calls are done or the deadline passes. A non-200 answer is counted and the connection
    /// goes on; a broken connection is counted and ends that connection.
    static func run(port: Int, connections: Int, callsPerConnection: Int, deadline: ContinuousClock.Instant,
                    next: @escaping @Sendable (_ connection: Int, _ call: Int) -> (kind: String, request: [UInt8])?) -> Result {
        let collected = Mutex<(latencies: [String: [Double]], failures: [String: [Int: Int]])>(([:], [:]))
        let done = DispatchGroup()
        let start = ContinuousClock.now
        for c in 0..<connections {
            done.enter()
            let thread = Thread {
                defer { done.leave() }
                var local: [String: [Double]] = [:]
                var failed: [String: [Int: Int]] = [:]
                defer {
                    collected.withLock { all in
                        for (k, v) in local { all.latencies[k, default: []] += v }
                        for (k, v) in failed { all.failures[k, default: [:]].merge(v, uniquingKeysWith: +) }
                    }
                }
                let fd = connect(port: port)
                defer { if fd >= 0 { close(fd) } }
                var buffer = [UInt8](repeating: 0, count: 65536)
                for i in 0..<callsPerConnection where ContinuousClock.now < deadline {
                    guard let (kind, request) = next(c, i) else { break }
                    guard fd >= 0 else {
                        failed[kind, default: [:]][0, default: 0] += 1
                        return
                    }
                    let t0 = ContinuousClock.now
                    guard let status = exchange(fd, request, &buffer) else {
                        failed[kind, default: [:]][0, default: 0] += 1
                        return
                    }
                    if status == 200 {
                        let d = ContinuousClock.now - t0
                        local[kind, default: []].append(Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15)
                    } else {
                        failed[kind, default: [:]][status, default: 0] += 1
                    }
                }
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        done.wait()
        let d = ContinuousClock.now - start
        let (latencies, failures) = collected.withLock { ($0.latencies, $0.failures) }
        return Result(latenciesMs: latencies, seconds: Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18, failures: failures)
    }

    /// Pre-built requests, `requests[c]` on connection `c`, all of one kind.
    static func run(port: Int, requests: [[[UInt8]]], deadline: ContinuousClock.Instant) -> Result {
        run(port: port, connections: requests.count, callsPerConnection: requests.map(\.count).max() ?? 0, deadline: deadline) { c, i in
            i < requests[c].count ? ("call", requests[c][i]) : nil
        }
    }

    static func connect(port: Int) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return -1 }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if connected != 0 {
            close(fd)
            return -1
        }
        return fd
    }

    /// Sends one request and reads its whole response; the status, or nil if the connection broke.
    static func exchange(_ fd: Int32, _ request: [UInt8], _ buffer: inout [UInt8]) -> Int? {
        var sent = 0
        while sent < request.count {
            let n = request.withUnsafeBytes { write(fd, $0.baseAddress! + sent, request.count - sent) }
            if n <= 0 { return nil }
            sent += n
        }
        var received: [UInt8] = []
        var expected = -1
        var status = 0
        while expected < 0 || received.count < expected {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return nil }
            received += buffer[0..<n]
            if expected < 0, let end = received.firstRange(of: [13, 10, 13, 10]) {
                let head = String(decoding: received[..<end.lowerBound], as: UTF8.self).lowercased()
                let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
                expected = end.upperBound + length
            }
        }
        return status
    }

    /// A signed `GET` as raw HTTP/1.1 bytes (keep-alive), each with its own nonce.
    static func signedGet(path: String, query: String? = nil, port: Int, keys: OrgKeys) throws -> [UInt8] {
        let parts = HTTPMessageSignature.RequestParts(method: "GET", path: path, query: query, authority: "127.0.0.1:\(port)", headers: [])
        let params = HTTPMessageSignature.Parameters(components: query == nil ? ["@method", "@path"] : ["@method", "@path", "@query"],
                                                     created: Timestamp.now() / 1000,
                                                     nonce: Encoding.base64url(Sodium.randomBytes(16)), keyId: keys.keyId, alg: "ed25519")
        let (input, signature) = try HTTPMessageSignature.sign(parts, parameters: params, keyPair: keys.signing)
        let target = path + (query.map { "?" + $0 } ?? "")
        return Array("GET \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nSignature-Input: \(input)\r\nSignature: \(signature)\r\n\r\n".utf8)
    }
}
