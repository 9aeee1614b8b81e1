import NIOHTTP1

/// Signed calls to one peer's share store (docs/PROTOCOL.md §"Fragments"): as the vault that
/// sent the shares makes them (`keyid` its log origin, signed with its witness key), or as its
/// person restoring (`keyid` `owner:<thumbprint>`, signed with their key).
public struct PeerShareClient: Sendable {
    /// The peer's public URL (`peer add URL`), possibly with a path prefix.
    public let url: String
    public let keyId: String
    public let keyPair: SigningKeyPair
    public var timeout: Int64 = 120

    /// As the vault whose log is `origin`, with its witness key.
    public init(url: String, origin: String, keyPair: SigningKeyPair) {
        self.init(url: url, keyId: origin, keyPair: keyPair)
    }

    /// As the person (restoring), with their signing key.
    public init(url: String, owner: SigningKeyPair) {
        self.init(url: url, keyId: PeerShareProtocol.ownerKeyIdPrefix + JWKThumbprint.ed25519(owner.publicKey.bytes), keyPair: owner)
    }

    init(url: String, keyId: String, keyPair: SigningKeyPair) {
        self.url = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.keyId = keyId
        self.keyPair = keyPair
    }

    /// A failed call: the HTTP status (0 when the peer did not answer) and what it said.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var status: Int
        public var detail: String
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
        client.maxResponseBytes = 1 << 30
        return client
    }

    /// The path prefix of the peer's URL (empty for a bare origin).
    var prefix: String {
        guard let schemeEnd = url.range(of: "://") else { return "" }
        let rest = url[schemeEnd.upperBound...]
        guard let slash = rest.firstIndex(of: "/") else { return "" }
        return String(rest[slash...])
    }

    func call(_ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], body: [UInt8] = []) async throws -> HTTPClient.Response {
        let client: HTTPClient
        do { client = try self.client() } catch { throw Failure(status: 0, detail: "\(error)") }
        let full = prefix + path
        let signed = try PeerShareProtocol.signedHeaders(method: method.rawValue, path: full, authority: client.target.authority, headers: headers,
                                                         body: body, origin: keyId, keyPair: keyPair)
        let response: HTTPClient.Response
        do {
            response = try await client.send(method: method, path: full, headers: signed, body: body.isEmpty ? nil : body)
        } catch {
            throw Failure(status: 0, detail: "\(error)")
        }
        guard (200..<300).contains(response.status) else {
            let problem = try? JSONValue.parse(response.body)
            throw Failure(status: response.status, detail: problem?["detail"]?.stringValue ?? String(decoding: response.body.prefix(200), as: UTF8.self))
        }
        return response
    }

    /// Sends share `n` of the set `storageIndex` (k-of-`total` over `size` bytes).
    /// Sends share `n` of the set `storageIndex` (k-of-`total` over `size` bytes), naming the
    /// person's key `owner` as the one that may fetch it to restore.
    public func put(storageIndex: String, n: Int, k: Int, total: Int, size: Int, owner: [UInt8], share: [UInt8]) async throws {
        _ = try await call(.PUT, PeerShareProtocol.path(storageIndex: storageIndex, n: n), headers: [
            ("EdgeVault-Share-K", "\(k)"), ("EdgeVault-Share-N", "\(total)"), ("EdgeVault-Set-Size", "\(size)"),
            ("EdgeVault-Owner-Key", Encoding.base64url(owner)),
        ], body: share)
    }

    /// Leaves the set's `fragments.placed` leaf with the peer.
    public func putSet(storageIndex: String, leafIndex: Int64, leaf: [UInt8]) async throws {
        let body = JSONValue.object(["leafIndex": .number("\(leafIndex)"), "leaf": .string(Encoding.base64(leaf))]).serialized()
        _ = try await call(.PUT, "/v1/peer/sets/\(storageIndex)", body: body)
    }

    /// The set leaves the peer keeps for the vaults the caller owns: (index in the log, exact bytes).
    public func sets() async throws -> [(leafIndex: Int64, leaf: [UInt8])] {
        let response = try await call(.GET, PeerShareProtocol.setsPath)
        guard case .array(let items)? = (try? JSONValue.parse(response.body))?["sets"] else {
            throw Failure(status: response.status, detail: "the answer is not {\"sets\": [...]}")
        }
        return try items.map { item in
            guard case .number(let n)? = item["leafIndex"], let index = Int64(n), let text = item["leaf"]?.stringValue,
                  let bytes = Encoding.fromBase64(text) else { throw Failure(status: response.status, detail: "a set entry is not {leafIndex, leaf}") }
            return (leafIndex: index, leaf: bytes)
        }
    }

    /// The share's bytes as the peer keeps them.
    public func get(storageIndex: String, n: Int) async throws -> [UInt8] {
        try await call(.GET, PeerShareProtocol.path(storageIndex: storageIndex, n: n)).body
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
