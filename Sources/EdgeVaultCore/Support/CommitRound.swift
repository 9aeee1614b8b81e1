import Synchronization

/// One group commit that any number of callers wait on.
///
/// Callers that appended readings before the round was taken wait here; the commit loop
/// completes the round once, with the transaction's outcome, and every waiter resumes with it.
package final class CommitRound: Sendable {
    private struct State {
        var result: Result<Void, any Error>?
        var waiters: [CheckedContinuation<Void, any Error>] = []
    }

    private let state = Mutex(State())

    package func wait() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let ready: Result<Void, any Error>? = state.withLock { s in
                if let r = s.result { return r }
                s.waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(with: ready) }
        }
    }

    package func complete(_ result: Result<Void, any Error>) {
        let waiters = state.withLock { s in
            s.result = result
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume(with: result) }
    }

    package init() {
    }
}
