import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation
import Testing

/// One vault of a circle: its fixture and what its peers need to add it.
struct CircleMember {
    let v: VaultFixture
    let name: String
    let logKey: String
    let witnessKey: String
    var url: String { "http://127.0.0.1:\(v.publicPort)" }
}

/// Starts `count` vaults and has each add every other as a peer (`vault-cli peer add`);
/// `configure` may give a vault a configuration file before it starts.
func makeCircle(_ count: Int, configure: (Int, VaultFixture) throws -> Void = { _, _ in }) async throws -> [CircleMember] {
    var members: [CircleMember] = []
    for i in 0..<count {
        let v = try VaultFixture()
        try await v.initVault()
        try configure(i, v)
        try await v.startDaemon()
        let witness = try await v.cli(["peer", "key"])
        let log = try await v.cli(["log", "key"])
        guard witness.status == 0, log.status == 0 else { throw HarnessError("peer key: \(witness.stderr) \(log.stderr)") }
        members.append(CircleMember(v: v, name: "house-\(i)", logKey: log.stdout.trimmingCharacters(in: .whitespacesAndNewlines),
                                    witnessKey: witness.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
    }
    for a in members {
        for b in members where b.name != a.name {
            let r = try await a.v.cli(["peer", "add", b.url, "--log-key", b.logKey, "--witness-key", b.witnessKey, "--name", b.name,
                                       "--passphrase-file", a.v.passphraseFile])
            guard r.status == 0 else { throw HarnessError("peer add: \(r.stderr)") }
        }
    }
    return members
}

/// The served checkpoint of `v` and which of `witnesses` validly cosigned it.
func servedCheckpoint(_ v: VaultFixture, witnesses: [String]) async throws -> (Checkpoint, Int, String) {
    let note = String(decoding: try await v.publicRequest("GET", "/v1/log/checkpoint").body, as: UTF8.self)
    let parsed = try SignedNote.parse(note)
    let cp = try Checkpoint(text: parsed.text)
    var cosigned = 0
    for key in witnesses where !(try CosignatureVerifier(key).verify(parsed)).isEmpty { cosigned += 1 }
    return (cp, cosigned, note)
}

/// Waits (at most `timeout`) until `v` serves a checkpoint larger than `size` with every one of
/// `witnesses`' cosignatures; returns it and when it was first seen so (ms since the epoch).
func awaitCosigned(_ v: VaultFixture, after size: Int64, witnesses: [String], timeout: Duration = .seconds(20)) async throws -> (Checkpoint, Int64) {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        let (cp, n, _) = try await servedCheckpoint(v, witnesses: witnesses)
        if cp.size > size, n == witnesses.count { return (cp, Timestamp.now()) }
        try await Task.sleep(for: .milliseconds(5))
    }
    throw HarnessError("no checkpoint after \(size) with \(witnesses.count) cosignatures within \(timeout)")
}

/// When vaultd signed the checkpoint of `size` (ms since the epoch).
func signedAt(_ v: VaultFixture, size: Int64) async throws -> Int64 {
    let r = try await v.request("GET", "/v1/log/checkpoints?from=\(size)&limit=1")
    let list = try JSONDecoder().decode(AdminAPI.Checkpoints.self, from: Data(r.body))
    guard let cp = list.checkpoints.first, cp.size == size, let t = Timestamp.parseRFC3339(cp.createdAt) else {
        throw HarnessError("no checkpoint of size \(size)")
    }
    return t
}

func policyText(log: String, witnesses: [(String, String)], threshold: Int) -> String {
    "log \(log)\n" + witnesses.map { "witness \($0.0) \($0.1)\n" }.joined()
        + "group circle \(threshold) \(witnesses.map(\.0).joined(separator: " "))\nquorum circle\n"
}

@Suite("Witnesses: three vaults on loopback cosign each other's checkpoints (C2SP tlog-witness)", .serialized)
struct WitnessEndToEndTests {
    @Test("Each new checkpoint carries both peers' cosignatures within a second (median of 100); log verify --policy passes 2-of-2 and fails with a witness's key replaced")
    func circleOfThree() async throws {
        let circle = try await makeCircle(3)
        let a = circle[0]
        let witnessesOfA = [circle[1].witnessKey, circle[2].witnessKey]
        // The checkpoints of the peer changes themselves get cosigned, with no entry after them
        // (a witness busy when the newest was signed must still be sent it).
        for (i, m) in circle.enumerated() {
            let others = circle.enumerated().filter { $0.offset != i }.map(\.element.witnessKey)
            let head = try await treeSize(m.v)
            let (cp, _) = try await awaitCosigned(m.v, after: head - 1, witnesses: others, timeout: .seconds(10))
            #expect(cp.size == head)
        }
        let org = TestOrg(v: a.v)
        var size = try await awaitCosigned(a.v, after: 0, witnesses: witnessesOfA).0.size
        var latencies: [Int64] = []
        for i in 0..<100 {
            // One ledger entry at a time: a request, then its withdrawal.
            if i % 2 == 0 {
                _ = try await org.client.submit(try await org.request(id: "w-\(i)"))
            } else {
                _ = try await org.client.withdraw(id: "w-\(i - 1)")
            }
            let (cp, seen) = try await awaitCosigned(a.v, after: size, witnesses: witnessesOfA)
            latencies.append(seen - (try await signedAt(a.v, size: cp.size)))
            size = cp.size
        }
        let sorted = latencies.sorted()
        let median = sorted[sorted.count / 2], p99 = sorted[sorted.count * 99 / 100]
        print("witness cosignatures: 100 checkpoints, median \(median) ms, p99 \(p99) ms, max \(sorted.last!) ms from signing to two cosignatures")
        try recordReliability("witnesses: two cosignatures per checkpoint, median \(median) ms, p99 \(p99) ms over 100 checkpoints")
        #expect(median <= 1000, "median \(median) ms")

        // The other two vaults' checkpoints are cosigned by their two peers as well.
        for (i, m) in circle.enumerated().dropFirst() {
            let others = circle.enumerated().filter { $0.offset != i }.map(\.element.witnessKey)
            let before = try await servedCheckpoint(m.v, witnesses: others).0.size
            _ = try await TestOrg(v: m.v).client.submit(try await TestOrg(v: m.v).request(id: "other-\(i)"))
            _ = try await awaitCosigned(m.v, after: before, witnesses: others)
        }

        // log verify --policy: 2 of 2 passes; with C's key replaced by another witness's, fails.
        let good = a.v.root + "/policy.txt", bad = a.v.root + "/policy-bad.txt"
        try policyText(log: a.logKey, witnesses: [("b", circle[1].witnessKey), ("c", circle[2].witnessKey)], threshold: 2)
            .write(toFile: good, atomically: true, encoding: .utf8)
        let stranger = try Cosigner(name: circle[2].witnessKey.split(separator: "+")[0].description, keyPair: SigningKeyPair.generate())
        try policyText(log: a.logKey, witnesses: [("b", circle[1].witnessKey), ("c", stranger.verifier.text)], threshold: 2)
            .write(toFile: bad, atomically: true, encoding: .utf8)
        let pass = try await a.v.cli(["log", "verify", "--policy", good])
        #expect(pass.status == 0, "\(pass.stderr)")
        #expect(pass.stdout.contains("meets the policy's quorum, cosigned by b, c"), "\(pass.stdout)")
        let fail = try await a.v.cli(["log", "verify", "--policy", bad, "--state", a.v.root + "/state2.json"])
        #expect(fail.status != 0)
        #expect(fail.stderr.contains("2 of 2 needed in group circle: only b cosigned"), "\(fail.stderr)")

        // Each vault lists its peers with what it cosigned of their logs.
        let list = try await circle[1].v.cli(["peer", "list"])
        #expect(list.status == 0 && list.stdout.contains("house-0") && list.stdout.contains("house-2"), "\(list.stdout)")
        #expect(!list.stdout.contains("ALARM"))
        for m in circle { _ = try await m.v.stopDaemon() }
    }

    @Test("Bad add-checkpoint input gets the spec's status (404, 403, 422, 400, 413, 409) and stores nothing; the witness keeps cosigning")
    func badInput() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        let witnessKey = try CosignatureVerifier(try await v.cli(["peer", "key"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        // A C2SP log played by the test, which the person adds with `witness add-log`.
        let signer = SigningKeyPair.generate(), origin = "example.org/test-log"
        let added = try await v.cli(["witness", "add-log", NoteKeys.verifierKey(name: origin, publicKey: signer.publicKey.bytes),
                                     "--passphrase-file", v.passphraseFile])
        #expect(added.status == 0, "\(added.stderr)")
        var log = MemoryMerkleLog()
        for _ in 0..<20 { log.append(Merkle.leafHash(Sodium.randomBytes(8))) }
        func note(_ size: Int64, origin: String = origin, key: SigningKeyPair = signer) throws -> String {
            SignedNote.sign(text: Checkpoint(origin: origin, size: size, root: try log.root(size)).text, name: origin, keyPair: key)
        }
        func body(_ old: Int64, _ new: Int64, proof: [Merkle.Hash]? = nil, note: String? = nil) throws -> [UInt8] {
            Array(("old \(old)\n" + (try proof ?? log.consistency(old, new)).map { Encoding.base64($0) + "\n" }.joined() + "\n"
                   + (try note ?? noteOf(new))).utf8)
        }
        func noteOf(_ size: Int64) throws -> String { try note(size) }
        func post(_ body: [UInt8]) async throws -> HTTPClient.Response {
            try await v.publicRequest("POST", "/v1/witness/add-checkpoint", body: body, headers: [("Content-Type", "text/plain")])
        }

        let first = try await post(try body(0, 10))
        #expect(first.status == 200)
        let line = String(decoding: first.body, as: UTF8.self)
        #expect((try? witnessKey.verify(line: line, checkpointText: Checkpoint(origin: origin, size: 10, root: try log.root(10)).text)) != nil,
                "the answer is a cosignature by the vault's witness key: \(line)")

        var flipped = try log.consistency(10, 15)
        flipped[0][0] ^= 1
        let cases: [(String, [UInt8], Int)] = [
            ("an origin nobody added", try body(10, 15, note: try note(15, origin: "example.org/other")), 404),
            ("a signature by another key", try body(10, 15, note: try note(15, key: SigningKeyPair.generate())), 403),
            ("a consistency proof that does not verify", try body(10, 15, proof: flipped), 422),
            ("old past the checkpoint's size", try body(16, 12, proof: []), 400),
            ("garbage", Array("hello witness\n".utf8), 400),
            ("64 proof lines", try body(10, 15, proof: Array(repeating: [UInt8](repeating: 7, count: 32), count: 64)), 400),
            ("a body over the limit", [UInt8](repeating: 0x41, count: AddCheckpointRequest.maxBodyBytes + 1), 413),
            ("a rollback to an older size", try body(0, 5), 409),
        ]
        for (what, bytes, status) in cases {
            let r = try await post(bytes)
            #expect(r.status == status, "\(what): \(r.status) \(String(decoding: r.body.prefix(200), as: UTF8.self))")
        }
        // The 409 names the size the witness holds, as text/x.tlog.size.
        let conflict = try await post(try body(3, 15))
        #expect(conflict.status == 409 && String(decoding: conflict.body, as: UTF8.self) == "10\n")
        #expect(conflict.header("Content-Type") == "text/x.tlog.size")
        // Nothing was stored: the witness still holds size 10, and cosigns 10 → 20.
        let peers = try JSONDecoder().decode(AdminAPI.Peers.self, from: Data(try await v.request("GET", "/v1/peers").body))
        #expect(peers.peers.first { $0.origin == origin }?.witnessedSize == 10)
        #expect(try await post(try body(10, 20)).status == 200)

        // On the admin socket, a peer change needs the person's signature: one signed by another
        // key is refused, and the person's own change replayed is refused; nothing is added.
        let info = try JSONDecoder().decode(AdminAPI.VaultInfo.self, from: Data(try await v.request("GET", "/v1/vault").body))
        var strangerPass = Array("another passphrase".utf8)
        let (_, strangerKeys) = try UserKeyFile.create(passphrase: SecureBytes(wiping: &strangerPass), cost: .interactive)
        let otherLog = NoteKeys.verifierKey(name: "example.org/sneaky", publicKey: SigningKeyPair.generate().publicKey.bytes)
        let forged = PeerChange.make(vault: info.origin, action: .add, name: "sneaky", logKey: otherLog, witnessKey: nil, url: nil,
                                     at: Timestamp.now(), keys: strangerKeys)
        let refused = try await v.request("POST", "/v1/peers", body: Array(try JSONEncoder().encode(
            AdminAPI.PeerChangeInput(change: String(decoding: forged.serialized(), as: UTF8.self)))))
        #expect(problem(refused) == (400, "peer_change_invalid"))
        let leaves = try await v.cli(["log", "show", "--type", "peer.added"])
        #expect(leaves.stdout.contains(origin) && !leaves.stdout.contains("sneaky"), "\(leaves.stdout)")
        let after = try JSONDecoder().decode(AdminAPI.Peers.self, from: Data(try await v.request("GET", "/v1/peers").body))
        #expect(after.peers.map(\.name) == [origin])
        // The person's own removal, sent twice: applied once, the replay refused.
        var pass = Array(VaultFixture.passphrase.utf8)
        let keys = try UserKeyFile.read(from: v.keyFile).unlock(passphrase: SecureBytes(wiping: &pass))
        let removal = PeerChange.make(vault: info.origin, action: .remove, name: origin, logKey: nil, witnessKey: nil, url: nil,
                                      at: Timestamp.now(), keys: keys)
        let removalBody = Array(try JSONEncoder().encode(AdminAPI.PeerChangeInput(change: String(decoding: removal.serialized(), as: UTF8.self))))
        #expect(try await v.request("POST", "/v1/peers", body: removalBody).status == 200)
        #expect(problem(try await v.request("POST", "/v1/peers", body: removalBody)) == (409, "peer_conflict"))
        // A removed log is no longer witnessed.
        #expect(try await post(try body(20, 20)).status == 404)

        // Witness keys that would count twice, or never: this vault's own, and one Ed25519 key
        // under a second name.
        func addPeer(_ name: String, witness: String) async throws -> RunResult {
            let log = NoteKeys.verifierKey(name: "example.org/\(name)", publicKey: SigningKeyPair.generate().publicKey.bytes)
            return try await v.cli(["peer", "add", "http://127.0.0.1:9", "--log-key", log, "--witness-key", witness, "--name", name,
                                    "--passphrase-file", v.passphraseFile])
        }
        let own = try await addPeer("mirror", witness: witnessKey.text)
        #expect(own.status != 0 && own.stderr.contains("this vault's own witness key"), "\(own.stderr)")
        let shared = SigningKeyPair.generate()
        #expect(try await addPeer("first", witness: try Cosigner(name: "example.org/first/witness", keyPair: shared).verifier.text).status == 0)
        let twice = try await addPeer("second", witness: try Cosigner(name: "example.org/second/witness", keyPair: shared).verifier.text)
        #expect(twice.status != 0 && twice.stderr.contains("already \"first\"'s"), "\(twice.stderr)")

        // One network gets at most 600 add-checkpoint calls a minute (some were made above). The
        // bucket refills at 10 calls a second, so a slow machine needs a few more than 600 calls to
        // drain it: bounded at 3,000.
        var limited: HTTPClient.Response?
        for _ in 0..<3000 {
            let r = try await post(Array("garbage\n".utf8))
            if r.status == 429 { limited = r; break }
        }
        #expect(limited.map(problem) ?? (0, "") == (429, "rate_limited"), "a call past 600 in a minute is refused")
        #expect(limited?.header("Retry-After") != nil)
        _ = try await v.stopDaemon()
    }

    @Test("A vault restored from an old backup that appends other entries is refused by its peers (409/422) and reports the fork; an organization's receipts prove it offline")
    func fork() async throws {
        let circle = try await makeCircle(3)
        let a = circle[0], b = circle[1]
        let witnesses = [circle[1].witnessKey, circle[2].witnessKey]
        let policy = a.v.root + "/org-policy.txt"
        try policyText(log: a.logKey, witnesses: [("b", circle[1].witnessKey), ("c", circle[2].witnessKey)], threshold: 2)
            .write(toFile: policy, atomically: true, encoding: .utf8)
        // An organization with a grant on vault A.
        let org = TestOrg(v: a.v)
        _ = try await org.client.submit(try await org.request(id: "study"))
        let approved = try await a.v.cli(["approve", "study", "--passphrase-file", a.v.passphraseFile])
        #expect(approved.status == 0, "\(approved.stderr)")
        // A's data directory as an old backup would hold it.
        _ = try await a.v.stopDaemon()
        let backup = a.v.root + "/old-backup"
        try FileManager.default.copyItem(atPath: a.v.dataDir, toPath: backup)
        try await a.v.startDaemon()
        for i in 0..<6 {
            if i % 2 == 0 { _ = try await org.client.submit(try await org.request(id: "later-\(i)")) } else { _ = try await org.client.withdraw(id: "later-\(i - 1)") }
        }
        let genuine = try await awaitCosigned(a.v, after: try await treeSize(a.v) - 1, witnesses: witnesses).0
        // The organization keeps its grant's receipt: a checkpoint both peers cosigned.
        let fetcher = OrgFetcher(client: org.client, pinsPath: a.v.root + "/pins.json", policy: try TlogPolicy.load(path: policy))
        let (_, _, _, receipt) = try await fetcher.verifyWithReceipt(id: "study", logKey: nil)
        let kept = a.v.root + "/study.tlog-proof"
        try OrgFetcher.writeProof(receipt, to: kept)
        let keptSize = try Checkpoint(text: try SignedNote.parse(receipt.checkpoint).text).size
        let bHolds = try JSONDecoder().decode(AdminAPI.Peers.self, from: Data(try await b.v.request("GET", "/v1/peers").body))
            .peers.first { $0.name == a.name }?.witnessedSize
        #expect(bHolds == genuine.size)

        // A's database is restored from the old backup; it appends other entries, signed with its real log key.
        _ = try await a.v.stopDaemon()
        try FileManager.default.removeItem(atPath: a.v.dataDir)
        try FileManager.default.copyItem(atPath: backup, toPath: a.v.dataDir)
        try await a.v.startDaemon()
        var n = 0
        while try await treeSize(a.v) < keptSize {
            _ = try await org.client.submit(try await org.request(id: "forked-\(n)"))
            n += 1
        }
        #expect(try await treeSize(a.v) == keptSize, "one entry per request: the forked log reaches the kept receipt's size exactly")

        // Its peers refuse it; A records the alarm and says so.
        var alarms: [AdminAPI.WitnessAlarmInfo] = []
        let deadline = ContinuousClock.now + .seconds(30)
        while alarms.isEmpty, ContinuousClock.now < deadline {
            alarms = try JSONDecoder().decode(AdminAPI.Peers.self, from: Data(try await a.v.request("GET", "/v1/peers").body)).alarms
            if alarms.isEmpty { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(!alarms.isEmpty)
        #expect(alarms.allSatisfy { [0, 409, 422].contains($0.status) && ($0.detail.contains("forked") || $0.detail.contains("rolled back")) },
                "\(alarms)")
        let status = try await a.v.cli(["status"])
        #expect(status.stdout.contains("ALARM: witnesses refused this vault's log"), "\(status.stdout)")
        #expect(a.v.daemonLog?.text.contains("critical") == true)
        let bStill = try JSONDecoder().decode(AdminAPI.Peers.self, from: Data(try await b.v.request("GET", "/v1/peers").body))
            .peers.first { $0.name == a.name }?.witnessedSize
        #expect(bStill == bHolds, "the peer still holds the genuine size")

        // Offline, the organization holds two checkpoints of one size signed by A's log key: a fork.
        // (A signs the checkpoint of its new head within its batching interval.)
        var forkedNote: String?
        let signedBy = ContinuousClock.now + .seconds(10)
        while forkedNote == nil, ContinuousClock.now < signedBy {
            forkedNote = try JSONDecoder().decode(AdminAPI.Checkpoints.self,
                                                  from: Data(try await a.v.request("GET", "/v1/log/checkpoints?from=\(keptSize)&limit=1").body))
                .checkpoints.first { $0.size == keptSize }?.note
            if forkedNote == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let inclusion = try JSONDecoder().decode(AdminAPI.InclusionProof.self, from: Data(
            try await a.v.publicRequest("GET", "/v1/log/proof/inclusion?index=\(receipt.index)&size=\(keptSize)").body))
        let forked = a.v.root + "/study-forked.tlog-proof"
        try TlogProof(extra: Encoding.fromBase64(receipt.leaf), index: receipt.index,
                      proof: inclusion.hashes.compactMap { Encoding.fromBase64($0) }, checkpoint: try #require(forkedNote)).text
            .write(toFile: forked, atomically: true, encoding: .utf8)
        let both = try await a.v.cli(["log", "verify-proof", kept, forked, "--log-key", a.logKey])
        #expect(both.status != 0 && both.stderr.contains("the log forked"), "\(both.stderr)")
        let quorum = try await a.v.cli(["log", "verify-proof", forked, "--log-key", a.logKey, "--policy", policy])
        #expect(quorum.status != 0 && quorum.stderr.contains("quorum not met"), "\(quorum.stderr)")
        let genuineProof = try await a.v.cli(["log", "verify-proof", kept, "--log-key", a.logKey, "--policy", policy])
        #expect(genuineProof.status == 0, "\(genuineProof.stderr)")
        for m in circle { _ = try await m.v.stopDaemon() }
    }

    @Test("With quorum.required, a grant waits for its witnesses: approve answers 503 witness_quorum and the grant is not served until an organization's own witness (org witness serve, a [[witness]] of the vault) cosigns; then org fetch --policy accepts it")
    func failClosed() async throws {
        let orgDir = FileManager.default.temporaryDirectory.path + "/ev-orgw-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: orgDir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: orgDir) }
        let cli = try Binaries.path("vault-cli")
        #expect(try await run(cli, ["org", "keygen", "-o", orgDir + "/acme.key"]).status == 0)
        let orgWitnessKey = try await run(cli, ["org", "witness", "key", "--key", orgDir + "/acme.key"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect((try? CosignatureVerifier(orgWitnessKey)) != nil, "\(orgWitnessKey)")
        let port = try freeLoopbackPort()
        var policyPath = ""
        let circle = try await makeCircle(3) { i, v in
            guard i == 0 else { return }
            policyPath = v.root + "/quorum.policy"
            v.configFile = v.root + "/vaultd.toml"
            try """
                [[witness]]
                url = "http://127.0.0.1:\(port)/v1/witness"
                key = "\(orgWitnessKey)"

                [quorum]
                policy = "\(policyPath)"
                required = true
                timeout_seconds = 2
                """.write(toFile: v.configFile, atomically: true, encoding: .utf8)
            // Written before the vault's keys exist: the policy's witnesses only (the log line is
            // what an organization's policy adds).
            try "witness ours \(orgWitnessKey)\nquorum ours\n".write(toFile: policyPath, atomically: true, encoding: .utf8)
        }
        let a = circle[0]
        let org = TestOrg(v: a.v)
        _ = try await org.client.submit(try await org.request(id: "held"))
        let approve = try await a.v.cli(["approve", "held", "--passphrase-file", a.v.passphraseFile])
        #expect(approve.status != 0 && approve.stderr.contains("the decision is recorded, but the witnesses did not cosign"), "\(approve.stderr)")
        let early = try await org.call(.GET, "/v1/grants/held")
        #expect(problem(early) == (503, "witness_quorum"))
        #expect(problem(try await org.call(.GET, "/v1/grants/held/segments")) == (503, "witness_quorum"), "no segment key leaves either")

        // The organization starts its witness for A's log; the vault's retries reach it.
        let serve = try SpawnedProcess(cli, ["org", "witness", "serve", "--key", orgDir + "/acme.key", "--listen", "127.0.0.1:\(port)",
                                             "--log", a.logKey])
        #expect(await serve.output.wait(for: "witness ready", timeout: .seconds(30)))
        var served = try await org.call(.GET, "/v1/grants/held")
        let deadline = ContinuousClock.now + .seconds(60)
        while served.status != 200, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            served = try await org.call(.GET, "/v1/grants/held")
        }
        #expect(served.status == 200)
        let orgPolicy = orgDir + "/policy.txt"
        try "log \(a.logKey)\nwitness ours \(orgWitnessKey)\nquorum ours\n".write(toFile: orgPolicy, atomically: true, encoding: .utf8)
        let fetcher = OrgFetcher(client: org.client, pinsPath: orgDir + "/pins.json", policy: try TlogPolicy.load(path: orgPolicy))
        let (_, _, _, receipt) = try await fetcher.verifyWithReceipt(id: "held", logKey: a.logKey)
        #expect(receipt.checkpoint.contains(orgWitnessKey.split(separator: "+")[0]))
        await serve.stop()
        for m in circle { _ = try await m.v.stopDaemon() }
    }
}

/// A loopback port nothing listens on now.
func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    try withUnsafeMutablePointer(to: &address) { p in
        try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
            guard bind(fd, sa, length) == 0, getsockname(fd, sa, &length) == 0 else { throw HarnessError("no free port") }
        }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
