import NIOCore
import Testing
@testable import EdgeVaultCore
@testable import EdgeVaultStore
@testable import EdgeVaultServer
@testable import EdgeVaultClient
@testable import EdgeVaultTerminal

@Suite("Public listener: connections counted per client network")
struct ConnectionGuardTests {
    @Test("Connections count against the client's IPv4 /24 or IPv6 /64, an IPv4-mapped address as IPv4", arguments: [
        ("127.0.1.2", "127.0.1.0/24"), ("127.0.1.18", "127.0.1.0/24"), ("203.0.113.7", "203.0.113.0/24"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"), ("2001:db8::1", "2001:db8:0:0::/64"), ("::1", "0:0:0:0::/64"),
        ("::ffff:198.51.100.9", "198.51.100.0/24"),
    ])
    func networks(_ c: (String, String)) throws {
        #expect(ConnectionGuardHandler.key(try SocketAddress(ipAddress: c.0, port: 1234)) == c.1)
    }

    @Test("The counter admits up to the limit per network and frees a slot on release")
    func counter() {
        let counter = ConnectionCounter()
        #expect((0..<3).map { _ in counter.admit("n", limit: 2) } == [true, true, false])
        #expect(counter.admit("m", limit: 2))
        counter.release("n")
        #expect(counter.admit("n", limit: 2) && counter.count("n") == 2)
    }
}
