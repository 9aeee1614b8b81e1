import EdgeVaultCore
import EdgeVaultClient
#if canImport(Glibc)
import Glibc
#endif

/// Reads the person's passphrase: from a file (`--passphrase-file`, for scripts) or from the
/// terminal with echo off. It goes straight into guarded memory and is never logged.
public enum Passphrase {
    /// Reads a passphrase, asking twice when `confirm` is set. Length rules apply to a `new`
    /// passphrase only: when unlocking, the only answer to a wrong one is that it is wrong.
    public static func read(prompt: String, confirm: Bool = false, file: String? = nil, new: Bool = false) throws -> SecureBytes {
        if let file {
            var bytes: [UInt8]
            do {
                bytes = try FileIO.read(file, limit: UserKeyFile.maxPassphraseBytes + 2)
            } catch let e as FileIO.Failure {
                throw VaultError(.passphraseUnavailable, e.isNotFound ? "no passphrase file at \(file)" : e.description)
            }
            if bytes.last == 0x0A { bytes.removeLast() }
            if bytes.last == 0x0D { bytes.removeLast() }
            return try validated(&bytes, new: new)
        }
        var fd: Int32 = 0
        var opened = false
        if isatty(0) == 0 {
            fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)
            guard fd >= 0 else {
                throw VaultError(.passphraseUnavailable, "no terminal to ask for the passphrase; pass --passphrase-file FILE")
            }
            opened = true
        }
        defer { if opened { close(fd) } }
        let first = try readHidden(fd: fd, prompt: prompt, new: new)
        if confirm {
            let second = try readHidden(fd: fd, prompt: "Repeat passphrase: ", new: new)
            guard first.isEqual(to: second) else { throw VaultError(.passphraseUnavailable, "the two passphrases differ; nothing was changed") }
        }
        return first
    }

    static func validated(_ bytes: inout [UInt8], new: Bool) throws -> SecureBytes {
        defer { Sodium.wipe(&bytes) }
        if !new, bytes.isEmpty || bytes.count > UserKeyFile.maxPassphraseBytes {
            throw VaultError(.wrongPassphrase, "wrong passphrase")
        }
        guard !new || bytes.count >= UserKeyFile.minPassphraseBytes else {
            throw VaultError(.passphraseUnavailable, "the passphrase must be at least \(UserKeyFile.minPassphraseBytes) bytes")
        }
        guard bytes.count <= UserKeyFile.maxPassphraseBytes else {
            throw VaultError(.passphraseUnavailable, "the passphrase must be at most \(UserKeyFile.maxPassphraseBytes) bytes")
        }
        return SecureBytes(wiping: &bytes)
    }

    /// Prompts on stderr (or the terminal), turns echo off, reads one line into guarded memory.
    static func readHidden(fd: Int32, prompt: String, new: Bool) throws -> SecureBytes {
        let out = fd == 0 ? 2 : fd
        // Echo goes off before the prompt appears, and without flushing: what the person
        // types as soon as they see the prompt is neither shown nor lost.
        var saved = termios()
        let isTTY = tcgetattr(fd, &saved) == 0
        if isTTY {
            var noEcho = saved
            noEcho.c_lflag &= ~tcflag_t(ECHO)
            noEcho.c_lflag |= tcflag_t(ICANON)
            _ = tcsetattr(fd, TCSANOW, &noEcho)
        }
        defer {
            if isTTY { _ = tcsetattr(fd, TCSANOW, &saved) }
            _ = write(out, "\n", 1)
        }
        _ = prompt.withCString { write(out, $0, strlen($0)) }
        let buffer = SecureBytes(count: UserKeyFile.maxPassphraseBytes + 1)
        var length = 0
        var done = false
        try buffer.withUnsafeMutableBytes { buf in
            var byte: UInt8 = 0
            while !done {
                let n = Glibc.read(fd, &byte, 1)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { if length == 0 { throw VaultError(.passphraseUnavailable, "no passphrase given") }; break }
                if byte == 0x0A || byte == 0x0D { done = true; break }
                guard length < buf.count else {
                    throw new ? VaultError(.passphraseUnavailable, "the passphrase is too long") : VaultError(.wrongPassphrase, "wrong passphrase")
                }
                buf[length] = byte
                length += 1
            }
            byte = 0
        }
        guard length >= (new ? UserKeyFile.minPassphraseBytes : 1) else {
            throw new ? VaultError(.passphraseUnavailable, "the passphrase must be at least \(UserKeyFile.minPassphraseBytes) bytes")
                      : VaultError(.wrongPassphrase, "wrong passphrase")
        }
        return buffer.slice(0..<length)
    }
}
