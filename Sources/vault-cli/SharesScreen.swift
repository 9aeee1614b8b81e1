import EdgeVaultCore
import EdgeVaultRecovery
#if canImport(Glibc)
import Glibc
#endif

/// Clears the terminal's screen and its scrollback (words shown or typed do not stay there).
func clearScreen() {
    if isatty(1) != 0 { writeRaw("\u{1B}[2J\u{1B}[3J\u{1B}[H") }
}

/// `recovery split` without --out: the shares on the person's terminal, one group per screen,
/// with who should hold them and what a share is worth; the screen is cleared after each group.
struct SharesScreen {
    let groupThreshold: Int
    let shares: [[String]]
    let passphrase: Bool
    /// The group sealed to peers (0-based) and their names: not shown.
    var sealed: (group: Int, peers: [String])? = nil

    /// Suggested holders for the default policy (1of1, 2of3, 2of3).
    var holders: [String] {
        shares.map(\.count) == [1, 3, 3]
            ? ["you (keep it apart from the gateway: a safe, a sealed envelope)", "family members, one share each",
               "friends or the households of your peers, one share each"]
            : shares.indices.map { _ in "people you trust, one share each (not two of the same group to one person)" }
    }

    func show() throws {
        let (bold, warn) = emphasis()
        clearScreen()
        writeRaw(bold("Your recovery shares") + "\n\n")
        writeRaw("""
            Your key is split into \(count(shares.count, "group")); any \(groupThreshold) of them recover it. Each group has its \
            own threshold, shown with it. A group is any of its shares up to that number.
            \(warn("Whoever gathers enough shares can open everything in your vault and sign in your name."))
            Write each share on paper, with its number and group; give it to its holder. Do not photograph it, \
            type it into another device, or keep two groups in one place.\(passphrase ? " Recovery also needs your SLIP-0039 passphrase." : "")
            Make sure nobody can see this screen.
            """ + "\n\n")
        let shown = shares.indices.filter { $0 != sealed?.group }
        if let sealed {
            writeRaw("Group \(sealed.group + 1) is sealed to your peers \(sealed.peers.joined(separator: ", ")) and kept on their gateways: nothing to write down for it.\n\n")
        }
        try waitForEnter("Press Enter to show group \(shown[0] + 1) › ")
        for (position, g) in shown.enumerated() {
            let members = shares[g]
            clearScreen()
            let need = (try? Slip39.check(mnemonic: members[0]).memberThreshold) ?? members.count
            writeRaw(bold("Group \(g + 1) of \(shares.count)") + (members.count == 1 ? ": this share alone stands for the group\n"
                                                                             : ": any \(need) of these \(members.count) shares stand for the group\n"))
            print("held by: \(holders[g])\n")
            for (m, mnemonic) in members.enumerated() {
                print("Share \(m + 1) of \(members.count), group \(g + 1):")
                print(Self.numbered(mnemonic) + "\n")
            }
            try waitForEnter(position + 1 < shown.count ? "Written down? Press Enter to clear the screen and show group \(shown[position + 1] + 1) › "
                                                        : "Written down? Press Enter to clear the screen › ")
        }
        clearScreen()
        print("All \(count(shown.count, "group")) shown; check them with `vault-cli recovery verify` (type the words).")
    }

    func waitForEnter(_ prompt: String) throws {
        writeRaw(prompt)
        guard readLine() != nil else {
            clearScreen()
            throw VaultError(.badRequest, "input ended before every group was shown; no share should be used: run `recovery split` again")
        }
    }

    /// The words in rows of six, numbered from 1 (as the recovery prompt names positions), 78 columns.
    static func numbered(_ mnemonic: String) -> String {
        let words = mnemonic.split(separator: " ")
        return stride(from: 0, to: words.count, by: 6).map { start in
            var row = words[start..<min(start + 6, words.count)].enumerated().map { i, w in
                let n = String(start + i + 1)
                // Padded, never cut: a word longer than the column pushes the row rather than hide its end.
                let lead = String(repeating: " ", count: 3 - n.count), pad = String(repeating: " ", count: max(1, 9 - w.count))
                return lead + n + " " + String(w) + pad
            }.joined()
            while row.last == " " { row.removeLast() }
            return row
        }.joined(separator: "\n")
    }
}

/// Where `recovery verify` and `recovery recover` get shares: a file (one mnemonic a line;
/// empty lines and `#` comments skipped) or words typed at the terminal, each share checked as
/// it is typed and asked again when wrong.
enum ShareInput {
    static let maxFileBytes = 256 * 1024

    static func collect(file: String?) throws -> ShareCollector {
        if let file { return try read(file) }
        guard isatty(0) != 0 else {
            throw VaultError(.badRequest, "no terminal to type the shares at: pass --shares FILE")
        }
        return try typed()
    }

    static func read(_ path: String) throws -> ShareCollector {
        let text = String(decoding: try FileIO.read(path, limit: maxFileBytes), as: UTF8.self)
        var collector = ShareCollector()
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            try collector.add(trimmed, label: "\(path) line \(n + 1)")
        }
        return collector
    }

    static func typed() throws -> ShareCollector {
        print("""
            Type one share per line (its words separated by spaces), in any order; each is checked as you type it. \
            Make sure nobody can see this screen; it is cleared at the end.
            """)
        var collector = ShareCollector()
        while !collector.isComplete {
            writeRaw("share \(collector.count + 1) › ")
            guard let line = readLine() else { throw VaultError(.recoveryInvalid, "input ended: \(collector.missing)") }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty {
                print("still needed: \(collector.missing)")
                continue
            }
            do {
                let info = try collector.add(trimmed, label: "that share")
                let group = collector.progress.first { $0.groupIndex == info.groupIndex }!
                print("  accepted: group \(info.groupIndex + 1): \(group.have) of \(group.need) shares"
                      + (collector.isComplete ? "; enough shares" : " (\(collector.missing))"))
            } catch let e as VaultError {
                print("  \(e.message); type that share again")
            }
        }
        clearScreen()
        return collector
    }
}
