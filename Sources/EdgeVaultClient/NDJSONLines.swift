import EdgeVaultCore
import Synchronization
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Decodes an NDJSON answer as its pieces arrive: whole lines as values, keeping the last.
final class NDJSONLines<T: Decodable & Sendable>: Sendable {
    private let state = Mutex<(pending: [UInt8], last: T?)>(([], nil))

    /// The values of the lines completed by `bytes`.
    func feed(_ bytes: [UInt8]) throws -> [T] {
        try state.withLock { s in
            s.pending += bytes
            var out: [T] = []
            while let newline = s.pending.firstIndex(of: 0x0A) {
                let line = Array(s.pending[..<newline])
                s.pending.removeFirst(newline + 1)
                guard !line.isEmpty else { continue }
                do {
                    out.append(try JSONDecoder().decode(T.self, from: Data(line)))
                } catch {
                    throw VaultError(.protocolError, "vaultd sent a line that is not the expected JSON")
                }
            }
            if let l = out.last { s.last = l }
            return out
        }
    }

    var last: T? { state.withLock { $0.last } }
}
