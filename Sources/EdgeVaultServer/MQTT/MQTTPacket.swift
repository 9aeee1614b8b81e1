import EdgeVaultCore
import EdgeVaultStore
import NIOCore

/// The MQTT 3.1.1 control packets a subscribing client exchanges with its broker (OASIS
/// MQTT 3.1.1 §3). Only what EdgeVault sends or must understand is modelled; anything else
/// from the broker is a protocol error and closes the connection.
public enum MQTTPacket: Sendable, Equatable {
    case connect(Connect)
    case connack(sessionPresent: Bool, returnCode: UInt8)
    case publish(Publish)
    case puback(packetId: UInt16)
    case subscribe(packetId: UInt16, filters: [(String, UInt8)])
    case suback(packetId: UInt16, returnCodes: [UInt8])
    case pingreq
    case pingresp
    case disconnect
    /// A PUBLISH whose packet was larger than the decoder's limit: its payload was skipped,
    /// but it still needs its PUBACK (at QoS 1) so the broker does not send it again.
    case oversizedPublish(topic: String, qos: UInt8, packetId: UInt16?, size: Int)

    public struct Connect: Sendable, Equatable {
        public var clientId: String
        public var cleanSession: Bool
        public var keepAliveSeconds: UInt16
        public var username: String?
        /// In guarded memory, wiped when the packet (the last holder) is released.
        public var password: SecureBytes?

        public init(clientId: String, cleanSession: Bool, keepAliveSeconds: UInt16, username: String? = nil, password: SecureBytes? = nil) {
            self.clientId = clientId
            self.cleanSession = cleanSession
            self.keepAliveSeconds = keepAliveSeconds
            self.username = username
            self.password = password
        }

        public static func == (a: Connect, b: Connect) -> Bool {
            let samePassword: Bool
            switch (a.password, b.password) {
            case (nil, nil): samePassword = true
            case (let x?, let y?): samePassword = x.isEqual(to: y)
            default: samePassword = false
            }
            return a.clientId == b.clientId && a.cleanSession == b.cleanSession && a.keepAliveSeconds == b.keepAliveSeconds
                && a.username == b.username && samePassword
        }
    }

    public struct Publish: Sendable, Equatable {
        public var topic: String
        public var qos: UInt8
        public var retain: Bool
        public var dup: Bool
        public var packetId: UInt16?
        public var payload: [UInt8]

        public init(topic: String, qos: UInt8, retain: Bool = false, dup: Bool = false, packetId: UInt16?, payload: [UInt8]) {
            self.topic = topic
            self.qos = qos
            self.retain = retain
            self.dup = dup
            self.packetId = packetId
            self.payload = payload
        }
    }

    public static func == (a: MQTTPacket, b: MQTTPacket) -> Bool {
        switch (a, b) {
        case (.connect(let x), .connect(let y)): return x == y
        case (.connack(let s1, let c1), .connack(let s2, let c2)): return s1 == s2 && c1 == c2
        case (.publish(let x), .publish(let y)): return x == y
        case (.puback(let x), .puback(let y)): return x == y
        case (.subscribe(let i1, let f1), .subscribe(let i2, let f2)):
            return i1 == i2 && f1.count == f2.count && zip(f1, f2).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        case (.suback(let i1, let r1), .suback(let i2, let r2)): return i1 == i2 && r1 == r2
        case (.pingreq, .pingreq), (.pingresp, .pingresp), (.disconnect, .disconnect): return true
        case (.oversizedPublish(let t1, let q1, let p1, let s1), .oversizedPublish(let t2, let q2, let p2, let s2)):
            return t1 == t2 && q1 == q2 && p1 == p2 && s1 == s2
        default: return false
        }
    }

    /// The CONNACK return codes of MQTT 3.1.1 §3.2.2.3, in words.
    public static func connackReason(_ code: UInt8) -> String {
        switch code {
        case 0: return "accepted"
        case 1: return "the broker does not speak MQTT 3.1.1"
        case 2: return "the broker rejected the client id"
        case 3: return "the broker is unavailable"
        case 4: return "bad user name or password"
        case 5: return "not authorized"
        default: return "refused with return code \(code)"
        }
    }
}

/// A malformed packet or a protocol violation: the connection is closed.
public struct MQTTProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { "MQTT protocol error: \(reason)" }
}

// MARK: - Encoding

extension MQTTPacket {
    /// Appends the packet's wire form to `out`.
    public func encode(into out: inout ByteBuffer) throws(MQTTProtocolError) {
        var body = ByteBuffer()
        let header: UInt8
        switch self {
        case .connect(let c):
            header = 0x10
            try body.writeMQTTString("MQTT")
            body.writeInteger(UInt8(4))  // protocol level 3.1.1
            var flags: UInt8 = c.cleanSession ? 0x02 : 0
            if c.username != nil { flags |= 0x80 }
            if c.password != nil { flags |= 0x40 }
            body.writeInteger(flags)
            body.writeInteger(c.keepAliveSeconds)
            try body.writeMQTTString(c.clientId)
            if let u = c.username { try body.writeMQTTString(u) }
            if let p = c.password {
                guard p.count <= 65535 else { throw MQTTProtocolError("password longer than 65535 bytes") }
                body.writeInteger(UInt16(p.count))
                p.withUnsafeBytes { _ = body.writeBytes($0) }
            }
        case .connack(let sp, let code):
            header = 0x20
            body.writeInteger(UInt8(sp ? 1 : 0))
            body.writeInteger(code)
        case .publish(let p):
            guard p.qos <= 1 else { throw MQTTProtocolError("QoS 2 is not supported") }
            header = 0x30 | (p.dup ? 0x08 : 0) | (p.qos << 1) | (p.retain ? 0x01 : 0)
            try body.writeMQTTString(p.topic)
            if p.qos > 0 {
                guard let id = p.packetId, id != 0 else { throw MQTTProtocolError("a QoS 1 PUBLISH needs a non-zero packet id") }
                body.writeInteger(id)
            }
            body.writeBytes(p.payload)
        case .puback(let id):
            header = 0x40
            body.writeInteger(id)
        case .subscribe(let id, let filters):
            header = 0x82
            body.writeInteger(id)
            for (f, q) in filters {
                try body.writeMQTTString(f)
                body.writeInteger(q)
            }
        case .suback(let id, let codes):
            header = 0x90
            body.writeInteger(id)
            body.writeBytes(codes)
        case .pingreq: header = 0xC0
        case .pingresp: header = 0xD0
        case .disconnect: header = 0xE0
        case .oversizedPublish: throw MQTTProtocolError("an oversized PUBLISH cannot be encoded")
        }
        guard body.readableBytes <= MQTTPacketDecoder.maxRemainingLength else { throw MQTTProtocolError("packet too large") }
        out.writeInteger(header)
        var n = body.readableBytes
        repeat {
            var byte = UInt8(n % 128)
            n /= 128
            if n > 0 { byte |= 0x80 }
            out.writeInteger(byte)
        } while n > 0
        out.writeBuffer(&body)
        if case .connect(let c) = self, c.password != nil {
            // The scratch copy of the password is zeroed before it is freed. (`out` belongs
            // to the channel, which frees it once written.)
            body.moveReaderIndex(to: 0)
            body.withUnsafeMutableReadableBytes { Sodium.wipe($0) }
        }
    }
}

extension ByteBuffer {
    mutating func writeMQTTString(_ s: String) throws(MQTTProtocolError) {
        let bytes = Array(s.utf8)
        guard bytes.count <= 65535 else { throw MQTTProtocolError("string longer than 65535 bytes") }
        writeInteger(UInt16(bytes.count))
        writeBytes(bytes)
    }
}

// MARK: - Decoding

/// Splits the broker's byte stream into packets. A packet whose remaining length exceeds
/// `maxPacketBytes` is not buffered: a PUBLISH yields `.oversizedPublish` once its topic and
/// packet id have arrived and the rest is skipped as it comes; any other oversized packet is a
/// protocol error.
public struct MQTTPacketDecoder: ByteToMessageDecoder {
    public typealias InboundOut = MQTTPacket
    public static let maxRemainingLength = 268_435_455

    let maxPacketBytes: Int
    var skipping = 0

    public init(maxPacketBytes: Int) {
        self.maxPacketBytes = maxPacketBytes
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        if skipping > 0 {
            let n = min(skipping, buffer.readableBytes)
            buffer.moveReaderIndex(forwardBy: n)
            skipping -= n
            return skipping == 0 ? .continue : .needMoreData
        }
        guard let packet = try Self.next(from: &buffer, maxPacketBytes: maxPacketBytes, skip: &skipping) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(packet))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue, buffer.readableBytes > 0 {}
        return .needMoreData
    }

    /// Reads one packet from the front of `buffer`, or nil (buffer untouched) when more bytes
    /// are needed. For an oversized PUBLISH, `skip` is set to the payload bytes still to drop.
    public static func next(from buffer: inout ByteBuffer, maxPacketBytes: Int, skip: inout Int) throws(MQTTProtocolError) -> MQTTPacket? {
        let start = buffer.readerIndex
        guard let first = buffer.getInteger(at: start, as: UInt8.self) else { return nil }
        var length = 0
        var multiplier = 1
        var offset = 1
        while true {
            guard offset <= 4 else { throw MQTTProtocolError("remaining length longer than 4 bytes") }
            guard let b = buffer.getInteger(at: start + offset, as: UInt8.self) else { return nil }
            length += Int(b & 0x7F) * multiplier
            multiplier *= 128
            offset += 1
            if b & 0x80 == 0 { break }
        }
        let type = first >> 4
        let flags = first & 0x0F
        if length > maxPacketBytes {
            guard type == 3 else { throw MQTTProtocolError("a packet of type \(type) is \(length) bytes, over the limit") }
            // Enough to read the topic and the packet id.
            guard let topicLength = buffer.getInteger(at: start + offset, as: UInt16.self) else { return nil }
            let qos = (flags >> 1) & 0x03
            guard qos <= 1 else { throw MQTTProtocolError("PUBLISH with QoS \(qos) on a QoS 1 subscription") }
            let head = 2 + Int(topicLength) + (qos > 0 ? 2 : 0)
            guard head <= length else { throw MQTTProtocolError("PUBLISH shorter than its topic") }
            guard buffer.readableBytes >= offset + head else { return nil }
            buffer.moveReaderIndex(forwardBy: offset + 2)
            guard let topicBytes = buffer.readBytes(length: Int(topicLength)) else { return nil }
            let packetId = try qos > 0 ? buffer.readInteger(as: UInt16.self).map(Self.packetId) : nil
            let consumed = head
            let rest = length - consumed
            let now = min(rest, buffer.readableBytes)
            buffer.moveReaderIndex(forwardBy: now)
            skip = rest - now
            return .oversizedPublish(topic: try publishTopic(validTopic(topicBytes)), qos: qos, packetId: packetId, size: length)
        }
        guard buffer.readableBytes >= offset + length else { return nil }
        buffer.moveReaderIndex(forwardBy: offset)
        var body = buffer.readSlice(length: length)!
        let packet = try parse(type: type, flags: flags, body: &body)
        guard body.readableBytes == 0 else { throw MQTTProtocolError("packet of type \(type) has \(body.readableBytes) trailing bytes") }
        return packet
    }

    /// [MQTT-2.3.1-1]: packet identifiers are non-zero, in every packet that has one (fuzzing
    /// found 0 accepted).
    static func packetId(_ id: UInt16) throws(MQTTProtocolError) -> UInt16 {
        guard id != 0 else { throw MQTTProtocolError("packet id 0") }
        return id
    }

    /// A PUBLISH's topic name: at least one character, no wildcards (MQTT 3.1.1 §4.7.3, §3.3.2).
    /// The same rule for a PUBLISH small enough to buffer and one skipped as too large — fuzzing
    /// found the second path accepting an empty topic.
    static func publishTopic(_ topic: String) throws(MQTTProtocolError) -> String {
        guard !topic.isEmpty else { throw MQTTProtocolError("PUBLISH with an empty topic") }
        guard !topic.contains("+"), !topic.contains("#") else { throw MQTTProtocolError("PUBLISH topic has a wildcard") }
        return topic
    }

    static func validTopic(_ bytes: [UInt8]) throws(MQTTProtocolError) -> String {
        guard let s = String(validating: bytes, as: UTF8.self), !bytes.contains(0) else {
            throw MQTTProtocolError("topic is not valid UTF-8")
        }
        return s
    }

    static func readString(_ body: inout ByteBuffer, _ what: String) throws(MQTTProtocolError) -> String {
        guard let n = body.readInteger(as: UInt16.self), let bytes = body.readBytes(length: Int(n)) else {
            throw MQTTProtocolError("\(what) is cut short")
        }
        return try validTopic(bytes)
    }

    static func parse(type: UInt8, flags: UInt8, body: inout ByteBuffer) throws(MQTTProtocolError) -> MQTTPacket {
        func id() throws(MQTTProtocolError) -> UInt16 {
            guard let v = body.readInteger(as: UInt16.self) else { throw MQTTProtocolError("packet id is missing") }
            return try packetId(v)
        }
        func requireFlags(_ expected: UInt8) throws(MQTTProtocolError) {
            guard flags == expected else { throw MQTTProtocolError("packet of type \(type) has reserved flags \(flags)") }
        }
        switch type {
        case 1:
            try requireFlags(0)
            guard try readString(&body, "protocol name") == "MQTT", body.readInteger(as: UInt8.self) == 4,
                  let f = body.readInteger(as: UInt8.self), let keepAlive = body.readInteger(as: UInt16.self) else {
                throw MQTTProtocolError("CONNECT is not MQTT 3.1.1")
            }
            let client = try readString(&body, "client id")
            let user = f & 0x80 != 0 ? try readString(&body, "user name") : nil
            var password: SecureBytes? = nil
            if f & 0x40 != 0 {
                guard let n = body.readInteger(as: UInt16.self), var p = body.readBytes(length: Int(n)) else {
                    throw MQTTProtocolError("password is cut short")
                }
                password = SecureBytes(wiping: &p)
            }
            return .connect(.init(clientId: client, cleanSession: f & 0x02 != 0, keepAliveSeconds: keepAlive, username: user, password: password))
        case 2:
            try requireFlags(0)
            guard let ack = body.readInteger(as: UInt8.self), let code = body.readInteger(as: UInt8.self), ack & 0xFE == 0 else {
                throw MQTTProtocolError("malformed CONNACK")
            }
            return .connack(sessionPresent: ack == 1, returnCode: code)
        case 3:
            let qos = (flags >> 1) & 0x03
            guard qos <= 1 else { throw MQTTProtocolError("PUBLISH with QoS \(qos) on a QoS 1 subscription") }
            let topic = try publishTopic(readString(&body, "topic"))
            let packetId = qos > 0 ? try id() : nil
            let payload = body.readBytes(length: body.readableBytes) ?? []
            return .publish(.init(topic: topic, qos: qos, retain: flags & 0x01 != 0, dup: flags & 0x08 != 0, packetId: packetId, payload: payload))
        case 4:
            try requireFlags(0)
            return .puback(packetId: try id())
        case 8:
            try requireFlags(2)
            let packetId = try id()
            var filters: [(String, UInt8)] = []
            while body.readableBytes > 0 {
                let f = try readString(&body, "topic filter")
                guard let q = body.readInteger(as: UInt8.self), q <= 2 else { throw MQTTProtocolError("bad requested QoS") }
                filters.append((f, q))
            }
            guard !filters.isEmpty else { throw MQTTProtocolError("SUBSCRIBE without topic filters") }
            return .subscribe(packetId: packetId, filters: filters)
        case 9:
            try requireFlags(0)
            let packetId = try id()
            return .suback(packetId: packetId, returnCodes: body.readBytes(length: body.readableBytes) ?? [])
        case 12: try requireFlags(0); return .pingreq
        case 13: try requireFlags(0); return .pingresp
        case 14: try requireFlags(0); return .disconnect
        default:
            throw MQTTProtocolError("unexpected packet type \(type)")
        }
    }
}

/// Writes packets to the wire.
public struct MQTTPacketEncoder: MessageToByteEncoder {
    public typealias OutboundIn = MQTTPacket
    public init() {}
    public func encode(data: MQTTPacket, out: inout ByteBuffer) throws {
        try data.encode(into: &out)
    }
}
