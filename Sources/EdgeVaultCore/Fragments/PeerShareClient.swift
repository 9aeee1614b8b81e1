import NIOHTTP1

/// Signed calls to one peer's share store (docs/PROTOCOL.md §"Fragments"): as the vault that
/// sent the shares makes them (`keyid` its log origin, signed with its witness key), or as its
/// person restoring (`keyid` `owner:<thumbprint>`, signed with their key).
public struct PeerShareClient: Sendable {
    /// The peer's public URL (`peer add URL`), possibly with a path prefix.
    public let url: String
    public let keyId: String
    public let keyPair: SigningKeyPair
    /// The holder's log origin, signed into every call (`EdgeVault-Holder`).
    public let holder: String
    public var timeout: Int64 = 120
    /// The longest answer taken (a share's expected length, when it is known).
    public var maxResponseBytes = 1 << 20

    /// As the vault whose log is `origin`, with its witness key, to the holder whose log is `holder`.
    public init(url: String, holder: String, origin: String, keyPair: SigningKeyPair) {
        self.init(url: url, holder: holder, keyId: origin, keyPair: keyPair)
    }

    /// As the person (restoring), with their signing key.
    public init(url: String, holder: String, owner: SigningKeyPair) {
        self.init(url: url, holder: holder, keyId: PeerShareProtocol.ownerKeyIdPrefix + JWKThumbprint.ed25519(owner.publicKey.bytes), keyPair: owner)
    }

    init(url: String, holder: String, keyId: String, keyPair: SigningKeyPair) {
        self.url = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.holder = holder
        self.keyId = keyId
        self.keyPair = keyPair
    }

    /// The log origin of the vault at `url` (the first line of its checkpoint): whom to name in
    /// `EdgeVault-Holder` when only its URL is known.
    public static func origin(ofPeer url: String) async throws -> String {
        let probe = PeerShareClient(url: url, holder: "", keyId: "", keyPair: .generate())
        let client: HTTPClient
        do { client = try probe.client() } catch { throw Failure(status: 0, detail: "\(error)") }
        let response: HTTPClient.Response
        do { response = try await client.send(method: .GET, path: probe.prefix + "/v1/log/checkpoint") } catch { throw Failure(status: 0, detail: "\(error)") }
        guard response.status == 200, let line = String(decoding: response.body.prefix(1024), as: UTF8.self).split(separator: "\n").first,
              !line.isEmpty, line.utf8.count <= 255 else {
            throw Failure(status: response.status, detail: "the peer does not serve a checkpoint at /v1/log/checkpoint")
        }
        return String(line)
    }

    /// A failed call: the HTTP status (0 when the peer did not answer) and what it said.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var status: Int
        public var detail: String
        /// A busy holder's `Retry-After`, in seconds.
        public var retryAfter: Int?
        public var description: String { status == 0 ? detail : "HTTP \(status): \(detail)" }
        public init(status: Int, detail: String) {
            self.status = status
            self.detail = detail
        }
    }

    func client() throws -> HTTPClient {
        let base: String
        if let schemeEnd = url.range(of: "://") {
            let rest = url[schemeEnd.upperBound...]
            base = String(url[..<schemeEnd.upperBound]) + (rest.split(separator: "/", maxSplits: 1).first.map(String.init) ?? "")
        } else {
            base = url
        }
        var client = try HTTPClient(url: base)
        client.timeout = .seconds(timeout)
        client.maxResponseBytes = maxResponseBytes
        return client
    }

    /// The path prefix of the peer's URL (empty for a bare origin).
    var prefix: String {
        guard let schemeEnd = url.range(of: "://") else { return "" }
        let rest = url[schemeEnd.upperBound...]
        guard let slash = rest.firstIndex(of: "/") else { return "" }
        return String(rest[slash...])
    }

    /// Tries a busy holder (429) three times in all, waiting what it asks (at most 5 s) between.
    func call(_ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], body: [UInt8] = [],
              bodySha256: [UInt8]? = nil) async throws -> HTTPClient.Response {
        for attempt in 1... {
            do {
                return try await callOnce(method, path, headers: headers, body: body, bodySha256: bodySha256)
            } catch let f as Failure where f.status == 429 && attempt < 3 {
                try await Task.sleep(for: .seconds(min(max(f.retryAfter ?? 1, 1), 5)))
            }
        }
        fatalError("unreachable")
    }

    func callOnce(_ method: HTTPMethod, _ path: String, headers: [(String, String)], body: [UInt8], bodySha256: [UInt8]?) async throws -> HTTPClient.Response {
        let client: HTTPClient
        do { client = try self.client() } catch { throw Failure(status: 0, detail: "\(error)") }
        let full = prefix + path
        let signed = try PeerShareProtocol.signedHeaders(method: method.rawValue, path: full, authority: client.target.authority, holder: holder, headers: headers,
                                                         body: body, bodySha256: bodySha256, origin: keyId, keyPair: keyPair)
        let response: HTTPClient.Response
        do {
            response = try await client.send(method: method, path: full, headers: signed, body: body.isEmpty ? nil : body)
        } catch {
            throw Failure(status: 0, detail: "\(error)")
        }
        guard (200..<300).contains(response.status) else {
            let problem = try? JSONValue.parse(response.body)
            var failure = Failure(status: response.status,
                                  detail: String((problem?["detail"]?.stringValue ?? String(decoding: response.body.prefix(200), as: UTF8.self)).prefix(300)))
            failure.retryAfter = response.header("Retry-After").flatMap { Int($0) }
            throw failure
        }
        return response
    }

    /// Sends share `n` of the set `storageIndex` (k-of-`total` over `size` bytes), naming the
    /// person's key `owner` as the one that may fetch it to restore.
    public func put(storageIndex: String, n: Int, k: Int, total: Int, size: Int, owner: [UInt8], share: [UInt8], sha256: [UInt8]? = nil) async throws {
        _ = try await call(.PUT, PeerShareProtocol.path(storageIndex: storageIndex, n: n), headers: [
            ("EdgeVault-Share-K", "\(k)"), ("EdgeVault-Share-N", "\(total)"), ("EdgeVault-Set-Size", "\(size)"),
            ("EdgeVault-Owner-Key", Encoding.base64url(owner)),
        ], body: share, bodySha256: sha256)
    }

    /// Leaves the set's deposit (its leaf and the proof that it is in the vault's log) with the peer.
    public func putSet(storageIndex: String, deposit: FragmentDeposit) async throws {
        _ = try await call(.PUT, "/v1/peer/sets/\(storageIndex)", body: deposit.json.serialized())
    }

    /// Leaves a recovery share sealed to the peer with it (replacing the one this vault left before).
    public func putRecoveryShare(_ share: SealedRecoveryShare) async throws {
        _ = try await call(.PUT, PeerShareProtocol.recoverySharePath, body: share.json.serialized())
    }

    /// Asks the peer to delete a set (its deposit and shares) it holds for this vault.
    public func deleteSet(storageIndex: String) async throws {
        _ = try await call(.DELETE, "/v1/peer/sets/\(storageIndex)")
    }

    /// The deposits the peer keeps for the vaults the caller owns that `keep` accepts (the
    /// caller verifies each with its key and keeps only those: a hostile peer's listing costs
    /// one page of memory at a time), page by page, at most `limit` pages.
    public func sets<T>(pages limit: Int = 100, keep: (FragmentDeposit) -> T?) async throws -> [T] {
        var me = self
        me.maxResponseBytes = FragmentDeposit.pageBytes + (1 << 20)
        var kept: [T] = []
        var after: Int64?
        for _ in 0..<limit {
            let response = try await me.call(.GET, PeerShareProtocol.setsPath + (after.map { "?after=\($0)" } ?? ""))
            guard let page = try? JSONValue.parse(response.body), case .array(let items)? = page["sets"],
                  items.count <= FragmentDeposit.pageCount else {
                throw Failure(status: response.status, detail: "the answer is not {\"sets\": [at most \(FragmentDeposit.pageCount) deposits], \"next\"}")
            }
            kept += items.compactMap { (try? FragmentDeposit(json: $0)).flatMap(keep) }
            guard case .number(let next)? = page["next"], let cursor = Int64(next), cursor > (after ?? -1) else { return kept }
            after = cursor
        }
        throw Failure(status: 200, detail: "the listing goes on past \(limit) pages")
    }

    /// The share's bytes as the peer keeps them; an answer longer than `length` is refused.
    public func get(storageIndex: String, n: Int, length: Int) async throws -> [UInt8] {
        var me = self
        me.maxResponseBytes = max(length, 1)
        return try await me.call(.GET, PeerShareProtocol.path(storageIndex: storageIndex, n: n)).body
    }

    /// The peer's answer to an audit with `nonce`: SHA-256(nonce ‖ share) as it computes it.
    public func audit(storageIndex: String, n: Int, nonce: [UInt8]) async throws -> [UInt8] {
        let response = try await call(.POST, PeerShareProtocol.path(storageIndex: storageIndex, n: n) + "/audit", body: nonce)
        guard let proof = (try? JSONValue.parse(response.body))?["sha256"]?.stringValue, let bytes = Encoding.fromBase64(proof), bytes.count == 32 else {
            throw Failure(status: response.status, detail: "the audit answer is not {\"sha256\": <32 bytes base64>}")
        }
        return bytes
    }
}
