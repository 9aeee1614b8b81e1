import EdgeVaultCore
import EdgeVaultStore
/// Prometheus text exposition (format 0.0.4): `# HELP`, `# TYPE`, then one line per sample.
struct PrometheusText {
    private(set) var text = ""

    mutating func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        for (labels, value) in samples { text += "\(name)\(labels) \(value)\n" }
    }

    /// `{name="value"}` with the value escaped as the format requires (backslash, quote, newline).
    static func label(_ name: String, _ value: String) -> String {
        var out = ""
        for c in value {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(c)
            }
        }
        return "{\(name)=\"\(out)\"}"
    }
}
