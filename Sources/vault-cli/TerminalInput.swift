import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import EdgeVaultTerminal
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The review prompt's keyboard: what the person types is read only after they could see
/// what it answers (docs/SECURITY.md, "answered blind").
///
/// Input typed ahead — while the screen was drawing, while the passphrase was checked, while
/// waiting for requests — is discarded, and keys are ignored for a moment after each screen is
/// fully drawn, as browsers do for permission dialogs.
struct TerminalInput: Sendable {
    let fd: Int32 = 0
    let isTerminal = isatty(0) != 0
    /// How long keys are ignored after a screen is drawn.
    var settle: Duration = .seconds(1)

    /// Drops everything typed so far and not yet read.
    func discardTypeAhead() {
        if isTerminal { tcflush(fd, TCIFLUSH) }
    }

    /// Called once a screen is written: waits until the terminal has taken it all, then
    /// ignores keys for `settle` (not echoed, so nothing typed appears under the screen) and
    /// drops them.
    func settleAfterDrawing() async {
        guard isTerminal else { return }
        tcdrain(1)
        var saved = termios()
        let quiet = tcgetattr(fd, &saved) == 0
        if quiet {
            var t = saved
            t.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(fd, TCSANOW, &t)
        }
        discardTypeAhead()
        try? await Task.sleep(for: settle)
        discardTypeAhead()
        if quiet { tcsetattr(fd, TCSANOW, &saved) }
    }

    /// Shows `prompt` and reads one line (nil at end of input). Input typed before the prompt
    /// was shown is dropped first (`fresh`), never after: what is typed once it is visible counts.
    func ask(_ prompt: String, fresh: Bool = true) -> String? {
        if fresh { discardTypeAhead() }
        writeRaw(prompt)
        return readLine()?.trimmingCharacters(in: .whitespaces)
    }

    enum WaitOutcome<T: Sendable>: Sendable {
        case done(T)
        case quit
    }

    /// Runs `work` while watching the keyboard: `q`, Ctrl-D (or the end of input) and Ctrl-C
    /// end the wait at once (`.quit`); any other key is dropped, so nothing typed while waiting
    /// can answer the screen that comes next.
    /// `banner` is shown once the keyboard is watched, so a key typed on seeing it counts.
    func waitWatchingForQuit<T: Sendable>(banner: String, _ work: @escaping @Sendable () async throws -> T) async throws -> WaitOutcome<T> {
        let result = Mutex<Result<T, any Error>?>(nil)
        let task = Task {
            let r: Result<T, any Error>
            do { r = .success(try await work()) } catch { r = .failure(error) }
            result.withLock { $0 = r }
        }
        var saved = termios()
        let raw = isTerminal && tcgetattr(fd, &saved) == 0
        if raw {
            // Keys arrive one at a time, unechoed; Ctrl-C and Ctrl-D arrive as bytes.
            var t = saved
            t.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG)
            withUnsafeMutableBytes(of: &t.c_cc) { cc in
                cc[Int(VMIN)] = 0
                cc[Int(VTIME)] = 0
            }
            tcsetattr(fd, TCSANOW, &t)
        }
        defer {
            if raw {
                tcsetattr(fd, TCSANOW, &saved)
                discardTypeAhead()
            }
        }
        writeRaw(banner)
        var inputOpen = true
        while true {
            if let r = result.withLock({ $0 }) { return .done(try r.get()) }
            if inputOpen {
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                if poll(&p, 1, 0) > 0 {
                    var buffer = [UInt8](repeating: 0, count: 256)
                    let got = read(fd, &buffer, buffer.count)
                    // Readable with nothing to read: the end of input, or the terminal hung up.
                    if got == 0 { task.cancel(); return .quit }
                    if got < 0 && errno != EINTR && errno != EAGAIN { inputOpen = false }
                    if got > 0 && buffer[..<got].contains(where: { $0 == UInt8(ascii: "q") || $0 == UInt8(ascii: "Q") || $0 == 0x04 || $0 == 0x03 }) {
                        task.cancel()
                        return .quit
                    }
                }
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }
}
