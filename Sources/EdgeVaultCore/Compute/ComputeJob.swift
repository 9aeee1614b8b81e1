/// The `job` member of a compute request (docs/PROTOCOL.md §"Compute jobs", a MUST): which
/// module runs, with what parameters, when, how its output is released and within which limits.
public struct ComputeJob: Sendable, Equatable {
    public static let abi = "wasi-p1-stdio/1"
    /// `params` serialized (compact, keys sorted) may take at most this many bytes.
    public static let maxParamsBytes = 4096
    /// Upper bounds a request may ask for (docs/PROTOCOL.md §"Compute jobs"): a Raspberry Pi
    /// has 1–8 GiB and the jobs share it with ingest.
    public static let maxLimits = JobLimits(fuel: 1_000_000_000_000, memoryPages: 4096, outputBytes: 4 << 20, wallMs: 600_000)
    public static let defaultLimits = JobLimits(fuel: 2_000_000_000, memoryPages: 512, outputBytes: 65536, wallMs: 30_000)

    public enum Schedule: String, Sendable { case once, perSegment = "per-segment" }
    public enum Release: String, Sendable { case review, auto }

    /// `sha256:` and 64 lowercase hex digits of the module's bytes.
    public var module: String
    public var params: JSONValue
    public var schedule: Schedule
    public var release: Release
    public var limits: JobLimits

    public init(module: String, params: JSONValue, schedule: Schedule, release: Release, limits: JobLimits) {
        self.module = module
        self.params = params
        self.schedule = schedule
        self.release = release
        self.limits = limits
    }

    public var json: JSONValue {
        .object([
            "module": .string(module), "abi": .string(Self.abi), "params": params, "schedule": .string(schedule.rawValue),
            "release": .string(release.rawValue),
            "limits": .object(["fuel": .number("\(limits.fuel)"), "memoryPages": .number("\(limits.memoryPages)"),
                               "outputBytes": .number("\(limits.outputBytes)"), "wallMs": .number("\(limits.wallMs)")]),
        ])
    }

    /// The module's SHA-256 digest, from its `sha256:<hex>` name.
    public var moduleDigest: [UInt8] { Self.digest(of: module) ?? [] }

    /// `sha256:<64 lowercase hex>` → the 32 bytes; nil for anything else.
    public static func digest(of name: String) -> [UInt8]? {
        guard name.hasPrefix("sha256:") else { return nil }
        let hex = name.dropFirst(7)
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) else { return nil }
        return Encoding.fromHex(String(hex))
    }

    /// The name of a module with these bytes.
    public static func name(of bytes: [UInt8]) -> String { "sha256:" + Encoding.hex(Hash.sha256(bytes)) }

    /// Parses and bounds a request's `job` member; the message names what is wrong.
    public init(json: JSONValue) throws(AccessRequest.Invalid) {
        guard case .object(let o) = json else { throw AccessRequest.bad("job must be an object") }
        let known: Set<String> = ["module", "abi", "params", "schedule", "release", "limits"]
        if let extra = o.keys.sorted().first(where: { !known.contains($0) }) {
            _ = extra; throw AccessRequest.bad("job may only have module, abi, params, schedule, release and limits")
        }
        guard let module = o["module"]?.stringValue, Self.digest(of: module) != nil else {
            throw AccessRequest.bad("job.module must be \"sha256:\" and 64 lowercase hex digits")
        }
        guard o["abi"]?.stringValue == Self.abi else { throw AccessRequest.bad("job.abi must be \"\(Self.abi)\"") }
        guard let params = o["params"] else { throw AccessRequest.bad("job.params is missing (use null for none)") }
        guard params.serialized().count <= Self.maxParamsBytes else {
            throw AccessRequest.bad("job.params must serialize to at most \(Self.maxParamsBytes) bytes")
        }
        guard let s = o["schedule"]?.stringValue, let schedule = Schedule(rawValue: s) else {
            throw AccessRequest.bad("job.schedule must be \"once\" or \"per-segment\"")
        }
        guard let r = o["release"]?.stringValue, let release = Release(rawValue: r) else {
            throw AccessRequest.bad("job.release must be \"review\" or \"auto\"")
        }
        guard !(release == .auto && schedule == .once) else {
            throw AccessRequest.bad("job.release \"auto\" is only allowed with schedule \"per-segment\"")
        }
        guard case .object(let l)? = o["limits"] else { throw AccessRequest.bad("job.limits must be an object") }
        guard Set(l.keys).isSubset(of: ["fuel", "memoryPages", "outputBytes", "wallMs"]) else {
            throw AccessRequest.bad("job.limits may only have fuel, memoryPages, outputBytes and wallMs")
        }
        func bounded(_ key: String, _ max: UInt64) throws(AccessRequest.Invalid) -> UInt64 {
            guard let text = l[key]?.numberText, let n = UInt64(text), n >= 1, n <= max else {
                throw AccessRequest.bad("job.limits.\(key) must be an integer from 1 to \(max)")
            }
            return n
        }
        let m = Self.maxLimits
        let limits = JobLimits(fuel: try bounded("fuel", m.fuel), memoryPages: Int(try bounded("memoryPages", UInt64(m.memoryPages))),
                               outputBytes: Int(try bounded("outputBytes", UInt64(m.outputBytes))), wallMs: Int(try bounded("wallMs", UInt64(m.wallMs))))
        self.init(module: module, params: params, schedule: schedule, release: release, limits: limits)
    }
}

extension ComputeJob {
    /// The largest module a vault takes (docs/PROTOCOL.md §"Compute jobs").
    public static let maxModuleBytes = 4 << 20
}
