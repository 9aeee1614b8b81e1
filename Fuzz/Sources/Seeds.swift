import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import NIOCore

/// Valid inputs made by the vault's own code (signed with the fixed fuzz keys), so the fuzzer
/// starts past the signature and encoding checks. `edgevault-fuzz seeds Fuzz/corpus` writes
/// them; the hand-written seeds sit beside them in the same folders.
enum Seeds {
    static let now: Int64 = 1_800_000_000_000

    static func all() -> [(FuzzTarget, [[UInt8]])] {
        let request = AccessRequest(vault: FuzzKeys.origin, id: "study-1", orgName: "Acme Health Study", orgContact: "privacy@acme.example",
                                    streams: ["home/livingroom/temperature", "home/door"], from: now - 86_400_000, to: now + 86_400_000,
                                    purpose: "sleep research", deliveryKey: Sodium.randomBytes(32),
                                    expires: now + 7 * 86_400_000, created: now)
        let jws = JWS.sign(payload: request.payload(), header: JWS.orgHeader(publicKey: FuzzKeys.org.publicKey.bytes), keyPair: FuzzKeys.org)
        return [
            (.jws, [jws.serialized()]),
            (.accessRequest, [request.payload()]),
            (.httpSignature, [httpSignature(body: nil), httpSignature(body: jws.serialized())]),
            (.contentDigest, [Array((HTTPMessageSignature.contentDigest(Array("{\"a\":1}".utf8)) + "\n{\"a\":1}").utf8)]),
            (.signedNote, signedNotes()),
            (.receipt, [receipt()]),
            (.mqttPacket, mqttPackets()),
        ]
    }

    /// Signature-Input, Signature, then the covered header fields, as the target reads them.
    static func httpSignature(body: [UInt8]?) -> [UInt8] {
        var headers: [(String, String)] = [("content-type", "application/jose+json")]
        var components = ["@method", "@path", "@query", "@authority"]
        if let body {
            headers.append(("content-digest", HTTPMessageSignature.contentDigest(body)))
            components.append("content-digest")
        }
        let parts = HTTPMessageSignature.RequestParts(method: "POST", path: "/v1/requests", query: "a=1", authority: "127.0.0.1:8443", headers: headers)
        let parameters = HTTPMessageSignature.Parameters(components: components, created: now / 1000, expires: now / 1000 + 300,
                                                         nonce: "bm9uY2Utbm9uY2U", keyId: JWKThumbprint.ed25519(FuzzKeys.org.publicKey.bytes), alg: "ed25519")
        let (input, signature) = try! HTTPMessageSignature.sign(parts, parameters: parameters, keyPair: FuzzKeys.org)
        return Array(([input, signature] + headers.map { "\($0.0): \($0.1)" }).joined(separator: "\n").utf8)
    }

    static func checkpoint(size: Int64, root: Merkle.Hash) -> String {
        SignedNote.sign(text: Checkpoint(origin: FuzzKeys.origin, size: size, root: root).text, name: FuzzKeys.origin, keyPair: FuzzKeys.log)
    }

    static func signedNotes() -> [[UInt8]] {
        [Array(checkpoint(size: 7, root: Hash.sha256([1, 2, 3])).utf8), Array(FuzzKeys.logVerifier.text.utf8)]
    }

    /// A two-leaf log's receipt for leaf 1.
    static func receipt() -> [UInt8] {
        let leaves = [LedgerLeaf(kind: .orgSeen, fields: [:], org: "org", time: now).bytes,
                      LedgerLeaf(kind: .grantIssued, fields: ["id": .string("study-1")], org: "org", time: now).bytes]
        let hashes = leaves.map { Merkle.leafHash($0) }
        let root = Merkle.nodeHash(hashes[0], hashes[1])
        let r = Receipt(index: 1, leaf: Encoding.base64(leaves[1]), proof: [Encoding.base64(hashes[0])], checkpoint: checkpoint(size: 2, root: root))
        return Array(JSONValue.object(["index": .number("1"), "leaf": .string(r.leaf), "proof": .array(r.proof.map { .string($0) }),
                                       "checkpoint": .string(r.checkpoint)]).serialized())
    }

    static func mqttPackets() -> [[UInt8]] {
        let packets: [MQTTPacket] = [
            .connack(sessionPresent: true, returnCode: 0),
            .suback(packetId: 1, returnCodes: [1, 0x80]),
            .publish(.init(topic: "zigbee2mqtt/kitchen", qos: 1, packetId: 7, payload: Array("{\"temperature\":21.5}".utf8))),
            .publish(.init(topic: "sensors/a/b", qos: 0, retain: true, packetId: nil, payload: Array("1".utf8))),
            .puback(packetId: 7), .pingresp,
        ]
        var all = ByteBuffer()
        var each: [[UInt8]] = []
        for p in packets {
            var b = ByteBuffer()
            try! p.encode(into: &b)
            each.append(Array(b.readableBytesView))
            all.writeImmutableBuffer(b)
        }
        return each + [Array(all.readableBytesView)]
    }
}
