/// The access request an organization signs (docs/PROTOCOL.md §"Access request", a MUST).
public struct AccessRequest: Sendable, Equatable {
    public static let type = "edgevault.access-request/v1"
    public static let maxStreams = 64

    public var vault: String
    public var id: String
    public var orgName: String
    public var orgContact: String
    public var streams: [String]
    public var from: Int64
    public var to: Int64
    public var purpose: String
    public var access: String
    public var deliveryKey: [UInt8]
    public var expires: Int64
    public var created: Int64
    /// The job of a compute request (`access: "compute"`, docs/PROTOCOL.md §"Compute jobs"); nil for raw.
    public var job: ComputeJob?

    /// A compute grant: the organization's module runs here, only its output leaves, and no
    /// segment key is ever sealed to the organization.
    public var isCompute: Bool { job != nil }

    public init(vault: String, id: String, orgName: String, orgContact: String, streams: [String], from: Int64, to: Int64,
                purpose: String, deliveryKey: [UInt8], expires: Int64, created: Int64, access: String = "raw", job: ComputeJob? = nil) {
        self.vault = vault
        self.id = id
        self.orgName = orgName
        self.orgContact = orgContact
        self.streams = streams
        self.from = from
        self.to = to
        self.purpose = purpose
        self.access = access
        self.deliveryKey = deliveryKey
        self.expires = expires
        self.created = created
        self.job = job
    }

    /// The payload bytes (compact JSON, keys sorted).
    public func payload() -> [UInt8] {
        var o: [String: JSONValue] = [
            "type": .string(Self.type), "vault": .string(vault), "id": .string(id),
            "org": .object(["name": .string(orgName), "contact": .string(orgContact)]),
            "streams": .array(streams.map { .string($0) }),
            "from": .string(Timestamp.rfc3339(milliseconds: from)), "to": .string(Timestamp.rfc3339(milliseconds: to)),
            "purpose": .string(purpose), "access": .string(access), "deliveryKey": .string(Encoding.base64url(deliveryKey)),
            "expires": .string(Timestamp.rfc3339(milliseconds: expires)), "created": .string(Timestamp.rfc3339(milliseconds: created)),
        ]
        if let job { o["job"] = job.json }
        return JSONValue.object(o).serialized()
    }

    public struct Invalid: Error, Equatable, Sendable, CustomStringConvertible {
        public var description: String { "invalid access request: \(detail)" }
        public enum Kind: Sendable { case request, wrongVault }
        public let kind: Kind
        public let detail: String
    }

    package static func bad(_ d: String) -> Invalid { Invalid(kind: .request, detail: d) }

    /// Parses and validates a payload; `origin` is this vault's, `now` the current time
    /// (nil: a stored request read back later, whose times were checked on arrival).
    public init(payload bytes: [UInt8], origin: String, now: Int64?) throws(Invalid) {
        guard case .object(let o)? = try? JSONValue.parse(bytes) else { throw Self.bad("the payload is not a JSON object") }
        func string(_ key: String, max: Int, allowEmpty: Bool = false) throws(Invalid) -> String {
            guard let s = o[key]?.stringValue else { throw Self.bad("\(key) must be a string") }
            guard s.count <= max, allowEmpty || !s.isEmpty else { throw Self.bad("\(key) must be 1…\(max) characters") }
            return s
        }
        func time(_ key: String) throws(Invalid) -> Int64 {
            guard let ms = Timestamp.parseRFC3339(try string(key, max: 40)) else { throw Self.bad("\(key) must be an RFC 3339 time") }
            return ms
        }
        guard o["type"]?.stringValue == Self.type else { throw Self.bad("type must be \"\(Self.type)\"") }
        let vault = try string("vault", max: 256)
        guard vault == origin else { throw Invalid(kind: .wrongVault, detail: "this request is for \(vault); this vault is \(origin)") }
        let id = try string("id", max: 64)
        guard id.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E }) else {
            throw Self.bad("id may only use A-Z a-z 0-9 . _ -")
        }
        guard case .object(let org)? = o["org"], let name = org["name"]?.stringValue, !name.isEmpty, name.utf8.count <= 4096 else {
            throw Self.bad("org.name must be 1…200 characters")
        }
        guard org["contact"] == nil || org["contact"]?.stringValue != nil else { throw Self.bad("org.contact must be a string") }
        let contact = org["contact"]?.stringValue ?? ""
        guard contact.utf8.count <= 4096 else { throw Self.bad("org.contact must be at most 200 characters") }
        guard case .array(let list)? = o["streams"], !list.isEmpty, list.count <= Self.maxStreams else {
            throw Self.bad("streams must list 1…\(Self.maxStreams) stream names")
        }
        var streams: [String] = []
        for item in list {
            guard let s = item.stringValue else { throw Self.bad("streams must be strings") }
            if let problem = StreamName.problem(with: s) { throw Self.bad(problem) }
            if !streams.contains(s) { streams.append(s) }
        }
        let from = try time("from"), to = try time("to")
        guard from < to else { throw Self.bad("from must be before to") }
        let expires = try time("expires")
        let created = try time("created")
        if let now {
            guard expires > now else { throw Self.bad("expires is in the past") }
            guard created <= now + 300_000 else { throw Self.bad("created is in the future") }
        }
        let purpose = try string("purpose", max: 2000 * UntrustedText.maxScalarsPerGrapheme)
        if now != nil {
            // Text an organization wants shown to the person: plain, printable, NFC, bounded in
            // bytes and characters (docs/PROTOCOL.md §"Text from organizations"). Requests
            // stored before this rule are only ever shown escaped (TerminalText).
            for (field, text, limits) in [("org.name", name, UntrustedText.Limits.name), ("org.contact", contact, .contact),
                                          ("purpose", purpose, .purpose)] {
                if let problem = UntrustedText.problem(with: text, field: field, limits: limits) { throw Self.bad(problem) }
            }
        }
        let access = try string("access", max: 32)
        var job: ComputeJob?
        switch access {
        case "raw":
            guard o["job"] == nil else { throw Self.bad("job is only allowed with access \"compute\"") }
        case "compute":
            guard let j = o["job"] else { throw Self.bad("access \"compute\" needs a job member") }
            job = try ComputeJob(json: j)
        default:
            throw Self.bad("access must be \"raw\" or \"compute\"")
        }
        guard let dk = Encoding.fromBase64url(try string("deliveryKey", max: 64)), BoxKeyPair.isValidPublicKey(dk) else {
            throw Self.bad("deliveryKey must be a base64url X25519 public key")
        }
        self.init(vault: vault, id: id, orgName: name, orgContact: contact, streams: streams, from: from, to: to,
                  purpose: purpose, deliveryKey: dk, expires: expires, created: created, access: access, job: job)
    }
}
