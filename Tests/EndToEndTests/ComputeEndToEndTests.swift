import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import EdgeVaultCompute
import Foundation
import GRDB
import Testing

private let base = Timestamp.parseRFC3339("2026-01-01T00:00:00Z")!
private let hour: Int64 = 3_600_000

/// Readings of two streams over three hourly buckets: home/temp every 10 minutes, home/hum
/// every 20, values with decimals and one non-numeric reading (which aggregate skips).
private func readings() -> [(stream: String, t: Int64, v: String)] {
    var out: [(String, Int64, String)] = []
    for i in 0..<18 { out.append(("home/temp", base + Int64(i) * 600_000, "\(Double(180 + (i * 37) % 50) / 10)")) }
    for i in 0..<9 { out.append(("home/hum", base + Int64(i) * 1_200_000, "\(40 + (i * 13) % 17)")) }
    out.append(("home/hum", base + 5_000, "\"n/a\""))
    return out
}

private func ingest(_ v: VaultFixture, _ rows: [(stream: String, t: Int64, v: String)]) async throws {
    let lines = rows.map { "{\"stream\":\"\($0.stream)\",\"t\":\($0.t),\"v\":\($0.v)}\n" }.joined()
    let r = try await v.cli(["ingest"], stdin: Array(lines.utf8))
    #expect(r.status == 0, "\(r.stderr)")
}

/// The job's stdin exactly as docs/PROTOCOL.md §"Compute jobs" defines it, rebuilt from what
/// was ingested: header, then stream by stream (byte order), each by t, stored order on ties.
private func expectedStdin(grant: String, params: String, streams: [String], from: Int64, to: Int64,
                           rows: [(stream: String, t: Int64, v: String)]) -> [UInt8] {
    var text = "{\"type\":\"edgevault.job-input/v1\",\"grant\":\"\(grant)\",\"params\":\(params),\"streams\":["
        + streams.map { "\"\($0)\"" }.joined(separator: ",") + "],\"from\":\(from),\"to\":\(to)}\n"
    for s in Set(rows.map(\.stream)).sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
        let mine = rows.enumerated().filter { $0.element.stream == s }.sorted { ($0.element.t, $0.offset) < ($1.element.t, $1.offset) }
        for (_, r) in mine { text += "{\"stream\":\"\(s)\",\"t\":\(r.t),\"v\":\(r.v)}\n" }
    }
    return Array(text.utf8)
}

private func module(_ name: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: repositoryRoot.appendingPathComponent("Modules/\(name).wasm")))
}

private func orgArgs(_ v: VaultFixture, key: String) -> [String] { ["--vault", "http://127.0.0.1:\(v.publicPort)", "--key", key] }

private func computeLeaves(_ v: VaultFixture) async throws -> [LedgerLeaf] {
    var out: [LedgerLeaf] = []
    for type in ["compute.released", "compute.failed", "compute.withheld"] {
        let page = try JSONDecoder().decode(AdminAPI.Leaves.self, from: Data(try await v.request("GET", "/v1/log/leaves?type=\(type)").body))
        out += try page.leaves.map { try LedgerLeaf(bytes: Encoding.fromBase64($0.data) ?? []) }
    }
    return out
}

@Suite("End to end: usage rights, not copies (compute grants)", .serialized)
struct ComputeEndToEndTests {
    @Test("aggregate over a granted range: approved and released on a terminal, the output equals the aggregate computed here from the ingested readings, no segment key reaches the organization (database and wire), the leaf's input is SHA-256 of the stdin rebuilt here, and two runs give identical bytes")
    func aggregateOnce() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        let rows = readings()
        try await ingest(v, rows)
        let orgKey = v.root + "/acme.key"
        try OrgKeys.generate().write(to: orgKey, deliverySeed: SecureBytes.random(count: 32))
        let o = try OrgClient(vaultURL: "http://127.0.0.1:\(v.publicPort)", keys: try OrgKeys.read(from: orgKey))

        // The module first: a new organization's key rides along with the upload.
        let push = try await v.cli(["org", "module", "push", repositoryRoot.path + "/Modules/aggregate.wasm"] + orgArgs(v, key: orgKey))
        #expect(push.status == 0 && push.stdout.contains("uploaded"), "\(push.stdout)\(push.stderr)")
        let name = ComputeJob.name(of: try module("aggregate"))
        let params = "{\"stats\":[\"count\",\"sum\",\"mean\",\"min\",\"max\",\"p50\",\"p90\"],\"window\":3600}"
        let request = try await v.cli(["org", "request", "--stream", "home/temp", "--stream", "home/hum", "--from", "2026-01-01T00:00:00Z",
                                       "--to", "2026-01-01T03:00:00Z", "--expires", "30d", "--name", "Acme Health", "--purpose",
                                       "hourly temperature and humidity statistics", "--id", "stats", "--compute", name,
                                       "--params", params] + orgArgs(v, key: orgKey))
        #expect(request.status == 0 && request.stdout.contains("stats pending"), "\(request.stdout)\(request.stderr)")

        // The person, on a terminal: what is different said plainly, then the output, then release.
        let pty = try PTYSession(try Binaries.path("vault-cli"), ["approve", "stats", "--passphrase-file", v.passphraseFile] + v.globalArgs,
                                 environment: v.cliEnvironment)
        #expect(await pty.expect("Type yes to approve"), "\(pty.output.text)")
        let screen = pty.output.text
        #expect(screen.contains("will NOT receive your readings"), "\(screen)")
        #expect(screen.contains("you will see its output before anything is sent"), "\(screen)")
        #expect(screen.contains("NEW PROGRAM"), "\(screen)")
        pty.type("yes\r")
        // The output is paged (40 lines a page): skip to the end of it, then decide.
        #expect(await pty.expect("more lines: Enter for the next page, s to skip to the end"), "\(pty.output.text)")
        pty.type("s\r")
        #expect(await pty.expect("Send this output to the organization?"), "\(pty.output.text)")
        #expect(pty.output.text.contains("\"stream\": \"home/hum\""), "the first page of the output, pretty-printed: \(pty.output.text)")
        pty.type("r\r")
        #expect(await pty.waitForExit() == 0, "\(pty.output.text)")
        #expect(pty.output.text.contains("run 0 of stats released to the organization"), "\(pty.output.text)")

        // The organization: verified results, the output opened with its delivery key.
        let dir = v.root + "/results"
        let fetched = try await v.cli(["org", "results", "stats", "--out", dir] + orgArgs(v, key: orgKey))
        #expect(fetched.status == 0 && fetched.stdout.contains("1 output released"), "\(fetched.stdout)\(fetched.stderr)")
        let output = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/0.out")))
        guard case .object(let doc) = try JSONValue.parse(output), case .array(let results)? = doc["results"] else {
            Issue.record("output is not the aggregate document: \(String(decoding: output, as: UTF8.self))")
            return
        }
        // The same aggregate, computed here.
        var expected: [String: [String: Double]] = [:]
        for s in ["home/hum", "home/temp"] {
            for h in 0..<3 {
                let from = base + Int64(h) * hour
                let values = rows.filter { $0.stream == s && $0.t >= from && $0.t < from + hour }.compactMap { Double($0.v) }
                guard !values.isEmpty else { continue }
                let sorted = values.sorted()
                let sum = values.reduce(0, +)
                func q(_ p: Double) -> Double { sorted[Int((p * Double(values.count)).rounded(.up)) - 1] }
                expected["\(s)@\(from)"] = ["count": Double(values.count), "sum": sum, "mean": sum / Double(values.count),
                                            "min": sorted.first!, "max": sorted.last!, "p50": q(0.5), "p90": q(0.9)]
            }
        }
        #expect(results.count == expected.count, "\(String(decoding: output, as: UTF8.self))")
        for r in results {
            guard let s = r["stream"]?.stringValue, let from = r["from"]?.numberText.flatMap({ Int64($0) }), let want = expected["\(s)@\(from)"] else {
                Issue.record("unexpected result \(String(decoding: r.serialized(), as: UTF8.self))")
                continue
            }
            for (stat, value) in want { #expect(r[stat]?.doubleValue == value, "\(s) \(from) \(stat)") }
        }

        // No segment key for a compute grant: none stored, none served.
        let db = try DatabaseQueue(path: v.dataDir + "/vault.db")
        let keys = try await db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM grant_key WHERE grantId = 'stats'") }
        #expect(keys == 0)
        let segments = try await o.send(.GET, "/v1/grants/stats/segments")
        #expect(problem(segments) == (403, "compute_only"), "\(String(decoding: segments.body, as: UTF8.self))")

        // The leaf binds the input: SHA-256 of the stdin rebuilt from the ingested readings.
        let leaf = try LedgerLeaf(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/0.leaf.json"))))
        let stdin = expectedStdin(grant: "stats", params: params, streams: ["home/temp", "home/hum"], from: base, to: base + 3 * hour, rows: rows)
        #expect(leaf.type == "compute.released")
        #expect(leaf.json["input"]?.stringValue == JobInput.digest(stdin))
        #expect(leaf.json["output"]?.stringValue == JobInput.digest(output))
        #expect(leaf.json["readings"]?.numberText == "\(rows.count)")

        // Deterministic: the same module over the same stdin, twice, byte for byte the output released.
        let runner = SandboxRunner(executable: .init(try Binaries.path("edgevault-sandbox")))
        let clock = UInt64(Timestamp.now()) * 1_000_000
        let first = try await runner.run(module: try module("aggregate"), stdin: stdin, limits: ComputeJob.defaultLimits, clockNanos: clock)
        let second = try await runner.run(module: try module("aggregate"), stdin: stdin, limits: ComputeJob.defaultLimits, clockNanos: clock)
        #expect(first.failure == nil && first.stdout == second.stdout && first.stdout == output)

        let verify = try await v.cli(["log", "verify"])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        _ = try await v.stopDaemon()
    }

    @Test("three vaults, one linreg-sgd request to each, all approve: org combine yields a model whose loss on the union of the data is lower than the initial model's, and each vault's ledger shows exactly its own release")
    func federatedLinearRegression() async throws {
        let vaults = try (0..<3).map { _ in try VaultFixture() }
        let orgKey = vaults[0].root + "/lab.key"
        try OrgKeys.generate().write(to: orgKey, deliverySeed: SecureBytes.random(count: 32))
        var union: [(x: Double, y: Double)] = []
        for (i, v) in vaults.enumerated() {
            try await v.initVault()
            try await v.startDaemon()
            // y = 3x + 2 with a little deterministic noise; each household has its own x range.
            var rows: [(stream: String, t: Int64, v: String)] = []
            for k in 0..<40 {
                let x = Double(i) * 0.3 + Double(k) / 100
                let y = 3 * x + 2 + Double((k * 7 + i * 3) % 11 - 5) / 100
                rows.append(("lab/x", base + Int64(k) * 60_000, "\(x)"))
                rows.append(("lab/y", base + Int64(k) * 60_000, "\(y)"))
                union.append((x, y))
            }
            try await ingest(v, rows)
            #expect(try await v.cli(["org", "module", "push", repositoryRoot.path + "/Modules/linreg-sgd.wasm"] + orgArgs(v, key: orgKey)).status == 0)
            let params = "{\"weights\":[0,0],\"features\":[\"lab/x\"],\"target\":\"lab/y\",\"learningRate\":0.05,\"epochs\":20}"
            let r = try await v.cli(["org", "request", "--stream", "lab/x", "--stream", "lab/y", "--from", "2026-01-01", "--to", "2026-01-02",
                                     "--expires", "30d", "--name", "Open Lab", "--purpose", "train a shared linear model", "--id", "round1",
                                     "--compute", ComputeJob.name(of: try module("linreg-sgd")), "--params", params] + orgArgs(v, key: orgKey))
            #expect(r.status == 0, "\(r.stderr)")
            let approved = try await v.cli(["approve", "round1", "--yes", "--release", "--passphrase-file", v.passphraseFile])
            #expect(approved.status == 0 && approved.stdout.contains("run 0 of round1 released"), "\(approved.stdout)\(approved.stderr)")
            let fetched = try await v.cli(["org", "results", "round1", "--out", vaults[0].root + "/r\(i)"] + orgArgs(v, key: orgKey))
            #expect(fetched.status == 0, "\(fetched.stderr)")
        }
        let model = vaults[0].root + "/model.json"
        let combined = try await vaults[0].cli(["org", "combine"] + (0..<3).map { vaults[0].root + "/r\($0)" } + ["--out", model])
        #expect(combined.status == 0 && combined.stdout.contains("combined 3 updates over 120 samples"), "\(combined.stdout)\(combined.stderr)")
        guard case .array(let w)? = try JSONValue.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: model))))["weights"] else {
            Issue.record("no weights in the model")
            return
        }
        let weights = w.compactMap(\.doubleValue)
        func loss(_ b: Double, _ a: Double) -> Double { union.map { pow(b + a * $0.x - $0.y, 2) }.reduce(0, +) / Double(union.count) }
        #expect(weights.count == 2)
        #expect(loss(weights[0], weights[1]) < loss(0, 0) / 10, "combined \(weights): \(loss(weights[0], weights[1])) vs \(loss(0, 0))")
        let org = try OrgKeys.read(from: orgKey).keyId
        for v in vaults {
            let leaves = try await computeLeaves(v)
            #expect(leaves.count == 1 && leaves[0].type == "compute.released" && leaves[0].org == org && leaves[0].json["grant"]?.stringValue == "round1")
            _ = try await v.stopDaemon()
        }
    }

    @Test("per-segment runs in vaultd as each in-scope segment closes: a review run waits sealed to the person until vault-cli release, an auto run is released at once, a failing run is a compute.failed leaf with its reason")
    func perSegment() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon(environment: ["EDGEVAULT_SEGMENT_GRACE_SECONDS": "0"])
        #expect(try await v.cli(["stream", "add", "live/steps", "--bucket", "1"]).status == 0)
        let orgKey = v.root + "/acme.key"
        try OrgKeys.generate().write(to: orgKey, deliverySeed: SecureBytes.random(count: 32))
        #expect(try await v.cli(["org", "module", "push", repositoryRoot.path + "/Modules/aggregate.wasm"] + orgArgs(v, key: orgKey)).status == 0)
        let name = ComputeJob.name(of: try module("aggregate"))
        let now = Timestamp.now()
        let range = ["--stream", "live/steps", "--from", Timestamp.rfc3339(milliseconds: now - 3_600_000), "--to",
                     Timestamp.rfc3339(milliseconds: now + 3_600_000), "--expires", "1d", "--name", "Acme", "--purpose", "step statistics"]
        for (id, release, params) in [("reviewed", "review", "{\"stats\":[\"count\",\"sum\"]}"), ("automatic", "auto", "{\"stats\":[\"count\"]}"),
                                      ("broken", "auto", "{\"stats\":[\"no-such-stat\"]}"), ("hidden", "review", "{\"stats\":[\"max\"]}"),
                                      ("quiet", "review", "{\"stats\":[\"no-such-stat\"]}")] {
            let r = try await v.cli(["org", "request", "--id", id, "--compute", name, "--params", params, "--schedule", "per-segment",
                                     "--release", release] + range + orgArgs(v, key: orgKey))
            #expect(r.status == 0, "\(r.stderr)")
            let a = try await v.cli(["approve", id, "--yes", "--passphrase-file", v.passphraseFile])
            #expect(a.status == 0 && a.stdout.contains("a compute grant signed by you"), "\(a.stdout)\(a.stderr)")
        }
        // Readings in one one-second bucket; it closes within a sweep (5 s) of its end.
        let t = Timestamp.now() / 1000 * 1000 + 1000  // the next second: all five in one bucket
        let lines = (0..<5).map { "{\"stream\":\"live/steps\",\"t\":\(t + Int64($0)),\"v\":\($0 + 1)}\n" }.joined()
        #expect(try await v.cli(["ingest"], stdin: Array(lines.utf8)).status == 0)
        var leaves: [LedgerLeaf] = []
        for _ in 0..<120 {  // at most 60 s
            leaves = try await computeLeaves(v)
            if leaves.count >= 3 { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        let failed = leaves.first { $0.type == "compute.failed" && $0.json["grant"]?.stringValue == "broken" }
        #expect(failed?.json["grant"]?.stringValue == "broken" && failed?.json["reason"]?.stringValue == "exit" && failed?.json["exit"]?.numberText == "2",
                "\(leaves.map { String(decoding: $0.bytes, as: UTF8.self) })")
        #expect(failed?.json["output"] == nil)
        let released = leaves.first { $0.type == "compute.released" }
        #expect(released?.json["grant"]?.stringValue == "automatic" && released?.json["readings"]?.numberText == "5")
        // The review run waits for the person.
        #expect(leaves.contains { $0.type == "compute.failed" && $0.json["grant"]?.stringValue == "quiet" }, "a failed review run is in the person's ledger")
        let listed = try await v.cli(["results"])
        #expect(listed.status == 0 && listed.stdout.contains("reviewed  run 0  5 readings") && listed.stdout.contains("hidden  run 0  5 readings"),
                "\(listed.stdout)\(listed.stderr)")
        let withheld = try await v.cli(["withhold", "hidden", "0", "--passphrase-file", v.passphraseFile])
        #expect(withheld.status == 0 && withheld.stdout.contains("run 0 of hidden withheld: nothing was sent"), "\(withheld.stdout)\(withheld.stderr)")
        #expect(!leaves.contains { $0.json["grant"]?.stringValue == "reviewed" })
        let release = try await v.cli(["release", "reviewed", "0", "--yes", "--passphrase-file", v.passphraseFile])
        #expect(release.status == 0 && release.stdout.contains("run 0 of reviewed released"), "\(release.stdout)\(release.stderr)")
        #expect(release.stdout.contains("\"sum\": 15"), "\(release.stdout)")
        #expect(try await v.cli(["results"]).stdout.contains("no outputs wait for you"))

        for (id, expected) in [("reviewed", "\"count\":5,\"skipped\":0,\"sum\":15}"), ("automatic", "\"count\":5,\"skipped\":0}")] {
            let dir = v.root + "/" + id
            let r = try await v.cli(["org", "results", id, "--out", dir] + orgArgs(v, key: orgKey))
            #expect(r.status == 0 && r.stdout.contains("1 output released"), "\(r.stdout)\(r.stderr)")
            let out = String(decoding: try Data(contentsOf: URL(fileURLWithPath: dir + "/0.out")), as: UTF8.self)
            #expect(out.contains(expected), "\(out)")
            // Again: nothing new, nothing fetched twice.
            let again = try await v.cli(["org", "results", id, "--out", dir] + orgArgs(v, key: orgKey))
            #expect(again.status == 0 && again.stdout.contains("0 outputs released") && again.stdout.contains("(1 already here)"), "\(again.stdout)")
        }
        let broken = try await v.cli(["org", "results", "broken", "--out", v.root + "/broken"] + orgArgs(v, key: orgKey))
        #expect(broken.status == 0 && broken.stdout.contains("1 failed"), "an auto grant's failed run is the organization's to see: \(broken.stdout)\(broken.stderr)")
        // What the person did not agree to send stays theirs: a withheld run (its leaf names the
        // output's hash) and a review grant's failed run (exit status, fuel) are not listed.
        for id in ["hidden", "quiet"] {
            let r = try await v.cli(["org", "results", id, "--out", v.root + "/" + id] + orgArgs(v, key: orgKey))
            #expect(r.status == 0 && r.stdout.contains("0 outputs released, 0 withheld, 0 failed"), "\(id): \(r.stdout)\(r.stderr)")
        }
        #expect(try await v.cli(["log", "verify"]).status == 0)
        _ = try await v.stopDaemon()
    }

    @Test("hostile modules and requests get clear refusals and store nothing: garbage, a forbidden import, a wrong hash, a wrong type, more than 4 MiB, a missing module, too little memory for the module, a job on a raw request, a forged decision; a module still named cannot be removed, an unused one can")
    func badInput() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        let orgKey = v.root + "/mallory.key"
        try OrgKeys.generate().write(to: orgKey, deliverySeed: SecureBytes.random(count: 32))
        let o = try OrgClient(vaultURL: "http://127.0.0.1:\(v.publicPort)", keys: try OrgKeys.read(from: orgKey))
        let keyHeader = [("EdgeVault-Org-Key", Encoding.base64url(o.keys.signing.publicKey.bytes))]
        func put(_ bytes: [UInt8], name: String? = nil, type: String = "application/wasm") async throws -> (Int, String) {
            let r = try await o.send(.PUT, "/v1/modules/\(name ?? ComputeJob.name(of: bytes))", body: bytes, contentType: type, headers: keyHeader)
            return r.status < 300 ? (r.status, "") : problem(r)
        }
        #expect(try await put(Array("not wasm at all".utf8)) == (422, "module_invalid"))
        #expect(try await put([0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00, 0x01]) == (422, "module_invalid"))
        // A module that imports path_open (files): refused at upload.
        let wat = v.root + "/open.wat"
        try Data("""
            (module (import "wasi_snapshot_preview1" "path_open" (func (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
              (memory (export "memory") 1 1) (func (export "_start")))
            """.utf8).write(to: URL(fileURLWithPath: wat))
        let built = try await run("/usr/bin/wat2wasm", [wat, "-o", v.root + "/open.wasm"])
        #expect(built.status == 0, "\(built.stderr)")
        let open = [UInt8](try Data(contentsOf: URL(fileURLWithPath: v.root + "/open.wasm")))
        let refused = try await o.send(.PUT, "/v1/modules/\(ComputeJob.name(of: open))", body: open, contentType: "application/wasm", headers: keyHeader)
        #expect(problem(refused) == (422, "module_invalid") && String(decoding: refused.body, as: UTF8.self).contains("path_open"))
        let aggregate = try module("aggregate")
        #expect(try await put(aggregate, name: ComputeJob.name(of: open)) == (400, "bad_request"), "the body is not the named module")
        #expect(try await put(aggregate, name: "sha256:XYZ") == (400, "bad_request"))
        #expect(try await put(aggregate, type: "application/octet-stream") == (415, "unsupported_media_type"))
        #expect(try await put([UInt8](repeating: 0, count: (4 << 20) + 1)).0 == 413)
        let modules = try await v.cli(["modules"])
        #expect(modules.stdout.contains("no modules"), "nothing was stored: \(modules.stdout)")

        // Requests: a module the vault does not hold, too little memory, a job on a raw request.
        func request(_ job: JSONValue?, access: String = "compute") async throws -> (Int, String) {
            var payload: [String: JSONValue] = [
                "type": .string(AccessRequest.type), "vault": .string(try await o.origin()), "id": .string("r" + Encoding.hex(Sodium.randomBytes(4))),
                "org": .object(["name": .string("Mallory")]), "streams": .array([.string("a/b")]), "from": .string("2026-01-01T00:00:00Z"),
                "to": .string("2026-02-01T00:00:00Z"), "purpose": .string("test"), "access": .string(access),
                "deliveryKey": .string(Encoding.base64url(o.keys.delivery.publicKey)), "expires": .string(Timestamp.rfc3339(milliseconds: Timestamp.now() + 86_400_000)),
                "created": .string(Timestamp.rfc3339(milliseconds: Timestamp.now())),
            ]
            if let job { payload["job"] = job }
            let jws = JWS.sign(payload: JSONValue.object(payload).serialized(), header: JWS.orgHeader(publicKey: o.keys.signing.publicKey.bytes), keyPair: o.keys.signing)
            let r = try await o.send(.POST, "/v1/requests", body: jws.serialized(), contentType: "application/jose+json")
            return r.status < 300 ? (r.status, "") : problem(r)
        }
        func job(_ module: String, pages: Int = 512, release: String = "review", schedule: String = "once") -> JSONValue {
            ComputeJob(module: module, params: .null, schedule: .init(rawValue: schedule)!, release: .init(rawValue: release)!,
                       limits: .init(fuel: 1000, memoryPages: pages, outputBytes: 100, wallMs: 1000)).json
        }
        #expect(try await request(job(ComputeJob.name(of: aggregate))) == (409, "module_missing"))
        #expect(try await put(aggregate) == (201, ""))
        #expect(try await put(aggregate) == (200, ""), "known already")
        #expect(try await request(job(ComputeJob.name(of: aggregate), pages: 100)) == (422, "module_invalid"), "the module may grow to 256 pages")
        #expect(try await request(job(ComputeJob.name(of: aggregate)), access: "raw") == (400, "request_invalid"))
        #expect(try await request(job(ComputeJob.name(of: aggregate), release: "auto")) == (400, "request_invalid"), "auto needs per-segment")
        #expect(try await request(nil) == (400, "request_invalid"), "compute needs a job")
        #expect(try await request(job(ComputeJob.name(of: aggregate))) == (202, ""))

        // The person removes a module only when nothing live names it; then its quota is free.
        let name = ComputeJob.name(of: aggregate)
        let inUse = try await v.cli(["modules", "rm", name, "--yes"])
        #expect(inUse.status == 1 && inUse.stderr.contains("named by 1 live grant(s) or pending request(s)"), "\(inUse.stderr)")
        #expect(try await v.cli(["deny", "--org", o.keys.keyId, "--all", "--yes", "--passphrase-file", v.passphraseFile]).status == 0)
        let removed = try await v.cli(["modules", "rm", name, "--yes"])
        #expect(removed.status == 0 && removed.stdout.contains("removed \(name)"), "\(removed.stdout)\(removed.stderr)")
        #expect(try await v.cli(["modules"]).stdout.contains("no modules"))
        #expect(try await put(aggregate) == (201, ""), "uploaded anew")

        // A decision not signed by the person is refused on the admin socket.
        let forged = try await v.request("POST", "/v1/compute/decisions", body: Array(#"{"org":"x","grant":"y","jws":"{}"}"#.utf8))
        #expect(problem(forged) == (400, "result_invalid"))
        let none = try await v.cli(["release", "nothing", "0", "--yes", "--passphrase-file", v.passphraseFile])
        #expect(none.status == 1 && none.stderr.contains("no output of grant nothing run 0 waits for you"), "\(none.stderr)")
        _ = try await v.stopDaemon()
    }

    @Test("a per-segment job that spins until its wall limit stalls neither ingest nor the daemon: readings are stored while its sandbox runs, and the run is recorded as failed with reason wall")
    func spinningJobDoesNotStall() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon(environment: ["EDGEVAULT_SEGMENT_GRACE_SECONDS": "0"])
        #expect(try await v.cli(["stream", "add", "live/spin", "--bucket", "1"]).status == 0)
        let wat = v.root + "/spin.wat"
        try Data(#"(module (memory (export "memory") 1 1) (func (export "_start") (loop (br 0))))"#.utf8).write(to: URL(fileURLWithPath: wat))
        #expect(try await run("/usr/bin/wat2wasm", [wat, "-o", v.root + "/spin.wasm"]).status == 0)
        let orgKey = v.root + "/acme.key"
        try OrgKeys.generate().write(to: orgKey, deliverySeed: SecureBytes.random(count: 32))
        #expect(try await v.cli(["org", "module", "push", v.root + "/spin.wasm"] + orgArgs(v, key: orgKey)).status == 0)
        let now = Timestamp.now()
        let name = ComputeJob.name(of: [UInt8](try Data(contentsOf: URL(fileURLWithPath: v.root + "/spin.wasm"))))
        let r = try await v.cli(["org", "request", "--id", "spin", "--compute", name, "--schedule", "per-segment", "--release", "auto",
                                 "--fuel", "1000000000000", "--wall-ms", "5000", "--stream", "live/spin",
                                 "--from", Timestamp.rfc3339(milliseconds: now - 3_600_000), "--to", Timestamp.rfc3339(milliseconds: now + 3_600_000),
                                 "--expires", "1d", "--name", "Spinner", "--purpose", "spin"] + orgArgs(v, key: orgKey))
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try await v.cli(["approve", "spin", "--yes", "--passphrase-file", v.passphraseFile]).status == 0)
        let t = Timestamp.now() / 1000 * 1000 + 1000
        #expect(try await v.cli(["ingest"], stdin: Array("{\"stream\":\"live/spin\",\"t\":\(t),\"v\":1}\n".utf8)).status == 0)
        // Wait (bounded) until vaultd's sandbox child runs the spinning job.
        let daemon = try #require(v.daemon?.processIdentifier)
        func sandboxRunning() -> Bool {
            ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).contains { pid in
                guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                      let close = stat.range(of: ") ", options: .backwards) else { return false }
                let fields = stat[close.upperBound...].split(separator: " ")
                return stat.contains("(edgevault-sandb") && fields.count > 1 && Int32(fields[1]) == daemon
            }
        }
        var seen = false
        for _ in 0..<100 where !seen {  // at most 20 s
            seen = sandboxRunning()
            if !seen { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(seen, "the sandbox ran as a child of vaultd")
        // While it spins: ingest, and the daemon answers.
        let lines = (0..<100).map { "{\"stream\":\"other/s\",\"t\":\(now - Int64($0) * 1000),\"v\":\($0)}\n" }.joined()
        let ingest = try await v.cli(["ingest"], stdin: Array(lines.utf8))
        #expect(ingest.status == 0 && ingest.stdout.contains("stored 100 readings"), "\(ingest.stdout)\(ingest.stderr)")
        #expect(try await v.cli(["status"]).status == 0)
        #expect(sandboxRunning(), "ingest and status were answered while the job still ran")
        var leaves: [LedgerLeaf] = []
        for _ in 0..<100 where leaves.isEmpty {  // at most 20 s more
            leaves = try await computeLeaves(v)
            if leaves.isEmpty { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(leaves.count == 1 && leaves.first?.type == "compute.failed" && leaves.first?.json["reason"]?.stringValue == "wall",
                "\(leaves.map { String(decoding: $0.bytes, as: UTF8.self) })")
        #expect(!sandboxRunning(), "the sandbox was killed and reaped")
        _ = try await v.stopDaemon()
    }
}
