import EdgeVault
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A small keep-alive HTTP/1.1 load generator over loopback: one thread per connection sends
/// pre-built requests one after another and reads each response (Content-Length framed).
/// Bounded by the number of requests it is given and by a deadline.
enum LoadGenerator {
    struct Result {
        var latenciesMs: [Double]
        var seconds: Double
        var failures: Int
    }

    static func run(port: Int, requests: [[[UInt8]]], deadline: ContinuousClock.Instant) throws -> Result {
        let collected = Mutex<(latencies: [Double], failures: Int)>(([], 0))
        let start = ContinuousClock.now
        DispatchQueue.concurrentPerform(iterations: requests.count) { worker in
            var local: [Double] = []
            var failed = 0
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let connected = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else {
                collected.withLock { $0.failures += requests[worker].count }
                return
            }
            var buffer = [UInt8](repeating: 0, count: 65536)
            for request in requests[worker] where ContinuousClock.now < deadline {
                let t0 = ContinuousClock.now
                var sent = 0
                while sent < request.count {
                    let n = request.withUnsafeBytes { write(fd, $0.baseAddress! + sent, request.count - sent) }
                    if n <= 0 { break }
                    sent += n
                }
                // Read the head, then Content-Length bytes of body.
                var received: [UInt8] = []
                var expected = -1
                var ok = false
                while true {
                    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    if n <= 0 { break }
                    received += buffer[0..<n]
                    if expected < 0, let end = received.firstRange(of: [13, 10, 13, 10]) {
                        let head = String(decoding: received[..<end.lowerBound], as: UTF8.self).lowercased()
                        let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                            .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                        ok = head.hasPrefix("http/1.1 200")
                        expected = end.upperBound + length
                    }
                    if expected >= 0 && received.count >= expected { break }
                }
                if ok && expected >= 0 && received.count >= expected {
                    let d = ContinuousClock.now - t0
                    local.append(Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15)
                } else {
                    failed += 1
                    break
                }
            }
            collected.withLock {
                $0.latencies += local
                $0.failures += failed
            }
        }
        let d = ContinuousClock.now - start
        let (latencies, failures) = collected.withLock { ($0.latencies, $0.failures) }
        return Result(latenciesMs: latencies, seconds: Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18, failures: failures)
    }

    /// A signed `GET` as raw HTTP/1.1 bytes (keep-alive), each with its own nonce.
    static func signedGet(path: String, port: Int, keys: OrgKeys) throws -> [UInt8] {
        let parts = HTTPMessageSignature.RequestParts(method: "GET", path: path, query: nil, authority: "127.0.0.1:\(port)", headers: [])
        let params = HTTPMessageSignature.Parameters(components: ["@method", "@path"], created: Timestamp.now() / 1000,
                                                     nonce: Encoding.base64url(Sodium.randomBytes(16)), keyId: keys.keyId, alg: "ed25519")
        let (input, signature) = try HTTPMessageSignature.sign(parts, parameters: params, keyPair: keys.signing)
        return Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nSignature-Input: \(input)\r\nSignature: \(signature)\r\n\r\n".utf8)
    }
}
