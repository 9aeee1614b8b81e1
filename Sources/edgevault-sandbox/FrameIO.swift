#if canImport(Glibc)
import Glibc
#endif
import EdgeVaultSandboxFrame

/// Reading the request from fd 0 and writing the outcome to fd 1, with plain read(2) and
/// write(2): the only calls the seccomp filter leaves for I/O (write only, once installed).
enum FrameIO {
    /// Exactly `count` bytes from `fd`, or an error when the stream ends early.
    static func read(exactly count: Int, from fd: Int32) throws(SandboxFrameError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + filled, count - filled) }
            if n > 0 { filled += n; continue }
            if n < 0 && errno == EINTR { continue }
            throw SandboxFrameError(n == 0 ? "request ended early" : "request could not be read")
        }
        return buffer
    }

    /// Whether `fd` is at its end (the runner closes its side after the frame).
    static func atEnd(_ fd: Int32) -> Bool {
        var byte: UInt8 = 0
        while true {
            let n = Glibc.read(fd, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            return n == 0
        }
    }

    /// Reads a whole request: the header, then exactly the lengths it names, then the end.
    static func readRequest(from fd: Int32) throws(SandboxFrameError) -> SandboxRequest {
        let header = try SandboxRequest.decodeHeader(read(exactly: SandboxFrame.requestHeaderSize, from: fd))
        let module = try read(exactly: header.moduleLength, from: fd)
        let stdin = try read(exactly: header.stdinLength, from: fd)
        guard atEnd(fd) else { throw SandboxFrameError("bytes after the request's stdin") }
        return SandboxRequest(fuel: header.fuel, memoryPages: header.memoryPages, outputBytes: header.outputBytes,
                              wallMs: header.wallMs, clockNanos: header.clockNanos, module: module, stdin: stdin)
    }

    /// Writes all of `bytes` to `fd`; false when the reader is gone.
    @discardableResult
    static func write(_ bytes: [UInt8], to fd: Int32) -> Bool {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + sent, bytes.count - sent) }
            if n > 0 { sent += n; continue }
            if n < 0 && errno == EINTR { continue }
            return false
        }
        return true
    }
}
