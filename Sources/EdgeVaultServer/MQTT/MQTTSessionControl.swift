import EdgeVaultCore
import EdgeVaultStore
import Synchronization

/// Stops the service: wakes its backoff sleep and drains the current connection's queue.
final class StopControl: Sendable {
    private struct State {
        var stopped = false
        var queue: PublishQueue?
        var sleeper: (id: Int, continuation: CheckedContinuation<Void, Never>)?
        var nextSleep = 0
    }

    private let state = Mutex(State())

    var isStopped: Bool { state.withLock { $0.stopped } }

    func stop() {
        let (queue, sleeper) = state.withLock { s in
            s.stopped = true
            defer { s.queue = nil; s.sleeper = nil }
            return (s.queue, s.sleeper)
        }
        queue?.finish(drain: true)
        sleeper?.continuation.resume()
    }

    /// Registers the live connection's queue; false when already stopped.
    func attach(_ queue: PublishQueue) -> Bool {
        state.withLock { s in
            if s.stopped { return false }
            s.queue = queue
            return true
        }
    }

    func sleep(for duration: Duration) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let id: Int? = state.withLock { s in
                if s.stopped { return nil }
                s.nextSleep += 1
                s.sleeper = (s.nextSleep, c)
                return s.nextSleep
            }
            guard let id else { c.resume(); return }
            Task {
                try? await Task.sleep(for: duration)
                self.wake(id)
            }
        }
    }

    private func wake(_ id: Int) {
        let c: CheckedContinuation<Void, Never>? = state.withLock { s in
            guard let sleeper = s.sleeper, sleeper.id == id else { return nil }
            s.sleeper = nil
            return sleeper.continuation
        }
        c?.resume()
    }
}

/// The messages between the reader and the committer: bounded (the reader waits, and so does
/// the broker's TCP window, when the vault falls behind), taken all at once.
final class PublishQueue: Sendable {
    private struct State {
        var items: [MQTTIngestService.Incoming] = []
        var finished = false
        var consumer: CheckedContinuation<[MQTTIngestService.Incoming]?, Never>?
        var producer: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    /// Adds a message; false when the queue is finished (the message is not taken).
    func put(_ item: MQTTIngestService.Incoming) async -> Bool {
        while true {
            enum Step { case added(CheckedContinuation<[MQTTIngestService.Incoming]?, Never>?, [MQTTIngestService.Incoming]), full, finished }
            let step: Step = state.withLock { s in
                if s.finished { return .finished }
                guard s.items.count < capacity else { return .full }
                s.items.append(item)
                guard let c = s.consumer else { return .added(nil, []) }
                s.consumer = nil
                defer { s.items = [] }
                return .added(c, s.items)
            }
            switch step {
            case .finished: return false
            case .added(let consumer, let items):
                consumer?.resume(returning: items)
                return true
            case .full:
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                        let resumeNow = state.withLock { s in
                            if s.finished || s.items.count < capacity { return true }
                            s.producer = c
                            return false
                        }
                        if resumeNow { c.resume() }
                    }
                } onCancel: {
                    finish(drain: false)
                }
            }
        }
    }

    /// Everything queued, waiting for at least one; nil once finished and (when draining)
    /// empty.
    func take() async -> [MQTTIngestService.Incoming]? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<[MQTTIngestService.Incoming]?, Never>) in
                enum Step { case items([MQTTIngestService.Incoming], CheckedContinuation<Void, Never>?), done, wait }
                let step: Step = state.withLock { s in
                    if !s.items.isEmpty {
                        defer { s.items = []; s.producer = nil }
                        return .items(s.items, s.producer)
                    }
                    if s.finished { return .done }
                    s.consumer = c
                    return .wait
                }
                switch step {
                case .items(let items, let producer):
                    producer?.resume()
                    c.resume(returning: items)
                case .done:
                    c.resume(returning: nil)
                case .wait:
                    break
                }
            }
        } onCancel: {
            finish(drain: false)
        }
    }

    /// Ends the queue. With `drain`, what is queued is still handed out; without, it is dropped.
    func finish(drain: Bool) {
        let (consumer, producer, items): (CheckedContinuation<[MQTTIngestService.Incoming]?, Never>?, CheckedContinuation<Void, Never>?, [MQTTIngestService.Incoming]) =
            state.withLock { s in
                s.finished = true
                if !drain { s.items = [] }
                defer { s.consumer = nil; s.producer = nil }
                let pending = s.consumer != nil ? s.items : []
                if s.consumer != nil { s.items = [] }
                return (s.consumer, s.producer, pending)
            }
        producer?.resume()
        consumer?.resume(returning: items.isEmpty ? nil : items)
    }
}
