import Foundation
import Testing
@testable import EdgeVaultCore
@testable import EdgeVaultStore
@testable import EdgeVaultServer
@testable import EdgeVaultClient
@testable import EdgeVaultTerminal

@Suite("FileIO writes (swift-system FileDescriptor)")
struct FileIOTests {
    @Test("New files, appends and replacements hold every byte written, in order")
    func writesEveryByte() throws {
        let dir = TemporaryDirectory()
        let big = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try FileIO.writeNew(dir.path + "/new", big, mode: 0o600)
        #expect(try FileIO.read(dir.path + "/new", limit: 1 << 20) == big)
        try FileIO.append(dir.path + "/new", [1, 2, 3], mode: 0o600)
        #expect(try FileIO.read(dir.path + "/new", limit: 1 << 20) == big + [1, 2, 3])
        try FileIO.replace(dir.path + "/new", Array("x".utf8), mode: 0o600)
        #expect(try FileIO.read(dir.path + "/new", limit: 1 << 20) == Array("x".utf8))
        #expect(throws: FileIO.Failure.self) { try FileIO.writeNew(dir.path + "/new", [0], mode: 0o600) }
    }

    @Test("A failed write is a FileIO.Failure naming the path, the action and the errno")
    func failedWrite() throws {
        let dir = TemporaryDirectory()
        try FileIO.writeNew(dir.path + "/ro", [0], mode: 0o600)
        let fd = open(dir.path + "/ro", O_RDONLY)
        defer { close(fd) }
        do {
            try FileIO.writeAll(fd, [1, 2], path: "the output", action: "write to")
            Issue.record("expected an error")
        } catch let e as FileIO.Failure {
            #expect(e.errno == EBADF)
            #expect(e.description == "cannot write to the output: \(String(cString: strerror(EBADF)))")
        }
    }
}
