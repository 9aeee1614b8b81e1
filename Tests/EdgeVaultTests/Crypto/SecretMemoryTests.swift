import Foundation
import NIOCore
import Testing
@testable import EdgeVaultCore
@testable import EdgeVaultStore
@testable import EdgeVaultServer
@testable import EdgeVaultClient
@testable import EdgeVaultTerminal

@Suite("Secrets and borrowed memory")
struct SecretMemoryTests {
    func text(_ s: SecureBytes) -> String {
        s.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
    }

    @Test("A password file's first line is read straight into guarded memory: LF, CRLF, CR, no line end, empty")
    func passwordFirstLine() throws {
        let dir = TemporaryDirectory()
        let cases: [(String, String)] = [("s3cret\nsecond line\n", "s3cret"), ("pw\r\n", "pw"), ("old-mac\rx", "old-mac"),
                                         ("no line end", "no line end"), ("", ""), ("\nafter", "")]
        for (i, (content, line)) in cases.enumerated() {
            let path = dir.path + "/pw\(i)"
            try Data(content.utf8).write(to: URL(fileURLWithPath: path))
            let secret = try SecureBytes.firstLine(ofFile: path, limit: 4096)
            #expect(secret.count == line.utf8.count && text(secret) == line, "\(content.debugDescription)")
        }
    }

    @Test("A password file over the limit or missing is refused with the file's name")
    func passwordFileRefused() throws {
        let dir = TemporaryDirectory()
        let path = dir.path + "/big"
        try Data(String(repeating: "x", count: 4097).utf8).write(to: URL(fileURLWithPath: path))
        do {
            _ = try SecureBytes.firstLine(ofFile: path, limit: 4096)
            Issue.record("expected an error")
        } catch let e as FileIO.Failure {
            #expect(e.errno == EFBIG && e.path == path)
        }
        try Data(String(repeating: "x", count: 4096).utf8).write(to: URL(fileURLWithPath: path))
        #expect(try SecureBytes.firstLine(ofFile: path, limit: 4096).count == 4096)
        do {
            _ = try SecureBytes.firstLine(ofFile: dir.path + "/missing", limit: 4096)
            Issue.record("expected an error")
        } catch let e as FileIO.Failure {
            #expect(e.isNotFound)
        }
    }

    @Test("CONNECT carries the password from guarded memory; packets compare passwords by content")
    func connectPassword() throws {
        var bytes = Array("pw".utf8)
        let password = SecureBytes(wiping: &bytes)
        #expect(bytes == [0, 0])
        let connect = MQTTPacket.Connect(clientId: "c", cleanSession: false, keepAliveSeconds: 5, username: "u", password: password)
        var out = ByteBuffer()
        try MQTTPacket.connect(connect).encode(into: &out)
        #expect(Array(out.readableBytesView.suffix(4)) == [0, 2, 0x70, 0x77])
        var other = Array("pv".utf8)
        #expect(MQTTPacket.connect(connect) != .connect(.init(clientId: "c", cleanSession: false, keepAliveSeconds: 5, username: "u",
                                                              password: SecureBytes(wiping: &other))))
        #expect(MQTTPacket.connect(connect) != .connect(.init(clientId: "c", cleanSession: false, keepAliveSeconds: 5, username: "u")))
        var empty: [UInt8] = []
        let none = MQTTPacket.Connect(clientId: "c", cleanSession: false, keepAliveSeconds: 5, username: "u", password: SecureBytes(wiping: &empty))
        var emptyOut = ByteBuffer()
        try MQTTPacket.connect(none).encode(into: &emptyOut)
        #expect(Array(emptyOut.readableBytesView.suffix(2)) == [0, 0])
    }

    @Test("ReadingBatch copies a value while the array lends its bytes, and keeps it after the array is gone")
    func readingBatchCopiesValues() throws {
        var batch = ReadingBatch()
        for i in 0..<200 {
            let value = Array("\(i).5".utf8)
            try batch.append(stream: "s/\(i % 3)", t: Int64(i), value: value, line: i + 1)
        }
        #expect(batch.count == 200)
        for (i, e) in batch.entries.enumerated() {
            #expect(Array(batch.value(of: e)) == Array("\(i).5".utf8))
        }
        let kept = batch.without(lines: Set(stride(from: 1, through: 200, by: 2)))
        #expect(kept.count == 100)
        #expect(kept.entries.map { Array(kept.value(of: $0)) } == (0..<200).filter { $0 % 2 == 1 }.map { Array("\($0).5".utf8) })
        #expect(throws: ReadingError.self) { try batch.append(stream: "s/0", t: -1, value: Array("1".utf8), line: 1) }
    }
}
