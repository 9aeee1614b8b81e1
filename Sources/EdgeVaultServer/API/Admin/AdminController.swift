import EdgeVaultCore
import EdgeVaultStore
import Hummingbird
import NIOCore

/// Routes of the admin API, served on the Unix socket only.
///
/// What reaches the socket can add readings and read ciphertext, never grant access: every
/// decision that changes what an organization may see carries the person's signature.
struct AdminController<Context: RequestContext>: Sendable {
    let store: VaultStore
    let manager: SegmentManager
    let configuration: Configuration
    let startedAt: Int64
    let mqtt: MQTTMonitor
    let ledger: LedgerService

    func addRoutes(to router: Router<Context>) {
        router.get("/healthz") { _, _ in JSONBody(["status": "ok"]) }
        router.post("/v1/ingest", use: ingest)
        router.get("/v1/status", use: status)
        router.get("/v1/vault", use: vault)
        router.get("/v1/streams", use: streams)
        router.post("/v1/streams", use: addStream)
        router.put("/v1/streams/retention", use: setRetention)
        router.get("/v1/segments", use: segments)
        router.get("/v1/segments/{id}/chunks", use: chunks)
    }

    @Sendable func ingest(_ request: Request, context: Context) async throws -> JSONBody<AdminAPI.IngestResponse> {
        let body = try await request.body.collect(upTo: configuration.maxIngestBodyBytes)
        let bytes = body.getBytes(at: body.readerIndex, length: body.readableBytes) ?? []
        var batch = ReadingBatch()
        var ignored: [LineError] = []
        do {
            try NDJSONParser.parse(bytes, into: &batch, errors: &ignored)
        } catch {
            throw Problem(code: .invalidReading, detail: "line \(error.line): \(error.reason); nothing was stored", line: error.line)
        }
        // Plausible times only (`allowOld=1` for a back-fill): seconds sent as milliseconds land in 1970.
        let policy = TimePolicy(allowOld: request.uri.queryParameters["allowOld"] == "1")
        if let bad = batch.implausibleTimes(policy, now: Timestamp.now(), limit: 1).first {
            throw Problem(code: .invalidReading, detail: "line \(bad.line): \(bad.reason); nothing was stored", line: bad.line)
        }
        let accepted = try await manager.ingest(batch)
        return JSONBody(AdminAPI.IngestResponse(accepted: accepted))
    }

    func vaultInfo() -> AdminAPI.VaultInfo {
        let v = ledger.vault
        let keys = v.userPublicKeys
        return AdminAPI.VaultInfo(origin: v.origin, userKeyId: v.userKeyId, userFingerprint: keys.fingerprint,
                                  userBoxKey: Encoding.base64url(keys.boxKey), createdAt: Timestamp.rfc3339(milliseconds: v.createdAt))
    }

    @Sendable func vault(_ request: Request, context: Context) async throws -> JSONBody<AdminAPI.VaultInfo> {
        JSONBody(vaultInfo())
    }

    @Sendable func status(_ request: Request, context: Context) async throws -> JSONBody<AdminAPI.Status> {
        let now = Timestamp.now()
        let settings = AdminAPI.Settings(
            autoCreateStreams: configuration.autoCreateStreams, defaultBucketSeconds: configuration.defaultBucketSeconds,
            segmentGraceSeconds: configuration.segmentGraceSeconds, maxIngestBodyBytes: configuration.maxIngestBodyBytes)
        return JSONBody(AdminAPI.Status(
            version: EdgeVaultVersion.current, startedAt: Timestamp.rfc3339(milliseconds: startedAt),
            uptimeSeconds: (now - startedAt) / 1000, vault: vaultInfo(), settings: settings,
            streams: try await store.streamStats(), openSegments: await manager.openSegments(), counters: await manager.counters,
            mqtt: mqtt.snapshot))
    }

    @Sendable func streams(_ request: Request, context: Context) async throws -> JSONBody<AdminAPI.Streams> {
        JSONBody(AdminAPI.Streams(streams: try await store.streams().map(AdminAPI.Stream.init)))
    }

    @Sendable func addStream(_ request: Request, context: Context) async throws -> JSONBody<AdminAPI.Stream> {
        let body = try await request.body.collect(upTo: 16 * 1024)
        let add = try JSONDecoder().decode(AdminAPI.AddStream.self, from: Data(buffer: body))
        // Retention deletes data: only the person's signed change sets it (docs/PROTOCOL.md
        // §"Retention changes"), never a stream's creation by whoever reaches this socket.
        guard add.retentionSeconds == nil else {
            throw Problem(code: .badRequest, detail: "a stream's retention is set by the person's signed change (PUT /v1/streams/retention, "
                          + "vault-cli stream retention); add the stream without it")
        }
        let s = try await manager.addStream(name: add.name, kind: add.kind ?? "", unit: add.unit ?? "", bucketSeconds: add.bucketSeconds)
        return JSONBody(AdminAPI.Stream(s), status: .created)
    }

    @Sendable func setRetention(_ request: Request, context: Context) async throws -> JSONBody<AdminAPI.RetentionResult> {
        let body = try await request.body.collect(upTo: 16 * 1024)
        guard let signed = try? JSONDecoder().decode(AdminAPI.SignedRetention.self, from: Data(buffer: body)) else {
            throw Problem(code: .decisionInvalid, detail: "a retention change is signed by the person: {\"change\":<JWS>} (vault-cli stream retention)")
        }
        let vault = ledger.vault
        let jwsBytes = Array(signed.change.utf8)
        let checked: RetentionChange.Checked
        do {
            checked = try RetentionChange.check(try JWS(json: jwsBytes), userKeyId: vault.userKeyId,
                                                userKey: try SigningPublicKey(bytes: [UInt8](vault.userSigningKey)))
        } catch let e as JWS.Failure {
            throw Problem(code: .decisionInvalid, detail: e.detail)
        }
        let (stream, index) = try await store.applyRetentionChange(checked, jws: jwsBytes, now: Timestamp.now())
        let checkpoint = try await ledger.anchorForAnswer(index: index, detail: "the retention change is recorded but its checkpoint could not be signed yet")
        return JSONBody(AdminAPI.RetentionResult(stream: AdminAPI.Stream(stream), leafIndex: index, checkpointSize: checkpoint.size))
    }

    static func timeParameter(_ request: Request, _ name: String, default value: Int64) throws -> Int64 {
        guard let text = request.uri.queryParameters[Substring(name)] else { return value }
        guard let ms = Timestamp.parseFlexible(String(text)) else {
            throw Problem(code: .badRequest, detail: "\(name) must be integer milliseconds or an RFC 3339 time")
        }
        return ms
    }

    @Sendable func segments(_ request: Request, context: Context) async throws -> JSONBody<AdminAPI.Segments> {
        let names = request.uri.queryParameters[values: "stream"].map(String.init)
        let from = try Self.timeParameter(request, "from", default: 0)
        let to = try Self.timeParameter(request, "to", default: Timestamp.maxMilliseconds)
        guard from < to else { throw Problem(code: .badRequest, detail: "from must be before to") }
        let all = try await store.streams()
        let selected: [StreamRecord]
        if names.isEmpty {
            selected = all
        } else {
            selected = try names.map { name in
                guard let s = all.first(where: { $0.name == name }) else {
                    throw Problem(code: .unknownStream, detail: "no stream named \"\(name)\"")
                }
                return s
            }
        }
        let byId = Dictionary(uniqueKeysWithValues: selected.map { ($0.id!, $0.name) })
        // `unbound=1`: only segments whose key is still of the earlier unbound format.
        let rows = try await store.segments(streamIds: Array(byId.keys), from: from, to: to, unboundOnly: request.uri.queryParameters["unbound"] == "1")
        return JSONBody(AdminAPI.Segments(segments: rows.map { r in
            AdminAPI.Segment(
                id: r.id, stream: byId[r.streamId] ?? "", start: Timestamp.rfc3339(milliseconds: r.bucketStart),
                end: Timestamp.rfc3339(milliseconds: r.bucketEnd), startMs: r.bucketStart, endMs: r.bucketEnd,
                chunks: r.chunkCount, readings: r.readingCount, open: r.closedAt == nil, sealedKey: Encoding.base64([UInt8](r.sealedKey)),
                minTime: r.minTime, maxTime: r.maxTime)
        }))
    }

    @Sendable func chunks(_ request: Request, context: Context) async throws -> JSONBody<AdminAPI.Chunks> {
        let id = try context.parameters.require("id")
        guard let segment = try await store.segment(id: id) else {
            throw Problem(code: .notFound, detail: "no segment \(id)")
        }
        let (after, limit) = try ChunkPage.parameters(request)
        let (chunks, next) = try await ChunkPage.read(store, segment: segment.ordinal!, after: after, limit: limit)
        return JSONBody(ChunkPage.body(chunks, next: next))
    }
}

public enum EdgeVaultVersion {
    public static let current = "0.1.0"
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension AdminAPI.Stream {
    init(_ r: StreamRecord) {
        self.init(name: r.name, kind: r.kind, unit: r.unit, bucketSeconds: r.bucketSeconds,
                  createdAt: Timestamp.rfc3339(milliseconds: r.createdAt), retentionSeconds: r.retentionSeconds)
    }
}
