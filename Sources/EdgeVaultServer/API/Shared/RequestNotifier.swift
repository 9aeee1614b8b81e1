import EdgeVaultCore
import EdgeVaultStore
/// Lets `vault-cli review --watch` wait for new requests without polling the database: every
/// stored request bumps a version; a waiter returns as soon as the version passes its own.
public actor RequestNotifier {
    var version = 0
    var waiters: [(after: Int, continuation: CheckedContinuation<Int, Never>)] = []
    var stopping = false

    public init() {}

    func bump() {
        version += 1
        let ready = waiters
        waiters = []
        for w in ready { w.continuation.resume(returning: version) }
    }

    /// The current version once it is past `after`, or after `timeout` (the current version).
    func wait(after: Int, timeout: Duration) async -> Int {
        if version > after || stopping { return version }
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            await self?.timeOut()
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { waiters.append((after, $0)) }
    }

    /// Answers every waiter now (the daemon is stopping), and any later one at once.
    func releaseAll() {
        stopping = true
        timeOut()
    }

    private func timeOut() {
        let ready = waiters
        waiters = []
        for w in ready { w.continuation.resume(returning: version) }
    }
}
