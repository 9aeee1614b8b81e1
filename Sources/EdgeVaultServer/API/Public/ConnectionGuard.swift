import EdgeVaultCore
import EdgeVaultStore
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes
import Synchronization

/// Limits of the public listener against slow and greedy clients (slowloris): how long a
/// connection may take to send a complete request (head and body), and how many connections
/// one client network (an IPv4 /24, an IPv6 /64) may hold at once.
///
/// How they work with the global cap (`public.max_connections`, at which the listener stops
/// accepting): a connection beyond its network's share is closed as soon as it is accepted, so
/// one network never holds more than `maxPerAddress` of the global slots; a connection that
/// does not finish its request — head and body — within `headerTimeout` (counted from the
/// accept, and again from the end of each response on a kept-alive connection) is closed, so a
/// slot held by a stalled client, or one trickling its body a byte at a time, comes back within
/// that time. A genuine caller from another network finds a free slot.
public struct ConnectionLimits: Sendable, Equatable {
    public var headerTimeout: TimeAmount
    public var maxPerAddress: Int
    /// The longest share this vault takes (`fragments.max_share_bytes`): a longer declared
    /// upload gets no extra time (it would be refused anyway).
    public var maxUploadBytes: Int64 = 64 << 20
    /// A share upload (`PUT /v1/peer/shares/…`, docs/PROTOCOL.md §"Fragments") gets
    /// `headerTimeout` plus its declared length at this rate: a 21 MiB share over a slow home
    /// uplink arrives, and a trickled one still holds its slot for a bounded time.
    public static let uploadBytesPerSecond: Int64 = 64 * 1024
    /// The longest share upload whose deadline is extended (the share store's own limit is lower).
    public static let maxExtendedUpload: Int64 = 1 << 30

    public init(headerTimeout: TimeAmount, maxPerAddress: Int) {
        self.headerTimeout = headerTimeout
        self.maxPerAddress = maxPerAddress
    }
}

/// Open connections per client address, shared by every connection of one listener.
final class ConnectionCounter: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    /// Counts a new connection from `address`; false (not counted) when the address already
    /// holds `limit`.
    func admit(_ address: String, limit: Int) -> Bool {
        counts.withLock { c in
            let n = c[address, default: 0]
            guard n < limit else { return false }
            c[address] = n + 1
            return true
        }
    }

    func release(_ address: String) {
        counts.withLock { c in
            let n = c[address, default: 0] - 1
            c[address] = n > 0 ? n : nil
        }
    }

    func count(_ address: String) -> Int { counts.withLock { $0[address, default: 0] } }
}

/// One per connection, right after the HTTP decoder: enforces `ConnectionLimits`.
final class ConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let limits: ConnectionLimits
    let counter: ConnectionCounter
    let logger: Logger
    /// The client's address while this connection is counted against it.
    private var counted: String?
    private var refused = false
    private var deadline: Scheduled<Void>?
    /// Requests received in full (head and body) whose response has not ended.
    private var inFlight = 0

    init(limits: ConnectionLimits, counter: ConnectionCounter, logger: Logger) {
        self.limits = limits
        self.counter = counter
        self.logger = logger
    }

    /// The network a connection is counted under: the IPv4 /24 or IPv6 /64 of its address (one
    /// client rarely holds a single address of its network; a cap per address is one per host).
    static func key(_ address: SocketAddress?) -> String {
        guard let ip = address?.ipAddress else { return "unknown" }
        if ip.hasPrefix("::ffff:"), ip.contains(".") { return key(ipv4: String(ip.dropFirst("::ffff:".count))) }
        if ip.contains(".") { return key(ipv4: ip) }
        // IPv6: the first four groups, zero groups expanded enough to be unambiguous.
        var groups = ip.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        if let gap = groups.firstIndex(of: ""), groups.count < 8 {
            groups.remove(at: gap)
            groups.insert(contentsOf: Array(repeating: "0", count: 8 - groups.count), at: gap)
        }
        return groups.prefix(4).map { $0.isEmpty ? "0" : $0 }.joined(separator: ":") + "::/64"
    }

    static func key(ipv4: String) -> String {
        ipv4.split(separator: ".").prefix(3).joined(separator: ".") + ".0/24"
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let address = Self.key(context.channel.remoteAddress)
        if counter.admit(address, limit: limits.maxPerAddress) {
            counted = address
            startDeadline(context)
        } else {
            refused = true
            logger.debug("connection refused: too many from one address", metadata: ["address": "\(address)", "limit": "\(limits.maxPerAddress)"])
            if context.channel.isActive { context.close(promise: nil) }
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        if refused {
            context.close(promise: nil)
            return
        }
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        if let counted {
            counter.release(counted)
            self.counted = nil
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        if let counted {
            counter.release(counted)
            self.counted = nil
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // The deadline runs until the whole request is in: a body trickled a byte at a time
        // holds the slot no longer than a head does.
        switch unwrapInboundIn(data) {
        case .end:
            inFlight += 1
            deadline?.cancel()
            deadline = nil
        case .head(let head) where head.method == .put && head.path?.hasPrefix("/v1/peer/shares/") == true:
            if let text = head.headerFields[.contentLength], let length = Int64(text), length > 0,
               length <= min(Self.maxExtendedUpload, limits.maxUploadBytes) {
                startDeadline(context, extra: .seconds(length / ConnectionLimits.uploadBytesPerSecond))
            }
        default:
            break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            inFlight = max(0, inFlight - 1)
            // The next request's head is due within the same time, counted from now.
            if inFlight == 0 { startDeadline(context) }
        }
        context.write(data, promise: promise)
    }

    static let maxExtendedUpload = ConnectionLimits.maxExtendedUpload

    private func startDeadline(_ context: ChannelHandlerContext, extra: TimeAmount = .zero) {
        deadline?.cancel()
        let timeout = limits.headerTimeout + extra
        deadline = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: timeout) { [self] in
            deadline = nil
            guard inFlight == 0 else { return }
            logger.debug("connection closed: no complete request in time", metadata: ["seconds": "\(timeout.nanoseconds / 1_000_000_000)"])
            context.close(promise: nil)
        }
    }
}
