import Foundation
import Testing
@testable import EdgeVaultCore

/// Published C2SP vectors (Fixtures/c2sp-witness-vectors.json names each source and commit).
enum C2SPVectors {
    static func load() throws -> [String: Any] { try Fixtures.json("c2sp-witness-vectors") }
    static func section(_ name: String) throws -> [String: Any] { try load()[name] as! [String: Any] }

    /// The witness key of litewitness's tests (torchwood internal/witness/witness_test.go).
    static func litewitnessCosigner() throws -> Cosigner {
        let v = try section("addCheckpoint")
        var seed = hex(v["witnessSeedHex"] as! String)
        return try Cosigner(name: v["witnessName"] as! String, keyPair: SigningKeyPair(seed: SecureBytes(wiping: &seed)))
    }
}

@Suite("C2SP signed notes, generalised (all signature lines)")
struct SignedNoteParserTests {
    @Test("golang.org/x/mod's two-signature note: both lines parsed with their key hashes; either key opens it")
    func goVectors() throws {
        let v = try C2SPVectors.section("signedNote") as! [String: String]
        let note = v["text"]! + "\n" + v["peterSig"]! + v["enochSig"]!
        let parsed = try SignedNote.parse(note)
        #expect(parsed.text == v["text"]!)
        #expect(parsed.signatures.map(\.name) == ["PeterNeumann", "EnochRoot"])
        #expect(parsed.signatures.map(\.keyHash) == [0xc74f20a3, 0xaf0cfe78])
        #expect(parsed.signatures.map(\.line) == [v["peterSig"]!, v["enochSig"]!])
        #expect(parsed.note == note)
        #expect(try SignedNote.open(note, verifiers: [SignedNote.Verifier(v["peterKey"]!)]) == v["text"]!)
        #expect(try SignedNote.open(note, verifiers: [SignedNote.Verifier(v["enochKey"]!)]) == v["text"]!)
    }

    @Test("The signed-note spec's example and sum.golang.org's checkpoint verify with their vkeys")
    func specAndSumDB() throws {
        let s = try C2SPVectors.section("signedNoteSpec") as! [String: String]
        #expect(try SignedNote.open(s["note"]!, verifiers: [SignedNote.Verifier(s["vkey"]!)]) == "This is an example message.\n")
        let d = try C2SPVectors.section("sumdbCheckpoint") as! [String: String]
        let cp = try Checkpoint(text: SignedNote.open(d["note"]!, verifiers: [SignedNote.Verifier(d["vkey"]!)]))
        #expect(cp.origin == "go.sum database tree")
        #expect(cp.size == 6_476_701)
    }

    @Test("Limits: 100 signature lines parse, 101 do not; control characters and bad lines are refused")
    func limits() throws {
        let v = try C2SPVectors.section("signedNote") as! [String: String]
        let hundred = v["text"]! + "\n" + String(repeating: v["enochSig"]!, count: 100)
        #expect(try SignedNote.parse(hundred).signatures.count == 100)
        #expect(throws: VaultError.self) { try SignedNote.parse(hundred + v["peterSig"]!) }
        #expect(throws: VaultError.self) { try SignedNote.parse("a\u{7}b\n\n" + v["peterSig"]!) }
        #expect(throws: VaultError.self) { try SignedNote.parse(v["text"]! + "\n— Peter Neumann x08go/ZJ\n") }
        #expect(throws: VaultError.self) { try SignedNote.parse(v["text"]! + "\n— PeterNeumann not base64!\n") }
        #expect(throws: VaultError.self) { try SignedNote.parse(v["text"]! + "\n" + v["peterSig"]!.dropLast()) }
    }

    @Test("Appending cosignature lines keeps the log signature, skips an identical line, and stays within 100")
    func appending() throws {
        let v = try C2SPVectors.section("signedNote") as! [String: String]
        let note = v["text"]! + "\n" + v["peterSig"]!
        let both = try SignedNote.appending(v["enochSig"]!, to: note)
        #expect(both == note + v["enochSig"]!)
        #expect(try SignedNote.appending(v["enochSig"]! + v["peterSig"]!, to: both) == both)
        #expect(throws: VaultError.self) { try SignedNote.appending("— x\n", to: note) }
        let full = v["text"]! + "\n" + String(repeating: v["peterSig"]!, count: 100)
        let other = try Cosigner(name: "w.example/x", keyPair: .generate()).cosign(checkpointText: v["text"]!, time: 1)
        #expect(throws: VaultError.self) { try SignedNote.appending(other, to: full) }
    }
}

@Suite("C2SP tlog-cosignature (cosignature/v1, Ed25519 type 0x04)")
struct CosignatureTests {
    @Test("A published 0x04 vkey parses with its key ID and prints back; key types are not interchangeable")
    func vkeys() throws {
        let remora = try C2SPVectors.load()["cosignatureVkey"] as! String
        let v = try CosignatureVerifier(remora)
        #expect(v.name == "remora.n621.de")
        #expect(v.keyHash == 0xda77ade7)
        #expect(v.text == remora)
        #expect(throws: VaultError.self) { try SignedNote.Verifier(remora) }
        let peter = (try C2SPVectors.section("signedNote") as! [String: String])["peterKey"]!
        #expect(throws: VaultError.self) { try CosignatureVerifier(peter) }
        #expect(throws: VaultError.self) { try CosignatureVerifier(remora.replacingOccurrences(of: "da77ade7", with: "da77ade8")) }
    }

    @Test("Timestamps read from published cosignatures; a 0x01 signature is not a cosignature")
    func timestamps() throws {
        let t = try C2SPVectors.section("cosignatureTimestamp")
        #expect(Cosignature.time(of: Encoding.fromBase64(t["works"] as! String)!) == UInt64(t["time"] as! Int))
        #expect(Cosignature.time(of: Encoding.fromBase64(t["wrongType"] as! String)!) == nil)
        let spec = try C2SPVectors.section("cosignatureSpec")
        let parsed = try SignedNote.parse(spec["note"] as! String)
        #expect(parsed.signatures.count == 2)
        #expect(Cosignature.time(of: parsed.signatures[1].blob) == UInt64(spec["time"] as! Int))
    }

    @Test("The signed message is the spec's example byte for byte")
    func message() throws {
        let spec = try C2SPVectors.section("cosignatureSpec")
        let text = try SignedNote.parse(spec["note"] as! String).text
        #expect(Cosignature.message(checkpointText: text, time: UInt64(spec["time"] as! Int)) == Array((spec["message"] as! String).utf8))
    }

    @Test("litewitness's test key: derived public key matches; cosign then verify; any change fails")
    func roundTrip() throws {
        let cosigner = try C2SPVectors.litewitnessCosigner()
        let v = try C2SPVectors.section("addCheckpoint")
        #expect(cosigner.keyPair.publicKey.bytes == hex(v["witnessPublicKeyHex"] as! String))
        let text = "example.com/log\n5\n\(Encoding.base64(Hash.sha256([1])))\n"
        let line = cosigner.cosign(checkpointText: text, time: 1_700_000_000)
        #expect(line.hasPrefix("\u{2014} example.com/witness ") && line.hasSuffix("\n"))
        let blob = try SignedNote.Signature(line: line.dropLast()).blob
        #expect(blob.count == 76)
        #expect(Array(blob[4..<12]) == [0, 0, 0, 0, 0x65, 0x53, 0xF1, 0x00])
        #expect(try cosigner.verifier.verify(line: line, checkpointText: text) == 1_700_000_000)
        #expect(throws: VaultError.self) { try cosigner.verifier.verify(line: line, checkpointText: text.replacingOccurrences(of: "5", with: "6")) }
        var later = blob
        later[11] ^= 1
        #expect(throws: VaultError.self) { try cosigner.verifier.verify(blob: later, checkpointText: text) }
        let other = try Cosigner(name: cosigner.name, keyPair: .generate())
        #expect(throws: VaultError.self) { try other.verifier.verify(line: line, checkpointText: text) }
        #expect(throws: VaultError.self) { try cosigner.verifier.verify(blob: Array(blob.dropLast()), checkpointText: text) }
        // A log signature (0x01) by the same key over the same text is not a cosignature.
        let logLine = try SignedNote.parse(SignedNote.sign(text: text, name: cosigner.name, keyPair: cosigner.keyPair)).signatures[0]
        #expect(!cosigner.verifier.matches(logLine))
    }

    @Test("The witness signer-key file round-trips, is type 0x04, and is not a log key")
    func signerKey() throws {
        let cosigner = try C2SPVectors.litewitnessCosigner()
        let text = cosigner.signerKey
        let s = text.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        #expect(s.hasPrefix("PRIVATE+KEY+example.com/witness+\(String(cosigner.verifier.keyHash, radix: 16).leftPadded(to: 8))+B"))
        let back = try Cosigner(signerKey: text)
        #expect(back.name == cosigner.name && back.keyPair.publicKey == cosigner.keyPair.publicKey)
        #expect(throws: VaultError.self) { try NoteKeys.parseSignerKey(text) }
        #expect(throws: VaultError.self) { try Cosigner(signerKey: NoteKeys.signerKey(name: "w.example", keyPair: cosigner.keyPair)) }
    }
}
