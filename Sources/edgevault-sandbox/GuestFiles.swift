@_spi(WASIPlatform) import WASI

/// The guest's three file descriptors, all in memory (docs/SECURITY.md §"The compute
/// sandbox"): stdin the job's bytes, stdout and stderr captured up to their caps. No other
/// descriptor exists: no preopens, so no path can be opened.

/// Raised from a stdout write past `outputBytes`: it ends the run (failure `output`).
struct OutputLimitReached: Error {}

/// What both stdio kinds answer alike: a character device that cannot seek or be resized.
protocol StdioLike: WASIFile {
    var rights: WASIAbi.Rights { get }
}

extension StdioLike {
    var isBorrowed: Bool { true }
    func attributes() throws -> WASIAbi.Filestat {
        WASIAbi.Filestat(dev: 0, ino: 0, filetype: .CHARACTER_DEVICE, nlink: 0, size: 0, atim: 0, mtim: 0, ctim: 0)
    }
    func fileType() throws -> WASIAbi.FileType { .CHARACTER_DEVICE }
    func status() throws -> WASIAbi.Fdflags { [] }
    func setTimes(atim: WASIAbi.Timestamp, mtim: WASIAbi.Timestamp, fstFlags: WASIAbi.FstFlags) throws { throw WASIAbi.Errno.EBADF }
    func advise(offset: WASIAbi.FileSize, length: WASIAbi.FileSize, advice: WASIAbi.Advice) throws { throw WASIAbi.Errno.ESPIPE }
    func close() throws {}
    func fdStat() throws -> WASIAbi.FdStat {
        WASIAbi.FdStat(fsFileType: .CHARACTER_DEVICE, fsFlags: [], fsRightsBase: rights, fsRightsInheriting: [])
    }
    func setFdStatFlags(_ flags: WASIAbi.Fdflags) throws { throw WASIAbi.Errno.EBADF }
    func setFilestatSize(_ size: WASIAbi.FileSize) throws { throw WASIAbi.Errno.EBADF }
    func sync() throws {}
    func datasync() throws {}
    func tell() throws -> WASIAbi.FileSize { throw WASIAbi.Errno.ESPIPE }
    func seek(offset: WASIAbi.FileDelta, whence: WASIAbi.Whence) throws -> WASIAbi.FileSize { throw WASIAbi.Errno.ESPIPE }
    func pwrite(vectored buffers: GuestBuffers, offset: WASIAbi.FileSize) throws -> WASIAbi.Size { throw WASIAbi.Errno.ESPIPE }
    func pread(into buffers: GuestBuffers, offset: WASIAbi.FileSize) throws -> WASIAbi.Size { throw WASIAbi.Errno.ESPIPE }
}

/// fd 0: the job's stdin bytes, read once from start to end.
final class GuestInput: StdioLike, @unchecked Sendable {
    private let bytes: [UInt8]
    private var offset = 0
    let rights: WASIAbi.Rights = [.FD_READ]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func read(into buffers: GuestBuffers) throws -> WASIAbi.Size {
        var total = 0
        for i in 0..<buffers.count where offset < bytes.count {
            total += try buffers.withHostBuffer(at: i) { host in
                let n = min(host.count, bytes.count - offset)
                if n > 0 {
                    bytes.withUnsafeBytes { host.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: n) }
                }
                offset += n
                return n
            }
        }
        return WASIAbi.Size(total)
    }

    func write(vectored buffers: GuestBuffers) throws -> WASIAbi.Size { throw WASIAbi.Errno.EBADF }
}

/// fd 1 and fd 2: what the guest writes, kept up to `cap` bytes. Past the cap stdout ends
/// the run (`OutputLimitReached`); stderr drops the rest and says so (`truncated`).
final class GuestOutput: StdioLike, @unchecked Sendable {
    private(set) var bytes: [UInt8] = []
    private(set) var truncated = false
    let cap: Int
    let endsRunWhenFull: Bool
    let rights: WASIAbi.Rights = [.FD_WRITE]

    init(cap: Int, endsRunWhenFull: Bool) {
        self.cap = cap
        self.endsRunWhenFull = endsRunWhenFull
    }

    func write(vectored buffers: GuestBuffers) throws -> WASIAbi.Size {
        var total = 0
        for i in 0..<buffers.count {
            var over = false
            total += try buffers.withHostBuffer(at: i) { host in
                let room = cap - bytes.count
                let keep = min(room, host.count)
                if keep > 0 { bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: host[0..<keep])) }
                if host.count > room { over = true }
                return host.count
            }
            if over {
                truncated = true
                if endsRunWhenFull { throw OutputLimitReached() }
            }
        }
        return WASIAbi.Size(truncatingIfNeeded: total)
    }

    func read(into buffers: GuestBuffers) throws -> WASIAbi.Size { throw WASIAbi.Errno.EBADF }
}
