import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation
import Testing

private let base = Timestamp.parseRFC3339("2026-01-01T00:00:00Z")!
private let hour: Int64 = 3_600_000
private let minute: Int64 = 60_000

/// home/temp: readings at :05, :25 and :45 of three hourly buckets (value h*100+m); home/keep: three.
private func ingest(_ v: VaultFixture) async throws {
    var lines = ""
    for h in 0..<3 {
        for m in [5, 25, 45] {
            lines += "{\"stream\":\"home/temp\",\"t\":\(base + Int64(h) * hour + Int64(m) * minute),\"v\":\(h * 100 + m)}\n"
        }
        lines += "{\"stream\":\"home/keep\",\"t\":\(base + Int64(h) * hour),\"v\":\(h)}\n"
    }
    let r = try await v.cli(["ingest"], stdin: Array(lines.utf8))
    #expect(r.status == 0, "\(r.stderr)")
}

/// The (t, v) of every exported reading of a stream.
private func exported(_ v: VaultFixture, _ stream: String) async throws -> [String] {
    let r = try await v.cli(["export", "--stream", stream, "--passphrase-file", v.passphraseFile])
    #expect(r.status == 0, "\(r.stderr)")
    return r.stdout.split(separator: "\n").map(String.init)
}

private func line(_ h: Int, _ m: Int) -> String {
    "{\"stream\":\"home/temp\",\"t\":\(base + Int64(h) * hour + Int64(m) * minute),\"v\":\(h * 100 + m)}"
}

@Suite("End to end: the person deletes a range of a stream", .serialized)
struct DeletionEndToEndTests {
    @Test("delete removes exactly the readings in the range, after saying how many and a typed yes: whole buckets go, a cut bucket keeps the rest under a new key that a live grant can still open; a data.deleted leaf records it and the log verifies")
    func deletesExactlyTheRange() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        try await ingest(v)
        try OrgKeys.generate().write(to: v.root + "/org.key", deliverySeed: SecureBytes.random(count: 32))
        let o = try OrgClient(vaultURL: "http://127.0.0.1:\(v.publicPort)", keys: try OrgKeys.read(from: v.root + "/org.key"))
        #expect(try await o.submit(AccessRequest(vault: try await o.origin(), id: "study", orgName: "Sleep Study", orgContact: "", streams: ["home/temp"],
                                                 from: base, to: base + 3 * hour, purpose: "test", deliveryKey: o.keys.delivery.publicKey,
                                                 expires: Timestamp.now() + 86_400_000, created: Timestamp.now())).status == "pending")
        #expect(try await v.cli(["approve", "study", "--passphrase-file", v.passphraseFile]).status == 0)
        let before = try await exported(v, "home/temp")
        #expect(before.count == 9)

        // Cheap refusals first, without the passphrase (no terminal here: asking would fail).
        let empty = try await v.cli(["delete", "--stream", "home/temp", "--from", "2025-01-01", "--to", "2025-01-02"])
        #expect(empty.status == 0 && empty.stdout.contains("home/temp has no readings from 2025-01-01T00:00:00Z to 2025-01-02T00:00:00Z; nothing deleted"),
                "\(empty.stdout)\(empty.stderr)")
        let unknown = try await v.cli(["delete", "--stream", "no/such", "--at", "2026-01-01T00:05:00Z"])
        #expect(unknown.status == 1 && unknown.stderr == "vault-cli: no stream \"no/such\"\n", "\(unknown.stderr)")
        let neither = try await v.cli(["delete", "--stream", "home/temp", "--from", "2026-01-01"])
        #expect(neither.status != 0 && neither.stderr.contains("give --from and --to"), "\(neither.stderr)")
        let range = ["delete", "--stream", "home/temp", "--from", "2026-01-01T00:20:00Z", "--to", "2026-01-01T02:01:00Z"]
        let unconfirmed = try await v.cli(range + ["--passphrase-file", v.passphraseFile])
        #expect(unconfirmed.status == 1 && unconfirmed.stderr.contains("pass --yes; nothing was deleted"), "\(unconfirmed.stderr)")

        // On a terminal: exact counts, the grant named, and nothing without a typed yes.
        let asked = try PTYSession(try Binaries.path("vault-cli"), range + ["--passphrase-file", v.passphraseFile] + v.globalArgs, environment: v.cliEnvironment)
        #expect(await asked.expect("Type yes to delete 5 readings"))
        let screen = asked.output.text
        #expect(screen.contains("This deletes 5 readings of home/temp from 2026-01-01T00:20:00Z to 2026-01-01T02:01:00Z (2026-01-01T00:25:00Z → 2026-01-01T01:45:00Z)."), "\(screen)")
        #expect(screen.contains("1 segment deleted whole, 1 segment cut through (1 reading outside the range stays, re-encrypted under a new key)"), "\(screen)")
        #expect(screen.contains("Live grants cover this data: Sleep Study (study)"), "\(screen)")
        asked.type("no\r")
        #expect(await asked.waitForExit() == 1 && asked.output.text.contains("not deleted"))
        #expect(try await exported(v, "home/temp") == before)

        let done = try await v.cli(range + ["--yes", "--passphrase-file", v.passphraseFile])
        #expect(done.status == 0 && done.stdout.contains("deleted 5 readings of home/temp"), "\(done.stdout)\(done.stderr)")
        #expect(try await exported(v, "home/temp") == [line(0, 5), line(2, 5), line(2, 25), line(2, 45)])
        #expect(try await exported(v, "home/keep").count == 3, "another stream is untouched")

        // The ledger records it, and still verifies.
        let shown = try await v.cli(["log", "show", "--type", "data.deleted"])
        #expect(shown.stdout.contains("stream=home/temp") && shown.stdout.contains("readings=5") && shown.stdout.contains("from=2026-01-01T00:20:00Z"),
                "\(shown.stdout)")
        #expect(try await v.cli(["log", "verify"]).status == 0)

        // The live grant opens the re-encrypted bucket: the organization fetches exactly what is left.
        let fetched = try await v.cli(["org", "fetch", "study", "--vault", "http://127.0.0.1:\(v.publicPort)", "--key", v.root + "/org.key", "-o", v.root + "/study.ndjson"])
        #expect(fetched.status == 0, "\(fetched.stderr)")
        let got = try String(contentsOfFile: v.root + "/study.ndjson", encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(got == [line(0, 5), line(2, 5), line(2, 25), line(2, 45)])

        // One wrong reading: --at.
        let one = try await v.cli(["delete", "--stream", "home/temp", "--at", "2026-01-01T02:25:00Z", "--yes", "--passphrase-file", v.passphraseFile])
        #expect(one.status == 0 && one.stdout.contains("deleted 1 reading of home/temp at 2026-01-01T02:25:00Z"), "\(one.stdout)\(one.stderr)")
        #expect(try await exported(v, "home/temp") == [line(0, 5), line(2, 5), line(2, 45)])
        try await v.stopDaemon()
    }

    @Test("POST /v1/deletions refuses unsigned, foreign-signed, replayed and inconsistent deletions, tampered replacements and missing or stray grant keys, and changes nothing")
    func hostileDeletions() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        try await ingest(v)
        let o = try OrgClient(vaultURL: "http://127.0.0.1:\(v.publicPort)", keys: OrgKeys.generate())
        #expect(try await o.submit(AccessRequest(vault: try await o.origin(), id: "study", orgName: "Study", orgContact: "", streams: ["home/temp"],
                                                 from: base, to: base + 3 * hour, purpose: "test", deliveryKey: o.keys.delivery.publicKey,
                                                 expires: Timestamp.now() + 86_400_000, created: Timestamp.now())).status == "pending")
        #expect(try await v.cli(["approve", "study", "--passphrase-file", v.passphraseFile]).status == 0)
        var passphrase = Array(VaultFixture.passphrase.utf8)
        let keys = try UserKeyFile.read(from: v.keyFile).unlock(passphrase: SecureBytes(wiping: &passphrase))
        let client = AdminClient(socketPath: v.socket)
        let origin = try await client.vault().origin
        let deleter = RangeDeleter(client: client)
        let from = base + 20 * minute, to = base + 2 * hour + minute
        let plan = try await deleter.plan(stream: "home/temp", from: from, to: to, keys: keys, logState: v.root + "/log-state.json")
        #expect(plan.readings == 5 && plan.kept == 1 && plan.whole.count == 1 && plan.untouched.count == 1 && plan.replacements.count == 1)
        // Grant keys and times are signed with the replacement: swapping a grant key is refused.
        var swappedKey = plan.replacements
        swappedKey[0].grantKeys[0].sealedKey = Encoding.base64(try SealedBox.seal(SecureBytes.random(count: 32), to: o.keys.delivery.publicKey))
        let garbled = try await post(replacements: swappedKey)
        #expect(problem(garbled) == (400, "deletion_invalid") && detail(garbled).contains("not what was signed"), "\(detail(garbled))")
        var shifted = plan.replacements
        shifted[0].minTime -= 1
        #expect(problem(try await post(replacements: shifted)) == (400, "deletion_invalid"))
        let segmentsBefore = try await client.segments(streams: ["home/temp"], from: 0, to: Timestamp.maxMilliseconds)

        func post(_ segments: [RangeDeletion.Segment]? = nil, whole: [String]? = nil, wholeReadings: Int64? = nil, untouched: [String]? = nil,
                  replacements: [AdminAPI.DeletionInput.Replacement]? = nil, signer: UserKeys? = nil, at: Int64 = Timestamp.now()) async throws -> HTTPClient.Response {
            let jws = RangeDeletion.make(vault: origin, stream: "home/temp", from: from, to: to, whole: whole ?? plan.whole,
                                         wholeReadings: wholeReadings ?? plan.wholeReadings, segments: segments ?? plan.segments,
                                         untouched: untouched ?? plan.untouched, at: at, keys: signer ?? keys)
            return try await v.request("POST", "/v1/deletions", body: Array(try JSONEncoder().encode(
                AdminAPI.DeletionInput(deletion: String(decoding: jws.serialized(), as: UTF8.self), replacements: replacements ?? plan.replacements))))
        }
        func detail(_ r: HTTPClient.Response) -> String { String(decoding: r.body, as: UTF8.self) }
        /// The plan's segments with each replacement's digest recomputed for `bodies` (a
        /// deletion the person signed over exactly these replacements).
        func signed(_ bodies: [AdminAPI.DeletionInput.Replacement]) -> [RangeDeletion.Segment] {
            plan.segments.map { s in
                var s = s
                if let b = bodies.first(where: { $0.replaces == s.id }) {
                    s.replacement?.sha256 = RangeDeletion.replacementDigest(
                        sealedKey: Encoding.fromBase64(b.sealedKey)!,
                        chunks: b.chunks.map { .init(seq: $0.seq, readings: $0.readings, ciphertext: Encoding.fromBase64($0.ciphertext)!) },
                        minTime: b.minTime, maxTime: b.maxTime,
                        grantKeys: b.grantKeys.map { .init(org: $0.org, grant: $0.grant, sealedKey: Encoding.fromBase64($0.sealedKey)!) })
                }
                return s
            }
        }

        let garbage = try await v.request("POST", "/v1/deletions", body: Array("{\"readings\":5}".utf8))
        #expect(problem(garbage) == (400, "deletion_invalid"))
        let foreign = try await post(signer: UserKeys(root: .random(count: 32)))
        #expect(problem(foreign) == (400, "deletion_invalid"), "\(detail(foreign))")
        let stale = try await post(at: Timestamp.now() - 3_600_000)
        #expect(problem(stale) == (400, "deletion_invalid") && detail(stale).contains("too far from the vault's clock"), "\(detail(stale))")
        // A segment left out (as if a reading had arrived after the person looked).
        let omitted = try await post(untouched: [])
        #expect(problem(omitted) == (409, "stream_changed"), "\(detail(omitted))")
        // Segments inside the range claimed to hold fewer readings than they do; one of them left out.
        let miscounted = try await post(wholeReadings: plan.wholeReadings - 1)
        #expect(problem(miscounted) == (400, "deletion_invalid") && detail(miscounted).contains("readings, not the 2 signed"), "\(detail(miscounted))")
        let spared = try await post(whole: [])
        #expect(problem(spared) == (409, "stream_changed"), "\(detail(spared))")
        // A cut segment named as losing nothing.
        var nothing = plan.segments
        nothing[0].readings = 0
        let zero = try await post(nothing)
        #expect(problem(zero) == (400, "deletion_invalid"), "\(detail(zero))")
        // A replacement whose chunk is not what was signed.
        var tampered = plan.replacements
        tampered[0].chunks[0].ciphertext = Encoding.base64([UInt8](repeating: 7, count: 64))
        let swapped = try await post(replacements: tampered)
        #expect(problem(swapped) == (400, "deletion_invalid") && detail(swapped).contains("not what was signed"), "\(detail(swapped))")
        // No key for the live grant that held the cut segment (the organization would lose what stays).
        var keyless = plan.replacements
        #expect(keyless[0].grantKeys.count == 1)
        keyless[0].grantKeys = []
        let lacking = try await post(signed(keyless), replacements: keyless)
        #expect(problem(lacking) == (400, "deletion_invalid") && detail(lacking).contains("lacks a key for grant study"), "\(detail(lacking))")
        // A key for a grant that does not exist.
        var stray = plan.replacements
        stray[0].grantKeys.append(.init(org: "someone", grant: "made-up", sealedKey: stray[0].grantKeys[0].sealedKey))
        let strayed = try await post(signed(stray), replacements: stray)
        #expect(problem(strayed) == (400, "deletion_invalid") && detail(strayed).contains("not a live grant"), "\(detail(strayed))")
        // No replacement sent for a cut segment.
        let dropped = try await post(replacements: [])
        #expect(problem(dropped) == (400, "deletion_invalid") && detail(dropped).contains("was not sent"), "\(detail(dropped))")
        let tooLarge = try await v.request("POST", "/v1/deletions", body: [UInt8](repeating: 0x20, count: 33 * 1024 * 1024))
        #expect(problem(tooLarge).0 == 413)
        #expect(try await client.segments(streams: ["home/temp"], from: 0, to: Timestamp.maxMilliseconds) == segmentsBefore, "nothing changed")
        #expect(try await v.cli(["log", "show", "--type", "data.deleted"]).stdout.contains("data.deleted") == false)

        // The genuine one applies once; its replay is refused.
        let at = Timestamp.now()
        let applied = try await post(at: at)
        #expect(applied.status == 200, "\(detail(applied))")
        let replay = try await post(at: at)
        #expect(problem(replay) == (400, "deletion_invalid") && detail(replay).contains("a replay?"), "\(detail(replay))")
        #expect(try await exported(v, "home/temp") == [line(0, 5), line(2, 5), line(2, 25), line(2, 45)])
        try await v.stopDaemon()
    }

    @Test("A compromised daemon cannot use delete to have kept readings sealed to a key of its choosing or to rewrite another segment: a forged live grant or a swapped segment key refuses the whole deletion and nothing is sent")
    func compromisedDaemon() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        try await ingest(v)
        let o = try OrgClient(vaultURL: "http://127.0.0.1:\(v.publicPort)", keys: OrgKeys.generate())
        let request = AccessRequest(vault: try await o.origin(), id: "study", orgName: "Study", orgContact: "", streams: ["home/temp"],
                                    from: base, to: base + 3 * hour, purpose: "test", deliveryKey: o.keys.delivery.publicKey,
                                    expires: Timestamp.now() + 86_400_000, created: Timestamp.now())
        #expect(try await o.submit(request).status == "pending")
        #expect(try await v.cli(["approve", "study", "--passphrase-file", v.passphraseFile]).status == 0)
        let before = try await exported(v, "home/temp")
        // An attacker's key signs a request that looks granted; the daemon lists it as live.
        let thief = try OrgClient(vaultURL: "http://127.0.0.1:\(v.publicPort)", keys: OrgKeys.generate())
        var stolen = request
        stolen.id = "steal"
        stolen.deliveryKey = thief.keys.delivery.publicKey
        var forged = thief.jws(for: stolen)
        forged.signatures.append(forged.signatures[0])
        let forgedText = String(decoding: forged.serialized(), as: UTF8.self)
        let forging = try AdminSocketProxy(path: v.root + "/forging.sock", upstream: v.socket) { path, body in
            guard path == "/v1/grants", var list = try? JSONDecoder().decode(AdminAPI.Grants.self, from: Data(body)), var g = list.grants.first else { return body }
            g.id = "steal"
            g.jws = forgedText
            list.grants.append(g)
            return Array(try! JSONEncoder().encode(list))
        }
        // The cut segment listed with the key of the whole one.
        let swapping = try AdminSocketProxy(path: v.root + "/swapping.sock", upstream: v.socket) { path, body in
            guard path.hasPrefix("/v1/segments?"), var list = try? JSONDecoder().decode(AdminAPI.Segments.self, from: Data(body)), list.segments.count >= 2 else { return body }
            list.segments[0].sealedKey = list.segments[1].sealedKey
            return Array(try! JSONEncoder().encode(list))
        }
        // The cut segment listed with a key the daemon made up (of the earlier unbound format,
        // sealed to the person's public box key) to plant readings of its own.
        let boxKey = Encoding.fromBase64url(try await AdminClient(socketPath: v.socket).vault().userBoxKey)!
        let madeUp = Encoding.base64(try SealedBox.seal(SecureBytes.random(count: 32), to: boxKey))
        let planting = try AdminSocketProxy(path: v.root + "/planting.sock", upstream: v.socket) { path, body in
            guard path.hasPrefix("/v1/segments?"), var list = try? JSONDecoder().decode(AdminAPI.Segments.self, from: Data(body)), !list.segments.isEmpty else { return body }
            list.segments[0].sealedKey = madeUp
            return Array(try! JSONEncoder().encode(list))
        }
        // A chunk left out of the cut segment (its readings outside the range would be lost).
        let dropping = try AdminSocketProxy(path: v.root + "/dropping.sock", upstream: v.socket) { path, body in
            guard path.contains("/chunks?after=-1"), var page = try? JSONDecoder().decode(AdminAPI.Chunks.self, from: Data(body)), !page.chunks.isEmpty else { return body }
            page.chunks[0].seq = 1
            return Array(try! JSONEncoder().encode(page))
        }
        // Chunk pages that never end.
        let looping = try AdminSocketProxy(path: v.root + "/looping.sock", upstream: v.socket) { path, body in
            guard path.contains("/chunks?"), var page = try? JSONDecoder().decode(AdminAPI.Chunks.self, from: Data(body)) else { return body }
            page.next = -1
            return Array(try! JSONEncoder().encode(page))
        }
        // Counts that overflow.
        let overflowing = try AdminSocketProxy(path: v.root + "/overflowing.sock", upstream: v.socket) { path, body in
            guard path.hasPrefix("/v1/segments?"), var list = try? JSONDecoder().decode(AdminAPI.Segments.self, from: Data(body)), list.segments.count >= 2 else { return body }
            list.segments[1].readings = .max
            return Array(try! JSONEncoder().encode(list))
        }
        for (proxy, expected) in [(forging, "does not carry your valid co-signature"), (swapping, "is bound to"), (planting, "is not bound to its segment"),
                                  (dropping, "lists chunk 1 where 0 of 1 belongs"), (looping, "do not advance"), (overflowing, "is listed with 9223372036854775807 readings")] {
            let r = try await run(try Binaries.path("vault-cli"),
                                  ["delete", "--stream", "home/temp", "--from", "2026-01-01T00:20:00Z", "--to", "2026-01-01T02:01:00Z", "--yes",
                                   "--passphrase-file", v.passphraseFile, "--data-dir", v.dataDir, "--admin-socket", proxy.path, "--user-key", v.keyFile],
                                  environment: v.cliEnvironment)
            proxy.stop()
            #expect(r.status == 1 && r.stderr.contains(expected) && r.stderr.contains("nothing was deleted"), "\(r.stderr)")
            #expect(!proxy.requests.contains { $0.hasPrefix("POST /v1/deletions") }, "a deletion was sent")
        }
        #expect(try await exported(v, "home/temp") == before)

        // A revoked grant the daemon calls live gets no key for what stays.
        let late = try OrgClient(vaultURL: "http://127.0.0.1:\(v.publicPort)", keys: OrgKeys.generate())
        #expect(try await late.submit(AccessRequest(vault: try await late.origin(), id: "revme", orgName: "Late", orgContact: "", streams: ["home/temp"],
                                                    from: base, to: base + 3 * hour, purpose: "test", deliveryKey: late.keys.delivery.publicKey,
                                                    expires: Timestamp.now() + 86_400_000, created: Timestamp.now())).status == "pending")
        #expect(try await v.cli(["approve", "revme", "--passphrase-file", v.passphraseFile]).status == 0)
        #expect(try await v.cli(["revoke", "revme", "--passphrase-file", v.passphraseFile]).status == 0)
        // It also hides the revocation from the typed leaf listing: revocations are read from
        // the raw leaves while the whole log is verified.
        let reviving = try AdminSocketProxy(path: v.root + "/reviving.sock", upstream: v.socket) { path, body in
            if path.hasPrefix("/v1/log/leaves?"), var page = try? JSONDecoder().decode(AdminAPI.Leaves.self, from: Data(body)) {
                page.leaves.removeAll { Encoding.fromBase64($0.data).flatMap { try? LedgerLeaf(bytes: $0) }?.type == "grant.revoked" }
                return Array(try! JSONEncoder().encode(page))
            }
            guard path == "/v1/grants", var list = try? JSONDecoder().decode(AdminAPI.Grants.self, from: Data(body)) else { return body }
            for i in list.grants.indices { list.grants[i].status = .live }
            return Array(try! JSONEncoder().encode(list))
        }
        var passphrase = Array(VaultFixture.passphrase.utf8)
        let keys = try UserKeyFile.read(from: v.keyFile).unlock(passphrase: SecureBytes(wiping: &passphrase))
        let plan = try await RangeDeleter(client: AdminClient(socketPath: reviving.path))
            .plan(stream: "home/temp", from: base + 20 * minute, to: base + 2 * hour + minute, keys: keys, logState: v.root + "/log-state.json")
        reviving.stop()
        #expect(plan.replacements.count == 1 && plan.replacements[0].grantKeys.map(\.grant) == ["study"], "\(plan.replacements.map(\.grantKeys))")
        try await v.stopDaemon()
    }
}
