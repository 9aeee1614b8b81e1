import EdgeVaultCore
import GRDB
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension GrantRecord {
    /// The job of a compute grant (nil for a raw grant, or a stored job that no longer reads).
    public var computeJob: ComputeJob? {
        guard let job, let value = try? JSONValue.parse(Array(job.utf8)) else { return nil }
        return try? ComputeJob(json: value)
    }
}

/// Modules and runs of compute grants (docs/PROTOCOL.md §"Compute jobs", §"Compute results").
extension VaultStore {
    /// How many modules, and how many bytes of them, one organization may keep here.
    public static let maxModulesPerOrg = 16
    public static let maxModuleBytesPerOrg: Int64 = 64 << 20
    /// Modules of organizations the vault does not know yet (uploaded before a first request)
    /// share this much, all together: fresh keys cost nothing to make.
    public static let maxModulesOfUnknownOrgs = 8
    public static let maxModuleBytesOfUnknownOrgs: Int64 = 32 << 20
    /// All modules together, whoever brought them.
    public static let maxModulesInAll = 64
    public static let maxModuleBytesInAll: Int64 = 256 << 20

    /// Stores a module under its name (`sha256:<hex>` of `bytes`, checked by the caller);
    /// returns false when it was already held (by whichever organization brought it first).
    public func storeModule(name: String, bytes: [UInt8], org: String, known: Bool, now: Int64) async throws -> Bool {
        try await write("store the module") { db in
            if try Int.fetchOne(db, sql: "SELECT 1 FROM wasm_module WHERE name = ?", arguments: [name]) != nil { return false }
            let (sql, maxCount, maxBytes): (String, Int, Int64) = known
                ? ("SELECT count(*) AS n, coalesce(sum(size), 0) AS bytes FROM wasm_module WHERE org = ?",
                   Self.maxModulesPerOrg, Self.maxModuleBytesPerOrg)
                : ("SELECT count(*) AS n, coalesce(sum(size), 0) AS bytes FROM wasm_module WHERE org NOT IN (SELECT keyId FROM org) OR org = ?",
                   Self.maxModulesOfUnknownOrgs, Self.maxModuleBytesOfUnknownOrgs)
            let all = try Row.fetchOne(db, sql: "SELECT count(*) AS n, coalesce(sum(size), 0) AS bytes FROM wasm_module")
            guard (all?["n"] ?? 0) < Self.maxModulesInAll, (all?["bytes"] ?? 0) + Int64(bytes.count) <= Self.maxModuleBytesInAll else {
                throw VaultError(.tooLarge, "this vault holds as many modules as it takes (\(Self.maxModulesInAll), \(Self.maxModuleBytesInAll) bytes); try again later")
            }
            let row = try Row.fetchOne(db, sql: sql, arguments: [org])
            let count: Int = row?["n"] ?? 0, total: Int64 = row?["bytes"] ?? 0
            guard count < maxCount, total + Int64(bytes.count) <= maxBytes else {
                throw VaultError(.tooLarge, known
                    ? "this organization already keeps \(count) module(s), \(total) bytes, here (at most \(maxCount) and \(maxBytes) bytes)"
                    : "this vault holds all the modules it takes from organizations it does not know yet; try again later, or ask the person to add your key")
            }
            try db.execute(sql: "INSERT INTO wasm_module (name, bytes, size, org, firstSeen) VALUES (?, ?, ?, ?, ?)",
                           arguments: [name, Data(bytes), bytes.count, org, now])
            return true
        }
    }

    /// Removes a module no live grant and no pending request names (the person's
    /// `vault-cli modules rm`; docs/PROTOCOL.md §"Compute results"). Returns false when there was none.
    public func removeModule(name: String, now: Int64) async throws -> Bool {
        try await write("remove the module") { db in
            try Self.expireRequests(in: db, now: now)
            let users = try Row.fetchAll(db, sql: """
                SELECT r.org, r.id, r.status, g.status AS grantStatus, g.expires FROM access_request r
                LEFT JOIN grant_record g ON g.org = r.org AND g.id = r.id
                WHERE json_valid(CAST(r.payload AS TEXT)) AND json_extract(CAST(r.payload AS TEXT), '$.job.module') = ?
                """, arguments: [name]).filter { row in
                (row["status"] as String) == "pending" || ((row["grantStatus"] as String?) == "live" && (row["expires"] as Int64? ?? 0) > now)
            }
            if let first = users.first {
                throw VaultError(.moduleInUse, "module \(name) is named by \(users.count) live grant(s) or pending request(s), first \(first["id"] as String); revoke or deny them first")
            }
            try db.execute(sql: "DELETE FROM wasm_module WHERE name = ?", arguments: [name])
            return db.changesCount > 0
        }
    }

    public func module(name: String) async throws -> [UInt8]? {
        try await read("read the module") { db in
            try Data.fetchOne(db, sql: "SELECT bytes FROM wasm_module WHERE name = ?", arguments: [name]).map { [UInt8]($0) }
        }
    }

    /// Every module with who brought it and which requests and grants name it.
    public func modules() async throws -> [AdminAPI.Module] {
        try await read("read modules") { db in
            let uses = try Row.fetchAll(db, sql: """
                SELECT json_extract(CAST(r.payload AS TEXT), '$.job.module') AS module, r.org, r.id, g.id AS granted
                FROM access_request r LEFT JOIN grant_record g ON g.org = r.org AND g.id = r.id
                WHERE json_valid(CAST(r.payload AS TEXT)) AND json_extract(CAST(r.payload AS TEXT), '$.access') = 'compute'
                ORDER BY r.receivedAt
                """)
            return try Row.fetchAll(db, sql: "SELECT name, size, org, firstSeen FROM wasm_module ORDER BY firstSeen").map { row in
                let name: String = row["name"]
                let mine = uses.filter { ($0["module"] as String?) == name }
                return AdminAPI.Module(name: name, size: row["size"], org: row["org"],
                                       firstSeen: Timestamp.rfc3339(milliseconds: row["firstSeen"]),
                                       requests: mine.map { "\($0["org"] as String)/\($0["id"] as String)" },
                                       grants: mine.filter { ($0["granted"] as String?) != nil }.map { "\($0["org"] as String)/\($0["id"] as String)" })
            }
        }
    }

    /// The number the next run of a grant takes (0, 1, … per grant).
    public func nextRunSeq(org: String, grant: String) async throws -> Int64 {
        try await read("read runs") { db in
            try Int64.fetchOne(db, sql: "SELECT coalesce(max(seq) + 1, 0) FROM compute_run WHERE org = ? AND grantId = ?", arguments: [org, grant]) ?? 0
        }
    }

    /// Records a decided run with its leaf, in one transaction; returns the leaf's index. The
    /// grant must be a live compute grant, and `run.seq` the next one (a `once` grant runs once).
    public func recordRun(org: String, run: ComputeRun, outcome: ComputeRun.Outcome, sealedOutput: [UInt8]?,
                          decisionSha256: [UInt8]?, now: Int64) async throws -> Int64 {
        try await write("record the run") { db in
            let job = try Self.liveComputeGrant(org: org, id: run.grant, now: now, in: db)
            let next = try Int64.fetchOne(db, sql: "SELECT coalesce(max(seq) + 1, 0) FROM compute_run WHERE org = ? AND grantId = ?",
                                          arguments: [org, run.grant]) ?? 0
            guard run.seq == next else { throw VaultError(.resultInvalid, "run \(run.seq) of grant \(run.grant) is not the next one (\(next))") }
            guard job.schedule == .perSegment || run.seq == 0 else {
                throw VaultError(.resultInvalid, "grant \(run.grant) runs once; it already has a result")
            }
            guard run.module == job.module else { throw VaultError(.resultInvalid, "run \(run.seq) names another module than grant \(run.grant)") }
            let index = try Self.appendLeaf(run.leaf(outcome, org: org, decisionSha256: decisionSha256, time: now), in: db)
            try db.execute(sql: """
                INSERT INTO compute_run (org, grantId, seq, status, module, input, readings, output, fuel, exit, reason, segment,
                                         sealedOutput, leafIndex, ranAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [org, run.grant, run.seq, outcome.rawValue, run.module, run.input, run.readings,
                                 outcome == .failed ? nil : run.output, Int64(bitPattern: run.fuel), run.exit, run.reason?.rawValue,
                                 run.segment, sealedOutput.map { Data($0) }, index, now])
            return index
        }
    }

    /// Keeps a `review` run's output (sealed to the person) until the person decides; no leaf yet.
    public func holdRun(org: String, run: ComputeRun, heldOutput: [UInt8], heldStderr: [UInt8], now: Int64) async throws {
        try await write("hold the run") { db in
            _ = try Self.liveComputeGrant(org: org, id: run.grant, now: now, in: db)
            try db.execute(sql: """
                INSERT INTO compute_run (org, grantId, seq, status, module, input, readings, output, fuel, exit, segment,
                                         heldOutput, heldStderr, ranAt)
                VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [org, run.grant, run.seq, run.module, run.input, run.readings, run.output,
                                 Int64(bitPattern: run.fuel), run.exit, run.segment, Data(heldOutput), Data(heldStderr), now])
        }
    }

    /// Applies the person's decision on a held run: it must describe exactly the run held.
    /// The held output is dropped either way; returns the leaf's index.
    public func decideHeldRun(org: String, run: ComputeRun, outcome: ComputeRun.Outcome, sealedOutput: [UInt8]?,
                              decisionSha256: [UInt8], now: Int64) async throws -> Int64 {
        try await write("decide the run") { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM compute_run WHERE org = ? AND grantId = ? AND seq = ?",
                                             arguments: [org, run.grant, run.seq]), (row["status"] as String) == "pending" else {
                throw VaultError(.notFound, "no run \(run.seq) of grant \(run.grant) waits for your decision")
            }
            let fuel: Int64 = row["fuel"]
            guard row["module"] == run.module, row["input"] == run.input, row["readings"] == run.readings, row["output"] == run.output,
                  UInt64(bitPattern: fuel) == run.fuel, (row["exit"] as Int32?) == run.exit, row["segment"] == run.segment
            else { throw VaultError(.resultInvalid, "your decision does not describe run \(run.seq) of grant \(run.grant) as it ran") }
            guard outcome != .failed else { throw VaultError(.resultInvalid, "a held run is released or withheld") }
            // Revoked or expired since it ran: it can still be withheld, never released.
            if outcome == .released { _ = try Self.liveComputeGrant(org: org, id: run.grant, now: now, in: db) }
            let index = try Self.appendLeaf(run.leaf(outcome, org: org, decisionSha256: decisionSha256, time: now), in: db)
            try db.execute(sql: """
                UPDATE compute_run SET status = ?, heldOutput = NULL, heldStderr = NULL, sealedOutput = ?, leafIndex = ?
                WHERE org = ? AND grantId = ? AND seq = ?
                """, arguments: [outcome.rawValue, sealedOutput.map { Data($0) }, index, org, run.grant, run.seq])
            return index
        }
    }

    /// Runs waiting for the person, without their sealed output (`run(org:grant:seq:)` has it).
    public func pendingRuns() async throws -> [AdminAPI.PendingRun] {
        try await read("read pending runs") { db in
            try Row.fetchAll(db, sql: """
                SELECT org, grantId, seq, module, input, readings, output, fuel, exit, segment, length(heldOutput) AS size, ranAt
                FROM compute_run WHERE status = 'pending' ORDER BY ranAt, org, grantId, seq
                """).map { Self.pending($0, bodies: false) }
        }
    }

    /// One run waiting for the person, with its output and stderr sealed to the person.
    public func pendingRun(org: String, grant: String, seq: Int64) async throws -> AdminAPI.PendingRun? {
        try await read("read a pending run") { db in
            try Row.fetchOne(db, sql: """
                SELECT *, length(heldOutput) AS size FROM compute_run WHERE status = 'pending' AND org = ? AND grantId = ? AND seq = ?
                """, arguments: [org, grant, seq]).map { Self.pending($0, bodies: true) }
        }
    }

    /// How many runs of one grant wait for the person, and the sealed bytes waiting: the
    /// organization's and everyone's.
    public func heldRuns(org: String, grant: String) async throws -> (grant: Int, orgBytes: Int64, bytes: Int64) {
        try await read("count held runs") { db in
            let row = try Row.fetchOne(db, sql: """
                SELECT coalesce(sum(length(heldOutput) + length(heldStderr)), 0) AS bytes,
                       coalesce(sum(CASE WHEN org = ? THEN length(heldOutput) + length(heldStderr) ELSE 0 END), 0) AS orgBytes,
                       coalesce(sum(org = ? AND grantId = ?), 0) AS mine
                FROM compute_run WHERE status = 'pending'
                """, arguments: [org, org, grant])
            return (row?["mine"] ?? 0, row?["orgBytes"] ?? 0, row?["bytes"] ?? 0)
        }
    }

    static func pending(_ row: Row, bodies: Bool) -> AdminAPI.PendingRun {
        let fuel: Int64 = row["fuel"]
        return AdminAPI.PendingRun(org: row["org"], grant: row["grantId"], seq: row["seq"], module: row["module"], input: row["input"],
                                   readings: row["readings"], output: row["output"] ?? "", fuel: UInt64(bitPattern: fuel),
                                   exit: row["exit"], segment: row["segment"],
                                   sealedOutput: bodies ? Encoding.base64([UInt8](row["heldOutput"] as Data? ?? Data())) : nil,
                                   sealedStderr: bodies ? Encoding.base64([UInt8](row["heldStderr"] as Data? ?? Data())) : nil,
                                   size: row["size"] ?? 0, ran: Timestamp.rfc3339(milliseconds: row["ranAt"]))
    }

    /// A grant's runs the organization may see, with `seq > after`, oldest first, at most
    /// `limit`: released runs, and failed ones when `failed` (an `auto` grant). A withheld run,
    /// or a failed run of a `review` grant, is the person's alone: its leaf names the output's
    /// hash, the exit status and the fuel, which the person did not agree to send.
    public func visibleRuns(org: String, grant: String, after: Int64, limit: Int, failed: Bool) async throws -> [(seq: Int64, leafIndex: Int64, sealedOutput: [UInt8]?)] {
        try await read("read results") { db in
            try Row.fetchAll(db, sql: """
                SELECT seq, leafIndex, sealedOutput FROM compute_run
                WHERE org = ? AND grantId = ? AND seq > ? AND leafIndex IS NOT NULL
                  AND (status = 'released' OR (? AND status = 'failed'))
                ORDER BY seq LIMIT ?
                """, arguments: [org, grant, after, failed, limit]).map { row in
                (row["seq"], row["leafIndex"], (row["sealedOutput"] as Data?).map { [UInt8]($0) })
            }
        }
    }

    static func liveComputeGrant(org: String, id: String, now: Int64, in db: Database) throws -> ComputeJob {
        guard let grant = try GrantRecord.fetchOne(db, key: ["org": org, "id": id]) else {
            throw VaultError(.notFound, "no grant \(id) of \(org)")
        }
        guard let job = grant.computeJob else { throw VaultError(.resultInvalid, "grant \(id) is not a compute grant") }
        guard grant.status == .live else { throw VaultError(.grantRevoked, "grant \(id) was revoked") }
        guard grant.expires > now else { throw VaultError(.grantExpired, "grant \(id) has expired") }
        return job
    }
}
