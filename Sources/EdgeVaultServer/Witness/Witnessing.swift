import EdgeVaultCore
import EdgeVaultStore
import Logging

/// The vault's parts of the chain kept by several stakeholders (docs/PROTOCOL.md §"Peers",
/// §"Witnesses"): its witness (cosigning its peers' logs) and its cosignature collector (its
/// own log's witnesses), built once and shared by both listeners.
public struct Witnessing: Sendable {
    public let witness: Witness
    public let collector: CosignatureCollector
    public let configuration: WitnessConfiguration

    /// Loads (or makes, on the first start) the vault's witness key, and the quorum rule.
    public static func make(store: VaultStore, ledger: LedgerService, dataDir: String, configuration: WitnessConfiguration,
                            logger: Logger) async throws -> Witnessing {
        let cosigner = try WitnessKeyFile.loadOrCreate(path: dataDir + "/" + WitnessKeyFile.name,
                                                       name: WitnessKeyFile.witnessName(origin: ledger.origin))
        let collector = try CosignatureCollector(store: store, ledger: ledger, configuration: configuration, logger: logger)
        if configuration.required {
            let timeout = Duration.seconds(configuration.timeoutSeconds)
            await ledger.requireQuorum { size in try await collector.waitForQuorum(size: size, timeout: timeout) }
        }
        return Witnessing(witness: Witness(state: store, cosigner: cosigner, logger: logger), collector: collector,
                          configuration: configuration)
    }
}
