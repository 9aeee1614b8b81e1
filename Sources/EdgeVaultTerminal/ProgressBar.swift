import EdgeVaultCore
import EdgeVaultClient
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A progress bar on stderr for long operations; silent when stderr is not a terminal.
/// Safe to advance from several tasks at once.
public final class ProgressBar: WorkProgress {
    struct State {
        var total: Int64
        var done: Int64 = 0
        var lastDraw: Int64 = 0
    }

    let label: String
    let unit: String
    let enabled: Bool
    let started = Timestamp.now()
    private let state: Mutex<State>

    public static var stderrIsTerminal: Bool { isatty(2) != 0 }
    public static var stdoutIsTerminal: Bool { isatty(1) != 0 }

    public init(label: String, total: Int64, unit: String, enabled: Bool = isatty(2) != 0) {
        self.label = label
        self.unit = unit
        self.enabled = enabled
        self.state = Mutex(State(total: max(total, 0)))
    }

    public var total: Int64 {
        get { state.withLock { $0.total } }
        set { state.withLock { $0.total = max(newValue, 0) } }
    }

    public var done: Int64 { state.withLock { $0.done } }

    public func advance(by n: Int64) {
        let now = Timestamp.now()
        let line: String? = state.withLock { s in
            s.done += n
            guard enabled, now - s.lastDraw >= 100 || s.done >= s.total else { return nil }
            s.lastDraw = now
            return render(s)
        }
        if let line { FileIO.writeStderr(line) }
    }

    public func finish() {
        guard enabled else { return }
        FileIO.writeStderr(state.withLock { render($0) } + "\n")
    }

    func render(_ s: State) -> String {
        let width = 30
        let fraction = s.total > 0 ? min(1, Double(s.done) / Double(s.total)) : 1
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let seconds = max(0.001, Double(Timestamp.now() - started) / 1000)
        let rate = Int(Double(s.done) / seconds)
        return "\r\(label) \(bar) \(Int(fraction * 100))% \(s.done)/\(s.total) \(unit) (\(rate)/s)"
    }
}
