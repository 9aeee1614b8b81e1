import EdgeVaultCore
import Hummingbird
import NIOCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The bytes of the shares a vault holds for its peers: one file per share,
/// `<data dir>/shares/<storageIndex>.<n>`, mode 0600, outside the database (a backup of this
/// vault never carries its peers' shares). Shares go to and from these files in 1 MiB pieces:
/// a holder's memory does not grow with the shares it is sent or asked for.
struct ShareFiles: Sendable {
    let directory: String
    static let pieceBytes = 1 << 20

    init(dataDir: String) {
        directory = dataDir + "/shares"
    }

    func path(storageIndex: String, n: Int) -> String { directory + "/\(storageIndex).\(n)" }

    /// Writes a request's body to a new temporary file (name random, created exclusively) as it
    /// arrives, refusing more than `length` bytes; returns its path (to `install` or `discard`),
    /// its SHA-256 and its length.
    func stage(_ body: RequestBody, length: Int) async throws -> (path: String, sha256: [UInt8], count: Int) {
        try FileIO.makeDirectories(directory, mode: 0o700)
        let tmp = directory + "/.tmp-" + Encoding.hex(Sodium.randomBytes(16))
        let writer = try FileIO.Writer(creating: tmp, mode: 0o600)
        var hasher = SHA256Hasher()
        var count = 0
        for try await buffer in body {
            count += buffer.readableBytes
            guard count <= length else {
                throw Problem(code: .shareInvalid, detail: "the share is longer than ceil(size / k) = \(length) bytes")
            }
            let bytes = Array(buffer.readableBytesView)
            hasher.update(bytes)
            try writer.write(bytes)
        }
        try writer.commit()
        return (tmp, hasher.finalize(), count)
    }

    func install(_ staged: String, storageIndex: String, n: Int) throws {
        let target = path(storageIndex: storageIndex, n: n)
        guard rename(staged, target) == 0 else { throw FileIO.Failure(path: target, errno: errno, action: "store") }
    }

    func discard(_ staged: String) { unlink(staged) }

    func remove(storageIndex: String, n: Int) { unlink(path(storageIndex: storageIndex, n: n)) }

    /// SHA-256(prefix ‖ the share's bytes), read in pieces.
    func digest(storageIndex: String, n: Int, prefix: [UInt8] = []) throws -> [UInt8] {
        var hasher = SHA256Hasher()
        hasher.update(prefix)
        let reader = try FileIO.Reader(path(storageIndex: storageIndex, n: n))
        while let piece = try reader.next(Self.pieceBytes) { hasher.update(piece) }
        return hasher.finalize()
    }

    /// The share as a response body of `length` bytes, read in pieces as it is sent; `done`
    /// runs once it is sent or fails.
    func body(storageIndex: String, n: Int, length: Int, done: @escaping @Sendable () -> Void) throws -> ResponseBody {
        let file = path(storageIndex: storageIndex, n: n)
        guard FileIO.exists(file) else { throw FileIO.Failure(path: file, errno: ENOENT, action: "read") }
        return ResponseBody(contentLength: length) { writer in
            defer { done() }
            let reader = try FileIO.Reader(file)
            var sent = 0
            while sent < length, let piece = try reader.next(min(Self.pieceBytes, length - sent)) {
                sent += piece.count
                try await writer.write(ByteBuffer(bytes: piece))
            }
            try await writer.finish(nil)
        }
    }
}

/// Slots for work on share files (writing a share as it arrives, hashing one for an audit,
/// listing deposits): at most `total` at once, and at most `perCaller` for one sending vault or
/// owner, so that one peer cannot take them all. A call that finds none free is answered 429 at
/// once rather than queued, so a peer flooding a holder cannot pile up its disk and CPU.
final class TransferSlots: Sendable {
    private let state: Mutex<[String: Int]>
    let total: Int
    let perCaller: Int

    init(_ total: Int, perCaller: Int = 2) {
        self.total = total
        self.perCaller = perCaller
        state = Mutex([:])
    }

    /// Takes a slot for `caller` (give it back with `give`), or throws 429 when none is free.
    func take(_ caller: String) throws {
        let taken = state.withLock { used -> Bool in
            guard used.values.reduce(0, +) < total, used[caller, default: 0] < perCaller else { return false }
            used[caller, default: 0] += 1
            return true
        }
        guard taken else {
            var problem = Problem(code: .rateLimited, detail: "this peer is busy with other shares; retry in 5 s")
            problem.retryAfter = 5
            throw problem
        }
    }

    func give(_ caller: String) {
        state.withLock { used in
            let n = used[caller, default: 1] - 1
            used[caller] = n > 0 ? n : nil
        }
    }
}
