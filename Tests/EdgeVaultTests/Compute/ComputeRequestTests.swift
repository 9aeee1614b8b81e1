import Foundation
import Testing
@testable import EdgeVaultCore
@testable import EdgeVaultClient
@testable import EdgeVaultTerminal

/// The compute request's `job`, the job's stdin, the run leaves and the person's decision
/// (docs/PROTOCOL.md §"Compute jobs", §"Compute results").
@Suite("Compute requests: the job, its stdin, run leaves and decisions")
struct ComputeRequestTests {
    static let module = "sha256:" + String(repeating: "ab", count: 32)

    static func job(_ edit: (inout [String: JSONValue]) -> Void = { _ in }) -> JSONValue {
        var o: [String: JSONValue] = [
            "module": .string(module), "abi": .string("wasi-p1-stdio/1"), "params": .object(["b": .number("2"), "a": .array([])]),
            "schedule": .string("per-segment"), "release": .string("auto"),
            "limits": .object(["fuel": .number("1000"), "memoryPages": .number("16"), "outputBytes": .number("100"), "wallMs": .number("500")]),
        ]
        edit(&o)
        return .object(o)
    }

    @Test("A well-formed job parses, and serializes back to the same JSON")
    func roundTrip() throws {
        let job = try ComputeJob(json: Self.job())
        #expect(job.schedule == .perSegment && job.release == .auto && job.limits == JobLimits(fuel: 1000, memoryPages: 16, outputBytes: 100, wallMs: 500))
        #expect(try ComputeJob(json: job.json) == job)
        #expect(job.moduleDigest == [UInt8](repeating: 0xAB, count: 32))
    }

    @Test("Each malformed job member is refused with a message naming it", arguments: [
        ("module", JSONValue.string("sha256:AB"), "job.module"),
        ("module", .string("md5:" + String(repeating: "a", count: 64)), "job.module"),
        ("abi", .string("wasi-p2"), "job.abi"),
        ("schedule", .string("hourly"), "job.schedule"),
        ("release", .string("maybe"), "job.release"),
        ("params", .string(String(repeating: "x", count: 5000)), "job.params"),
        ("limits", .object(["fuel": .number("0"), "memoryPages": .number("1"), "outputBytes": .number("1"), "wallMs": .number("1")]), "job.limits.fuel"),
        ("limits", .object(["fuel": .number("1"), "memoryPages": .number("5000"), "outputBytes": .number("1"), "wallMs": .number("1")]), "job.limits.memoryPages"),
        ("limits", .object(["fuel": .number("1"), "memoryPages": .number("1"), "outputBytes": .number("1.5"), "wallMs": .number("1")]), "job.limits.outputBytes"),
        ("limits", .object(["fuel": .number("1"), "memoryPages": .number("1"), "outputBytes": .number("1"), "wallMs": .number("-1")]), "job.limits.wallMs"),
        ("extra", .null, "may only have"),
    ])
    func refusals(_ key: String, _ value: JSONValue, _ message: String) {
        #expect(throws: AccessRequest.Invalid.self) { try ComputeJob(json: Self.job { $0[key] = value }) }
        do {
            _ = try ComputeJob(json: Self.job { $0[key] = value })
        } catch {
            #expect(error.detail.contains(message), "\(error.detail)")
        }
    }

    @Test("auto release needs per-segment; a missing params member is refused (null is how to say none)")
    func combinations() {
        #expect(throws: AccessRequest.Invalid.self) { try ComputeJob(json: Self.job { $0["schedule"] = .string("once") }) }
        #expect(throws: AccessRequest.Invalid.self) { try ComputeJob(json: Self.job { $0["params"] = nil }) }
        #expect((try? ComputeJob(json: Self.job { $0["params"] = .null })) != nil)
    }

    @Test("The job's stdin is byte for byte the documented form: header in its key order, params compact and sorted, one line per reading")
    func stdin() {
        var input = JobInput(grant: "g-1", params: .object(["b": .number("2"), "a": .array([.string("x\"y")])]), streams: ["s/2", "s/1"], from: 1000, to: 2000)
        input.append(stream: "s/1", t: 1500, value: Array("21.5".utf8))
        input.append(stream: "s/2", t: 1001, value: Array("{\"k\":true}".utf8))
        let expected = """
            {"type":"edgevault.job-input/v1","grant":"g-1","params":{"a":["x\\"y"],"b":2},"streams":["s/2","s/1"],"from":1000,"to":2000}
            {"stream":"s/1","t":1500,"v":21.5}
            {"stream":"s/2","t":1001,"v":{"k":true}}

            """
        #expect(String(decoding: input.bytes, as: UTF8.self) == expected)
        #expect(input.readings == 2)
        #expect(input.digest == "sha256:" + Encoding.hex(Hash.sha256(Array(expected.utf8))))
    }

    @Test("A run leaf carries the documented members and reads back; a failed run has a reason and no output")
    func leaves() throws {
        let run = ComputeRun(grant: "g", seq: 3, module: Self.module, input: "sha256:" + String(repeating: "0", count: 64), readings: 12,
                             output: "sha256:" + String(repeating: "1", count: 64), fuel: 777, exit: 0, reason: nil, segment: "seg")
        let released = run.leaf(.released, org: "ORG", decisionSha256: [1, 2, 3], time: 1_800_000_000_000)
        #expect(released.type == "compute.released" && released.org == "ORG")
        for key in ["grant", "seq", "module", "input", "readings", "output", "fuel", "exit", "segment", "decisionSha256", "salt", "time"] {
            #expect(released.json[key] != nil, "\(key)")
        }
        let back = try #require(ComputeRun(leaf: try LedgerLeaf(bytes: released.bytes)))
        #expect(back.outcome == .released && back.seq == 3 && back.fuel == 777 && back.output == run.output && back.segment == "seg")
        var failed = run
        failed.output = nil
        failed.exit = nil
        failed.reason = .wall
        let leaf = failed.leaf(.failed, org: "ORG", decisionSha256: nil, time: 1)
        #expect(leaf.type == "compute.failed" && leaf.json["output"] == nil && leaf.json["reason"]?.stringValue == "wall" && leaf.json["exit"] == .null)
        #expect(ComputeRun(leaf: try LedgerLeaf(bytes: leaf.bytes))?.reason == .wall)
        // A released leaf without output, or a failed one with output, is not a run.
        let broken = LedgerLeaf(kind: .computeReleased, fields: failed.fields(.failed, decisionSha256: nil), time: 1)
        #expect(ComputeRun(leaf: broken) == nil)
    }

    @Test("The person's decision verifies only with the person's key and describes the run it decides")
    func decision() throws {
        let person = UserKeys(root: .random(count: 32)), other = UserKeys(root: .random(count: 32))
        let run = ComputeRun(grant: "g", seq: 0, module: Self.module, input: "sha256:" + String(repeating: "0", count: 64), readings: 1,
                             output: "sha256:" + String(repeating: "1", count: 64), fuel: 5, exit: 0, reason: nil)
        let jws = ComputeDecision.make(run, org: "ORG", outcome: .withheld, at: 1_800_000_000_000, keys: person)
        let checked = try ComputeDecision.check(jws, userKeyId: person.publicKeys.keyId, userKey: try SigningPublicKey(bytes: person.publicKeys.signingKey))
        #expect(checked.outcome == .withheld && checked.org == "ORG" && checked.run.grant == "g" && checked.run.output == run.output)
        #expect(throws: JWS.Failure.self) {
            try ComputeDecision.check(jws, userKeyId: other.publicKeys.keyId, userKey: try SigningPublicKey(bytes: other.publicKeys.signingKey))
        }
        let forged = ComputeDecision.make(run, org: "ORG", outcome: .released, at: 1, keys: other)
        #expect(throws: JWS.Failure.self) {
            try ComputeDecision.check(forged, userKeyId: person.publicKeys.keyId, userKey: try SigningPublicKey(bytes: person.publicKeys.signingKey))
        }
    }

    @Test("An access request with access compute carries its job; raw with a job, or compute without one, is refused")
    func accessRequest() throws {
        let keys = OrgKeys.generate()
        let job = try ComputeJob(json: Self.job())
        let now = Timestamp.now()
        let request = AccessRequest(vault: "v", id: "c1", orgName: "Acme", orgContact: "", streams: ["a/b"], from: now - 3_600_000, to: now,
                                    purpose: "p", deliveryKey: keys.delivery.publicKey, expires: now + 86_400_000, created: now,
                                    access: "compute", job: job)
        let parsed = try AccessRequest(payload: request.payload(), origin: "v", now: now)
        #expect(parsed.job == job && parsed.isCompute)
        var raw = request
        raw.access = "raw"
        #expect(throws: AccessRequest.Invalid.self) { try AccessRequest(payload: raw.payload(), origin: "v", now: now) }
        var missing = request
        missing.job = nil
        #expect(throws: AccessRequest.Invalid.self) { try AccessRequest(payload: missing.payload(), origin: "v", now: now) }
    }

    @Test("A job's output is shown safely: JSON pretty-printed with escaped strings, text escaped, anything else as hex")
    func outputView() {
        let json = OutputView.lines(Array(#"{"b":[1,"\u001b[2Jboom"],"a":{}}"#.utf8))
        #expect(json == ["{", "  \"a\": {},", "  \"b\": [", "    1,", "    \"\\u{1B}[2Jboom\"", "  ]", "}"], "\(json)")
        let text = OutputView.lines(Array("ok\n\u{1B}]0;title\u{07}\n".utf8))
        #expect(text.allSatisfy { !$0.unicodeScalars.contains { $0.value < 0x20 } }, "\(text)")
        #expect(OutputView.kind(of: [0xFF, 0x00, 0x41]) == .binary)
        #expect(OutputView.lines([0xFF, 0x00, 0x41]) == ["00000000  ff 00 41" + String(repeating: " ", count: 40) + "  ..A"])
        #expect(OutputView.lines([]) == ["(no output)"])
    }

    @Test("The review screen of a compute request says plainly that the readings stay, what runs, and when the output leaves")
    func reviewScreen() throws {
        let keys = OrgKeys.generate()
        let now = Timestamp.parseRFC3339("2026-11-24T12:00:00Z")!
        var job = try ComputeJob(json: Self.job())
        job.schedule = .once
        job.release = .review
        let access = AccessRequest(vault: "v", id: "c1", orgName: "Acme", orgContact: "", streams: ["a/b"], from: now - 86_400_000, to: now - 3_600_000,
                                   purpose: "p", deliveryKey: keys.delivery.publicKey, expires: now + 86_400_000, created: now, access: "compute", job: job)
        let summary = AdminAPI.RequestSummary(org: keys.keyId, id: "c1", status: .pending, streams: ["a/b"], from: "", to: "", expires: "", received: "",
                                              reason: nil, jws: "")
        let info = ReviewScreen.ComputeInfo(module: Self.module, size: 12_345, firstSeen: "2026-11-20T10:00:00Z", otherRequests: [], otherGrants: [],
                                            imports: ["wasi_snapshot_preview1.fd_read (function)"], exports: ["_start (function)"])
        let screen = ReviewScreen(request: summary, access: access, org: nil, record: TrackRecord(), segments: 23, readings: 288,
                                  ranges: [.init(stream: "a/b", start: access.from, end: access.to)], now: now, compute: info)
        #expect(screen.meaning.hasPrefix("Acme (name not verified) will NOT receive your readings. Its program (sha256:abababab…, 13 KiB, first seen 20 Nov 2026 10:00 UTC) will run on this gateway once, now, over 288 readings of a/b; you will see its output before anything is sent."), "\(screen.meaning)")
        #expect(screen.warnings.contains("NEW PROGRAM: this module has never run on your vault."))
        let text = screen.render()
        for line in text.split(separator: "\n") { #expect(line.count <= 80, "\(line)") }
        #expect(text.contains("compute: their program runs here, only its output leaves"))
        job.schedule = .perSegment
        job.release = .auto
        var auto = screen
        auto.access.job = job
        #expect(auto.warnings.contains("AUTOMATIC RELEASE: every output leaves without you seeing it first."))
        #expect(auto.meaning.contains("each output is sent to it at once, WITHOUT you seeing it first"))
    }
}
