import EdgeVaultCore

/// A fragment set this vault placed on its peers (docs/PROTOCOL.md §"Fragments").
public struct FragmentSet: Sendable, Equatable {
    public struct Share: Sendable, Equatable {
        public var n: Int
        /// The holding peer's log origin.
        public var peer: String
        public var url: String
        /// Base64 SHA-256 of the share.
        public var sha256: String
        public var auditedAt: Int64?
        public var healthy: Bool?
        public var lastError: String?

        public init(n: Int, peer: String, url: String, sha256: String, auditedAt: Int64? = nil, healthy: Bool? = nil, lastError: String? = nil) {
            self.n = n
            self.peer = peer
            self.url = url
            self.sha256 = sha256
            self.auditedAt = auditedAt
            self.healthy = healthy
            self.lastError = lastError
        }
    }

    public var storageIndex: String
    public var leafIndex: Int64
    /// The push (one backup) the set belongs to, its segment and the push's segment count.
    public var push: String
    public var segment: Int
    public var segments: Int
    public var k: Int
    public var n: Int
    public var size: Int
    /// Base64 SHA-256 of the set's bytes.
    public var sha256: String
    public var placedAt: Int64
    /// The set that replaced this one after a repair, if any.
    public var replacedBy: String?
    /// The set this one replaced (a repair), as its leaf says.
    public var replaces: String?
    public var shares: [Share]

    public init(storageIndex: String, leafIndex: Int64 = 0, push: String, segment: Int, segments: Int, k: Int, n: Int, size: Int,
                sha256: String, placedAt: Int64, replacedBy: String? = nil, shares: [Share]) {
        self.storageIndex = storageIndex
        self.leafIndex = leafIndex
        self.push = push
        self.segment = segment
        self.segments = segments
        self.k = k
        self.n = n
        self.size = size
        self.sha256 = sha256
        self.placedAt = placedAt
        self.replacedBy = replacedBy
        self.shares = shares
    }

    /// Reads a `fragments.placed` leaf back (the inverse of `leafFields`); nil for any other
    /// leaf or codec.
    public init?(leafIndex: Int64, leaf bytes: [UInt8], codec: String) {
        guard let leaf = try? LedgerLeaf(bytes: bytes), leaf.type == LedgerLeaf.Kind.fragmentsPlaced.rawValue,
              leaf.json["codec"]?.stringValue == codec, let index = leaf.json["storageIndex"]?.stringValue,
              let push = leaf.json["push"]?.stringValue, let sha = leaf.json["sha256"]?.stringValue,
              case .array(let items)? = leaf.json["shares"] else { return nil }
        func int(_ v: JSONValue?) -> Int? { if case .number(let t)? = v { return Int(t) } else { return nil } }
        guard let segment = int(leaf.json["segment"]), let segments = int(leaf.json["segments"]), let k = int(leaf.json["k"]),
              let n = int(leaf.json["n"]), let size = int(leaf.json["size"]) else { return nil }
        // Every field in range before anything counts on it: a leaf from a peer is input.
        guard PeerShareProtocol.isWellFormed(index), k >= 1, k < n, n <= 255, (1...(1 << 20)).contains(segments), (0..<segments).contains(segment),
              (0...(1 << 31)).contains(size), items.count == n, push.utf8.count <= 64, sha.utf8.count <= 64 else { return nil }
        let shares = items.compactMap { s -> Share? in
            guard let n = int(s["n"]), let peer = s["peer"]?.stringValue, let url = s["url"]?.stringValue,
                  let sha = s["sha256"]?.stringValue else { return nil }
            return Share(n: n, peer: peer, url: url, sha256: sha)
        }
        guard shares.count == n, Set(shares.map(\.n)) == Set(0..<n) else { return nil }
        self.init(storageIndex: index, leafIndex: leafIndex, push: push, segment: segment, segments: segments, k: k, n: n, size: size,
                  sha256: sha, placedAt: leaf.time, shares: shares.sorted { $0.n < $1.n })
        replaces = leaf.json["replaces"]?.stringValue
    }

    /// The `fragments.placed` leaf's members (the MUST ones and `push`, `segment`, `segments`,
    /// each share's `url`, and `replaces` after a repair).
    public func leafFields(codec: String, replaces: String?) -> [String: JSONValue] {
        var fields: [String: JSONValue] = [
            "storageIndex": .string(storageIndex), "codec": .string(codec), "k": .number("\(k)"), "n": .number("\(n)"),
            "size": .number("\(size)"), "sha256": .string(sha256), "push": .string(push), "segment": .number("\(segment)"),
            "segments": .number("\(segments)"),
            "shares": .array(shares.map { .object(["n": .number("\($0.n)"), "peer": .string($0.peer), "url": .string($0.url), "sha256": .string($0.sha256)]) }),
        ]
        if let replaces { fields["replaces"] = .string(replaces) }
        return fields
    }
}
