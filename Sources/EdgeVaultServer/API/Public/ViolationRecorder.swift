import EdgeVaultCore
import EdgeVaultStore
/// Records organizations' violations in the ledger, at most one per organization per kind per
/// minute, so a misbehaving client cannot flood the log.
actor ViolationRecorder {
    let store: VaultStore
    let ledger: LedgerService
    var last: [String: Int64] = [:]

    init(store: VaultStore, ledger: LedgerService) {
        self.store = store
        self.ledger = ledger
    }

    func record(org: String, kind: String, detail: String, now: Int64 = Timestamp.now()) async {
        let key = org + " " + kind
        if let previous = last[key], now - previous < 60_000 { return }
        last[key] = now
        if last.count > 10_000 { last = last.filter { now - $0.value < 60_000 } }
        do {
            try await store.recordViolation(org: org, kind: kind, detail: detail, now: now)
            await ledger.appended()
        } catch {
            // The refusal stands either way; a violation that cannot be logged is not retried.
        }
    }
}
