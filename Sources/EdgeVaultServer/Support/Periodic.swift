import EdgeVaultCore
import EdgeVaultStore
import ServiceLifecycle

/// Runs `body` every `interval` until graceful shutdown (or cancellation), then returns.
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
