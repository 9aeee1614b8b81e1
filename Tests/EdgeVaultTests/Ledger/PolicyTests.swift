import Foundation
import Testing
@testable import EdgeVaultCore

@Suite("C2SP tlog-policy")
struct PolicyTests {
    let log = TestLog(size: 6)
    let names = ["X1", "X2", "X3", "Y1", "Y2", "Y3"]
    let cosigners: [String: Cosigner]

    init() throws {
        var c: [String: Cosigner] = [:]
        for n in names { c[n] = try Cosigner(name: "witness.example/\(n)", keyPair: .generate()) }
        cosigners = c
    }

    /// The spec's example policy, its elided `<vkey>`s filled with our keys.
    func specPolicy(replacing: String? = nil) -> String {
        func vkey(_ n: String) -> String {
            n == replacing ? (try! Cosigner(name: "witness.example/\(n)", keyPair: .generate())).verifier.text : cosigners[n]!.verifier.text
        }
        return """
        log \(log.verifier.text)

        witness X1 \(vkey("X1"))
        witness X2 \(vkey("X2"))
        witness X3 \(vkey("X3"))
        group X-witnesses 2 X1 X2 X3

        witness Y1 \(vkey("Y1"))
        witness Y2 \(vkey("Y2"))
        witness Y3 \(vkey("Y3"))
        group Y-witnesses any Y1 Y2 Y3

        group X-and-Y all X-witnesses Y-witnesses
        quorum X-and-Y

        """
    }

    func note(cosignedBy who: [String]) throws -> String {
        let n = log.note(6)
        let text = try SignedNote.parse(n).text
        return try SignedNote.appending(who.map { cosigners[$0]!.cosign(checkpointText: text, time: 1_700_000_000 + 1) }.joined(), to: n)
    }

    @Test("The spec's example policy parses into its logs, witnesses, groups and quorum")
    func parsesSpecExample() throws {
        let p = try TlogPolicy(text: specPolicy())
        #expect(p.logs.map(\.key) == [log.verifier])
        #expect(p.witnesses.map(\.name) == names)
        #expect(p.groups.map(\.name) == ["X-witnesses", "Y-witnesses", "X-and-Y"])
        #expect(p.groups.map(\.threshold) == [2, 1, 2])
        #expect(p.quorum == "X-and-Y")
    }

    @Test("Quorum met: 2 of the X witnesses and 1 Y witness cosigned")
    func quorumMet() throws {
        let p = try TlogPolicy(text: specPolicy())
        let v = try p.verify(note: note(cosignedBy: ["X1", "X3", "Y2"]))
        #expect(Set(v.cosigners.keys) == ["X1", "X3", "Y2"])
        #expect(v.checkpoint.size == 6)
    }

    @Test("Quorum failure with one key replaced names the group and who cosigned")
    func quorumFailsWithKeyReplaced() throws {
        let p = try TlogPolicy(text: specPolicy(replacing: "X3"))
        #expect(throws: VaultError(.verificationFailed, "quorum not met: 2 of 2 needed in group X-and-Y: only Y-witnesses cosigned (2 of 3 needed in group X-witnesses: only X1 cosigned)")) {
            try p.verify(note: note(cosignedBy: ["X1", "X3", "Y2"]))
        }
    }

    @Test("The brief's message: 2 of 2 needed in group households: only peer-b cosigned")
    func householdsMessage() throws {
        let a = try Cosigner(name: "peer-a.example", keyPair: .generate()), b = try Cosigner(name: "peer-b.example", keyPair: .generate())
        let p = try TlogPolicy(text: "log \(log.verifier.text)\nwitness peer-a \(a.verifier.text)\nwitness peer-b \(b.verifier.text)\ngroup households all peer-a peer-b\nquorum households\n")
        #expect(p.check("households", cosigned: ["peer-b"]) == "2 of 2 needed in group households: only peer-b cosigned")
        #expect(p.check("households", cosigned: []) == "2 of 2 needed in group households: none cosigned")
        #expect(p.check("households", cosigned: ["peer-a", "peer-b"]) == nil)
        #expect(p.check("peer-a", cosigned: []) == "no valid cosignature from peer-a")
    }

    @Test("quorum none needs only the log's signature; a note by an unlisted log fails")
    func quorumNone() throws {
        let p = try TlogPolicy(text: "# no witnesses\n\tlog \(log.verifier.text)  https://log.example/\nquorum none\n")
        #expect(p.logs.first?.url == "https://log.example/")
        #expect(try p.verify(note: log.note(6)).cosigners.isEmpty)
        let other = TestLog(size: 1)
        #expect(throws: VaultError.self) { try p.verify(note: other.note(1)) }
        #expect(try p.verify(note: other.note(1), extraLogs: [other.verifier]).checkpoint.size == 1)
    }

    @Test("A known witness's bad cosignature fails the whole note")
    func badCosignature() throws {
        let p = try TlogPolicy(text: specPolicy())
        let good = try note(cosignedBy: ["X1", "X2", "Y1"])
        let text = try SignedNote.parse(good).text
        let forged = cosigners["X3"]!.cosign(checkpointText: text.replacingOccurrences(of: "\n6\n", with: "\n7\n"), time: 5)
        #expect(throws: VaultError.self) { try p.verify(note: SignedNote.appending(forged, to: good)) }
    }

    @Test("Malformed policies are refused with their line number", arguments: [
        ("quorum X\n", "policy line 1: X is not defined on an earlier line"),
        ("witness A KEYA\nwitness B KEYA\nquorum A\n", "policy line 2: duplicate witness key"),
        ("witness A KEYA\ngroup G 2 A\nquorum G\n", "policy line 2: the threshold must be all, any or 1…1"),
        ("witness A KEYA\ngroup G 0 A\nquorum G\n", "policy line 2: the threshold must be all, any or 1…1"),
        ("witness A KEYA\ngroup G any A A\nquorum G\n", "policy line 2: A is already a group member"),
        ("witness A KEYA\ngroup G any A\ngroup H any A\nquorum H\n", "policy line 3: A is already a group member"),
        ("witness A KEYA\ngroup G any none\nquorum G\n", "policy line 2: none cannot be a group member"),
        ("witness A KEYA\ngroup G any B\nquorum G\n", "policy line 2: B is not defined on an earlier line"),
        ("witness A KEYA\nwitness A KEYB\nquorum A\n", "policy line 2: the name A is already defined"),
        ("witness none KEYA\nquorum none\n", "policy line 1: the name none is already defined"),
        ("quorum none\nquorum none\n", "policy line 2: a second quorum line"),
        ("witness A KEYA\n", "the policy has no quorum line"),
        ("witness A LOGKEY\nquorum A\n", "policy line 1: not an Ed25519 cosignature (0x04) vkey"),
        ("log KEYA\nquorum none\n", "policy line 1: not an Ed25519 (0x01) log vkey"),
        ("log LOGKEY\nlog LOGKEY\nquorum none\n", "policy line 2: duplicate log key"),
        ("witness A KEYA url extra\nquorum A\n", "policy line 1: expected `witness <name> <vkey> [<url>]`"),
        ("quorum none\nwitnesses A\n", "policy line 2: unknown keyword witnesses"),
        ("quorum none\r\n", "policy line 1: a control character"),
    ])
    func malformed(_ text: String, _ message: String) throws {
        let a = try Cosigner(name: "a.example", keyPair: .generate()), b = try Cosigner(name: "b.example", keyPair: .generate())
        let filled = text.replacingOccurrences(of: "KEYA", with: a.verifier.text).replacingOccurrences(of: "KEYB", with: b.verifier.text)
            .replacingOccurrences(of: "LOGKEY", with: log.verifier.text)
        #expect(throws: VaultError(.config, message)) { try TlogPolicy(text: filled) }
    }

    @Test("A policy over 64 KiB is refused")
    func tooLarge() {
        #expect(throws: VaultError.self) { try TlogPolicy(text: String(repeating: "# padding\n", count: 7000) + "quorum none\n") }
    }
}
