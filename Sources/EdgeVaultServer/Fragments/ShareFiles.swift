import EdgeVaultCore
#if canImport(Glibc)
import Glibc
#endif

/// The bytes of the shares a vault holds for its peers: one file per share,
/// `<data dir>/shares/<storageIndex>.<n>`, mode 0600, outside the database (a backup of this
/// vault never carries its peers' shares).
struct ShareFiles: Sendable {
    let directory: String

    init(dataDir: String) {
        directory = dataDir + "/shares"
    }

    func path(storageIndex: String, n: Int) -> String { directory + "/\(storageIndex).\(n)" }

    /// Writes `bytes` to a new temporary file and returns its path (to `install` or `discard`).
    func stage(_ bytes: [UInt8]) throws -> String {
        try FileIO.makeDirectories(directory, mode: 0o700)
        let tmp = directory + "/.tmp-" + Encoding.hex(Sodium.randomBytes(8))
        try FileIO.writeNew(tmp, bytes, mode: 0o600)
        return tmp
    }

    func install(_ staged: String, storageIndex: String, n: Int) throws {
        let target = path(storageIndex: storageIndex, n: n)
        guard rename(staged, target) == 0 else { throw FileIO.Failure(path: target, errno: errno, action: "store") }
    }

    func discard(_ staged: String) { unlink(staged) }

    func read(storageIndex: String, n: Int, length: Int) throws -> [UInt8] {
        try FileIO.read(path(storageIndex: storageIndex, n: n), limit: length)
    }
}
