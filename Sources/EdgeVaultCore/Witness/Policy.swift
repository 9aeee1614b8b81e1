/// c2sp.org/tlog-policy: which logs and witnesses to trust and which cosignatures make a
/// quorum (docs/PROTOCOL.md §"Witnesses").
///
/// Lines (items separated by spaces/tabs; blank and `#` lines ignored):
/// `log <vkey> [<url>]`, `witness <name> <vkey> [<url>]`,
/// `group <name> all|any|<k> <name>...`, `quorum <name>|none` (exactly one).
/// Log vkeys are Ed25519 (0x01); witness vkeys are cosignature/v1 (0x04).
public struct TlogPolicy: Sendable, Equatable {
    /// EdgeVault's limits (the spec recommends supporting at least 32 of each).
    public static let maxBytes = 64 * 1024
    public static let maxEntries = 256

    public struct Log: Sendable, Equatable {
        public var key: SignedNote.Verifier
        public var url: String?
    }

    public struct Witness: Sendable, Equatable {
        public var name: String
        public var key: CosignatureVerifier
        public var url: String?
    }

    public struct Group: Sendable, Equatable {
        public var name: String
        public var threshold: Int
        public var members: [String]
    }

    public var logs: [Log] = []
    public var witnesses: [Witness] = []
    public var groups: [Group] = []
    /// A witness or group name, or `none`.
    public var quorum: String = "none"

    public init(text: String) throws {
        let bytes = Array(text.utf8)
        guard bytes.count <= Self.maxBytes else { throw VaultError(.config, "the policy is over \(Self.maxBytes) bytes") }
        var names: Set<String> = ["none"]
        var members: Set<String> = []
        var sawQuorum = false
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            func fail(_ m: String) -> VaultError { VaultError(.config, "policy line \(i + 1): \(m)") }
            guard !raw.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" || $0.value == 0x7F }) else {
                throw fail("a control character")
            }
            let items = raw.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let keyword = items.first, !keyword.hasPrefix("#") else { continue }
            let args = Array(items.dropFirst())
            switch keyword {
            case "log":
                guard (1...2).contains(args.count) else { throw fail("expected `log <vkey> [<url>]`") }
                guard let key = try? SignedNote.Verifier(args[0]) else { throw fail("not an Ed25519 (0x01) log vkey") }
                guard !logs.contains(where: { $0.key.publicKey == key.publicKey }) else { throw fail("duplicate log key") }
                guard logs.count < Self.maxEntries else { throw fail("more than \(Self.maxEntries) logs") }
                logs.append(Log(key: key, url: args.count == 2 ? args[1] : nil))
            case "witness":
                guard (2...3).contains(args.count) else { throw fail("expected `witness <name> <vkey> [<url>]`") }
                guard !names.contains(args[0]) else { throw fail("the name \(args[0]) is already defined") }
                guard let key = try? CosignatureVerifier(args[1]) else { throw fail("not an Ed25519 cosignature (0x04) vkey") }
                guard !witnesses.contains(where: { $0.key.publicKey == key.publicKey }) else { throw fail("duplicate witness key") }
                guard witnesses.count < Self.maxEntries else { throw fail("more than \(Self.maxEntries) witnesses") }
                names.insert(args[0])
                witnesses.append(Witness(name: args[0], key: key, url: args.count == 3 ? args[2] : nil))
            case "group":
                guard args.count >= 3 else { throw fail("expected `group <name> all|any|<k> <name>...`") }
                guard !names.contains(args[0]) else { throw fail("the name \(args[0]) is already defined") }
                let list = Array(args.dropFirst(2))
                for m in list {
                    guard m != "none" else { throw fail("none cannot be a group member") }
                    guard names.contains(m) else { throw fail("\(m) is not defined on an earlier line") }
                    guard members.insert(m).inserted else { throw fail("\(m) is already a group member") }
                }
                let k: Int
                switch args[1] {
                case "all": k = list.count
                case "any": k = 1
                default:
                    guard let n = AddCheckpointRequest.decimal(Substring(args[1])), n >= 1, n <= list.count else {
                        throw fail("the threshold must be all, any or 1…\(list.count)")
                    }
                    k = Int(n)
                }
                guard groups.count < Self.maxEntries else { throw fail("more than \(Self.maxEntries) groups") }
                names.insert(args[0])
                groups.append(Group(name: args[0], threshold: k, members: list))
            case "quorum":
                guard args.count == 1 else { throw fail("expected `quorum <name>`") }
                guard !sawQuorum else { throw fail("a second quorum line") }
                guard names.contains(args[0]) else { throw fail("\(args[0]) is not defined on an earlier line") }
                sawQuorum = true
                quorum = args[0]
            default:
                throw fail("unknown keyword \(keyword)")
            }
        }
        guard sawQuorum else { throw VaultError(.config, "the policy has no quorum line") }
    }

    /// Whether `name` (a witness, a group or `none`) is satisfied when exactly `cosigned`
    /// witnesses cosigned; otherwise why not, naming what is missing.
    public func check(_ name: String, cosigned: Set<String>) -> String? {
        if name == "none" { return nil }
        if witnesses.contains(where: { $0.name == name }) {
            return cosigned.contains(name) ? nil : "no valid cosignature from \(name)"
        }
        guard let g = groups.first(where: { $0.name == name }) else { return "\(name) is not defined" }
        var met: [String] = []
        var missing: [String] = []
        for m in g.members {
            if let why = check(m, cosigned: cosigned) { missing.append(why) } else { met.append(m) }
        }
        guard met.count < g.threshold else { return nil }
        let have = met.isEmpty ? "none cosigned" : "only \(met.joined(separator: ", ")) cosigned"
        let nested = missing.filter { !$0.hasPrefix("no valid cosignature from ") }
        return "\(g.threshold) of \(g.members.count) needed in group \(g.name): \(have)" + (nested.isEmpty ? "" : " (\(nested.joined(separator: "; ")))")
    }

    public struct Verified: Sendable, Equatable {
        public var checkpoint: Checkpoint
        /// Each policy witness with a valid cosignature, and its cosignature's time.
        public var cosigners: [String: UInt64]
    }

    /// Verifies a checkpoint note: signed by a policy log (or one of `extraLogs`) whose key
    /// name is the origin, and cosigned to quorum. A bad signature by a known key fails.
    public func verify(note: String, extraLogs: [SignedNote.Verifier] = []) throws -> Verified {
        let parsed = try SignedNote.parse(note)
        let cp = try Checkpoint(text: parsed.text)
        let keys = (logs.map(\.key) + extraLogs).filter { $0.name == cp.origin }
        let signed = try SignedNote.verified(parsed, keys: keys, matches: { $0.matches($1) }, isValid: { $0.isValid($1, text: parsed.text) })
        guard !signed.isEmpty else { throw VaultError(.verificationFailed, "the checkpoint is not signed by a log the policy trusts for \(cp.origin)") }
        var cosigners: [String: UInt64] = [:]
        for w in witnesses {
            let times = try w.key.verify(parsed)
            if let t = times.max() { cosigners[w.name] = t }
        }
        if let why = check(quorum, cosigned: Set(cosigners.keys)) { throw VaultError(.verificationFailed, "quorum not met: \(why)") }
        return Verified(checkpoint: cp, cosigners: cosigners)
    }
}
