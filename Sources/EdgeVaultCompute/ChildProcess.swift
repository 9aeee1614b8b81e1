#if canImport(Glibc)
import Glibc
#endif
import CHardening
import Synchronization

/// One sandbox process, started with posix_spawn and talked to over one socketpair: the
/// request written to its fd 0, the outcome read from its fd 1 (the same socket), with a
/// deadline after which it is killed (docs/SECURITY.md §"The compute sandbox", layer 8).
/// Blocking, so it runs on a thread of its own (`onOwnThread`), never on the caller's.
enum ChildProcess {
    enum KillReason: Sendable { case deadline, overflow, cancelled }

    struct Result: Sendable {
        /// waitpid's status.
        var status: Int32
        var output: [UInt8]
        var killed: KillReason?
    }

    struct SpawnFailed: Error { let reason: String }

    /// Lets another task kill the child (cancellation) while `run` waits on it.
    final class Control: Sendable {
        private struct State { var pid: pid_t = 0; var cancelled = false; var reaped = false }
        private let state = Mutex(State())

        var wasCancelled: Bool { state.withLock { $0.cancelled } }

        func cancel() {
            state.withLock { s in
                s.cancelled = true
                if s.pid > 0 && !s.reaped { kill(s.pid, SIGKILL) }
            }
        }

        /// Records the child; false when cancellation came first (the caller kills it).
        fileprivate func started(_ pid: pid_t) -> Bool {
            state.withLock { s in s.pid = pid; return !s.cancelled }
        }

        fileprivate func reaped() { state.withLock { $0.reaped = true } }
    }

    /// Starts `executable` with an empty argument list beyond its name, `environment`, stdin
    /// and stdout on one socket, stderr on /dev/null, every other descriptor closed and every
    /// signal at its default; writes `input`; reads back at most `outputCap` bytes; kills it
    /// at `deadline` (or as soon as it writes more than `outputCap`); reaps it.
    ///
    /// - Parameter afterSpawn: runs before any input is written (the child waits for it):
    ///   joining a cgroup, telling a test the pid. When it throws, the child is killed and
    ///   reaped and the error rethrown.
    static func run(executable: String, environment: [String], input: [UInt8], outputCap: Int,
                    wall: Duration, control: Control, afterSpawn: (pid_t) throws -> Void) throws -> Result {
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw SpawnFailed(reason: "socketpair: \(String(cString: strerror(errno)))")
        }
        let (mine, theirs) = (pair[0], pair[1])
        defer { close(mine) }
        let devNull = open("/dev/null", O_WRONLY | O_CLOEXEC)
        guard devNull >= 0 else {
            close(theirs)
            throw SpawnFailed(reason: "/dev/null: \(String(cString: strerror(errno)))")
        }

        let pid: pid_t
        do {
            defer { close(theirs); close(devNull) }
            pid = try spawn(executable, environment: environment, stdio: (theirs, theirs, devNull))
        }
        let start = ContinuousClock.now
        guard control.started(pid) else { return reap(pid, output: [], killed: .cancelled, control: control, force: true) }
        do {
            try afterSpawn(pid)
        } catch {
            _ = reap(pid, output: [], killed: nil, control: control, force: true)
            throw error
        }

        let (output, killed) = exchange(socket: mine, pid: pid, input: input, outputCap: outputCap, deadline: start + wall)
        return reap(pid, output: output, killed: control.wasCancelled ? .cancelled : killed, control: control, force: false)
    }

    private static func spawn(_ executable: String, environment: [String], stdio: (Int32, Int32, Int32)) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, stdio.0, 0)
        posix_spawn_file_actions_adddup2(&actions, stdio.1, 1)
        posix_spawn_file_actions_adddup2(&actions, stdio.2, 2)
        // Nothing of the parent's (vaultd's database, sockets, the admin socket) reaches it.
        guard ev_spawn_close_from(&actions, 3) == 0 else { throw SpawnFailed(reason: "posix_spawn_file_actions_addclosefrom_np failed") }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(executable), nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw SpawnFailed(reason: "posix_spawn \(executable): \(String(cString: strerror(rc)))") }
        return pid
    }

    /// Writes the input and reads the output until the child's end closes (it exited, or was
    /// killed here). Never blocks past the deadline: poll waits at most until then.
    private static func exchange(socket: Int32, pid: pid_t, input: [UInt8], outputCap: Int,
                                 deadline: ContinuousClock.Instant) -> ([UInt8], KillReason?) {
        var sent = 0
        var output: [UInt8] = []
        var killed: KillReason?
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            if killed == nil && ContinuousClock.now >= deadline {
                kill(pid, SIGKILL)
                killed = .deadline
            }
            var timeout: Int32 = -1
            if killed == nil {
                let left = ContinuousClock.now.duration(to: deadline).components
                timeout = Int32(clamping: left.seconds * 1000 + left.attoseconds / 1_000_000_000_000_000 + 1)
            }
            var fd = pollfd(fd: socket, events: Int16(POLLIN) | (sent < input.count ? Int16(POLLOUT) : 0), revents: 0)
            let ready = poll(&fd, 1, timeout)
            if ready < 0 && errno != EINTR { break }
            if ready <= 0 { continue }
            if fd.revents & Int16(POLLOUT) != 0 && sent < input.count {
                let n = input.withUnsafeBytes { send(socket, $0.baseAddress! + sent, min(input.count - sent, 1 << 16), Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
                if n > 0 {
                    sent += n
                } else if n < 0 && errno != EAGAIN && errno != EINTR {
                    sent = input.count  // the child stopped reading; what it says comes next
                }
                if sent == input.count { shutdown(socket, Int32(SHUT_WR)) }
            }
            if fd.revents & (Int16(POLLIN) | Int16(POLLHUP) | Int16(POLLERR)) != 0 {
                let n = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress!, $0.count, Int32(MSG_DONTWAIT)) }
                if n == 0 { break }
                if n < 0 {
                    if errno == EAGAIN || errno == EINTR { continue }
                    break
                }
                if output.count + n > outputCap {
                    if killed == nil { kill(pid, SIGKILL); killed = .overflow }
                    continue  // drained and dropped until the end
                }
                output += chunk[0..<n]
            }
        }
        return (output, killed)
    }

    private static func reap(_ pid: pid_t, output: [UInt8], killed: KillReason?, control: Control, force: Bool) -> Result {
        if force { kill(pid, SIGKILL) }
        // Wait without reaping first: while the zombie holds the pid, a late cancel() cannot
        // signal another process that was given the same number.
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR {}
        control.reaped()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return Result(status: status, output: output, killed: killed)
    }
}

/// Runs `body` on a new thread and resumes the caller with its result: a blocking child
/// never holds one of the concurrency pool's (two, on a Pi) threads.
func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        let job = Unmanaged.passRetained(ThreadJob { continuation.resume(with: Swift.Result { try body() }) })
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            Unmanaged<ThreadJob>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, job.toOpaque())
        if rc == 0 {
            pthread_detach(thread)
        } else {
            job.release()
            continuation.resume(throwing: ChildProcess.SpawnFailed(reason: "pthread_create: \(String(cString: strerror(rc)))"))
        }
    }
}

/// The closure a thread of `onOwnThread` runs.
private final class ThreadJob: @unchecked Sendable {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}
