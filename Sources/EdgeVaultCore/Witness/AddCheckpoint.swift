/// c2sp.org/tlog-witness `add-checkpoint`: the request body and the witness's whole decision
/// as pure functions (docs/PROTOCOL.md §"Witnesses"). A server and a store wrap
/// `WitnessCore.evaluate` — reading the stored state and writing `newState` in one
/// transaction — and must not re-check anything themselves.

/// `old <N>\n`, 0…63 base64 consistency-proof lines, `\n`, then the signed checkpoint note.
public struct AddCheckpointRequest: Sendable, Equatable {
    /// EdgeVault's limit on a request body (the spec sets none): room for 63 proof lines
    /// (≈ 2.8 KB), a checkpoint with extension lines and 16 ML-DSA-44 cosignature lines (≈ 53 KB).
    public static let maxBodyBytes = 128 * 1024
    /// The spec's limit: a client MUST NOT send more.
    public static let maxProofLines = 63

    public var oldSize: Int64
    public var proof: [Merkle.Hash]
    /// The signed checkpoint note, verbatim.
    public var note: String
    public var parsedNote: SignedNote.Parsed
    public var checkpoint: Checkpoint

    /// Checks everything that needs no key: shapes, limits and `old ≤ size`.
    public init(oldSize: Int64, proof: [Merkle.Hash], note: String) throws(AddCheckpointError) {
        guard oldSize >= 0 else { throw .malformed("the old size is negative") }
        guard proof.count <= Self.maxProofLines else { throw .malformed("more than \(Self.maxProofLines) consistency proof lines") }
        guard proof.allSatisfy({ $0.count == 32 }) else { throw .malformed("a consistency proof hash is not 32 bytes") }
        guard let parsed = try? SignedNote.parse(note) else { throw .malformed("the checkpoint is not a signed note") }
        guard let cp = try? Checkpoint(text: parsed.text) else { throw .malformed("the note is not a checkpoint") }
        guard oldSize <= cp.size else { throw .malformed("old size \(oldSize) is past the checkpoint's size \(cp.size)") }
        self.oldSize = oldSize
        self.proof = proof
        self.note = note
        self.parsedNote = parsed
        self.checkpoint = cp
    }

    /// Parses a request body.
    public init(body: [UInt8]) throws(AddCheckpointError) {
        guard body.count <= Self.maxBodyBytes else { throw .tooLarge(limit: Self.maxBodyBytes) }
        guard let text = String(validating: body, as: UTF8.self) else { throw .malformed("the body is not UTF-8") }
        var lines = text.split(separator: "\n", maxSplits: Self.maxProofLines + 2, omittingEmptySubsequences: false)[...]
        guard let first = lines.popFirst(), first.hasPrefix("old "), let old = Self.decimal(first.dropFirst(4)) else {
            throw .malformed("the first line is not `old <size>`")
        }
        var proof: [Merkle.Hash] = []
        while let line = lines.popFirst(), !line.isEmpty {
            guard proof.count < Self.maxProofLines else { throw .malformed("more than \(Self.maxProofLines) consistency proof lines") }
            guard let h = Encoding.fromBase64(line), h.count == 32 else { throw .malformed("a consistency proof line is not a base64 hash") }
            proof.append(h)
        }
        guard !lines.isEmpty else { throw .malformed("no checkpoint after the proof") }
        try self.init(oldSize: old, proof: proof, note: lines.joined(separator: "\n"))
    }

    /// The request body.
    public var body: String { "old \(oldSize)\n" + proof.map { Encoding.base64($0) + "\n" }.joined() + "\n" + note }

    /// An ASCII decimal without leading zeros (`0` alone is fine), within Int64.
    static func decimal(_ s: Substring) -> Int64? {
        guard let n = Int64(s), n >= 0, String(n) == s else { return nil }
        return n
    }
}

/// Why a body is refused before any key is looked at.
public enum AddCheckpointError: Error, Sendable, Equatable {
    /// 400 Bad Request.
    case malformed(String)
    /// 413 Content Too Large (the spec names no status; the body is refused unread).
    case tooLarge(limit: Int)
}

/// A witness's record for one log: the latest checkpoint it cosigned (size 0 and the empty
/// root when it never cosigned one).
public struct WitnessLogState: Sendable, Equatable, Codable {
    public var size: Int64
    public var root: Merkle.Hash

    public init(size: Int64, root: Merkle.Hash) {
        self.size = size
        self.root = root
    }

    public static let empty = WitnessLogState(size: 0, root: Merkle.emptyRoot)
}

/// A log a witness knows: its origin and the Ed25519 (0x01) keys it trusts for it. A key's
/// name need not be the origin (sum.golang.org signs `go.sum database tree`).
public struct WitnessLog: Sendable, Equatable {
    public var origin: String
    public var keys: [SignedNote.Verifier]

    public init(origin: String, keys: [SignedNote.Verifier]) {
        self.origin = origin
        self.keys = keys
    }
}

/// What the witness answers, with the spec's HTTP status for each case.
public enum WitnessOutcome: Sendable, Equatable {
    /// 200: the cosignature line(s); the caller stores `newState` before answering.
    case cosigned(lines: String, newState: WitnessLogState)
    /// 400: a malformed body, or old size past the checkpoint's size.
    case malformed(String)
    /// 413: the body is over `AddCheckpointRequest.maxBodyBytes`.
    case tooLarge(limit: Int)
    /// 404: no log with this origin.
    case unknownOrigin(String)
    /// 403: no valid signature by a trusted key, or a trusted key's signature fails.
    case badSignature(String)
    /// 409: the old size is not the size the witness last cosigned; body `<size>\n`.
    case conflict(size: Int64)
    /// 422: the consistency proof fails, a non-empty proof from 0, an equal size with another
    /// root, or a size-0 checkpoint whose root is not the empty tree's.
    case badProof(String)

    public var status: Int {
        switch self {
        case .cosigned: 200
        case .malformed: 400
        case .tooLarge: 413
        case .unknownOrigin: 404
        case .badSignature: 403
        case .conflict: 409
        case .badProof: 422
        }
    }

    /// `text/x.tlog.size` for a conflict (the spec's MUST); plain text otherwise.
    public var contentType: String {
        switch self {
        case .conflict: "text/x.tlog.size"
        default: "text/plain; charset=utf-8"
        }
    }

    /// The response body: the signature lines, the conflict's size line, or a one-line reason.
    public var body: String {
        switch self {
        case .cosigned(let lines, _): lines
        case .conflict(let size): "\(size)\n"
        case .malformed(let m), .unknownOrigin(let m), .badSignature(let m), .badProof(let m): m + "\n"
        case .tooLarge(let limit): "the body is over \(limit) bytes\n"
        }
    }
}

public enum WitnessCore {
    /// The whole add-checkpoint decision for a parsed request, in the spec's order: 404
    /// unknown origin, 403 signature, 409 old size ≠ stored size (so a rollback below the
    /// stored size is a 409), 422 size-0 root, proof from 0, equal-size root, consistency.
    /// `stored` is nil when the witness never cosigned this log.
    public static func evaluate(request: AddCheckpointRequest, log: WitnessLog?, stored: WitnessLogState?,
                                cosigner: Cosigner, now: UInt64) -> WitnessOutcome {
        let cp = request.checkpoint
        guard let log, log.origin == cp.origin else { return .unknownOrigin("unknown log origin \(cp.origin)") }
        do {
            let ok = try SignedNote.verified(request.parsedNote, keys: log.keys, matches: { $0.matches($1) },
                                             isValid: { $0.isValid($1, text: request.parsedNote.text) })
            guard !ok.isEmpty else { return .badSignature("no signature by a key trusted for \(cp.origin)") }
        } catch {
            return .badSignature("a signature by a key trusted for \(cp.origin) does not verify")
        }
        let state = stored ?? .empty
        guard request.oldSize == state.size else { return .conflict(size: state.size) }
        if cp.size == 0, cp.root != Merkle.emptyRoot { return .badProof("a checkpoint of size 0 must have the empty tree's root") }
        if request.oldSize == 0 {
            guard request.proof.isEmpty else { return .badProof("the consistency proof from size 0 must be empty") }
        } else if request.oldSize == cp.size {
            guard request.proof.isEmpty else { return .badProof("a proof from size \(cp.size) to the same size must be empty") }
            guard cp.root == state.root else { return .badProof("same size \(cp.size) with a different root hash") }
        } else {
            do {
                try Merkle.verifyConsistency(first: request.oldSize, second: cp.size, proof: request.proof,
                                             firstRoot: state.root, secondRoot: cp.root)
            } catch {
                return .badProof("the consistency proof from \(request.oldSize) to \(cp.size) does not verify")
            }
        }
        let line = cosigner.cosign(checkpointText: request.parsedNote.text, time: now)
        return .cosigned(lines: line, newState: WitnessLogState(size: cp.size, root: cp.root))
    }

    /// Parses `body`, looks its origin up with `lookup` (the log and its stored state, nil
    /// when unknown), and decides.
    public static func evaluate(body: [UInt8], lookup: (String) -> (log: WitnessLog, stored: WitnessLogState?)?,
                                cosigner: Cosigner, now: UInt64) -> WitnessOutcome {
        let request: AddCheckpointRequest
        do {
            request = try AddCheckpointRequest(body: body)
        } catch {
            return error.outcome
        }
        guard let found = lookup(request.checkpoint.origin) else { return .unknownOrigin("unknown log origin \(request.checkpoint.origin)") }
        return evaluate(request: request, log: found.log, stored: found.stored, cosigner: cosigner, now: now)
    }
}

extension AddCheckpointError {
    /// The answer to a body that does not parse (400, or 413 over the limit).
    public var outcome: WitnessOutcome {
        switch self {
        case .malformed(let m): .malformed(m)
        case .tooLarge(let limit): .tooLarge(limit: limit)
        }
    }
}
