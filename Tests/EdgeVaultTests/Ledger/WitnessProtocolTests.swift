import Foundation
import Testing
@testable import EdgeVaultCore

/// A log of `n` random leaves with its signed checkpoints, for the add-checkpoint error paths.
struct TestLog {
    let origin: String
    let key = SigningKeyPair.generate()
    var reader = ArrayHashReader(leafHashes: [])

    init(size: Int, origin: String = "edgevault.local/witness-test") {
        self.origin = origin
        for _ in 0..<size { reader.append(Merkle.leafHash(Sodium.randomBytes(8))) }
    }

    var verifier: SignedNote.Verifier { try! SignedNote.Verifier(NoteKeys.verifierKey(name: origin, publicKey: key.publicKey.bytes)) }
    var witnessLog: WitnessLog { WitnessLog(origin: origin, keys: [verifier]) }

    func root(_ size: Int64) -> Merkle.Hash { try! Merkle.treeHash(size: size, reader: reader) }
    func state(_ size: Int64) -> WitnessLogState { WitnessLogState(size: size, root: root(size)) }
    func note(_ size: Int64, root: Merkle.Hash? = nil, signer: SigningKeyPair? = nil) -> String {
        SignedNote.sign(text: Checkpoint(origin: origin, size: size, root: root ?? self.root(size)).text, name: origin, keyPair: signer ?? key)
    }
    func proof(_ old: Int64, _ new: Int64) -> [Merkle.Hash] { old == 0 || old == new ? [] : try! Merkle.consistencyProof(first: old, second: new, reader: reader) }
    func body(old: Int64, new: Int64, proof: [Merkle.Hash]? = nil, note: String? = nil) -> [UInt8] {
        let p = proof ?? self.proof(old, new)
        return Array(("old \(old)\n" + p.map { Encoding.base64($0) + "\n" }.joined() + "\n" + (note ?? self.note(new))).utf8)
    }
}

@Suite("C2SP tlog-witness add-checkpoint")
struct WitnessProtocolTests {
    let cosigner = try! Cosigner(name: "witness.edgevault.local/w1", keyPair: .generate())
    let now: UInt64 = 1_750_000_000

    func run(_ log: TestLog, _ body: [UInt8], stored: WitnessLogState?) -> WitnessOutcome {
        WitnessCore.evaluate(body: body, lookup: { $0 == log.origin ? (log.witnessLog, stored) : nil }, cosigner: cosigner, now: now)
    }

    /// Two statuses differ from litewitness's, on purpose: the unknown origin is 404 (the spec's
    /// MUST; litewitness answers 403), and the second request's signature line ends `…6gx=`,
    /// base64 with non-zero padding bits that Go decodes leniently (then the signature fails:
    /// 403) and EdgeVault's strict decoding refuses as a malformed note (400).
    @Test("litewitness's nine sigsum requests, replayed in order, get litewitness's statuses but 400 for non-canonical base64 and 404 for the unknown origin")
    func litewitnessSequence() throws {
        let v = try C2SPVectors.section("addCheckpoint")
        let origin = v["sigsumOrigin"] as! String
        let logKey = try SignedNote.Verifier(NoteKeys.verifierKey(name: origin, publicKey: hex(v["sigsumLogKeyHex"] as! String)))
        #expect(logKey.keyHash == 0x5202289b)
        let log = WitnessLog(origin: origin, keys: [logKey])
        let witness = try C2SPVectors.litewitnessCosigner()
        var stored: WitnessLogState?
        var statuses: [Int] = []
        var conflicts: [String] = []
        for r in v["requests"] as! [[String: Any]] {
            let body = Array((r["body"] as! String).utf8)
            let outcome = WitnessCore.evaluate(body: body, lookup: { $0 == origin ? (log, stored) : nil }, cosigner: witness, now: now)
            statuses.append(outcome.status)
            switch outcome {
            case .cosigned(let line, let state):
                let req = try AddCheckpointRequest(body: body)
                #expect(try witness.verifier.verify(line: line, checkpointText: req.parsedNote.text) == now)
                #expect(state == WitnessLogState(size: req.checkpoint.size, root: req.checkpoint.root))
                stored = state
            case .conflict:
                #expect(outcome.contentType == "text/x.tlog.size")
                conflicts.append(outcome.body)
            default: break
            }
        }
        let expected = (v["requests"] as! [[String: Any]]).map { $0["litewitnessStatus"] as! Int }
        #expect(expected[1] == 403 && expected[2] == 403)
        #expect((v["requests"] as! [[String: Any]])[1]["body"].map { ($0 as! String).contains("x6gx=\n") } == true)
        #expect(Encoding.fromBase64("6gx=") == nil && Encoding.fromBase64("6go=") != nil)
        #expect(statuses == [expected[0], 400, 404] + expected[3...])
        #expect(conflicts == ["3\n", "5\n"])
        #expect(stored?.size == 5)
    }

    @Test("sum.golang.org's checkpoint (key name ≠ origin) is cosigned from old 0, and the served note verifies with both keys")
    func sumdb() throws {
        let v = try C2SPVectors.section("addCheckpoint")
        let log = WitnessLog(origin: "go.sum database tree", keys: [try SignedNote.Verifier(v["sumdbVkey"] as! String)])
        let body = Array((v["sumdbRequest"] as! String).utf8)
        let outcome = WitnessCore.evaluate(body: body, lookup: { $0 == log.origin ? (log, nil) : nil }, cosigner: cosigner, now: now)
        guard case .cosigned(let line, let state) = outcome else { Issue.record("not cosigned: \(outcome)"); return }
        #expect(state.size == 35_225_469)
        let served = try SignedNote.appending(line, to: try AddCheckpointRequest(body: body).note)
        let parsed = try SignedNote.parse(served)
        #expect(try cosigner.verifier.verify(parsed) == [now])
        #expect(try SignedNote.open(served, verifiers: log.keys) == parsed.text)
    }

    @Test("The spec's example body parses and encodes back byte for byte; its keys are not ours (403)")
    func specExample() throws {
        let text = try C2SPVectors.load()["addCheckpointSpec"] as! String
        let req = try AddCheckpointRequest(body: Array(text.utf8))
        #expect(req.oldSize == 20_852_014 && req.proof.count == 4 && req.checkpoint.size == 20_852_163)
        #expect(req.parsedNote.signatures.count == 2)
        #expect(req.body == text)
        let log = WitnessLog(origin: "example.com/behind-the-sofa", keys: [TestLog(size: 0).verifier])
        #expect(WitnessCore.evaluate(request: req, log: log, stored: nil, cosigner: cosigner, now: now).status == 403)
    }

    @Test("First checkpoint ever from old 0 is cosigned; old 0 with a proof is 422")
    func firstCheckpoint() {
        let log = TestLog(size: 8)
        #expect(run(log, log.body(old: 0, new: 8), stored: nil) == .cosigned(lines: cosigner.cosign(checkpointText: Checkpoint(origin: log.origin, size: 8, root: log.root(8)).text, time: now), newState: log.state(8)))
        #expect(run(log, log.body(old: 0, new: 8, proof: [log.root(4)]), stored: nil).status == 422)
    }

    @Test("Size 0: the empty root is cosigned, any other root is 422")
    func sizeZero() {
        let log = TestLog(size: 0)
        #expect(run(log, log.body(old: 0, new: 0), stored: nil).status == 200)
        #expect(run(log, log.body(old: 0, new: 0, note: log.note(0, root: Hash.sha256([1]))), stored: nil).status == 422)
    }

    @Test("A valid consistency proof from the stored size is cosigned; a flipped hash is 422")
    func consistency() {
        let log = TestLog(size: 13)
        #expect(run(log, log.body(old: 5, new: 13), stored: log.state(5)).status == 200)
        var bad = log.proof(5, 13)
        bad[1][0] ^= 1
        #expect(run(log, log.body(old: 5, new: 13, proof: bad), stored: log.state(5)) == .badProof("the consistency proof from 5 to 13 does not verify"))
        #expect(run(log, log.body(old: 5, new: 13, proof: []), stored: log.state(5)).status == 422)
    }

    @Test("Same size with a different root is 422; same size, same root is cosigned again")
    func sameSize() {
        let log = TestLog(size: 8)
        #expect(run(log, log.body(old: 8, new: 8, note: log.note(8, root: Hash.sha256([2]))), stored: log.state(8)).status == 422)
        #expect(run(log, log.body(old: 8, new: 8), stored: log.state(8)).status == 200)
    }

    @Test("Old size ≠ stored size is 409 with `<size>\\n` as text/x.tlog.size, including a rollback below it and a first request with old ≠ 0")
    func conflicts() {
        let log = TestLog(size: 8)
        let rollback = run(log, log.body(old: 5, new: 5), stored: log.state(8))
        #expect(rollback == .conflict(size: 8))
        #expect(rollback.status == 409 && rollback.body == "8\n" && rollback.contentType == "text/x.tlog.size")
        #expect(run(log, log.body(old: 3, new: 8), stored: nil) == .conflict(size: 0))
    }

    @Test("Unknown origin is 404; a signature by an untrusted key is 403; a trusted key's bad signature is 403")
    func originAndSignature() {
        let log = TestLog(size: 4)
        let other = TestLog(size: 4, origin: "edgevault.local/another-log")
        #expect(run(log, other.body(old: 0, new: 4), stored: nil).status == 404)
        #expect(run(log, log.body(old: 0, new: 4, note: log.note(4, signer: .generate())), stored: nil).status == 403)
        let forged = log.note(4).replacingOccurrences(of: "\n\n\u{2014} \(log.origin) ", with: "\n\n\u{2014} \(log.origin) AAAA")
        let outcome = run(log, log.body(old: 0, new: 4, note: forged), stored: nil)
        #expect(outcome.status == 403)
        let tampered = log.note(4).replacingOccurrences(of: "\n4\n", with: "\n5\n")
        #expect(run(log, log.body(old: 0, new: 5, note: tampered), stored: nil).status == 403)
    }

    @Test("Old size past the checkpoint's size is 400")
    func oldPastNew() {
        let log = TestLog(size: 8)
        #expect(run(log, log.body(old: 8, new: 5, proof: []), stored: log.state(8)) == .malformed("old size 8 is past the checkpoint's size 5"))
    }

    @Test("63 proof lines parse; 64 are 400")
    func proofLineLimit() throws {
        let log = TestLog(size: 2)
        let hashes = (0..<64).map { _ in Sodium.randomBytes(32) }
        #expect(try AddCheckpointRequest(body: log.body(old: 1, new: 2, proof: Array(hashes.prefix(63)))).proof.count == 63)
        #expect(throws: AddCheckpointError.malformed("more than 63 consistency proof lines")) { try AddCheckpointRequest(body: log.body(old: 1, new: 2, proof: hashes)) }
        #expect(run(log, log.body(old: 1, new: 2, proof: hashes), stored: log.state(1)).status == 400)
    }

    @Test("A body over 128 KiB is 413 before it is read")
    func oversized() {
        let log = TestLog(size: 1)
        let body = Array(log.body(old: 0, new: 1)) + [UInt8](repeating: 0x41, count: AddCheckpointRequest.maxBodyBytes)
        #expect(run(log, body, stored: nil) == .tooLarge(limit: 131_072))
        #expect(run(log, body, stored: nil).status == 413)
    }

    @Test("Garbage bodies are 400", arguments: [
        "", "old\n\n", "old 01\n\n", "old -1\n\n", "old +1\n\n", "old 1\n", "old 0\nnot base64\n\nx\n1\nAAAA\n\n— x AAAAAA==\n",
        "old 0\n\norigin\n1\n", "old 0\n\norigin\nx\nAAAA\n\n— o AAAAAAAA\n", "new 0\n\n",
    ])
    func garbage(_ text: String) {
        let log = TestLog(size: 1)
        #expect(run(log, Array(text.utf8), stored: nil).status == 400)
    }

    @Test("A body that is not UTF-8 is 400")
    func notUTF8() {
        let log = TestLog(size: 1)
        #expect(run(log, log.body(old: 0, new: 1) + [0xFF], stored: nil).status == 400)
    }

    @Test("A request encodes and parses back")
    func roundTrip() throws {
        let log = TestLog(size: 9)
        let req = try AddCheckpointRequest(oldSize: 3, proof: log.proof(3, 9), note: log.note(9))
        #expect(try AddCheckpointRequest(body: Array(req.body.utf8)) == req)
    }
}
