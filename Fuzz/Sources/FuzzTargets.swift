import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import EdgeVaultCompute
import EdgeVaultSandboxFrame
import Foundation
import NIOCore

/// Every parser that takes input from outside the vault, as a libFuzzer target: bytes in, no
/// crash out, and where a parser promises more (a round trip, a bound), that promise checked
/// with `require`, which traps so libFuzzer keeps the input.
enum FuzzTarget: String, CaseIterable, Sendable {
    case ndjson, csv, senml
    case mqttMapping = "mqtt-mapping"
    case mqttPacket = "mqtt-packet"
    case jws
    case accessRequest = "access-request"
    case httpSignature = "http-signature"
    case contentDigest = "content-digest"
    case signedNote = "signed-note"
    case receipt
    case config
    case wasmModule = "wasm-module"
    case sandboxOutcome = "sandbox-outcome"

    func run(_ data: [UInt8]) {
        switch self {
        case .ndjson: Readings.check(data) { input, batch, skip, errors throws(LineError) in
            try NDJSONParser.parse(input, into: &batch, skipInvalid: skip, errors: &errors)
        }
        case .csv: Readings.check(data) { input, batch, skip, errors throws(LineError) in
            try CSVParser.parse(input, into: &batch, skipInvalid: skip, errors: &errors)
        }
        case .senml: Readings.check(data) { input, batch, skip, errors throws(LineError) in
            try SenMLParser.parse(input, into: &batch, skipInvalid: skip, errors: &errors, now: 1_800_000_000_000)
        }
        case .mqttMapping: MQTTTargets.mapping(data)
        case .mqttPacket: MQTTTargets.packets(data)
        case .jws: Requests.jws(data)
        case .accessRequest: _ = try? AccessRequest(payload: data, origin: FuzzKeys.origin, now: 1_800_000_000_000)
        case .httpSignature: Requests.httpSignature(data)
        case .contentDigest: Requests.contentDigest(data)
        case .signedNote: Ledger.signedNote(data)
        case .receipt: Ledger.receipt(data)
        case .config: ConfigTarget.run(data)
        case .wasmModule: ComputeTargets.module(data)
        case .sandboxOutcome: ComputeTargets.outcome(data)
        }
    }
}

/// A promise of the code under test; a broken one traps so libFuzzer records the input.
func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("fuzz invariant broken: \(message())") }
}

/// Fixed keys, so seeds signed once stay valid for every run.
enum FuzzKeys {
    static let origin = "edgevault.local/fuzzfuzzfuzzfuzz"
    static let org = pair(0x01)
    static let log = pair(0x02)
    static let logVerifier = try! SignedNote.Verifier(NoteKeys.verifierKey(name: origin, publicKey: log.publicKey.bytes))

    static func pair(_ byte: UInt8) -> SigningKeyPair {
        let seed = SecureBytes(count: 32)
        seed.withUnsafeMutableBytes { for i in $0.indices { $0[i] = byte } }
        return SigningKeyPair(seed: seed)
    }
}

enum Readings {
    typealias Parser = ([UInt8], inout ReadingBatch, Bool, inout [LineError]) throws(LineError) -> Void

    /// Parses strictly and leniently. Whatever is accepted must survive a round trip through
    /// the NDJSON the admin API sends (same streams, times and value bytes), and the lenient
    /// parse must keep at least what the strict one did.
    static func check(_ data: [UInt8], parse: Parser) {
        var strict = ReadingBatch(), lenient = ReadingBatch()
        var errors: [LineError] = []
        let strictOK: Bool
        do throws(LineError) {
            try parse(data, &strict, false, &errors)
            strictOK = true
        } catch {
            strictOK = false
        }
        errors = []
        try? parse(data, &lenient, true, &errors)
        if strictOK {
            require(lenient.count == strict.count && errors.isEmpty, "a strict parse succeeded but the lenient one differs")
            let text = strict.ndjson(0..<strict.count)
            var again = ReadingBatch()
            var none: [LineError] = []
            do throws(LineError) {
                try NDJSONParser.parse(text, into: &again, errors: &none)
            } catch {
                require(false, "accepted readings do not read back as NDJSON: \(error)")
            }
            require(again.ndjson(0..<again.count) == text, "the NDJSON round trip changed the readings")
        }
    }
}

enum MQTTTargets {
    /// The subscriptions of deploy/mqtt/vaultd-mqtt.toml's kinds, one per format.
    static let subscriptions: [MQTTSubscription] = {
        var c = Configuration()
        try! c.apply(toml: TOML.parse("""
            [mqtt]
            broker = "mqtt://127.0.0.1:1883"
            [[mqtt.subscription]]
            topic = "zigbee2mqtt/+"
            format = "json"
            time_field = "time"
            [mqtt.subscription.fields]
            temperature = "zigbee/{1}/temperature"
            "state.power" = "zigbee/{1}/power"
            [[mqtt.subscription]]
            topic = "homeassistant/+/+/state"
            format = "homeassistant"
            stream = "ha/{1}/{2}"
            [[mqtt.subscription]]
            topic = "senml/#"
            format = "senml"
            stream = "senml/{name}"
            [[mqtt.subscription]]
            topic = "sensors/+/#"
            format = "value"
            stream = "sensors/{1}"
            value_type = "number"
            """))
        return c.mqtt.subscriptions
    }()

    /// First byte picks the subscription, then topic and payload separated by a zero byte.
    static func mapping(_ data: [UInt8]) {
        guard let first = data.first else { return }
        let subscription = subscriptions[Int(first) % subscriptions.count]
        let rest = data.dropFirst()
        let split = rest.firstIndex(of: 0) ?? rest.endIndex
        let topic = String(decoding: rest[..<split], as: UTF8.self)
        let payload = Array(rest[split...].dropFirst())
        guard subscription.filter.match(topic) != nil else { return }
        if let readings = try? subscription.readings(topic: topic, payload: payload, arrival: 1_800_000_000_000) {
            for r in readings {
                var batch = ReadingBatch()
                // Every reading a message maps to is one the vault can store.
                do throws(ReadingError) {
                    try batch.append(stream: r.stream, t: r.t, value: r.value, line: 1)
                } catch {
                    require(false, "mapped reading refused by the batch: \(error)")
                }
            }
        }
    }

    /// Decodes packets until the bytes run out or one is malformed; each decoded packet must
    /// encode and decode back to itself.
    static func packets(_ data: [UInt8]) {
        var buffer = ByteBuffer(bytes: data)
        var skip = 0
        for _ in 0...data.count {
            if skip > 0 {
                let n = min(skip, buffer.readableBytes)
                buffer.moveReaderIndex(forwardBy: n)
                skip -= n
            }
            let before = buffer.readerIndex
            guard let packet = try? MQTTPacketDecoder.next(from: &buffer, maxPacketBytes: 4096, skip: &skip) else { return }
            require(buffer.readerIndex > before, "a decoded packet consumed no bytes")
            if case .oversizedPublish(let topic, _, _, _) = packet {
                // Decoder-only: the payload was skipped, so there is nothing to encode back.
                require(!topic.isEmpty && !topic.contains("+") && !topic.contains("#"), "oversized PUBLISH with topic \(topic)")
                continue
            }
            var encoded = ByteBuffer()
            guard (try? packet.encode(into: &encoded)) != nil else {
                require(false, "decoded packet \(packet) does not encode")
                return
            }
            var unused = 0
            let again = try? MQTTPacketDecoder.next(from: &encoded, maxPacketBytes: Int.max, skip: &unused)
            require(again == packet, "packet \(packet) does not survive encode/decode")
        }
    }
}

enum Requests {
    /// A JWS as `POST /v1/requests` receives it: parse, verify the org signature, validate the payload.
    static func jws(_ data: [UInt8]) {
        guard let jws = try? JWS(json: data) else { return }
        for s in jws.signatures { _ = try? jws.verifyOrgSignature(s) }
        _ = try? AccessRequest(payload: jws.payload, origin: FuzzKeys.origin, now: 1_800_000_000_000)
        _ = jws.serialized()
    }

    /// Lines: Signature-Input, Signature, then any further `name: value` header fields.
    static func httpSignature(_ data: [UInt8]) {
        let lines = data.split(separator: 0x0A, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        guard lines.count >= 2 else { return }
        var headers = [("signature-input", lines[0]), ("signature", lines[1])]
        for line in lines.dropFirst(2) {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((line[..<colon].lowercased(), String(line[line.index(after: colon)...]).trimmingCharacters()))
        }
        let parts = HTTPMessageSignature.RequestParts(method: "POST", path: "/v1/requests", query: "a=1", authority: "127.0.0.1:8443", headers: headers)
        guard let found = try? HTTPMessageSignature.parse(parts) else { return }
        guard let base = try? HTTPMessageSignature.signatureBase(parts, parameters: found.parameters) else { return }
        _ = FuzzKeys.org.publicKey.isValidSignature(found.signature, for: Array(base.utf8))
    }

    /// First line: the Content-Digest field; the rest: the body.
    static func contentDigest(_ data: [UInt8]) {
        let split = data.firstIndex(of: 0x0A) ?? data.endIndex
        let field = String(decoding: data[..<split], as: UTF8.self)
        let body = Array(data[split...].dropFirst())
        let matches = HTTPMessageSignature.digestMatches(field, body: body)
        // A field that matches this body must not match a different one.
        if matches { require(!HTTPMessageSignature.digestMatches(field, body: body + [0]), "a digest matched two bodies") }
        require(HTTPMessageSignature.digestMatches(HTTPMessageSignature.contentDigest(body), body: body), "our own digest does not match")
    }
}

enum Ledger {
    static func signedNote(_ data: [UInt8]) {
        let text = String(decoding: data, as: UTF8.self)
        _ = try? SignedNote.Verifier(text)
        _ = try? Checkpoint(text: text)
        _ = try? SignedNote.open(text, verifiers: [FuzzKeys.logVerifier])
        _ = try? Checkpoint.open(text, verifier: FuzzKeys.logVerifier)
    }

    /// A receipt as `vault-cli org fetch` receives it from a vault.
    static func receipt(_ data: [UInt8]) {
        guard let receipt = try? JSONDecoder().decode(Receipt.self, from: Data(data)) else { return }
        _ = try? receipt.verify(logKey: FuzzKeys.logVerifier)
    }
}

enum ConfigTarget {
    static func run(_ data: [UInt8]) {
        guard let root = try? TOML.parse(String(decoding: data, as: UTF8.self)) else { return }
        var c = Configuration()
        guard (try? c.apply(toml: root)) != nil else { return }
        _ = try? c.validate()
    }
}

extension String {
    func trimmingCharacters() -> String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s = s.dropFirst() }
        while s.last == " " || s.last == "\t" { s = s.dropLast() }
        return String(s)
    }
}

/// An organization's module as vaultd reads it at upload, and a sandbox's outcome frame as
/// the runner reads it (docs/SECURITY.md §"The compute sandbox").
enum ComputeTargets {
    static func module(_ data: [UInt8]) {
        guard let info = try? WasmModuleInfo.inspect(data) else { return }
        require(info.size == data.count, "size is the module's length")
        _ = try? info.validateForUpload()
        _ = try? info.check(against: JobLimits(fuel: 1, memoryPages: 16, outputBytes: 0, wallMs: 1))
    }

    /// What decodes re-encodes to the same bytes, within the caps it was decoded under.
    static func outcome(_ data: [UInt8]) {
        guard let frame = try? SandboxOutcomeFrame.decode(data, outputBytes: 4096) else { return }
        require(frame.stdout.count <= 4096 && frame.stderr.count <= SandboxFrame.stderrCap, "caps hold")
        require(frame.encoded() == data, "an outcome round-trips")
    }
}
