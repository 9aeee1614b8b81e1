import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation
import Testing

/// The `fragments.placed` leaves of `v`'s log, parsed.
func placedLeaves(_ v: VaultFixture) async throws -> [[String: Any]] {
    let page = try await AdminClient(socketPath: v.socket).leaves(from: 0, limit: 1000, type: "fragments.placed")
    return try page.leaves.map { try JSONSerialization.jsonObject(with: Data(Encoding.fromBase64($0.data)!)) as! [String: Any] }
}

/// The origin a member's log key names.
func origin(_ m: CircleMember) -> String { String(m.logKey.split(separator: "+")[0]) }

/// Ingests `batches` batches of 500 readings into `v`.
func ingestReadings(_ v: VaultFixture, batches: Int) async throws {
    let base = Timestamp.parseRFC3339("2026-10-01T00:00:00Z")!
    for n in 0..<batches {
        let body = Array((0..<500).map { "{\"stream\":\"s\",\"t\":\(base + Int64(n * 500 + $0) * 1000),\"v\":\(n * 500 + $0)}\n" }.joined().utf8)
        let r = try await v.cli(["ingest"], stdin: body)
        guard r.status == 0 else { throw HarnessError("ingest: \(r.stderr)") }
    }
}

@Suite("End to end: fragments of the backup on four peers (3-of-8)", .serialized)
struct FragmentsEndToEndTests {
    @Test("fragments push places 3-of-8 sets on four peers, two shares each and never three; every share is where its leaf says, with its hash")
    func pushPlacesEveryShareWhereItsLeafSays() async throws {
        let circle = try await makeCircle(5)
        let gateway = circle[0], peers = Array(circle.dropFirst())
        try await ingestReadings(gateway.v, batches: 10)
        let tooMany = try await gateway.v.cli(["fragments", "push", "--k", "2", "--n", "8"])
        #expect(tooMany.status == 1 && tooMany.stderr.contains("needs at least 8 peers"), "\(tooMany.stderr)")

        let push = try await gateway.v.cli(["fragments", "push", "--k", "3", "--n", "8", "--segment-bytes", "65536"])
        #expect(push.status == 0, "\(push.stderr)")
        let leaves = try await placedLeaves(gateway.v)
        #expect(leaves.count >= 2, "several segments: \(push.stdout)")
        #expect(push.stdout.contains("as \(leaves.count) set(s)"))
        let byOrigin = Dictionary(uniqueKeysWithValues: peers.map { (origin($0), $0) })
        var total = 0
        for leaf in leaves {
            #expect(leaf["codec"] as? String == "rs-isal/1" && leaf["k"] as? Int == 3 && leaf["n"] as? Int == 8)
            let index = try #require(leaf["storageIndex"] as? String)
            let shares = try #require(leaf["shares"] as? [[String: Any]])
            #expect(shares.map { $0["n"] as! Int }.sorted() == Array(0..<8))
            var perPeer: [String: Int] = [:]
            for share in shares {
                let holder = try #require(byOrigin[share["peer"] as! String], "a share on a peer of the gateway")
                perPeer[holder.name, default: 0] += 1
                let bytes = try Data(contentsOf: URL(fileURLWithPath: holder.v.dataDir + "/shares/\(index).\(share["n"] as! Int)"))
                #expect(Encoding.base64(Hash.sha256([UInt8](bytes))) == share["sha256"] as? String)
                #expect(bytes.count == ((leaf["size"] as! Int) + 2) / 3)
            }
            #expect(perPeer.count == 4 && perPeer.values.allSatisfy { $0 == 2 }, "\(perPeer)")
            total += leaf["size"] as! Int
        }
        // The sets are the backup, cut in order.
        #expect(leaves.map { $0["segment"] as! Int } == Array(0..<leaves.count))
        #expect(leaves.allSatisfy { $0["segments"] as? Int == leaves.count })
        #expect(total > 65536)
        let status = try await gateway.v.cli(["fragments", "status"])
        #expect(status.status == 0 && status.stdout.contains("not audited yet"), "\(status.stdout)")
        #expect(try await gateway.v.cli(["log", "verify", "--state", gateway.v.root + "/state.json"]).status == 0)
        for m in circle { try await m.v.stopDaemon() }
    }
}
