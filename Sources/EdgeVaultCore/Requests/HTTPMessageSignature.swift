import RawStructuredFieldValues

/// RFC 9421 HTTP Message Signatures with `ed25519`, as EdgeVault's public API uses them:
/// one code path builds the signature base for the organization's signer and for the vault's
/// verifier, so the two cannot drift.
public enum HTTPMessageSignature {
    /// The parts of a request a signature can cover.
    public struct RequestParts: Sendable {
        public var method: String
        /// The absolute path, as sent (percent-encoding untouched).
        public var path: String
        /// The query without the leading `?`, or nil when the target has none.
        public var query: String?
        public var authority: String
        /// Header fields, names in any case; repeated names allowed.
        public var headers: [(String, String)]

        public init(method: String, path: String, query: String?, authority: String, headers: [(String, String)]) {
            self.method = method
            self.path = path
            self.query = query
            self.authority = authority
            self.headers = headers
        }

        /// The field's values combined as RFC 9421 §2.1 says (trimmed, joined with ", ").
        public func field(_ name: String) -> String? {
            let values = headers.filter { $0.0.lowercased() == name }.map { $0.1.trimmingSpaces() }
            return values.isEmpty ? nil : values.joined(separator: ", ")
        }
    }

    /// The signature parameters this profile uses.
    public struct Parameters: Sendable, Equatable {
        public var components: [String]
        public var created: Int64
        public var expires: Int64?
        public var nonce: String?
        public var keyId: String?
        public var alg: String?
        public var tag: String?
        /// The parameters' order as received: the signature base serializes them in the order
        /// the signer wrote them (RFC 9421 §2.3), which need not be ours.
        var receivedOrder: [String]?

        public init(components: [String], created: Int64, expires: Int64? = nil, nonce: String? = nil, keyId: String? = nil, alg: String? = nil, tag: String? = nil) {
            self.components = components
            self.created = created
            self.expires = expires
            self.nonce = nonce
            self.keyId = keyId
            self.alg = alg
            self.tag = tag
        }

        /// The same signature parameters, whatever their order.
        public static func == (a: Self, b: Self) -> Bool {
            a.components == b.components && a.created == b.created && a.expires == b.expires && a.nonce == b.nonce
                && a.keyId == b.keyId && a.alg == b.alg && a.tag == b.tag
        }

        /// The inner list, with parameters in the order received, else RFC 9421's customary order.
        var innerList: InnerList {
            var values: [String: BareItem] = ["created": .integer(Int(created))]
            if let expires { values["expires"] = .integer(Int(expires)) }
            if let keyId { values["keyid"] = .string(keyId) }
            if let alg { values["alg"] = .string(alg) }
            if let nonce { values["nonce"] = .string(nonce) }
            if let tag { values["tag"] = .string(tag) }
            var params = OrderedMap<String, BareItem>()
            for key in receivedOrder ?? ["created", "expires", "keyid", "alg", "nonce", "tag"] {
                if let value = values[key] { params[key] = value }
            }
            var items = BareInnerList()
            for c in components { items.append(Item(bareItem: BareItem.string(c), parameters: OrderedMap<String, BareItem>())) }
            return InnerList(bareInnerList: items, parameters: params)
        }

        init(innerList: InnerList) throws(SignatureFailure) {
            var components: [String] = []
            for item in innerList.bareInnerList {
                guard case .string(let name) = item.rfc9651BareItem else { throw .invalid("covered components must be strings") }
                guard item.rfc9651Parameters.count == 0 else { throw .invalid("component parameters are not supported (\(name))") }
                guard !components.contains(name) else { throw .invalid("component \(name) is listed twice") }
                components.append(name)
            }
            var created: Int64?
            self.components = components
            var order: [String] = []
            for (key, value) in innerList.rfc9651Parameters {
                guard !order.contains(key) else { throw .invalid("signature parameter \(key) is given twice") }
                order.append(key)
                switch (key, value) {
                case ("created", .integer(let n)): created = Int64(n)
                case ("expires", .integer(let n)): expires = Int64(n)
                case ("nonce", .string(let s)): nonce = s
                case ("keyid", .string(let s)): keyId = s
                case ("alg", .string(let s)): alg = s
                case ("tag", .string(let s)): tag = s
                default: throw .invalid("unexpected signature parameter \(key)")
                }
            }
            guard let created else { throw .invalid("the signature has no created parameter") }
            self.created = created
            self.receivedOrder = order
        }

        /// `("@method" "@path");created=…;keyid="…";…` as RFC 8941 serializes it.
        public func serialized() -> String {
            var serializer = StructuredFieldValueSerializer()
            let bytes = (try? serializer.writeListFieldValue([.innerList(innerList)])) ?? []
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    public enum SignatureFailure: Error, Equatable, Sendable {
        case missing(String)
        case invalid(String)
        case expired(String)

        public var detail: String {
            switch self {
            case .missing(let d), .invalid(let d), .expired(let d): return d
            }
        }
    }

    /// The value of one covered component (RFC 9421 §2.1, §2.2).
    static func componentValue(_ name: String, of request: RequestParts) throws(SignatureFailure) -> String {
        switch name {
        case "@method": return request.method.uppercased()
        case "@path": return request.path.isEmpty ? "/" : request.path
        case "@query": return "?" + (request.query ?? "")
        case "@authority": return request.authority.lowercased()
        case "@target-uri", "@scheme", "@request-target", "@status", "@query-param":
            throw .invalid("component \(name) is not supported by this vault")
        default:
            guard !name.hasPrefix("@"), name == name.lowercased() else { throw .invalid("unknown component \(name)") }
            guard let value = request.field(name) else { throw .invalid("covered field \(name) is not in the request") }
            return value
        }
    }

    /// RFC 9421 §2.5: the signature base for `parameters` over `request`.
    public static func signatureBase(_ request: RequestParts, parameters: Parameters) throws(SignatureFailure) -> String {
        var lines: [String] = []
        for c in parameters.components {
            lines.append("\"\(c)\": \(try componentValue(c, of: request))")
        }
        lines.append("\"@signature-params\": " + parameters.serialized())
        return lines.joined(separator: "\n")
    }

    /// Signs a request: returns the `Signature-Input` and `Signature` field values.
    public static func sign(_ request: RequestParts, parameters: Parameters, label: String = "sig1", keyPair: SigningKeyPair) throws(SignatureFailure) -> (input: String, signature: String) {
        let base = try signatureBase(request, parameters: parameters)
        let signature = keyPair.sign(Array(base.utf8))
        return ("\(label)=" + parameters.serialized(), "\(label)=:\(Encoding.base64(signature)):")
    }

    /// One signature found in a request: its label, parameters and bytes.
    public struct Found: Sendable {
        public var label: String
        public var parameters: Parameters
        public var signature: [UInt8]
    }

    /// Parses `Signature-Input` and `Signature` and returns the first signature present in both.
    public static func parse(_ request: RequestParts) throws(SignatureFailure) -> Found {
        guard let inputText = request.field("signature-input"), let sigText = request.field("signature") else {
            throw .missing("this endpoint needs an RFC 9421 signature: send Signature-Input and Signature headers")
        }
        guard inputText.utf8.count <= 8192, sigText.utf8.count <= 8192 else { throw .invalid("signature headers are too long") }
        let inputs: OrderedMap<String, ItemOrInnerList>, signatures: OrderedMap<String, ItemOrInnerList>
        do {
            var p1 = StructuredFieldValueParser(Array(inputText.utf8))
            inputs = try p1.parseDictionaryFieldValue()
            var p2 = StructuredFieldValueParser(Array(sigText.utf8))
            signatures = try p2.parseDictionaryFieldValue()
        } catch {
            throw .invalid("Signature-Input or Signature is not a valid RFC 8941 dictionary")
        }
        for (label, value) in inputs {
            guard case .innerList(let list) = value else { throw .invalid("Signature-Input \(label) must be an inner list") }
            guard let sigValue = signatures[label] else { continue }
            guard case .item(let item) = sigValue, case .undecodedByteSequence(let b64) = item.rfc9651BareItem,
                  let bytes = Encoding.fromBase64(b64) else {
                throw .invalid("Signature \(label) must be a byte sequence")
            }
            return Found(label: label, parameters: try Parameters(innerList: list), signature: bytes)
        }
        throw .invalid("no label appears in both Signature-Input and Signature")
    }

    /// RFC 9530 `Content-Digest` with `sha-256` for `body`.
    public static func contentDigest(_ body: [UInt8]) -> String {
        contentDigest(sha256: Hash.sha256(body))
    }

    /// The same, from a SHA-256 already computed (a share's, which its sender keeps anyway).
    public static func contentDigest(sha256: [UInt8]) -> String {
        "sha-256=:\(Encoding.base64(sha256)):"
    }

    /// Whether the `Content-Digest` field value carries a `sha-256` digest equal to the body's.
    public static func digestMatches(_ fieldValue: String, body: [UInt8]) -> Bool {
        digestMatches(fieldValue, sha256: Hash.sha256(body))
    }

    /// The same check against a body's SHA-256 computed as it streamed by.
    public static func digestMatches(_ fieldValue: String, sha256: [UInt8]) -> Bool {
        var parser = StructuredFieldValueParser(Array(fieldValue.utf8))
        guard let dict = try? parser.parseDictionaryFieldValue(), let value = dict["sha-256"],
              case .item(let item) = value, case .undecodedByteSequence(let b64) = item.rfc9651BareItem,
              let digest = Encoding.fromBase64(b64)
        else { return false }
        return Sodium.constantTimeEquals(digest, sha256)
    }
}
