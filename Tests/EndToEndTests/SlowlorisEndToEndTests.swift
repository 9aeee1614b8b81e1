import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation
import NIOHTTP1
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A TCP connection from `source` (a loopback address) to 127.0.0.1:`port` that sends `bytes`
/// and then stalls; -1 if it could not connect.
private func halfOpen(from source: String, port: Int, sending bytes: [UInt8]) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return -1 }
    var local = sockaddr_in()
    local.sin_family = sa_family_t(AF_INET)
    inet_pton(AF_INET, source, &local.sin_addr)
    var remote = sockaddr_in()
    remote.sin_family = sa_family_t(AF_INET)
    remote.sin_port = in_port_t(UInt16(port).bigEndian)
    inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr)
    let ok = withUnsafePointer(to: &local) { l in
        l.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    } && withUnsafePointer(to: &remote) { r in
        r.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
    }
    guard ok else {
        close(fd)
        return -1
    }
    _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    return fd
}

/// Waits (up to `deadline`) until the server has closed each socket (end of file or reset),
/// recording when; nil for a socket still open at the deadline.
private func closeTimes(_ fds: [Int32], since start: ContinuousClock.Instant, until deadline: ContinuousClock.Instant,
                        known: [Duration?]? = nil) -> [Duration?] {
    var closedAt = known ?? [Duration?](repeating: nil, count: fds.count)
    var buffer = [UInt8](repeating: 0, count: 4096)
    while ContinuousClock.now < deadline, closedAt.contains(where: { $0 == nil }) {
        var polled = fds.enumerated().filter { closedAt[$0.offset] == nil }.map { pollfd(fd: $0.element, events: Int16(POLLIN), revents: 0) }
        let indexes = fds.enumerated().filter { closedAt[$0.offset] == nil }.map(\.offset)
        let wait = max(1, Int32((deadline - ContinuousClock.now).components.seconds * 1000))
        let n = poll(&polled, nfds_t(polled.count), min(wait, 1000))
        guard n > 0 else { continue }
        for (k, p) in polled.enumerated() where p.revents != 0 {
            let r = recv(p.fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            if r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) || p.revents & Int16(POLLHUP | POLLERR) != 0 {
                closedAt[indexes[k]] = ContinuousClock.now - start
            }
        }
    }
    return closedAt
}

@Suite("End to end: slowloris on the public listener", .serialized)
struct SlowlorisEndToEndTests {
    @Test("256 stalled connections from 16 addresses of one /24 (half a request head, or a body trickled after full headers): a genuine client's 20 GET /healthz from another network all succeed, and the deadline closes the stalled ones")
    func slowloris() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        // The defaults: header deadline 10 s, 16 connections per address, 256 in all.
        try await v.startDaemon()
        let start = ContinuousClock.now
        // Half stall in their request head; half send complete headers announcing a body and
        // then one byte of it (a slow body holds a slot as long as a slow head would).
        let attackers = (0..<256).map { i in
            halfOpen(from: "127.0.1.\(2 + i % 16)", port: v.publicPort, sending: Array(
                (i % 2 == 0 ? "GET /healthz HTTP/1.1\r\nHost: vau" : "POST /v1/requests HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\n{").utf8))
        }
        defer { for fd in attackers where fd >= 0 { close(fd) } }
        #expect(attackers.allSatisfy { $0 >= 0 }, "every attacking connection was accepted by the kernel")
        let attackSetUp = ContinuousClock.now - start
        // Those beyond the per-address share are closed at once: watched now, while they go
        // (watched only after the genuine client's calls, a loaded machine would date them late).
        let early = closeTimes(attackers, since: start, until: start + .seconds(3))

        // The genuine client, one call after another, each bounded.
        var succeeded = 0
        var slowest = Duration.zero
        for _ in 0..<20 {
            let t0 = ContinuousClock.now
            let status = await withTaskGroup(of: Int?.self) { group -> Int? in
                group.addTask { try? await v.publicRequest("GET", "/healthz").status }
                group.addTask {
                    try? await Task.sleep(for: .seconds(5))
                    return nil
                }
                let first = await group.next() ?? nil
                group.cancelAll()
                return first
            }
            slowest = max(slowest, ContinuousClock.now - t0)
            if status == 200 { succeeded += 1 }
        }
        let genuineDone = ContinuousClock.now - start
        #expect(succeeded == 20, "health checks answered: \(succeeded)/20")

        // Every stalled connection is closed: those beyond the per-address share at once, the
        // admitted ones by the header deadline (10 s), none left open after 20 s.
        // Watched at least once more even when a loaded machine made the genuine client's calls
        // outlast the 20 s (connections vaultd closed meanwhile read as closed at once).
        let closed = closeTimes(attackers, since: start, until: max(start + .seconds(20), ContinuousClock.now + .seconds(3)), known: early)
        let open = closed.filter { $0 == nil }.count
        let byDeadline = closed.compactMap { $0 }.filter { $0 >= .seconds(9) }.count
        let atOnce = closed.compactMap { $0 }.filter { $0 < .seconds(9) }.count
        #expect(open == 0, "\(open) stalled connections still open after 20 s (or after the genuine client, when it took longer)")
        #expect(byDeadline > 0 && byDeadline <= 16, "closed by the request deadline: \(byDeadline) (at most the /24's share, 16)")
        #expect(atOnce == 256 - byDeadline - open)
        // Still serving afterwards.
        #expect(try await v.publicRequest("GET", "/healthz").status == 200)
        try await v.stopDaemon()
        print("slowloris attackers=256 setup=\(attackSetUp) genuine_ok=\(succeeded)/20 genuine_done=\(genuineDone) slowest_check=\(slowest) closed_at_once=\(atOnce) closed_by_deadline=\(byDeadline) still_open=\(open)")
        try recordReliability("slowloris attackers=256 genuine_ok=\(succeeded) slowest_check_ms=\(slowest.components.seconds * 1000 + slowest.components.attoseconds / 1_000_000_000_000_000) closed_at_once=\(atOnce) closed_by_deadline=\(byDeadline) still_open=\(open)")
    }

    @Test("A connection that completes its request in time is served, and keeps the deadline for its next request")
    func keepAliveDeadline() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon(environment: ["EDGEVAULT_HEADER_TIMEOUT_SECONDS": "2", "EDGEVAULT_MAX_CONNECTIONS_PER_ADDRESS": "2"])
        let start = ContinuousClock.now
        let fd = halfOpen(from: "127.0.0.1", port: v.publicPort, sending: Array("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        defer { close(fd) }
        #expect(fd >= 0)
        // The answer comes, then the idle keep-alive connection is closed ~2 s after it.
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        var closedAfter: Duration?
        while ContinuousClock.now < start + .seconds(10), closedAfter == nil {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 1000) > 0 else { continue }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n > 0 { received += buffer[0..<n] } else { closedAfter = ContinuousClock.now - start }
        }
        #expect(String(decoding: received, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
        let after = try #require(closedAfter)
        #expect(after >= .milliseconds(1500) && after < .seconds(6), "closed after \(after)")
        // Per-network cap 2: a third connection from the same /24 is closed at once, one from
        // another network is served.
        let a = halfOpen(from: "127.0.2.3", port: v.publicPort, sending: Array("GET /healthz HTTP/1.1\r\nHo".utf8))
        let b = halfOpen(from: "127.0.2.3", port: v.publicPort, sending: Array("GET /healthz HTTP/1.1\r\nHo".utf8))
        let c = halfOpen(from: "127.0.2.3", port: v.publicPort, sending: Array("GET /healthz HTTP/1.1\r\nHo".utf8))
        defer { for s in [a, b, c] where s >= 0 { close(s) } }
        let t0 = ContinuousClock.now
        let closed = closeTimes([a, b, c], since: t0, until: t0 + .seconds(8))
        #expect(closed.compactMap { $0 }.filter { $0 < .seconds(1) }.count == 1, "one of three closed at once: \(closed)")
        #expect(closed.allSatisfy { $0 != nil }, "the other two by the deadline: \(closed)")
        #expect(try await v.publicRequest("GET", "/healthz").status == 200)
        try await v.stopDaemon()
    }
}
