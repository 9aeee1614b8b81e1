import Hummingbird
import Synchronization

/// The routes a router serves, read from the router itself (`Router.routes`) once its last
/// route is added: ProblemMiddleware answers a path that is served, but not with the request's
/// method, 405 with `Allow` listing the methods that are, rather than 404. Nothing is kept by
/// hand, so the list cannot drift from what is routed.
public final class RouteTable: Sendable {
    private let routes = Mutex<[(path: RouterPath, method: String)]>([])

    public init() {}

    /// Takes every route `router` has now: call it after the last one is added.
    public func load<Context>(from router: Router<Context>) {
        let list = router.routes.map { (path: $0.path, method: $0.method.rawValue) }
        routes.withLock { $0 = list }
    }

    /// The methods `path` is served with (sorted; empty when no route matches it). When several
    /// route templates match, the router picks the most literal one (a fixed component before a
    /// `{parameter}`), so the answer is that template's methods.
    public func methods(of path: String) -> [String] {
        let segments = path.split(separator: "/")
        let matching = routes.withLock { $0 }.filter { Self.matches($0.path, segments) }
        guard let best = matching.map(\.path).max(by: { Self.specificity($0).lexicographicallyPrecedes(Self.specificity($1)) })
        else { return [] }
        return matching.filter { $0.path.description == best.description }.map(\.method).sorted()
    }

    static func matches(_ template: RouterPath, _ segments: [Substring]) -> Bool {
        var i = 0
        for element in template {
            if element.description == "**" { return true }
            guard i < segments.count, element ~= segments[i] else { return false }
            i += 1
        }
        return i == segments.count
    }

    /// Fixed components weigh more than captures and wildcards, earlier ones first.
    static func specificity(_ template: RouterPath) -> [Int] {
        template.map { element in
            let text = element.description
            return text.contains("{") || text.contains("*") ? 0 : 1
        }
    }
}
