import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation
import GRDB
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What the load acknowledged before a kill: batches stored, requests accepted, grants issued.
private final class Acknowledged: Sendable {
    struct State {
        var batches: Set<Int> = []
        var attemptedBatches: Set<Int> = []
        var requests: Set<String> = []
        var grants: Set<String> = []
        var denials: Set<String> = []
        var revocations: Set<String> = []
        /// Chunk pages an organization received: "grant segment" → count of pages.
        var releases: [String: Int] = [:]
        /// This round's daemon has been killed (clients that wait stop waiting).
        var killed = false
    }
    let state = Mutex(State())
}

private let readingsPerBatch = 100

@Suite("Reliability: crash loop", .serialized)
struct CrashLoopTests {
    /// CI runs 20 kills; `EDGEVAULT_CRASH_KILLS=200 swift test --filter CrashLoop` is the full run.
    static let kills = ProcessInfo.processInfo.environment["EDGEVAULT_CRASH_KILLS"].flatMap(Int.init) ?? 20

    @Test("vaultd SIGKILLed at random moments under ingest, requests, approvals, denials, fetches and revocations: nothing acknowledged is lost or doubled, nothing is half-applied, the database and the log hold")
    func crashLoop() async throws {
        let v = try VaultFixture()
        v.daemonEnvironment = ["EDGEVAULT_MAX_PENDING_PER_ORG": "10000", "EDGEVAULT_MAX_PENDING_TOTAL": "100000",
                               "EDGEVAULT_REQUESTS_PER_MINUTE": "1000000"]
        try await v.initVault()
        var pass = Array(VaultFixture.passphrase.utf8)
        let keys = try UserKeyFile.read(from: v.keyFile).unlock(passphrase: SecureBytes(wiping: &pass))
        let orgKeys = OrgKeys.generate()
        let ack = Acknowledged()
        let base = Timestamp.parseRFC3339("2026-10-01T00:00:00Z")!
        var nextBatch = 0
        var integrityFailures = 0
        var rng = SystemRandomNumberGenerator()

        for round in 0..<Self.kills {
            try await v.startDaemon()
            let admin = AdminClient(socketPath: v.socket)
            let org = try OrgClient(vaultURL: "http://127.0.0.1:\(v.publicPort)", keys: orgKeys)
            let origin = try await org.origin()
            ack.state.withLock { $0.killed = false }
            let firstBatch = nextBatch
            nextBatch += 1000
            let killAfter = Duration.milliseconds(Int.random(in: 50...800, using: &rng))
            await withTaskGroup(of: Void.self) { g in
                // Ingest: batch k holds readingsPerBatch readings whose value is k.
                g.addTask {
                    for k in firstBatch..<(firstBatch + 1000) {
                        let lines = (0..<readingsPerBatch).map { "{\"stream\":\"crash/s\(k % 3)\",\"t\":\(base + Int64(k) * 1000 + Int64($0)),\"v\":\(k)}\n" }
                        ack.state.withLock { _ = $0.attemptedBatches.insert(k) }
                        guard (try? await admin.ingest(ndjson: Array(lines.joined().utf8))) == readingsPerBatch else { return }
                        ack.state.withLock { _ = $0.batches.insert(k) }
                    }
                }
                // Organizations' requests (one hour of one stream each).
                g.addTask {
                    for j in 0..<1000 {
                        let id = "r\(round)-\(j)"
                        let request = AccessRequest(vault: origin, id: id, orgName: "Crash test", orgContact: "", streams: ["crash/s0"],
                                                    from: base, to: base + 3_600_000, purpose: "crash loop", deliveryKey: orgKeys.delivery.publicKey,
                                                    expires: Timestamp.now() + 86_400_000, created: Timestamp.now())
                        guard (try? await org.submit(request))?.status == "pending" else { return }
                        ack.state.withLock { _ = $0.requests.insert(id) }
                    }
                }
                // The person's approvals of every other accepted request.
                g.addTask {
                    let maker = DecisionMaker(client: admin, keys: keys)
                    var decided: Set<String> = []
                    var version = 0
                    for _ in 0..<1000 {
                        let next = ack.state.withLock { s in s.requests.subtracting(s.grants).subtracting(decided).filter { $0.hasPrefix("r\(round)-") }.min() }
                        guard let id = next else {
                            // Wait for the next request on vaultd's long poll (as `review --watch` does).
                            guard let v = try? await admin.waitForRequests(after: version) else { return }
                            version = v
                            continue
                        }
                        decided.insert(id)
                        // Even ids are granted, 1 mod 4 denied, 3 mod 4 left pending.
                        let n = Int(id.split(separator: "-").last!)!
                        guard n % 4 != 3 else { continue }
                        let kind: Decision.Kind = n % 2 == 0 ? .grant : .deny
                        guard let pending = try? await maker.pending(id: id, org: nil),
                              (try? await maker.decide(pending, kind: kind, reason: kind == .deny ? "crash loop" : nil)) != nil else { return }
                        ack.state.withLock { _ = kind == .grant ? $0.grants.insert(id) : $0.denials.insert(id) }
                    }
                }
                // The organization fetches a page of each live grant; every fourth grant is then revoked.
                g.addTask {
                    var done: Set<String> = []
                    for _ in 0..<1000 {
                        let (next, revoked, killed) = ack.state.withLock { s in (s.grants.subtracting(done).min(), s.revocations, s.killed) }
                        guard !killed else { return }
                        guard let id = next else {
                            try? await Task.sleep(for: .milliseconds(20))
                            continue
                        }
                        done.insert(id)
                        guard !revoked.contains(id) else { continue }
                        guard let listed = try? await org.send(.GET, "/v1/grants/\(id)/segments") else { return }
                        guard listed.status == 200, let segment = try? JSONDecoder().decode(OrgAPI.Segments.self, from: Data(listed.body)).segments.first
                        else { continue }
                        if let page = try? await org.send(.GET, "/v1/grants/\(id)/segments/\(segment.id)/chunks?limit=4"), page.status == 200,
                           let chunks = try? JSONDecoder().decode(OrgAPI.Chunks.self, from: Data(page.body)), !chunks.chunks.isEmpty {
                            ack.state.withLock { $0.releases["\(id) \(segment.id)", default: 0] += 1 }
                        }
                        guard Int(id.split(separator: "-").last!)! % 8 == 0 else { continue }
                        let revocation = Revocation.make(grant: id, org: orgKeys.keyId, reason: "crash loop", at: Timestamp.now(), keys: keys)
                        guard (try? await admin.revoke(revocation)) != nil else { continue }
                        ack.state.withLock { _ = $0.revocations.insert(id) }
                    }
                }
                g.addTask {
                    try? await Task.sleep(for: killAfter)
                    _ = try? await v.stopDaemon(signal: SIGKILL)
                    ack.state.withLock { $0.killed = true }
                }
                await g.waitForAll()
            }
            // After each kill, before anything repairs it: SQLite's own check.
            let result = try await DatabaseQueue(path: v.dataDir + "/vault.db").read { try String.fetchOne($0, sql: "PRAGMA integrity_check") }
            if result != "ok" { integrityFailures += 1 }
        }

        // Everything acknowledged is there, exactly once; nothing is half there.
        try await v.startDaemon()
        let acked = ack.state.withLock { $0 }
        let verify = try await v.cli(["log", "verify", "--state", v.root + "/log-state.json"])
        #expect(verify.status == 0, "\(verify.stderr)")
        let export = try await v.cli(["export", "--passphrase-file", v.passphraseFile])
        #expect(export.status == 0, "\(export.stderr)")
        var perBatch: [Int: Int] = [:]
        for line in export.stdout.split(separator: "\n") {
            let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            perBatch[(o["v"] as! NSNumber).intValue, default: 0] += 1
        }
        let lost = acked.batches.filter { perBatch[$0] != readingsPerBatch }
        let partial = perBatch.filter { $0.value != readingsPerBatch }
        let unknown = Set(perBatch.keys).subtracting(acked.attemptedBatches)
        #expect(lost.isEmpty, "acknowledged batches lost or doubled: \(lost.sorted().prefix(10))")
        #expect(partial.isEmpty, "batches half stored: \(partial.keys.sorted().prefix(10))")
        #expect(unknown.isEmpty)
        #expect(integrityFailures == 0)
        let org = try OrgClient(vaultURL: "http://127.0.0.1:\(v.publicPort)", keys: orgKeys)
        var missingRequests = 0, missingGrants = 0
        for id in acked.requests {
            let s = try? await org.status(id: id)
            if s == nil { missingRequests += 1 }
            if acked.grants.contains(id) {
                let fetched = (try? await org.send(.GET, "/v1/grants/\(id)"))?.status
                // A grant reports "revoked" once revoked (acknowledged or cut short by the kill).
                if !["granted", "revoked"].contains(s?.status ?? "") || fetched != 200 { missingGrants += 1 }
            }
        }
        // Denials and revocations: the state the organization sees.
        var missingDenials = 0, missingRevocations = 0
        for id in acked.denials where (try? await org.status(id: id))?.status != "denied" { missingDenials += 1 }
        for id in acked.revocations {
            let r = try? await org.send(.GET, "/v1/grants/\(id)/segments")
            let shown = (try? await org.status(id: id))?.status
            if r?.status != 403 || !String(decoding: r?.body ?? [], as: UTF8.self).contains("grant_revoked") || shown != "revoked" { missingRevocations += 1 }
        }
        #expect(missingRequests == 0)
        #expect(missingGrants == 0)
        #expect(missingDenials == 0)
        #expect(missingRevocations == 0)
        // Each acknowledged decision, revocation and release has its leaf.
        let admin = AdminClient(socketPath: v.socket)
        func leaves(_ type: String, _ key: (LedgerLeaf) -> String?) async throws -> [String: Int] {
            var found: [String: Int] = [:]
            var from: Int64? = 0
            while let f = from {
                let page = try await admin.leaves(from: f, limit: 1000, type: type)
                for leaf in page.leaves {
                    if let k = key(try LedgerLeaf(bytes: [UInt8](Data(base64Encoded: leaf.data) ?? Data()))) { found[k, default: 0] += 1 }
                }
                from = page.next
            }
            return found
        }
        let issued = Set(try await leaves("grant.issued") { $0.json["id"]?.stringValue }.keys)
        let deniedLeaves = Set(try await leaves("request.denied") { $0.json["id"]?.stringValue }.keys)
        let revokedLeaves = Set(try await leaves("grant.revoked") { $0.json["grant"]?.stringValue }.keys)
        let released = try await leaves("data.released") { l in
            l.json["grant"]?.stringValue.flatMap { g in l.json["segment"]?.stringValue.map { g + " " + $0 } }
        }
        let missingLeaves = acked.grants.subtracting(issued).count + acked.denials.subtracting(deniedLeaves).count
            + acked.revocations.subtracting(revokedLeaves).count
            + acked.releases.filter { released[$0.key, default: 0] < $0.value }.count
        #expect(acked.grants.isSubset(of: issued), "grants without a grant.issued leaf: \(acked.grants.subtracting(issued).sorted().prefix(5))")
        #expect(missingLeaves == 0, "acknowledged events without their leaf")
        try await v.stopDaemon()

        // The figures of this run, for docs/RELIABILITY.md (scripts/reliability writes them there).
        let line = "crash_loop kills=\(Self.kills) acknowledged_batches=\(acked.batches.count) acknowledged_readings=\(acked.batches.count * readingsPerBatch) "
            + "lost_readings=\(lost.count * readingsPerBatch) partial_batches=\(partial.count) integrity_failures=\(integrityFailures) "
            + "requests=\(acked.requests.count) missing_requests=\(missingRequests) grants=\(acked.grants.count) missing_grants=\(missingGrants) "
            + "denials=\(acked.denials.count) missing_denials=\(missingDenials) revocations=\(acked.revocations.count) missing_revocations=\(missingRevocations) "
            + "releases=\(acked.releases.values.reduce(0, +)) missing_leaves=\(missingLeaves)"
        try recordReliability(line)
    }
}
