import EdgeVaultCore

/// The `[[witness]]` tables and the `[quorum]` section (docs/OPERATIONS.md §"Witnesses"):
/// outside C2SP witnesses this vault submits its checkpoints to, besides its peers', and
/// whether grants and releases wait for their checkpoint to be cosigned.
public struct WitnessConfiguration: Sendable, Equatable {
    /// An outside witness: `url` is its submission prefix (the vault POSTs
    /// `<url>/add-checkpoint`), `key` its cosignature/v1 verifier key.
    public struct Witness: Sendable, Equatable {
        public var url: String
        public var key: String
    }

    public var witnesses: [Witness] = []
    /// A C2SP tlog-policy file naming the quorum; without one the quorum is every witness.
    public var policyFile: String?
    /// Grants and releases wait until their checkpoint has the quorum (fail closed).
    public var required = false
    /// How long a grant or a release waits for the quorum before it is refused (`witness_quorum`).
    public var timeoutSeconds = 10
    /// How long one submission to a witness may take.
    public var submitTimeoutSeconds = 5

    public init() {}

    public static let maxWitnesses = 32

    /// One `[[witness]]` table.
    static func witness(_ table: [String: TOML.Value], index: Int) throws(ConfigurationError) -> Witness {
        let at = "witness #\(index + 1)"
        for key in table.keys.sorted() where key != "url" && key != "key" {
            throw ConfigurationError("\(at): unknown setting \"\(key)\" (a [[witness]] has url and key)")
        }
        guard case .string(let url)? = table["url"], case .string(let key)? = table["key"] else {
            throw ConfigurationError("\(at): needs url (its submission prefix) and key (its cosignature verifier key)")
        }
        if let problem = PeerChange.urlProblem(url) { throw ConfigurationError("\(at): \(problem)") }
        if let problem = PeerChange.witnessKeyProblem(key) { throw ConfigurationError("\(at): \(problem)") }
        return Witness(url: url.hasSuffix("/") ? String(url.dropLast()) : url, key: key)
    }
}

extension Configuration {
    static let witnessSettings: [Setting] = [
        Setting(key: "witness", env: nil, flag: nil, kind: .tables) { (c, v) throws(ConfigurationError) in
            guard case .tables(let tables) = v else { throw ConfigurationError("witness must be [[witness]] tables") }
            guard tables.count <= WitnessConfiguration.maxWitnesses else {
                throw ConfigurationError("at most \(WitnessConfiguration.maxWitnesses) [[witness]] tables")
            }
            c.witnessing.witnesses = []
            for (i, t) in tables.enumerated() {
                let w = try WitnessConfiguration.witness(t, index: i)
                guard !c.witnessing.witnesses.contains(where: { $0.key == w.key }) else {
                    throw ConfigurationError("witness #\(i + 1): the same key is listed twice")
                }
                c.witnessing.witnesses.append(w)
            }
        },
        path("quorum.policy", env: "EDGEVAULT_QUORUM_POLICY") { $0.witnessing.policyFile = $1 },
        boolean("quorum.required", env: "EDGEVAULT_QUORUM_REQUIRED", \.witnessing.required),
        integer("quorum.timeout_seconds", env: "EDGEVAULT_QUORUM_TIMEOUT_SECONDS", 1...600, \.witnessing.timeoutSeconds),
        integer("quorum.submit_timeout_seconds", env: "EDGEVAULT_QUORUM_SUBMIT_TIMEOUT_SECONDS", 1...120, \.witnessing.submitTimeoutSeconds),
    ]
}
