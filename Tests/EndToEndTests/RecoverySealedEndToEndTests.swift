import EdgeVaultCore
import EdgeVaultClient
import Foundation
import Testing

@Suite("End to end: recovery shares sealed to peers' keys and kept on their gateways", .serialized)
struct RecoverySealedEndToEndTests {
    /// The words of a share as `open-share` shows them (numbered rows of six).
    static func words(in text: String, after marker: String) -> String {
        guard let range = text.range(of: marker) else { return "" }
        // A PTY ends lines with CR LF (one Character to Swift): split on any newline.
        let lines = text[range.upperBound...].split(whereSeparator: \.isNewline).dropFirst()
        return lines.prefix(6).flatMap { $0.split(whereSeparator: \.isWhitespace).filter { Int($0) == nil } }.map(String.init).joined(separator: " ")
    }

    /// `vault-cli recovery open-share NAME` on `m`'s gateway, confirmed at its prompt in a PTY.
    static func openShare(_ m: CircleMember, of name: String) async throws -> (status: Int32?, output: String) {
        let session = try PTYSession(try Binaries.path("vault-cli"), ["recovery", "open-share", name] + m.v.globalArgs, environment: m.v.cliEnvironment)
        guard await session.expect("[y/N] ") else { return (nil, session.output.text) }
        session.type("y\r")
        let status = await session.waitForExit()
        return (status, session.output.text)
    }

    @Test("split --seal-group 3 --to-peer ×3 seals group 3's shares to the three peers' witness keys (nothing of them shown or written); two peers open theirs on their own terminals (recorded in their logs); with the key file gone, those two and the person's own share typed in a PTY rebuild the same key; a peer without a share, and a stranger's share, are refused")
    func sealedToPeers() async throws {
        let circle = try await makeCircle(4)
        let alice = circle[0], peers = Array(circle.dropFirst())
        let original = try UserKeyFile.read(from: alice.v.keyFile)
        let file = alice.v.root + "/shares.txt"
        let split = try await alice.v.cli(["recovery", "split", "--out", file, "--seal-group", "3"] + peers.flatMap { ["--to-peer", $0.name] }
                                          + ["--passphrase-file", alice.v.passphraseFile])
        #expect(split.status == 0, "\(split.stderr)")
        #expect(split.stdout.contains("group 3: one share sealed to each of house-1, house-2, house-3"), "\(split.stdout)")
        let kept = try RecoveryEndToEndTests.shares(file)
        #expect(kept.count == 4, "groups 1 and 2 only: \(kept.count)")

        // Each peer holds one sealed share; its database holds no three words of it in the clear.
        var opened: [String] = []
        for peer in peers.prefix(2) {
            let (status, output) = try await Self.openShare(peer, of: alice.name)
            #expect(status == 0, "\(output)")
            let words = Self.words(in: output, after: "recovery share: member")
            #expect(words.split(separator: " ").count == 33, "\(output)")
            opened.append(words)
            let log = try await peer.v.cli(["log", "show", "--from-index", "0", "--limit", "1000", "--json"])
            #expect(log.stdout.contains("recovery.share-opened"), "the opening is in the peer's log")
        }
        #expect(Set(opened).count == 2)
        let thirdDB = try Data(contentsOf: URL(fileURLWithPath: peers[2].v.dataDir + "/vault.db"))
        #expect(!RecoveryEndToEndTests.holdsWords(String(decoding: thirdDB, as: UTF8.self), of: opened), "other shares' words are not in the third peer's database")

        // Refusals: a peer that left no share here; nothing opened without a terminal.
        let none = try await Self.openShare(peers[0], of: peers[1].name)
        #expect(none.status == 1 && none.output.contains("left no recovery share"), "\(none.output)")
        let piped = try await peers[0].v.cli(["recovery", "open-share", alice.name, "--yes"])
        #expect(piped.status == 1 && piped.stderr.contains("not a terminal"))

        // The key is lost; two peers' shares (group 3) and the person's own (group 1) are typed.
        try FileManager.default.removeItem(atPath: alice.v.keyFile)
        #expect(try await RecoveryEndToEndTests.recoverByTyping(alice.v, shares: [opened[0], opened[1], kept[0]]))
        #expect(try UserKeyFile.read(from: alice.v.keyFile).keyId == original.keyId)
        for m in circle { try await m.v.stopDaemon() }
    }
}
