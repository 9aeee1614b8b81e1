import EdgeVaultCore
import EdgeVaultStore
import ServiceLifecycle

/// Waits `interval`, runs `body`, and again, until graceful shutdown (or cancellation), then
/// returns. The wait starts when `body` ends, so passes never overlap.
func repeatUntilGracefulShutdown(every interval: Duration, _ body: @escaping @Sendable () async -> Void) async {
    do {
        try await cancelWhenGracefulShutdown {
            while true {
                try await Task.sleep(for: interval)
                await body()
            }
        }
    } catch {
        // CancellationError: graceful shutdown
    }
}
