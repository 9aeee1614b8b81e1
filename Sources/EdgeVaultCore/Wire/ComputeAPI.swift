/// Bodies of the compute endpoints (docs/PROTOCOL.md §"Compute jobs" and §"Compute results").
extension OrgAPI {
    /// `PUT /v1/modules/sha256:<hex>`: the module is held (201 new, 200 already known).
    public struct ModuleStored: Codable, Sendable, Equatable {
        public var module: String
        public var size: Int

        package init(module: String, size: Int) {
            self.module = module
            self.size = size
        }
    }

    /// One entry of `GET /v1/grants/{id}/results` (a MUST): the leaf's exact bytes (base64),
    /// the output sealed to the delivery key (released runs only) and the leaf's receipt.
    public struct ComputeResult: Codable, Sendable, Equatable {
        public var seq: Int64
        public var leaf: String
        public var sealedOutput: String?
        public var receipt: Receipt

        package init(seq: Int64, leaf: String, sealedOutput: String?, receipt: Receipt) {
            self.seq = seq
            self.leaf = leaf
            self.sealedOutput = sealedOutput
            self.receipt = receipt
        }
    }

    public struct ComputeResults: Codable, Sendable, Equatable {
        public var results: [ComputeResult]

        package init(results: [ComputeResult]) {
            self.results = results
        }
    }
}

extension AdminAPI {
    /// `GET /v1/modules` (admin): the modules organizations brought, and which requests name each.
    public struct Module: Codable, Sendable, Equatable {
        public var name: String
        public var size: Int
        /// The organization that first uploaded it.
        public var org: String
        public var firstSeen: String
        /// `org/id` of the requests (of any status) that name it, oldest first.
        public var requests: [String]
        /// `org/id` of the grants that use it.
        public var grants: [String]

        package init(name: String, size: Int, org: String, firstSeen: String, requests: [String], grants: [String]) {
            self.name = name
            self.size = size
            self.org = org
            self.firstSeen = firstSeen
            self.requests = requests
            self.grants = grants
        }
    }

    public struct Modules: Codable, Sendable, Equatable {
        public var modules: [Module]

        package init(modules: [Module]) {
            self.modules = modules
        }
    }

    /// `POST /v1/compute/decisions` (admin): the person's signed decision on one run, with the
    /// output sealed to the grant's delivery key when released.
    public struct ComputeDecisionInput: Codable, Sendable, Equatable {
        public var org: String
        public var grant: String
        public var jws: String
        public var sealedOutput: String?

        package init(org: String, grant: String, jws: String, sealedOutput: String?) {
            self.org = org
            self.grant = grant
            self.jws = jws
            self.sealedOutput = sealedOutput
        }
    }

    public struct ComputeDecisionResult: Codable, Sendable, Equatable {
        public var seq: Int64
        public var status: String
        public var leafIndex: Int64
        public var checkpointSize: Int64

        package init(seq: Int64, status: String, leafIndex: Int64, checkpointSize: Int64) {
            self.seq = seq
            self.status = status
            self.leafIndex = leafIndex
            self.checkpointSize = checkpointSize
        }
    }

    /// A `per-segment` run waiting for the person: what ran (`GET /v1/compute/pending` lists
    /// these), and with `GET /v1/compute/pending/{org}/{grant}/{seq}` the output and stderr
    /// sealed to the person's box key (the daemon keeps no plaintext).
    public struct PendingRun: Codable, Sendable, Equatable {
        public var org: String
        public var grant: String
        public var seq: Int64
        public var module: String
        public var input: String
        public var readings: Int64
        public var output: String
        public var fuel: UInt64
        public var exit: Int32?
        public var segment: String?
        public var sealedOutput: String?
        public var sealedStderr: String?
        /// Bytes of the sealed output.
        public var size: Int
        public var ran: String

        package init(org: String, grant: String, seq: Int64, module: String, input: String, readings: Int64, output: String, fuel: UInt64,
                     exit: Int32?, segment: String?, sealedOutput: String?, sealedStderr: String?, size: Int, ran: String) {
            self.org = org
            self.grant = grant
            self.seq = seq
            self.module = module
            self.input = input
            self.readings = readings
            self.output = output
            self.fuel = fuel
            self.exit = exit
            self.segment = segment
            self.sealedOutput = sealedOutput
            self.sealedStderr = sealedStderr
            self.size = size
            self.ran = ran
        }

        /// The run this entry describes.
        public var run: ComputeRun {
            ComputeRun(grant: grant, seq: seq, module: module, input: input, readings: readings, output: output, fuel: fuel,
                       exit: exit, reason: nil, segment: segment)
        }
    }

    public struct PendingRuns: Codable, Sendable, Equatable {
        public var runs: [PendingRun]

        package init(runs: [PendingRun]) {
            self.runs = runs
        }
    }
}
