/// The `[fragments]` settings (docs/PROTOCOL.md §"Fragments"): limits on the shares kept for
/// peers, and this vault's own audits and scheduled pushes.
extension Configuration {
    static let fragmentSettings: [Setting] = [
        integer("fragments.max_bytes_per_peer", env: "EDGEVAULT_FRAGMENTS_MAX_BYTES_PER_PEER", 0...(1 << 50), \.shareLimits.maxBytesPerPeer),
        integer("fragments.max_share_bytes", env: "EDGEVAULT_FRAGMENTS_MAX_SHARE_BYTES", 1...(1 << 30), \.shareLimits.maxShareBytes),
        integer("fragments.audit_interval_seconds", env: "EDGEVAULT_FRAGMENTS_AUDIT_INTERVAL_SECONDS", 0...31_622_400, \.fragmentAuditSeconds),
        integer("fragments.push_interval_seconds", env: "EDGEVAULT_FRAGMENTS_PUSH_INTERVAL_SECONDS", 0...31_622_400, \.fragmentPush.seconds),
        integer("fragments.push_after_bytes", env: "EDGEVAULT_FRAGMENTS_PUSH_AFTER_BYTES", 0...(1 << 40), \.fragmentPush.afterBytes),
        integer("fragments.push_check_seconds", env: "EDGEVAULT_FRAGMENTS_PUSH_CHECK_SECONDS", 1...86_400, \.fragmentPush.checkSeconds),
        integer("fragments.k", env: "EDGEVAULT_FRAGMENTS_K", 2...254, \.fragmentPush.k),
        integer("fragments.n", env: "EDGEVAULT_FRAGMENTS_N", 3...255, \.fragmentPush.n),
    ]
}
