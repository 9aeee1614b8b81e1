import CSodium
@_spi(WASIPlatform) import WASI

/// docs/SECURITY.md §"The compute sandbox", determinism: a job's clocks and random bytes
/// depend only on its request, so any implementation given the same module, stdin and clock
/// produces the same stdout.

/// The wall clock reads `clockNanos`, the time the person's side fixed for the run.
struct FixedWallClock: WallClock {
    let nanos: UInt64
    func now() throws -> WallClock.Duration { (nanos / 1_000_000_000, UInt32(nanos % 1_000_000_000)) }
    func resolution() throws -> WallClock.Duration { (0, 1) }
}

/// The monotonic clock reads the same instant; it does not advance during the run.
struct FixedMonotonicClock: MonotonicClock {
    let nanos: UInt64
    func now() throws -> UInt64 { nanos }
    func resolution() throws -> UInt64 { 1 }
}

/// `random_get`: the XChaCha20 keystream (`crypto_stream_xchacha20`, all-zero 24-byte
/// nonce) under key SHA-256("edgevault/job-random/v1" ‖ the job's stdin bytes); successive
/// calls continue the one stream.
struct JobRandom: RandomBufferGenerator {
    static let label = Array("edgevault/job-random/v1".utf8)

    private let key: [UInt8]
    /// Bytes of the stream handed out so far.
    private(set) var position: UInt64 = 0

    init(stdin: [UInt8]) {
        var state = crypto_hash_sha256_state()
        crypto_hash_sha256_init(&state)
        crypto_hash_sha256_update(&state, Self.label, UInt64(Self.label.count))
        stdin.withUnsafeBufferPointer { _ = crypto_hash_sha256_update(&state, $0.baseAddress, UInt64($0.count)) }
        var key = [UInt8](repeating: 0, count: 32)
        crypto_hash_sha256_final(&state, &key)
        self.key = key
    }

    mutating func fill(buffer: UnsafeMutableBufferPointer<UInt8>) {
        guard let base = buffer.baseAddress else { return }
        let nonce = [UInt8](repeating: 0, count: Int(crypto_stream_xchacha20_noncebytes()))
        var done = 0
        // In pieces of at most 64 KiB, each starting at the 64-byte block that holds
        // `position`: the block counter is where the stream resumes, the offset inside the
        // block is skipped.
        while done < buffer.count {
            let skip = Int(position % 64)
            let take = min(buffer.count - done, 65536)
            var scratch = [UInt8](repeating: 0, count: skip + take)
            scratch.withUnsafeMutableBufferPointer { s in
                _ = crypto_stream_xchacha20_xor_ic(s.baseAddress!, s.baseAddress!, UInt64(skip + take), nonce, position / 64, key)
                (base + done).update(from: s.baseAddress! + skip, count: take)
            }
            done += take
            position += UInt64(take)
        }
    }
}
