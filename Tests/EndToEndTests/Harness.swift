import CPseudoTerminal
import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Where `swift build` put the executables: next to the test bundle.
enum Binaries {
    static let directory: String = {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        let exe = n > 0 ? String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().path
    }()

    static func path(_ name: String) throws -> String {
        let p = directory + "/" + name
        guard FileManager.default.isExecutableFile(atPath: p) else {
            throw HarnessError("\(name) is not built at \(p): run `swift build` before the tests (scripts/test does)")
        }
        return p
    }
}

/// The repository's root folder (deploy/, docs/, Fuzz/ … are read from there).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// Collects a pipe's output on a background thread; lets a test await a piece of text.
final class OutputCollector: Sendable {
    private struct Waiter {
        let id: Int
        let matches: @Sendable (String) -> Bool
        let continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var data: [UInt8] = []
        var closed = false
        var nextId = 0
        var waiters: [Waiter] = []
    }

    private let state = Mutex(State())

    /// Reads `fileHandle` (kept alive by the reading thread) until end of file or an error:
    /// a pseudo-terminal's master answers EIO once the child has closed it.
    init(fileHandle: FileHandle) {
        let thread = Thread { [self] in
            let fd = fileHandle.fileDescriptor
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                append(Array(buffer[0..<n]))
            }
            withExtendedLifetime(fileHandle) {}
            finish()
        }
        thread.start()
    }

    private func append(_ bytes: [UInt8]) {
        let ready = state.withLock { s -> [Waiter] in
            s.data += bytes
            let text = String(decoding: s.data, as: UTF8.self)
            let ready = s.waiters.filter { $0.matches(text) }
            s.waiters.removeAll { $0.matches(text) }
            return ready
        }
        for w in ready { w.continuation.resume(returning: true) }
    }

    /// End of stream: every waiter learns its text will not come.
    private func finish() {
        let waiting = state.withLock { s -> [Waiter] in
            s.closed = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiting { w.continuation.resume(returning: false) }
    }

    private func expire(_ id: Int) {
        let expired = state.withLock { s -> Waiter? in
            guard let i = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return s.waiters.remove(at: i)
        }
        expired?.continuation.resume(returning: false)
    }

    var text: String { state.withLock { String(decoding: $0.data, as: UTF8.self) } }

    /// The exact bytes received so far.
    var bytes: [UInt8] { state.withLock { $0.data } }

    /// Waits until `needle` appears (true), or the stream ends or `timeout` passes (false).
    func wait(for needle: String, timeout: Duration = .seconds(30)) async -> Bool {
        await wait(until: { $0.contains(needle) }, timeout: timeout)
    }

    /// Waits until `needle` appears after the last `marker` (true), or the stream ends or
    /// `timeout` passes (false).
    func wait(for needle: String, after marker: String, timeout: Duration = .seconds(30)) async -> Bool {
        await wait(until: { text in
            guard let r = text.range(of: marker, options: .backwards) else { return false }
            return text[r.upperBound...].contains(needle)
        }, timeout: timeout)
    }

    /// Waits until `matches` holds for the whole output so far.
    func wait(until matches: @escaping @Sendable (String) -> Bool, timeout: Duration = .seconds(30)) async -> Bool {
        let id = state.withLock { s -> Int in
            s.nextId += 1
            return s.nextId
        }
        let timer = Task {
            try await Task.sleep(for: timeout)
            self.expire(id)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
            let immediate: Bool? = state.withLock { s in
                if matches(String(decoding: s.data, as: UTF8.self)) { return true }
                if s.closed { return false }
                s.waiters.append(Waiter(id: id, matches: matches, continuation: c))
                return nil
            }
            if let immediate { c.resume(returning: immediate) }
        }
    }
}

struct RunResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var stdoutBytes: [UInt8]
}

/// Runs a process to completion (bounded by `timeout`) and collects its output.
func run(_ executable: String, _ arguments: [String], stdin: [UInt8]? = nil, environment: [String: String] = [:],
         timeout: Duration = .seconds(300)) async throws -> RunResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("EDGEVAULT_") }
    for (k, v) in environment { env[k] = v }
    process.environment = env
    let out = Pipe(), err = Pipe(), input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    let outCollector = OutputCollector(fileHandle: out.fileHandleForReading)
    let errCollector = OutputCollector(fileHandle: err.fileHandleForReading)
    let status: Int32 = try await withCheckedThrowingContinuation { c in
        process.terminationHandler = { p in c.resume(returning: p.terminationStatus) }
        do {
            try process.run()
        } catch {
            c.resume(throwing: error)
            return
        }
        if let stdin {
            DispatchQueue.global().async {
                try? input.fileHandleForWriting.write(contentsOf: Data(stdin))
                try? input.fileHandleForWriting.close()
            }
        } else {
            try? input.fileHandleForWriting.close()
        }
        let pid = process.processIdentifier
        Task {
            try? await Task.sleep(for: timeout)
            kill(pid, SIGKILL)
        }
    }
    _ = await outCollector.wait(for: "\u{0}never", timeout: .seconds(10))
    _ = await errCollector.wait(for: "\u{0}never", timeout: .seconds(10))
    let bytes = Array(outCollector.text.utf8)
    return RunResult(status: status, stdout: outCollector.text, stderr: errCollector.text, stdoutBytes: bytes)
}

/// Appends a `name key=value …` line of figures for docs/RELIABILITY.md when the run asks for
/// them (`scripts/reliability` sets EDGEVAULT_RELIABILITY_OUT).
func recordReliability(_ line: String) throws {
    guard let out = ProcessInfo.processInfo.environment["EDGEVAULT_RELIABILITY_OUT"] else { return }
    try FileIO.append(out, Array((line + "\n").utf8), mode: 0o644)
}

/// A vault for one test: temp data dir, key file, socket; the real `vaultd` and `vault-cli`.
final class VaultFixture: @unchecked Sendable {
    static let passphrase = "correct horse battery staple"

    let root: String
    var dataDir: String { root + "/data" }
    var socket: String { root + "/run/admin.sock" }
    var keyFile: String { root + "/config/edgevault/user.key" }
    var passphraseFile: String { root + "/passphrase" }
    var daemon: Process?
    var daemonLog: OutputCollector?
    var daemonEnvironment: [String: String] = [:]
    /// The daemon's `--config` (none by default).
    var configFile = "/dev/null"
    /// The public API's port of the running daemon.
    var publicPort = 0

    init() throws {
        root = FileManager.default.temporaryDirectory.path + "/ev-e2e-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try Data((Self.passphrase + "\n").utf8).write(to: URL(fileURLWithPath: passphraseFile))
    }

    deinit {
        if let d = daemon, d.isRunning { kill(d.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(atPath: root)
    }

    var globalArgs: [String] { ["--data-dir", dataDir, "--admin-socket", socket, "--user-key", keyFile] }

    var cliEnvironment: [String: String] { ["XDG_CONFIG_HOME": root + "/config", "HOME": root, "EDGEVAULT_CONFIG": "/dev/null"] }

    /// `vault-cli ARGS --data-dir … --admin-socket … --user-key …`
    func cli(_ args: [String], stdin: [UInt8]? = nil) async throws -> RunResult {
        // Global options go before a `--` (after it everything is positional).
        var full = args + globalArgs
        if let dash = args.firstIndex(of: "--") { full = Array(args[..<dash]) + globalArgs + Array(args[dash...]) }
        return try await run(try Binaries.path("vault-cli"), full, stdin: stdin, environment: cliEnvironment)
    }

    func initVault() async throws {
        let r = try await cli(["init", "--kdf", "interactive", "--passphrase-file", passphraseFile])
        guard r.status == 0 else { throw HarnessError("init failed: \(r.stderr)") }
    }

    /// Starts `vaultd` and waits for its ready line.
    func startDaemon(environment: [String: String] = [:]) async throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try Binaries.path("vaultd"))
        p.arguments = ["--data-dir", dataDir, "--admin-socket", socket, "--config", configFile, "--listen", "127.0.0.1:0"]
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("EDGEVAULT_") }
        for (k, v) in daemonEnvironment.merging(environment, uniquingKeysWith: { $1 }) { env[k] = v }
        p.environment = env
        let err = Pipe()
        p.standardError = err
        p.standardOutput = err
        p.standardInput = FileHandle.nullDevice
        let log = OutputCollector(fileHandle: err.fileHandleForReading)
        try p.run()
        daemon = p
        daemonLog = log
        guard await log.wait(for: "vaultd ready", timeout: .seconds(60)) else {
            throw HarnessError("vaultd did not become ready:\n\(log.text)")
        }
        // The public listener's port, as the ready line reports it.
        let readyLine = log.text.split(separator: "\n").first { $0.contains("vaultd ready") } ?? ""
        if let field = readyLine.split(separator: " ").first(where: { $0.hasPrefix("listen=") }),
           let port = Int(field.split(separator: ":").last ?? "") {
            publicPort = port
        }
    }

    /// Sends `signal` and waits for the daemon to exit; returns its status.
    @discardableResult
    func stopDaemon(signal: Int32 = SIGTERM) async throws -> Int32 {
        guard let p = daemon else { return 0 }
        let status: Int32 = await withCheckedContinuation { c in
            p.terminationHandler = { c.resume(returning: $0.terminationStatus) }
            if !p.isRunning {
                p.terminationHandler = nil
                c.resume(returning: p.terminationStatus)
                return
            }
            kill(p.processIdentifier, signal)
        }
        daemon = nil
        return status
    }

    /// A request to the public API (TCP, loopback).
    func publicRequest(_ method: String, _ path: String, body: [UInt8]? = nil, headers: [(String, String)] = []) async throws -> HTTPClient.Response {
        try await HTTPClient(target: .tcp(host: "127.0.0.1", port: publicPort)).send(method: .init(rawValue: method), path: path, headers: headers, body: body)
    }

    /// A raw request on the admin socket (for bad input the CLI would never send).
    func request(_ method: String, _ path: String, body: [UInt8]? = nil) async throws -> HTTPClient.Response {
        try await HTTPClient(target: .unix(path: socket)).send(method: .init(rawValue: method), path: path, body: body)
    }
}

/// A child process on a real pseudo-terminal: the test types and reads as a person would.
final class PTYSession: @unchecked Sendable {
    let master: Int32
    let pid: pid_t
    let output: OutputCollector

    init(_ executable: String, _ arguments: [String], environment: [String: String]) throws {
        var name = [CChar](repeating: 0, count: 256)
        let m = ev_open_pseudo_terminal(&name, name.count)
        guard m >= 0 else { throw HarnessError("no pseudo-terminal") }
        let slave = open(name, O_RDWR | O_NOCTTY)
        guard slave >= 0 else { throw HarnessError("cannot open the pseudo-terminal's slave") }
        var winsize = winsize(ws_row: 24, ws_col: 80, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(slave, UInt(TIOCSWINSZ), &winsize)
        let child: pid_t
        do {
            child = try spawnChild(executable, arguments, environment: environment.merging(["TERM": "xterm"]) { a, _ in a }) { actions in
                for fd in Int32(0)...2 { posix_spawn_file_actions_adddup2(&actions, slave, fd) }
                posix_spawn_file_actions_addclose(&actions, m)
            }
        } catch {
            close(slave)
            throw error
        }
        close(slave)
        master = m
        pid = child
        output = OutputCollector(fileHandle: FileHandle(fileDescriptor: m, closeOnDealloc: false))
    }

    /// Types `text` as keystrokes.
    func type(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { write(master, $0.baseAddress, bytes.count) }
    }

    func expect(_ text: String, timeout: Duration = .seconds(60)) async -> Bool {
        await output.wait(for: text, timeout: timeout)
    }

    /// Waits for `text` to appear after the last `marker` seen so far (a prompt drawn again
    /// for the next screen, not the one already answered).
    func expect(_ text: String, after marker: String, timeout: Duration = .seconds(60)) async -> Bool {
        await output.wait(for: text, after: marker, timeout: timeout)
    }

    /// Waits for the child to exit (bounded: killed after `timeout`) and returns its exit status.
    func waitForExit(timeout: Duration = .seconds(60)) async -> Int32 {
        let pid = self.pid
        let killer = Task {
            try await Task.sleep(for: timeout)
            kill(pid, SIGKILL)
        }
        let status: Int32 = await withCheckedContinuation { c in
            Thread {
                var st: Int32 = 0
                while waitpid(pid, &st, 0) < 0 && errno == EINTR {}
                c.resume(returning: (st & 0x7F) == 0 ? (st >> 8) & 0xFF : -1)
            }.start()
        }
        killer.cancel()
        // Everything the child wrote is read before the master closes (the reader ends at EIO
        // once no process holds the terminal).
        _ = await output.wait(until: { _ in false }, timeout: .seconds(5))
        close(master)
        return status
    }
}

/// Starts `executable` with the environment of the tests (minus `EDGEVAULT_*`) plus
/// `environment`, file actions from `files`, an empty signal mask and default signal actions.
///
/// Foundation's `Process` passes on the spawning thread's signal mask, and the test runner's
/// threads block nearly every signal: a C daemon such as Mosquitto, which restores the mask it
/// inherited between its waits, would then never see SIGTERM.
func spawnChild(_ executable: String, _ arguments: [String], environment: [String: String],
                files: (inout posix_spawn_file_actions_t) -> Void) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    files(&actions)
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    var empty = sigset_t()
    sigemptyset(&empty)
    posix_spawnattr_setsigmask(&attr, &empty)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for s in [SIGTERM, SIGINT, SIGHUP, SIGPIPE] { sigaddset(&defaults, s) }
    posix_spawnattr_setsigdefault(&attr, &defaults)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("EDGEVAULT_") }
    for (k, v) in environment { env[k] = v }
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
    var child: pid_t = 0
    let rc = posix_spawn(&child, executable, &actions, &attr, argv, envp)
    posix_spawn_file_actions_destroy(&actions)
    posix_spawnattr_destroy(&attr)
    argv.forEach { free($0) }
    envp.forEach { free($0) }
    guard rc == 0 else { throw HarnessError("cannot start \(executable): posix_spawn failed with \(rc)") }
    return child
}

/// A background child process (see `spawnChild`), its output collected.
final class SpawnedProcess: @unchecked Sendable {
    let pid: pid_t
    let output: OutputCollector
    private var exited = false

    init(_ executable: String, _ arguments: [String]) throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw HarnessError("pipe() failed") }
        let child: pid_t
        do {
            child = try spawnChild(executable, arguments, environment: [:]) { actions in
                posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
                posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
                posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
                posix_spawn_file_actions_addclose(&actions, fds[0])
                posix_spawn_file_actions_addclose(&actions, fds[1])
            }
        } catch {
            close(fds[0])
            close(fds[1])
            throw error
        }
        close(fds[1])
        pid = child
        output = OutputCollector(fileHandle: FileHandle(fileDescriptor: fds[0], closeOnDealloc: true))
    }

    deinit {
        if !exited { kill(pid, SIGKILL); var st: Int32 = 0; waitpid(pid, &st, 0) }
    }

    /// Sends `signal` and waits for the exit (SIGKILL after `timeout`).
    func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(30)) async {
        guard !exited else { return }
        let pid = self.pid
        kill(pid, signal)
        let killer = Task {
            try await Task.sleep(for: timeout)
            kill(pid, SIGKILL)
        }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            Thread {
                var st: Int32 = 0
                while waitpid(pid, &st, 0) < 0 && errno == EINTR {}
                c.resume()
            }.start()
        }
        killer.cancel()
        exited = true
    }
}
