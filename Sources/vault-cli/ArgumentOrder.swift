import ArgumentParser

/// What people type that swift-argument-parser would refuse outright: the global options
/// before the subcommand (`vault-cli --admin-socket S log verify`), and a mistyped subcommand.
enum ArgumentOrder {
    static let globalOptions: Set<String> = ["--config", "--data-dir", "--admin-socket", "--user-key"]

    /// `arguments` (without the program name) with global options that stand before the
    /// subcommand moved after it (before a `--`, after which everything is positional).
    static func globalsMovedBack(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            if globalOptions.contains(a), i + 1 < arguments.count {
                leading += [a, arguments[i + 1]]
                i += 2
            } else if let eq = a.firstIndex(of: "="), globalOptions.contains(String(a[..<eq])) {
                leading.append(a)
                i += 1
            } else {
                break
            }
        }
        guard !leading.isEmpty else { return arguments }
        var rest = Array(arguments[i...])
        guard !rest.isEmpty else { return arguments }  // nothing after them: let the parser say so
        if let dash = rest.firstIndex(of: "--") { rest.insert(contentsOf: leading, at: dash) } else { rest += leading }
        return rest
    }

    /// A suggestion when the first word is not a subcommand of `command`: the closest name
    /// within two edits, or nil.
    static func suggestion(for word: String, among names: [String]) -> String? {
        guard !word.hasPrefix("-"), !names.contains(word) else { return nil }
        let scored = names.map { ($0, distance(word, $0)) }.filter { $0.1 <= 2 }.sorted { $0.1 < $1.1 }
        return scored.first?.0
    }

    /// Levenshtein distance (small words only).
    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(1, a.count) where !a.isEmpty {
            var previous = row[0]
            row[0] = i
            for j in 1...max(1, b.count) where !b.isEmpty {
                let current = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                previous = current
            }
        }
        return a.isEmpty ? b.count : row[b.count]
    }
}
