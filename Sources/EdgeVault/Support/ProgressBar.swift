#if canImport(Glibc)
import Glibc
#endif

/// A progress bar on stderr for long operations; silent when stderr is not a terminal.
public final class ProgressBar: @unchecked Sendable {
    // @unchecked: used from one task at a time by the command that owns it.
    let label: String
    let unit: String
    public var total: Int64
    var done: Int64 = 0
    let enabled: Bool
    var lastDraw: Int64 = 0
    let started = Timestamp.now()

    public static var stderrIsTerminal: Bool { isatty(2) != 0 }
    public static var stdoutIsTerminal: Bool { isatty(1) != 0 }

    public init(label: String, total: Int64, unit: String, enabled: Bool = isatty(2) != 0) {
        self.label = label
        self.total = max(total, 0)
        self.unit = unit
        self.enabled = enabled
    }

    public func advance(by n: Int64) {
        done += n
        let now = Timestamp.now()
        if enabled, now - lastDraw >= 100 || done >= total {
            lastDraw = now
            draw()
        }
    }

    public func finish() {
        guard enabled else { return }
        draw()
        FileIO.writeStderr("\n")
    }

    func draw() {
        let width = 30
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let seconds = max(0.001, Double(Timestamp.now() - started) / 1000)
        let rate = Int(Double(done) / seconds)
        let line = "\r\(label) \(bar) \(Int(fraction * 100))% \(done)/\(total) \(unit) (\(rate)/s)"
        FileIO.writeStderr(line)
    }
}
