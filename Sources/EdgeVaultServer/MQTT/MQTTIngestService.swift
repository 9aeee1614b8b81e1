import EdgeVaultCore
import EdgeVaultStore
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Synchronization

/// Subscribes to the configured MQTT broker and stores what arrives as readings.
///
/// - QoS 1 subscriptions in a persistent session (clean session off, a fixed client id), so the
///   broker keeps messages for EdgeVault while it is away.
/// - A message is acknowledged (PUBACK) only after its readings are committed; a message that
///   is rejected (unparseable, wrong type, unmapped, oversized) is counted, logged at most once
///   a minute per subscription, and acknowledged so the broker does not send it again.
/// - Messages received while one batch commits form the next batch: one group commit per
///   batch, PUBACKs in the order the messages arrived (MQTT 3.1.1 §4.6).
/// - If the connection drops, unacknowledged messages are redelivered by the broker (with the
///   DUP flag) on the next connection: a message committed just before a crash can be stored
///   twice, never lost.
/// - Reconnects with exponential backoff and jitter; resubscribes every time.
/// - On graceful shutdown the batch in hand is committed and acknowledged, then DISCONNECT.
public struct MQTTIngestService: Service {
    let configuration: MQTTConfiguration
    let endpoint: MQTTConfiguration.Endpoint
    let manager: SegmentManager
    let monitor: MQTTMonitor
    let logger: Logger
    let group: any EventLoopGroup
    let control = StopControl()

    public init(configuration: MQTTConfiguration, manager: SegmentManager, monitor: MQTTMonitor, group: any EventLoopGroup, logger: Logger) throws {
        guard let broker = configuration.broker, let endpoint = MQTTConfiguration.endpoint(broker) else {
            throw VaultError(.config, "mqtt.broker is not set")
        }
        self.configuration = configuration
        self.endpoint = endpoint
        self.manager = manager
        self.monitor = monitor
        self.group = group
        self.logger = logger
    }

    public func run() async throws {
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await loop()
            } onGracefulShutdown: {
                control.stop()
            }
        } onCancel: {
            control.stop()
        }
        monitor.set(state: "disconnected", detail: "vaultd stopped")
    }

    func loop() async {
        var attempt = 0
        while !control.isStopped {
            monitor.set(state: "connecting")
            let session = Session()
            do {
                try await connection(session)
            } catch {
                let reason = Self.describe(error, endpoint: endpoint)
                monitor.set(state: "disconnected", detail: reason)
                if !control.isStopped {
                    logger.warning("MQTT connection ended", metadata: ["broker": "\(configuration.broker ?? "")", "error": "\(reason)"])
                }
            }
            if control.isStopped { break }
            if session.accepted.load(ordering: .relaxed) { attempt = 0 }
            let delay = Self.backoff(attempt: attempt, maxSeconds: configuration.reconnectMaxSeconds)
            attempt += 1
            logger.info("MQTT reconnecting", metadata: ["in_ms": "\(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000)"])
            await control.sleep(for: delay)
        }
    }

    /// Exponential backoff from 0.5 s, doubling up to `maxSeconds`, with jitter: a uniformly
    /// random wait between half the step and the whole step.
    static func backoff(attempt: Int, maxSeconds: Int) -> Duration {
        let step = min(Double(maxSeconds), 0.5 * Double(1 << min(attempt, 20)))
        return .milliseconds(Int64(Double.random(in: step / 2...step) * 1000))
    }

    /// Per-connection state shared by its tasks.
    final class Session: Sendable {
        let accepted = Atomic<Bool>(false)
        let lastInbound = Atomic<Int64>(Timestamp.now())
        let started = Timestamp.now()
    }

    enum Incoming: Sendable {
        case publish(MQTTPacket.Publish, arrival: Int64)
        case oversized(topic: String, qos: UInt8, packetId: UInt16?, size: Int)
    }

    struct ConnectionError: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    func connection(_ session: Session) async throws {
        let channel = try await connect()
        let queue = PublishQueue(capacity: 1024)
        try await channel.executeThenClose { inbound, outbound in
            // The password stays in guarded memory until the packet is encoded; libsodium wipes
            // it when the packet is released.
            try await outbound.write(.connect(.init(clientId: configuration.clientId, cleanSession: false,
                                                    keepAliveSeconds: UInt16(configuration.keepAliveSeconds),
                                                    username: configuration.username, password: try readPassword())))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    defer { queue.finish(drain: false) }
                    try await read(inbound, outbound, queue: queue, session: session)
                }
                group.addTask { try await keepAlive(outbound, session: session) }
                group.addTask { try await commit(queue, outbound) }
                try await group.next()
                group.cancelAll()
            }
        }
    }

    func connect() async throws -> NIOAsyncChannel<MQTTPacket, MQTTPacket> {
        let ssl: NIOSSLContext?
        do {
            ssl = endpoint.tls ? try TLSClient.context(trustRoots: configuration.caFile) : nil
        } catch let e as VaultError {
            throw ConnectionError("mqtt.ca_file: \(e.message)")
        }
        let host = endpoint.host
        let serverName: String? = host.contains(":") || host.allSatisfy({ $0.isNumber || $0 == "." }) ? nil : host
        let maxPacket = configuration.maxPayloadBytes + 2 + 65_535 + 2
        return try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(10))
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .connect(host: host, port: endpoint.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let ssl {
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: ssl, serverHostname: serverName))
                    }
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(MQTTPacketDecoder(maxPacketBytes: maxPacket)))
                    try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(MQTTPacketEncoder()))
                    return try NIOAsyncChannel<MQTTPacket, MQTTPacket>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(backPressureStrategy: .init(lowWatermark: 64, highWatermark: 512)))
                }
            }
    }

    /// The first line of `mqtt.password_file`, read straight into guarded memory.
    func readPassword() throws -> SecureBytes? {
        guard let path = configuration.passwordFile else { return nil }
        do {
            return try SecureBytes.firstLine(ofFile: path, limit: 4096)
        } catch {
            throw ConnectionError("cannot read mqtt.password_file \(path): \(error)")
        }
    }

    /// Everything the broker sends: CONNACK (then SUBSCRIBE), SUBACK, PUBLISH into the queue,
    /// PINGRESP.
    func read(_ inbound: NIOAsyncChannelInboundStream<MQTTPacket>, _ outbound: NIOAsyncChannelOutboundWriter<MQTTPacket>,
              queue: PublishQueue, session: Session) async throws {
        var connected = false
        for try await packet in inbound {
            let now = Timestamp.now()
            session.lastInbound.store(now, ordering: .relaxed)
            switch packet {
            case .connack(let sessionPresent, let code):
                guard !connected else { throw MQTTProtocolError("a second CONNACK") }
                guard code == 0 else { throw ConnectionError("broker refused the connection: \(MQTTPacket.connackReason(code))") }
                connected = true
                session.accepted.store(true, ordering: .relaxed)
                try await outbound.write(.subscribe(packetId: 1, filters: configuration.subscriptions.map { ($0.filter.text, 1) }))
                monitor.set(state: "connected")
                logger.info("MQTT connected", metadata: ["broker": "\(configuration.broker ?? "")", "session_present": "\(sessionPresent)"])
                if !control.attach(queue) { queue.finish(drain: true) }
            case .suback(_, let codes):
                for (sub, code) in zip(configuration.subscriptions, codes) where code == 0x80 {
                    logger.error("MQTT broker refused a subscription", metadata: ["topic": "\(sub.filter.text)"])
                }
            case .publish(let p):
                guard connected else { throw MQTTProtocolError("PUBLISH before CONNACK") }
                _ = await queue.put(.publish(p, arrival: now))
            case .oversizedPublish(let topic, let qos, let packetId, let size):
                guard connected else { throw MQTTProtocolError("PUBLISH before CONNACK") }
                _ = await queue.put(.oversized(topic: topic, qos: qos, packetId: packetId, size: size))
            case .pingresp:
                break
            default:
                throw MQTTProtocolError("unexpected packet from the broker")
            }
        }
        throw ConnectionError("the broker closed the connection")
    }

    /// PINGREQ every half keep-alive; the connection is given up when no CONNACK came within
    /// 10 s or the broker has been silent for one and a half keep-alive periods.
    func keepAlive(_ outbound: NIOAsyncChannelOutboundWriter<MQTTPacket>, session: Session) async throws {
        let keepAliveMs = Int64(configuration.keepAliveSeconds) * 1000
        var lastPing = Timestamp.now()
        while true {
            try await Task.sleep(for: .seconds(1))
            let now = Timestamp.now()
            if !session.accepted.load(ordering: .relaxed) {
                if now - session.started > 10_000 { throw ConnectionError("no CONNACK from the broker within 10 s") }
                continue
            }
            if now - session.lastInbound.load(ordering: .relaxed) > keepAliveMs * 3 / 2 {
                throw ConnectionError("the broker has not answered for \((now - session.lastInbound.load(ordering: .relaxed)) / 1000) s")
            }
            if now - lastPing >= keepAliveMs / 2 {
                lastPing = now
                try await outbound.write(.pingreq)
            }
        }
    }

    /// Takes what arrived, commits it as one batch, then acknowledges it. Returns after a
    /// graceful stop has drained the queue.
    func commit(_ queue: PublishQueue, _ outbound: NIOAsyncChannelOutboundWriter<MQTTPacket>) async throws {
        while let items = await queue.take() {
            let prepared = try await prepare(items)
            if !prepared.batch.isEmpty {
                try await manager.ingest(prepared.batch)
            }
            monitor.stored(prepared.stored)
            if !prepared.acks.isEmpty {
                try await outbound.write(contentsOf: prepared.acks.map { MQTTPacket.puback(packetId: $0) })
            }
        }
        try? await outbound.write(.disconnect)
    }

    struct Prepared {
        var batch = ReadingBatch()
        var acks: [UInt16] = []
        var stored: [Int: Int64] = [:]
    }

    /// The first subscription, in config order, whose filter matches `topic`, and what its
    /// wildcards matched.
    func subscription(for topic: String) -> (index: Int, captures: [String])? {
        for (i, sub) in configuration.subscriptions.enumerated() {
            if let captures = sub.filter.match(topic) { return (i, captures) }
        }
        return nil
    }

    /// Maps messages to readings, counting and logging rejections; every QoS 1 message gets
    /// its PUBACK in arrival order.
    func prepare(_ items: [Incoming]) async throws -> Prepared {
        var out = Prepared()
        var mapped: [(sub: Int, topic: String, readings: [MQTTSubscription.Reading])] = []
        mapped.reserveCapacity(items.count)
        var names: Set<String> = []
        for item in items {
            switch item {
            case .publish(let p, let arrival):
                if let id = p.packetId, p.qos > 0 { out.acks.append(id) }
                guard let (index, captures) = subscription(for: p.topic) else {
                    monitor.unmatched()
                    logger.debug("MQTT message on a topic no subscription maps", metadata: ["topic": "\(p.topic)"])
                    continue
                }
                let sub = configuration.subscriptions[index]
                monitor.received(index, dup: p.dup)
                if p.retain && !sub.storeRetained {
                    monitor.retainedSkipped()
                    continue
                }
                if p.payload.count > configuration.maxPayloadBytes {
                    reject(index, topic: p.topic, reason: "payload is \(p.payload.count) bytes, over mqtt.max_payload_bytes (\(configuration.maxPayloadBytes))")
                    continue
                }
                do {
                    let readings = try sub.readings(topic: p.topic, captures: captures, payload: p.payload, arrival: arrival)
                    for r in readings { names.insert(r.stream) }
                    mapped.append((index, p.topic, readings))
                } catch {
                    reject(index, topic: p.topic, reason: error.reason)
                }
            case .oversized(let topic, let qos, let packetId, let size):
                if let packetId, qos > 0 { out.acks.append(packetId) }
                if let (index, _) = subscription(for: topic) {
                    monitor.received(index, dup: false)
                    reject(index, topic: topic, reason: "message is \(size) bytes, over mqtt.max_payload_bytes (\(configuration.maxPayloadBytes))")
                }
            }
        }
        let refused = names.isEmpty ? [] : await manager.refusedStreams(names)
        for (index, topic, readings) in mapped {
            if let bad = readings.first(where: { refused.contains($0.stream) }) {
                reject(index, topic: topic, reason: "unknown stream \"\(bad.stream)\" (automatic stream creation is off: add it with `vault-cli stream add`)")
                continue
            }
            // Plausible times only, as on the admin socket (a payload in Unix seconds lands in 1970).
            let now = Timestamp.now()
            if let reason = readings.lazy.compactMap({ TimePolicy().problem(t: $0.t, now: now) }).first {
                reject(index, topic: topic, reason: reason)
                continue
            }
            for r in readings {
                try out.batch.append(stream: r.stream, t: r.t, value: r.value, line: 0)
            }
            out.stored[index, default: 0] += Int64(readings.count)
        }
        return out
    }

    func reject(_ index: Int, topic: String, reason: String) {
        if let suppressed = monitor.rejected(index, reason: reason) {
            logger.warning("MQTT message dropped", metadata: [
                "subscription": "\(configuration.subscriptions[index].filter.text)", "topic": "\(topic)", "reason": "\(reason)",
                "dropped_unlogged_since_last": "\(suppressed)",
            ])
        }
    }

    static func describe(_ error: any Error, endpoint: MQTTConfiguration.Endpoint) -> String {
        switch error {
        case let e as ConnectionError: return e.description
        case let e as MQTTProtocolError: return e.description
        case let e as VaultError: return "storing failed: \(e.message)"
        case is NIOConnectionError, is ChannelError, is IOError:
            return "cannot reach \(endpoint.host):\(endpoint.port) (\(error))"
        default: return "\(error)"
        }
    }
}
