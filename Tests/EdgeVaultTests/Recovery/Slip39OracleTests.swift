import Foundation
import Testing
import EdgeVaultCore
import EdgeVaultRecovery

/// python3 on PATH, if any (decides whether the oracle tests run).
let slip39OraclePython3: String? = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
    .map { "\($0)/python3" }.first { FileManager.default.isExecutableFile(atPath: $0) }

/// An independent oracle: Trezor's reference implementation (shamir-mnemonic 0.3.0 from PyPI,
/// in .build/slip39-oracle-venv, made by scripts/slip39-oracle-venv) combines our shares and
/// we combine its shares. Skipped, with the reason recorded, only when python3 is absent;
/// with python3 present, a venv that cannot be made fails the test.
@Suite(.enabled(if: slip39OraclePython3 != nil, "python3 is not on PATH: the shamir-mnemonic oracle cannot run"))
struct Slip39OracleTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    static let program = """
        import json, sys
        import shamir_mnemonic as s
        r = json.load(sys.stdin)
        if r["op"] == "combine":
            print(s.combine_mnemonics(r["mnemonics"], r["passphrase"].encode()).hex())
        else:
            groups = [tuple(g) for g in r["groups"]]
            print(json.dumps(s.generate_mnemonics(r["groupThreshold"], groups, bytes.fromhex(r["secret"]),
                r["passphrase"].encode(), extendable=r["extendable"], iteration_exponent=r["e"])))
        """

    /// Runs `program` in the oracle's venv with `request` as JSON on stdin; its stdout.
    static func oracle(_ request: [String: Any]) throws -> String {
        let venv = root + "/.build/slip39-oracle-venv/bin/python"
        if !FileManager.default.isExecutableFile(atPath: venv) {
            let setup = try run(root + "/scripts/slip39-oracle-venv", [], input: Data())
            #expect(setup.status == 0, "scripts/slip39-oracle-venv: \(setup.err)")
        }
        let result = try run(venv, ["-c", program], input: try JSONSerialization.data(withJSONObject: request))
        guard result.status == 0 else { throw VaultError(.internalError, "oracle failed: \(result.err)") }
        return result.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func run(_ path: String, _ arguments: [String], input: Data) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        stdin.fileHandleForWriting.write(input)
        try stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var length: Int, groupThreshold: Int, groups: [[Int]], passphrase: String, e: Int, extendable: Bool
        var testDescription: String {
            "\(length) bytes, \(groupThreshold) of \(groups), passphrase '\(passphrase)', e=\(e), extendable \(extendable)"
        }
    }

    static let cases: [Case] = [
        Case(length: 32, groupThreshold: 2, groups: [[1, 1], [2, 3], [2, 3]], passphrase: "", e: 1, extendable: true),
        Case(length: 16, groupThreshold: 1, groups: [[3, 5]], passphrase: "TREZOR", e: 0, extendable: false),
        Case(length: 24, groupThreshold: 3, groups: [[2, 2], [1, 1], [3, 4], [2, 3]], passphrase: "a b~c", e: 2, extendable: true),
    ]

    /// Ours → theirs: shares we make, combined by shamir-mnemonic (threshold-many of each
    /// group of the first groupThreshold groups).
    @Test(arguments: cases)
    func referenceCombinesOurShares(_ c: Case) throws {
        let secret = Sodium.randomBytes(c.length)
        let groups = try Slip39.split(
            secret: secret, groupThreshold: c.groupThreshold, groups: c.groups.map { ($0[0], $0[1]) },
            passphrase: c.passphrase, iterationExponent: c.e, extendable: c.extendable)
        var chosen = [String]()
        for g in 0..<c.groupThreshold { chosen += groups[g].suffix(c.groups[g][0]) }
        let recovered = try Self.oracle(["op": "combine", "mnemonics": chosen.shuffled(), "passphrase": c.passphrase])
        #expect(recovered == Encoding.hex(secret))
    }

    /// Theirs → ours: shares shamir-mnemonic makes, combined and verified here.
    @Test(arguments: cases)
    func weCombineReferenceShares(_ c: Case) throws {
        let secret = Sodium.randomBytes(c.length)
        let json = try Self.oracle([
            "op": "split", "groupThreshold": c.groupThreshold, "groups": c.groups, "secret": Encoding.hex(secret),
            "passphrase": c.passphrase, "extendable": c.extendable, "e": c.e,
        ])
        let groups = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String]])
        var chosen = [String]()
        for g in (0..<c.groups.count).suffix(c.groupThreshold) { chosen += groups[g].prefix(c.groups[g][0]) }
        let recovered = try Slip39.combine(mnemonics: chosen.shuffled(), passphrase: c.passphrase)
        #expect(recovered.withUnsafeBytes { Array($0) } == secret)
        let info = try Slip39.verify(mnemonics: chosen)
        #expect(info.extendable == c.extendable && info.iterationExponent == c.e && info.groupThreshold == c.groupThreshold)
    }
}
