/// Key recovery on the admin socket (docs/PROTOCOL.md §"Key recovery").
extension AdminAPI {
    /// `POST /v1/recovery/policy`: the person's signed `edgevault.recovery-policy/v1`.
    public struct RecoveryPolicyInput: Codable, Sendable {
        public var policy: String
        public init(policy: String) { self.policy = policy }
    }

    public struct RecoveryPolicyResult: Codable, Sendable, Equatable {
        public var leafIndex: Int64
        public var checkpointSize: Int64
        public init(leafIndex: Int64, checkpointSize: Int64) {
            self.leafIndex = leafIndex
            self.checkpointSize = checkpointSize
        }
    }
}
