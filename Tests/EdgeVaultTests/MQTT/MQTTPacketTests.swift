import NIOCore
import Testing
@testable import EdgeVaultCore
@testable import EdgeVaultStore
@testable import EdgeVaultServer
@testable import EdgeVaultClient
@testable import EdgeVaultTerminal

@Suite("MQTT 3.1.1 packet codec")
struct MQTTPacketTests {
    func bytes(_ p: MQTTPacket) throws -> [UInt8] {
        var b = ByteBuffer()
        try p.encode(into: &b)
        return b.readBytes(length: b.readableBytes)!
    }

    func secret(_ text: String) -> SecureBytes {
        var bytes = Array(text.utf8)
        return SecureBytes(wiping: &bytes)
    }

    func decode(_ bytes: [UInt8], max: Int = 1 << 20) throws -> (packets: [MQTTPacket], rest: Int, skip: Int) {
        var b = ByteBuffer(bytes: bytes)
        var out: [MQTTPacket] = []
        var skip = 0
        while skip == 0, let p = try MQTTPacketDecoder.next(from: &b, maxPacketBytes: max, skip: &skip) { out.append(p) }
        return (out, b.readableBytes, skip)
    }

    @Test("CONNECT is byte-exact per MQTT 3.1.1 §3.1: protocol name, level 4, flags, keep-alive, client id, user, password")
    func connectBytes() throws {
        let b = try bytes(.connect(.init(clientId: "ev", cleanSession: false, keepAliveSeconds: 60, username: "u", password: secret("p"))))
        #expect(b == [0x10, 20, 0, 4, 0x4D, 0x51, 0x54, 0x54, 4, 0xC0, 0, 60, 0, 2, 0x65, 0x76, 0, 1, 0x75, 0, 1, 0x70])
        let clean = try bytes(.connect(.init(clientId: "", cleanSession: true, keepAliveSeconds: 10)))
        #expect(clean == [0x10, 12, 0, 4, 0x4D, 0x51, 0x54, 0x54, 4, 0x02, 0, 10, 0, 0])
    }

    @Test("SUBSCRIBE has flags 0010, PUBACK/PINGREQ/DISCONNECT are the spec's fixed bytes")
    func fixedPackets() throws {
        #expect(try bytes(.subscribe(packetId: 1, filters: [("a/+", 1)])) == [0x82, 8, 0, 1, 0, 3, 0x61, 0x2F, 0x2B, 1])
        #expect(try bytes(.puback(packetId: 0x1234)) == [0x40, 2, 0x12, 0x34])
        #expect(try bytes(.pingreq) == [0xC0, 0])
        #expect(try bytes(.disconnect) == [0xE0, 0])
    }

    @Test("Every packet type round-trips through the decoder")
    func roundTrip() throws {
        let packets: [MQTTPacket] = [
            .connect(.init(clientId: "edgevault", cleanSession: false, keepAliveSeconds: 30, username: "me", password: secret("pw"))),
            .connack(sessionPresent: true, returnCode: 0),
            .publish(.init(topic: "a/b", qos: 1, retain: true, dup: true, packetId: 7, payload: Array("21.5".utf8))),
            .publish(.init(topic: "a/b", qos: 0, packetId: nil, payload: [])),
            .puback(packetId: 9), .subscribe(packetId: 3, filters: [("x/#", 1), ("y/+/z", 0)]), .suback(packetId: 3, returnCodes: [1, 0x80]),
            .pingreq, .pingresp, .disconnect,
        ]
        var all: [UInt8] = []
        for p in packets { all += try bytes(p) }
        let d = try decode(all)
        #expect(d.packets == packets)
        #expect(d.rest == 0)
    }

    @Test("Remaining length uses 1–4 bytes at the spec's boundaries (127, 128, 16383, 16384, 2097152)")
    func remainingLength() throws {
        for payload in [127 - 5, 128 - 5, 16383 - 5, 16384 - 5, 2_097_152 - 5] {
            let p = MQTTPacket.publish(.init(topic: "t", qos: 0, packetId: nil, payload: [UInt8](repeating: 0x31, count: payload)))
            let b = try bytes(p)
            let total = payload + 3
            let lengthBytes = total < 128 ? 1 : total < 16384 ? 2 : total < 2_097_152 ? 3 : 4
            #expect(b.count == 1 + lengthBytes + total)
            #expect(try decode(b, max: 4 << 20).packets == [p])
        }
        // A fifth length byte is malformed.
        #expect(throws: MQTTProtocolError.self) { try decode([0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]) }
    }

    @Test("A packet split at every byte boundary decodes only once complete")
    func fragmented() throws {
        let b = try bytes(.publish(.init(topic: "s/1", qos: 1, packetId: 42, payload: Array("{\"v\":1}".utf8))))
        for cut in 1..<b.count {
            var buf = ByteBuffer(bytes: b[..<cut])
            var skip = 0
            #expect(try MQTTPacketDecoder.next(from: &buf, maxPacketBytes: 1 << 20, skip: &skip) == nil)
            #expect(buf.readableBytes == cut)
        }
    }

    @Test("An oversized PUBLISH yields topic and packet id for its PUBACK and its payload is skipped, not buffered")
    func oversized() throws {
        let p = MQTTPacket.publish(.init(topic: "big/1", qos: 1, packetId: 5, payload: [UInt8](repeating: 0x41, count: 5000)))
        let b = try bytes(p) + (try bytes(.pingresp))
        // Only the head has arrived: topic and id are enough.
        var head = ByteBuffer(bytes: b[..<20])
        var skip = 0
        let first = try MQTTPacketDecoder.next(from: &head, maxPacketBytes: 1000, skip: &skip)
        #expect(first == .oversizedPublish(topic: "big/1", qos: 1, packetId: 5, size: 5000 + 2 + 5 + 2))
        #expect(head.readableBytes == 0)
        #expect(skip == 5000 + 9 - (20 - 3))
        // The whole stream: the oversized packet, then the next packet intact.
        var all = ByteBuffer(bytes: b)
        skip = 0
        let o = try MQTTPacketDecoder.next(from: &all, maxPacketBytes: 1000, skip: &skip)
        #expect(o == .oversizedPublish(topic: "big/1", qos: 1, packetId: 5, size: 5009))
        #expect(skip == 0)
        #expect(try MQTTPacketDecoder.next(from: &all, maxPacketBytes: 1000, skip: &skip) == .pingresp)
        // Any other packet type over the limit is a protocol error.
        #expect(throws: MQTTProtocolError.self) {
            var s = ByteBuffer(bytes: try bytes(.suback(packetId: 1, returnCodes: [UInt8](repeating: 1, count: 2000))))
            _ = try MQTTPacketDecoder.next(from: &s, maxPacketBytes: 1000, skip: &skip)
        }
    }

    @Test("Malformed packets are protocol errors, never crashes: bad flags, QoS 2 and 3, wildcard topics, invalid UTF-8, trailing bytes, unknown types")
    func malformed() throws {
        let cases: [[UInt8]] = [
            [0x41, 2, 0, 1],                         // PUBACK with reserved flags
            [0x34, 5, 0, 1, 0x61, 0, 1],             // PUBLISH QoS 2
            [0x36, 5, 0, 1, 0x61, 0, 1],             // PUBLISH QoS 3
            [0x30, 3, 0, 1, 0x23],                   // PUBLISH to '#'
            [0x30, 4, 0, 2, 0xC3, 0x28],             // invalid UTF-8 topic
            [0x30, 3, 0, 2, 0x61],                   // topic cut short
            [0x20, 3, 0, 0, 0],                      // CONNACK with a trailing byte
            [0x20, 2, 2, 0],                         // CONNACK with reserved ack flags
            [0xF0, 0],                               // reserved type 15
            [0x00, 0],                               // reserved type 0
            [0x30, 3, 0, 0, 0x61],                   // PUBLISH with an empty topic
            [0x32, 5, 0, 1, 0x61, 0, 0],             // QoS 1 PUBLISH with packet id 0
            [0x40, 2, 0, 0],                         // PUBACK for packet id 0
        ]
        for c in cases {
            #expect(throws: MQTTProtocolError.self, "\(c)") { try decode(c) }
        }
        // The same rules when the PUBLISH is too large to buffer (Fuzz/regressions/mqtt-packet).
        for topic in ["", "a/#", "+/b"] {
            let big = try bytes(.publish(.init(topic: topic.isEmpty ? "x" : topic, qos: 1, packetId: 7, payload: [UInt8](repeating: 0x41, count: 3000))))
            var raw = big
            if topic.isEmpty { raw = [raw[0], raw[1], raw[2], 0, 0] + raw[5...] }  // topic length 0: "x" becomes part of the packet id
            var b = ByteBuffer(bytes: raw)
            var skip = 0
            #expect(throws: MQTTProtocolError.self, "oversized PUBLISH to \"\(topic)\"") {
                _ = try MQTTPacketDecoder.next(from: &b, maxPacketBytes: 1000, skip: &skip)
            }
        }
    }
}
