/// One run of a compute grant's job as the ledger records it (docs/PROTOCOL.md §"Compute
/// results", a MUST): a `compute.released`, `compute.failed` or `compute.withheld` leaf with
/// `grant`, `org`, `seq`, `module`, `input`, `readings`, `output` (not on a failed run),
/// `fuel`, `exit`, and `reason` on a failed run.
public struct ComputeRun: Sendable, Equatable {
    public enum Outcome: String, Sendable, CaseIterable {
        case released, failed, withheld
        public var kind: LedgerLeaf.Kind {
            switch self {
            case .released: .computeReleased
            case .failed: .computeFailed
            case .withheld: .computeWithheld
            }
        }
    }

    public var grant: String
    public var seq: Int64
    /// `sha256:<hex>` of the module.
    public var module: String
    /// `sha256:<hex>` of the exact stdin bytes.
    public var input: String
    public var readings: Int64
    /// `sha256:<hex>` of the output bytes (nil on a failed run).
    public var output: String?
    public var fuel: UInt64
    /// The exit status; nil when the run was stopped (fuel, memory, wall, trap).
    public var exit: Int32?
    public var reason: JobFailure?
    /// The segment a `per-segment` run read (EdgeVault's addition).
    public var segment: String?

    public init(grant: String, seq: Int64, module: String, input: String, readings: Int64, output: String?, fuel: UInt64,
                exit: Int32?, reason: JobFailure?, segment: String? = nil) {
        self.grant = grant
        self.seq = seq
        self.module = module
        self.input = input
        self.readings = readings
        self.output = output
        self.fuel = fuel
        self.exit = exit
        self.reason = reason
        self.segment = segment
    }

    /// The leaf's fields for `outcome` (`decisionSha256`: the person's signed decision, when
    /// the person decided; EdgeVault's addition).
    public func fields(_ outcome: Outcome, decisionSha256: [UInt8]?) -> [String: JSONValue] {
        var f: [String: JSONValue] = [
            "grant": .string(grant), "seq": .number("\(seq)"), "module": .string(module), "input": .string(input),
            "readings": .number("\(readings)"), "fuel": .number("\(fuel)"), "exit": exit.map { .number("\($0)") } ?? .null,
        ]
        if outcome != .failed, let output { f["output"] = .string(output) }
        if outcome == .failed { f["reason"] = .string((reason ?? .exit).rawValue) }
        if let segment { f["segment"] = .string(segment) }
        if let decisionSha256 { f["decisionSha256"] = .string(Encoding.base64(decisionSha256)) }
        return f
    }

    public func leaf(_ outcome: Outcome, org: String, decisionSha256: [UInt8]?, time: Int64) -> LedgerLeaf {
        LedgerLeaf(kind: outcome.kind, fields: fields(outcome, decisionSha256: decisionSha256), org: org, time: time)
    }

    /// Reads a compute leaf back (nil for any other leaf or a malformed one).
    public init?(leaf: LedgerLeaf) {
        guard let outcome = Outcome.allCases.first(where: { $0.kind.rawValue == leaf.type }) else { return nil }
        let j = leaf.json
        guard let grant = j["grant"]?.stringValue, let seq = j["seq"]?.numberText.flatMap({ Int64($0) }),
              let module = j["module"]?.stringValue, let input = j["input"]?.stringValue,
              let readings = j["readings"]?.numberText.flatMap({ Int64($0) }), let fuel = j["fuel"]?.numberText.flatMap({ UInt64($0) })
        else { return nil }
        let output = j["output"]?.stringValue
        guard (outcome == .failed) == (output == nil) else { return nil }
        self.init(grant: grant, seq: seq, module: module, input: input, readings: readings, output: output, fuel: fuel,
                  exit: j["exit"]?.numberText.flatMap { Int32($0) }, reason: j["reason"]?.stringValue.flatMap(JobFailure.init(rawValue:)),
                  segment: j["segment"]?.stringValue)
        self.outcome = outcome
    }

    /// Set when read back from a leaf.
    public private(set) var outcome: Outcome?
}

/// The person's decision on one run (docs/PROTOCOL.md §"Compute results"): a JWS signed by the
/// person with payload `{"type":"edgevault.compute-decision/v1","grant","org","seq","decision",
/// "module","input","readings","output","fuel","exit","reason","at"}`; `decision` is `release`,
/// `withhold` or (a `once` run that failed on the person's side) `failed`.
public enum ComputeDecision {
    public static let type = "edgevault.compute-decision/v1"

    public static func make(_ run: ComputeRun, org: String, outcome: ComputeRun.Outcome, at: Int64, keys: UserKeys) -> JWS {
        var payload = run.fields(outcome, decisionSha256: nil)
        payload["type"] = .string(type)
        payload["org"] = .string(org)
        payload["decision"] = .string(name(of: outcome))
        payload["at"] = .string(Timestamp.rfc3339(milliseconds: at))
        let header = JSONValue.object(["alg": .string("Ed25519"), "kid": .string(keys.publicKeys.keyId)])
        return JWS.sign(payload: JSONValue.object(payload).serialized(), header: header, keyPair: keys.signing)
    }

    static func name(of outcome: ComputeRun.Outcome) -> String {
        switch outcome {
        case .released: "release"
        case .withheld: "withhold"
        case .failed: "failed"
        }
    }

    public struct Checked: Sendable {
        public var run: ComputeRun
        public var org: String
        public var outcome: ComputeRun.Outcome
    }

    /// Checks the person's signature and reads the run it decides.
    public static func check(_ jws: JWS, userKeyId: String, userKey: SigningPublicKey) throws(JWS.Failure) -> Checked {
        try jws.verifyPersonSignature(userKeyId: userKeyId, userKey: userKey, document: "a compute decision")
        guard case .object(var p)? = try? JSONValue.parse(jws.payload), p["type"]?.stringValue == type,
              let org = p["org"]?.stringValue, let decision = p["decision"]?.stringValue, p["at"]?.stringValue != nil,
              let outcome = ComputeRun.Outcome.allCases.first(where: { name(of: $0) == decision })
        else { throw JWS.Failure("the compute decision needs type \(type), grant, org, seq, decision and at") }
        p["type"] = .string(outcome.kind.rawValue)
        guard let run = ComputeRun(leaf: LedgerLeaf(kind: outcome.kind, fields: p, org: org, time: 0)) else {
            throw JWS.Failure("the compute decision does not describe a run (grant, seq, module, input, readings, output, fuel, exit)")
        }
        return Checked(run: run, org: org, outcome: outcome)
    }
}
