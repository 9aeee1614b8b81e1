import EdgeVaultCore
import EdgeVaultStore
import Logging
import NIOCore

/// Collects cosignatures of this vault's checkpoints (docs/PROTOCOL.md §"Witnesses"): each new
/// checkpoint goes to every witness — the peers' (their `witnessKey` and URL) and the
/// `[[witness]]` ones of the configuration — in parallel, with the consistency proof from the
/// size that witness last cosigned. One submission per witness at a time: a checkpoint signed
/// meanwhile is sent when it returns (only the newest matters). A failed witness is retried
/// with exponential backoff (0.5 s doubling to 60 s) and on every new checkpoint after that.
///
/// A 409 resynchronises from the size the witness holds. A witness that holds more of this log
/// than the log has, or that refuses the consistency proof (422), has seen another version of
/// this log: the vault forked or was rolled back (a database restored from an old backup). That
/// is an alarm: logged at critical, kept as evidence, shown by `vault-cli status`.
public actor CosignatureCollector {
    /// One witness this vault submits to.
    public struct Target: Sendable, Equatable {
        public var name: String
        public var key: CosignatureVerifier
        /// Its submission prefix: the vault POSTs `<url>/add-checkpoint`.
        public var url: String
    }

    let store: VaultStore
    let ledger: LedgerService
    let configured: [WitnessConfiguration.Witness]
    let submitTimeout: TimeAmount
    let logger: Logger
    var targets: [String: Target] = [:]
    var running: Set<String> = []
    /// Witnesses busy when a newer checkpoint was signed.
    var stale: Set<String> = []
    var latest: VaultStore.StoredCheckpoint?
    /// The checkpoint size of the last alarm per witness: one alarm per refused checkpoint.
    var alarmed: [String: Int64] = [:]
    /// Quorum waits, woken to check again.
    var waiters: [CheckedContinuation<Void, Never>] = []
    let quorum: QuorumRule

    public init(store: VaultStore, ledger: LedgerService, configuration: WitnessConfiguration, logger: Logger) throws {
        self.store = store
        self.ledger = ledger
        self.configured = configuration.witnesses
        self.submitTimeout = .seconds(Int64(configuration.submitTimeoutSeconds))
        self.logger = logger
        self.quorum = try QuorumRule(policyFile: configuration.policyFile)
    }

    /// Reads the peers and starts collecting: every new checkpoint from then on.
    public func start() async throws {
        try await reloadTargets()
        let collector = self
        await ledger.observe { cp in Task { await collector.signed(cp) } }
    }

    /// The witnesses now: the configuration's and the peers' (after a peer change).
    public func reloadTargets() async throws {
        var next: [String: Target] = [:]
        for (i, w) in configured.enumerated() {
            let key = try CosignatureVerifier(w.key)
            next[key.text] = Target(name: "witness #\(i + 1) (\(key.name))", key: key, url: w.url)
        }
        for peer in try await store.peers() {
            guard let keyText = peer.witnessKey, let url = peer.url, let key = try? CosignatureVerifier(keyText) else { continue }
            next[key.text] = Target(name: peer.name, key: key, url: url.hasSuffix("/") ? url + "v1/witness" : url + "/v1/witness")
        }
        targets = next
        if let latest { signed(latest) }
    }

    public func currentTargets() -> [Target] { targets.values.sorted { $0.name < $1.name } }

    /// A new checkpoint: submit it to every witness not already busy; a busy one is marked
    /// so that its run goes on to this checkpoint before it ends.
    func signed(_ cp: VaultStore.StoredCheckpoint) {
        if cp.size > (latest?.size ?? -1) { latest = cp }
        for key in targets.keys {
            if running.contains(key) { stale.insert(key) } else { start(key: key) }
        }
    }

    /// Starts a run for the witness `key` (not already running).
    func start(key: String) {
        running.insert(key)
        Task { await self.run(key: key) }
    }

    /// Submits the newest checkpoint to one witness until it holds it, or a failure stops this
    /// round (the next checkpoint, or the backoff's retry, starts another). A checkpoint
    /// signed while it runs is never left behind: `stale` says one came.
    func run(key: String) async {
        defer { running.remove(key) }
        var resyncs = 0
        while let target = targets[key], let cp = latest {
            stale.remove(key)
            let progress: WitnessProgress
            do { progress = try await store.witnessProgress(key: key) } catch { return }
            if progress.cosignedSize == cp.size, progress.lastError == nil,
               (try? await store.cosignatures(size: cp.size).contains { $0.key == key }) == true {
                if stale.contains(key) { continue }
                return
            }
            if progress.failures > 0, let last = progress.lastAttempt {
                let wait = Self.backoffMilliseconds(failures: progress.failures) - (Timestamp.now() - last)
                if wait > 0 {
                    try? await Task.sleep(for: .milliseconds(wait))
                    continue
                }
            }
            switch await submit(cp, to: target, from: progress.cosignedSize) {
            case .done:
                wakeAll()
                if latest?.size == cp.size, !stale.contains(key) { return }
            case .resync:
                resyncs += 1
                if resyncs > 3 {
                    scheduleRetry(key: key, failures: progress.failures + 1)
                    return
                }
            case .failed:
                if latest?.size == cp.size, !stale.contains(key) { scheduleRetry(key: key, failures: progress.failures + 1); return }
            }
        }
    }

    enum Step { case done, resync, failed }

    static func backoffMilliseconds(failures: Int) -> Int64 {
        min(60_000, 500 << Int64(min(failures - 1, 7)))
    }

    func scheduleRetry(key: String, failures: Int) {
        let delay = Self.backoffMilliseconds(failures: failures)
        Task {
            try? await Task.sleep(for: .milliseconds(delay))
            await self.retry(key: key)
        }
    }

    func retry(key: String) {
        guard targets[key] != nil, !running.contains(key) else { return }
        start(key: key)
    }

    /// One add-checkpoint call.
    func submit(_ cp: VaultStore.StoredCheckpoint, to target: Target, from old: Int64) async -> Step {
        let key = target.key.text
        let now = Timestamp.now()
        if old > cp.size {
            await alarm(target, cp, status: 0, response: "",
                        detail: "witness \(target.name) has cosigned \(old) entries of this log, which has only \(cp.size): the log was rolled back (restored from an old backup?) unless that witness lies")
            return .failed
        }
        let body: String
        do {
            let proof = old == 0 || old == cp.size ? [] : try await store.consistencyProof(from: old, to: cp.size)
            body = try AddCheckpointRequest(oldSize: old, proof: proof, note: cp.note).body
        } catch {
            try? await store.recordWitnessFailure(key: key, error: "cannot build the submission: \(error)", now: now)
            return .failed
        }
        let response: HTTPClient.Response
        do {
            var client = try HTTPClient(url: Self.origin(of: target.url))
            client.timeout = submitTimeout
            client.maxResponseBytes = 64 * 1024
            response = try await client.send(method: .POST, path: Self.path(of: target.url) + "/add-checkpoint",
                                             headers: [("Content-Type", "text/plain; charset=utf-8")], body: Array(body.utf8))
        } catch {
            logger.warning("a witness did not answer", metadata: ["witness": "\(target.name)", "error": "\(error)"])
            try? await store.recordWitnessFailure(key: key, error: "no answer: \(error)", now: now)
            return .failed
        }
        let text = String(decoding: response.body, as: UTF8.self)
        switch response.status {
        case 200:
            guard let signed = try? SignedNote.parse(cp.note).text else { return .failed }
            for line in text.split(separator: "\n") {
                guard let time = try? target.key.verify(line: String(line), checkpointText: signed) else { continue }
                do {
                    try await store.saveCosignature(size: cp.size, key: key, line: String(line) + "\n", time: Int64(time), now: now)
                } catch {
                    logger.error("cannot save a cosignature", metadata: ["error": "\(error)"])
                    return .failed
                }
                return .done
            }
            try? await store.recordWitnessFailure(key: key, error: "answered 200 without a valid cosignature by its key", now: now)
            return .failed
        case 409:
            let trimmed = text.hasSuffix("\n") ? String(text.dropLast()) : text
            guard let size = Int64(trimmed), size >= 0, String(size) == trimmed else {
                try? await store.recordWitnessFailure(key: key, error: "answered 409 without its size", now: now)
                return .failed
            }
            if size > cp.size {
                await alarm(target, cp, status: 409, response: text,
                            detail: "witness \(target.name) says it has cosigned \(size) entries of this log, which has only \(cp.size): the log was rolled back (restored from an old backup?) unless that witness lies")
                return .failed
            }
            if size == old {
                try? await store.recordWitnessFailure(key: key, error: "answered 409 with the size it was sent (\(size))", now: now)
                return .failed
            }
            try? await store.setWitnessSize(key: key, size: size, now: now)
            return .resync
        case 422:
            await alarm(target, cp, status: 422, response: text,
                        detail: "witness \(target.name) refused the proof that this log extends the \(old) entries it cosigned: the log has forked, unless that witness lies")
            return .failed
        case 403:
            try? await store.recordWitnessFailure(key: key, error: "it does not accept this log's signature (403): has it added this vault's log key?", now: now)
            return .failed
        case 404:
            try? await store.recordWitnessFailure(key: key, error: "it does not witness this log (404): ask its owner to add it (vault-cli peer add)", now: now)
            return .failed
        default:
            try? await store.recordWitnessFailure(key: key, error: "answered \(response.status): \(TerminalText.escape(String(text.prefix(200))))", now: now)
            return .failed
        }
    }

    func alarm(_ target: Target, _ cp: VaultStore.StoredCheckpoint, status: Int, response: String, detail: String) async {
        let key = target.key.text
        try? await store.recordWitnessFailure(key: key, error: detail, now: Timestamp.now())
        guard alarmed[key] != cp.size else { return }
        alarmed[key] = cp.size
        logger.critical("a witness refused this vault's checkpoint: \(detail)", metadata: ["witness": "\(target.name)", "size": "\(cp.size)"])
        do {
            try await store.recordWitnessAlarm(key: key, status: status, detail: detail, checkpoint: cp.note, response: response, now: Timestamp.now())
        } catch {
            logger.error("cannot record the witness alarm", metadata: ["error": "\(error)"])
        }
    }

    /// `https://host:port` of a submission prefix.
    static func origin(of url: String) -> String {
        let scheme = url.hasPrefix("https://") ? "https://" : "http://"
        let rest = url.dropFirst(scheme.count)
        return scheme + (rest.split(separator: "/", maxSplits: 1).first.map(String.init) ?? "")
    }

    /// The path part of a submission prefix, without a trailing slash.
    static func path(of url: String) -> String {
        let scheme = url.hasPrefix("https://") ? "https://" : "http://"
        let rest = url.dropFirst(scheme.count)
        guard let slash = rest.firstIndex(of: "/") else { return "" }
        let path = String(rest[slash...])
        return path.hasSuffix("/") ? String(path.dropLast()) : path
    }

    // MARK: Quorum

    /// Returns once a checkpoint of at least `size` carries the quorum, or throws
    /// `witness_quorum` after `timeout`. Woken by each cosignature saved, and once at the deadline.
    public func waitForQuorum(size: Int64, timeout: Duration) async throws {
        if try await hasQuorum(size: size) { return }
        let deadline = ContinuousClock.now + timeout
        let collector = self
        let alarm = Task {
            guard (try? await Task.sleep(until: deadline, clock: .continuous)) != nil else { return }
            await collector.wakeAll()
        }
        defer { alarm.cancel() }
        while ContinuousClock.now < deadline {
            await withCheckedContinuation { waiters.append($0) }
            if try await hasQuorum(size: size) { return }
        }
        throw VaultError(.witnessQuorum, "the witnesses did not cosign a checkpoint of this entry within \(timeout)")
    }

    func wakeAll() {
        let all = waiters
        waiters = []
        for w in all { w.resume() }
    }

    /// Whether a checkpoint of at least `size` is cosigned by the quorum.
    func hasQuorum(size: Int64) async throws -> Bool {
        let keys = Array(targets.keys)
        return try await store.cosigners(atLeast: size, limit: 16).contains { quorum.isMet(by: Set($0.keys), targets: keys) }
    }
}
