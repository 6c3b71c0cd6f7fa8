//! Scenario: chaos scenario files (Chaos/*.yaml) — what to run, what to break and when, and what
//! must stay true — decoded, validated against a topology, expanded into concrete fault actions
//! (NemesisPlanner), and the pure checks a run's observations are judged by (Checks). No I/O:
//! the runner reads the files, drives the cluster and hands its observations back.
//!
//! Loading takes two steps because the scenario names its topology: `ScenarioFile.parse` reads
//! the scenario, the caller loads `topologyPath` (or its own --topology), then `resolve(with:)`
//! validates the scenario against it. The format is documented in docs/scenarios.md.

import Base
import Topology

/// A parsed scenario file whose topology is not loaded yet.
public struct ScenarioFile: Sendable {
    public let file: String
    public let spec: ScenarioSpec
    let root: DocumentNode

    /// Parses and decodes `text`; `file` names it in errors and chooses the format (`.json` or YAML).
    public static func parse(_ text: String, file: String) throws(DocumentError) -> ScenarioFile {
        let root = try Document.parse(text, file: file)
        let spec = try DocumentDecoder.decode(ScenarioSpec.self, from: root, file: file)
        return ScenarioFile(file: file, spec: spec, root: root)
    }

    /// The topology file the scenario names, relative to the repository root.
    public var topologyPath: String { spec.topology.value }

    /// An error at the scenario's `topology:` line, for when its file cannot be read or loaded.
    public func topologyError(_ message: String) -> DocumentError {
        DocumentError(file: file, position: spec.topology.position ?? root.position, message: message)
    }

    /// Validates the scenario against `topology` and resolves its defaults.
    public func resolve(with topology: Topology) throws(DocumentError) -> Scenario {
        let resolver = ScenarioResolver(file: file, root: root, topology: topology)
        return try resolver.resolve(spec, defaultName: Topology.baseName(of: file))
    }
}

/// A validated scenario.
public struct Scenario: Sendable, Equatable {
    public var name: String
    public var description: String?
    public var topologyPath: String
    public var topology: Topology
    /// The timing profile every host runs with, when the scenario overrides the topology's.
    public var timingName: String?
    public var seed: UInt64?
    /// The key-value workload; nil in a Kubernetes scenario.
    public var workload: Workload?
    /// The Kubernetes workload; nil in a key-value scenario.
    public var kubernetes: KubeWorkload?
    public var steadyState: [Probe]
    public var nemesis: [Fault]
    public var checks: [Check]
    public var rollbacks: [RollbackKind]

    /// Parses, decodes and validates in one step, for callers that already hold the topology.
    public static func load(_ text: String, file: String, topology: Topology) throws(DocumentError) -> Scenario {
        try ScenarioFile.parse(text, file: file).resolve(with: topology)
    }

    /// How long the nemesis clock runs: the workload's duration.
    public var duration: Nanoseconds {
        guard let duration = workload?.duration ?? kubernetes?.duration else {
            preconditionFailure("scenario \(name) has neither a key-value nor a Kubernetes workload; the resolver requires one")
        }
        return duration
    }

    /// The etcd members, in topology order: the hosts selectors choose among.
    public var members: [String] { topology.etcdHosts.map(\.name) }

    /// When the last scheduled fault is healed (nil with no lasting fault). Faults that wait for
    /// a leader may be healed later; the runner's timeline has the real times.
    public var lastScheduledHeal: Nanoseconds? {
        nemesis.flatMap(\.occurrences).compactMap(\.end).max()
    }

    /// When the first fault is scheduled (nil with an empty nemesis).
    public var firstScheduledFault: Nanoseconds? { nemesis.flatMap(\.occurrences).map(\.start).min() }
}

/// What the clients do.
public struct Workload: Sendable, Equatable {
    public var clients: Int
    /// Operations per second over all clients; 0: as fast as they can.
    public var rate: Int
    /// Register keys for reads, writes and compare-and-sets.
    public var keys: Int
    public var mix: OperationMix
    public var duration: Nanoseconds
    /// How long a client waits for an answer before recording the operation as `info`.
    public var timeout: Nanoseconds
    /// Operations per second that must be reached before the first fault, or the run is invalid.
    public var minimumRate: Double?

    public static let defaultTimeout = Time.second
    public static let clientsMax = 1_000
    public static let keysMax = 100_000
}

/// Weights of the operations a client picks from. Invariant: all >= 0, sum > 0.
public struct OperationMix: Sendable, Equatable {
    public var read: Int
    public var write: Int
    public var cas: Int
    /// A put of a fresh, never-used key: what the no-lost-writes check follows.
    public var insert: Int
    public var delete: Int

    public init(read: Int = 0, write: Int = 0, cas: Int = 0, insert: Int = 0, delete: Int = 0) {
        self.read = read
        self.write = write
        self.cas = cas
        self.insert = insert
        self.delete = delete
    }

    /// Used when a workload names no mix.
    public static let `default` = OperationMix(read: 60, write: 30, cas: 10)

    public var total: Int { read + write + cas + insert + delete }

    /// One operation drawn by weight, so a seeded workload issues the same sequence every run.
    public func choose(using random: inout SeededRandom) -> WorkloadOperation {
        precondition(total > 0, "an operation mix with no weight: \(self)")
        var roll = random.int(in: 0...(total - 1))
        let weighted: [(WorkloadOperation, Int)] = [(.read, read), (.write, write), (.cas, cas), (.insert, insert), (.delete, delete)]
        for (operation, weight) in weighted {
            if roll < weight { return operation }
            roll -= weight
        }
        fatalError("unreachable: roll \(roll) beyond the total \(total)")
    }
}

public enum WorkloadOperation: String, Sendable, CaseIterable {
    case read, write, cas, insert, delete
}

/// A steady-state probe: checked before the nemesis starts, during it when `during`, and after.
public struct Probe: Sendable, Equatable {
    public var kind: ProbeKind
    /// The tolerance: how long the probe may take to succeed.
    public var within: Nanoseconds
    public var during: Bool

    public init(kind: ProbeKind, within: Nanoseconds = Probe.defaultWithin, during: Bool = false) {
        self.kind = kind
        self.within = within
        self.during = during
    }

    public static let defaultWithin = 2 * Time.second
}

/// A check the run is judged by, with its parameters.
public enum Check: Sendable, Equatable, CustomStringConvertible {
    case linearizable
    case noLostWrites
    case electionSafety
    /// Every member converges on the same revision and hash within `within` after the last heal.
    case recovery(within: Nanoseconds)
    case watch
    /// A write succeeds within `afterHeal` of the last heal.
    case availability(afterHeal: Nanoseconds)
    /// No write invoked inside a window without a connected quorum (past `grace`) succeeds.
    case noMinorityWrites(grace: Nanoseconds)
    /// A silenced node turns Ready=Unknown within the grace period's bounds (give or take
    /// `tolerance`) and Ready again after the heal.
    case nodeConditionTiming(tolerance: Nanoseconds)
    /// Pods on an unreachable node are evicted when their toleration runs out (± `tolerance`).
    case evictionTiming(tolerance: Nanoseconds)
    /// The Deployment is fully available again within `within` of each fault.
    case replicasRestored(within: Nanoseconds)
    /// Never more pods or ReplicaSet replicas than desired + maxSurge.
    case surgeBound
    /// Every pod lost while short of the desired count is replaced within `within`.
    case noPodLost(within: Nanoseconds)
    /// No pod stops (full disruption: Kubernetes stops evicting).
    case noEviction
    /// Never two holders of one component lease acting at once; with `takeoverWithin`, a
    /// standby leads within that time of the leader's loss.
    case singleLeader(takeoverWithin: Nanoseconds?)

    public static let recoveryWithinDefault = 10 * Time.second
    public static let afterHealDefault = 10 * Time.second
    public static let graceDefault = 200 * Time.millisecond
    public static let toleranceDefault = 2 * Time.second
    public static let replicasRestoredWithinDefault = 60 * Time.second
    public static let noPodLostWithinDefault = 10 * Time.second

    public var name: CheckName {
        switch self {
        case .linearizable: return .linearizable
        case .noLostWrites: return .noLostWrites
        case .electionSafety: return .electionSafety
        case .recovery: return .recovery
        case .watch: return .watch
        case .availability: return .availability
        case .noMinorityWrites: return .noMinorityWrites
        case .nodeConditionTiming: return .nodeConditionTiming
        case .evictionTiming: return .evictionTiming
        case .replicasRestored: return .replicasRestored
        case .surgeBound: return .surgeBound
        case .noPodLost: return .noPodLost
        case .noEviction: return .noEviction
        case .singleLeader: return .singleLeader
        }
    }

    public var description: String {
        switch self {
        case .recovery(let within): return "recovery (within \(Time.describe(within)))"
        case .availability(let afterHeal): return "availability (after-heal \(Time.describe(afterHeal)))"
        case .noMinorityWrites(let grace): return "no-minority-writes (grace \(Time.describe(grace)))"
        case .nodeConditionTiming(let tolerance), .evictionTiming(let tolerance):
            return "\(name) (tolerance \(Time.describe(tolerance)))"
        case .replicasRestored(let within), .noPodLost(let within): return "\(name) (within \(Time.describe(within)))"
        case .singleLeader(let takeover?): return "single-leader (takeover-within \(Time.describe(takeover)))"
        case .linearizable, .noLostWrites, .electionSafety, .watch, .surgeBound, .noEviction, .singleLeader: return name.rawValue
        }
    }
}
