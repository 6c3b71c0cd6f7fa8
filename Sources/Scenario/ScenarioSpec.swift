//! ScenarioSpec: a scenario file as written, decoded field by field with the position of every
//! value, before any cross-checks. ScenarioResolver turns it into a validated `Scenario`.
//! The format is documented in docs/scenarios.md.

import Topology

/// The whole file.
public struct ScenarioSpec: Decodable, Sendable {
    /// Defaults to the file's base name (`etcd-leader-isolation` for `Chaos/etcd-leader-isolation.yaml`).
    public var name: Located<String>?
    public var description: String?
    /// The topology file, relative to the repository root (the runner's --topology overrides it).
    public var topology: Located<String>
    /// A timing profile of the topology that every host runs with instead of its own.
    public var timing: Located<String>?
    public var seed: Located<UInt64>?
    /// The key-value workload against the store; a scenario has this or `kubernetes`.
    public var workload: Located<WorkloadSpec>?
    /// The Kubernetes workload (a Deployment, maybe a rollout); a scenario has this or `workload`.
    public var kubernetes: Located<KubeWorkloadSpec>?
    public var steadyState: [Located<ProbeSpec>]?
    public var nemesis: [Located<FaultSpec>]?
    public var checks: [Located<CheckSpec>]?
    public var rollbacks: [Located<RollbackKind>]?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, description, topology, timing, seed, workload, kubernetes
        case steadyState = "steady-state"
        case nemesis, checks, rollbacks
    }
}

public struct WorkloadSpec: Decodable, Sendable {
    public var clients: Located<Int>
    /// Operations per second over all clients; 0 or absent: as fast as the clients can go.
    public var rate: Located<Int>?
    public var keys: Located<Int>
    public var mix: Located<MixSpec>?
    public var duration: Located<GoDuration>
    public var timeout: Located<GoDuration>?
    public var minimumRate: Located<Double>?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case clients, rate, keys, mix, duration, timeout
        case minimumRate = "min-rate"
    }
}

/// Operation weights; an absent weight is 0.
public struct MixSpec: Decodable, Sendable {
    public var read: Located<Int>?
    public var write: Located<Int>?
    public var cas: Located<Int>?
    public var insert: Located<Int>?
    public var delete: Located<Int>?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case read, write, cas, insert, delete
    }
}

public struct ProbeSpec: Decodable, Sendable {
    public var probe: Located<ProbeKind>
    public var within: Located<GoDuration>?
    public var during: Located<Bool>?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case probe, within, during
    }
}

/// One nemesis entry. Which fields apply depends on `fault`; the resolver refuses the others.
public struct FaultSpec: Decodable, Sendable {
    public var fault: Located<FaultKind>
    public var at: Located<GoDuration>?
    public var every: Located<GoDuration>?
    public var until: Located<GoDuration>?
    public var duration: Located<GoDuration>?
    public var overlap: Located<Bool>?
    public var target: Located<SelectorSpec>?
    public var groups: Located<[Located<SelectorSpec>]>?
    public var from: Located<SelectorSpec>?
    public var to: Located<SelectorSpec>?
    public var mode: Located<LinkMode>?
    public var includeClient: Located<Bool>?
    public var delay: Located<GoDuration>?
    public var jitter: Located<GoDuration>?
    /// Bandwidth (`1MB/s`) or clock rate (`1.5`), by fault kind; any scalar reads as text.
    public var rate: Located<String>?
    public var offset: Located<String>?
    public var wipe: Located<Bool>?
    public var faults: Located<[Located<FaultKind>]>?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case fault, at, every, until
        case duration = "for"
        case overlap, target, groups, from, to, mode
        case includeClient = "include-client"
        case delay, jitter, rate, offset, wipe, faults
    }

    /// The fields written in this entry, with their positions, in declaration order.
    var presentFields: [(field: CodingKeys, position: SourcePosition?)] {
        let all: [(CodingKeys, SourcePosition??)] = [
            (.at, at.map(\.position)), (.every, every.map(\.position)), (.until, until.map(\.position)),
            (.duration, duration.map(\.position)), (.overlap, overlap.map(\.position)),
            (.target, target.map(\.position)), (.groups, groups.map(\.position)), (.from, from.map(\.position)),
            (.to, to.map(\.position)), (.mode, mode.map(\.position)), (.includeClient, includeClient.map(\.position)),
            (.delay, delay.map(\.position)), (.jitter, jitter.map(\.position)), (.rate, rate.map(\.position)),
            (.offset, offset.map(\.position)), (.wipe, wipe.map(\.position)), (.faults, faults.map(\.position)),
        ]
        return all.compactMap { field, position in position.map { (field, $0) } }
    }
}

/// A selector as written: one word (`leader`, `random(2)`, a host name) or a list of host names.
public enum SelectorSpec: Decodable, Sendable, Equatable {
    case word(String)
    case names([Located<String>])

    public init(from decoder: any Decoder) throws {
        // A sequence is a list of names; anything else must be one word.
        if var list = try? decoder.unkeyedContainer() {
            var names: [Located<String>] = []
            while !list.isAtEnd { names.append(try list.decode(Located<String>.self)) }
            self = .names(names)
            return
        }
        self = .word(try decoder.singleValueContainer().decode(String.self))
    }
}

/// A check as written: its name (`linearizable`), or a one-entry mapping of its name to its
/// parameters (`availability: {after-heal: 10s}`).
public struct CheckSpec: Decodable, Sendable {
    public var name: CheckName
    public var parameters: Located<CheckParametersSpec>?

    struct NameKey: CodingKey, CaseIterable {
        let stringValue: String
        var intValue: Int? { nil }
        init?(stringValue: String) {
            guard CheckName(rawValue: stringValue) != nil else { return nil }
            self.stringValue = stringValue
        }
        init?(intValue: Int) { return nil }
        static var allCases: [NameKey] { CheckName.allCases.compactMap { NameKey(stringValue: $0.rawValue) } }
    }

    public init(from decoder: any Decoder) throws {
        if (try? decoder.singleValueContainer().decode(String.self)) != nil {
            name = try CheckName(from: decoder)
            parameters = nil
            return
        }
        let container = try decoder.container(keyedBy: NameKey.self)
        guard container.allKeys.count == 1, let key = container.allKeys.first else {
            throw DecodingError.dataCorrupted(DecodingError.Context(codingPath: decoder.codingPath,
                debugDescription: "a check with parameters is a mapping of one check name to its parameters, e.g. 'availability: {after-heal: 10s}'; write one check per item"))
        }
        guard let checkName = CheckName(rawValue: key.stringValue) else {
            preconditionFailure("NameKey admitted '\(key.stringValue)', which is no check name")
        }
        name = checkName
        parameters = try container.decodeIfPresent(Located<CheckParametersSpec>.self, forKey: key)
    }
}

public struct CheckParametersSpec: Decodable, Sendable {
    public var afterHeal: Located<GoDuration>?
    public var grace: Located<GoDuration>?
    public var within: Located<GoDuration>?
    public var tolerance: Located<GoDuration>?
    public var takeoverWithin: Located<GoDuration>?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case afterHeal = "after-heal"
        case grace, within, tolerance
        case takeoverWithin = "takeover-within"
    }
}

// MARK: - Spelled enumerations

/// An enumeration written as one word in a file. Decoding an unknown word names the known ones.
protocol SpelledEnumeration: RawRepresentable<String>, CaseIterable, Decodable {
    /// What the value is, for errors: "fault kind".
    static var noun: String { get }
}

extension SpelledEnumeration {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Self(rawValue: text) else {
            let known = Self.allCases.map(\.rawValue).joined(separator: ", ")
            throw DecodingError.dataCorrupted(DecodingError.Context(codingPath: decoder.codingPath,
                debugDescription: "unknown \(Self.noun) '\(text)' (known: \(known))"))
        }
        self = value
    }
}

/// What a nemesis entry breaks.
public enum FaultKind: String, CaseIterable, Sendable, Decodable, SpelledEnumeration, CustomStringConvertible {
    case isolate, partition, bridge
    case majoritiesRing = "majorities-ring"
    case cut, latency, bandwidth, reset
    case kill, terminate, pause, restart
    case skew, swizzle, mix

    static var noun: String { "fault kind" }
    public var description: String { rawValue }

    /// Faults on links between hosts, made by the fault proxy.
    public var isNetwork: Bool {
        switch self {
        case .isolate, .partition, .bridge, .majoritiesRing, .cut, .latency, .bandwidth, .reset, .swizzle: return true
        case .kill, .terminate, .pause, .restart, .skew, .mix: return false
        }
    }

    /// Faults that happen once and are not undone: they take no `for`.
    public var isInstant: Bool { self == .reset || self == .restart }
}

/// How a blocked link behaves: `blackhole` stalls silently, `reject` refuses and resets.
public enum LinkMode: String, CaseIterable, Sendable, Decodable, SpelledEnumeration, CustomStringConvertible {
    case blackhole, reject
    static var noun: String { "mode" }
    public var description: String { rawValue }
}

/// A steady-state probe.
public enum ProbeKind: String, CaseIterable, Sendable, Decodable, SpelledEnumeration, CustomStringConvertible {
    /// A put through any member succeeds within `within`.
    case write
    /// A linearizable get through any member succeeds within `within`.
    case read
    /// Exactly one leader among the members that answer, within `within`.
    case leader
    /// Every member answers its health endpoint within `within`.
    case membersHealthy = "members-healthy"
    static var noun: String { "probe" }
    public var description: String { rawValue }
}

public enum CheckName: String, CaseIterable, Sendable, Decodable, SpelledEnumeration, CustomStringConvertible {
    case linearizable
    case noLostWrites = "no-lost-writes"
    case electionSafety = "election-safety"
    case recovery
    case watch
    case availability
    case noMinorityWrites = "no-minority-writes"
    case nodeConditionTiming = "node-condition-timing"
    case evictionTiming = "eviction-timing"
    case replicasRestored = "replicas-restored"
    case surgeBound = "surge-bound"
    case noPodLost = "no-pod-lost"
    case noEviction = "no-eviction"
    case singleLeader = "single-leader"
    static var noun: String { "check" }

    /// Checks of the Kubernetes workload (they need `kubernetes:`).
    public var isKubernetes: Bool {
        switch self {
        case .nodeConditionTiming, .evictionTiming, .replicasRestored, .surgeBound, .noPodLost, .noEviction, .singleLeader: return true
        default: return false
        }
    }

    /// Checks of the key-value workload's history (they need `workload:`); the others watch the
    /// store's members and hold for either workload.
    public var needsKeyValueWorkload: Bool {
        switch self {
        case .linearizable, .noLostWrites, .watch, .availability, .noMinorityWrites: return true
        default: return false
        }
    }
    public var description: String { rawValue }
}

/// What the runner undoes at the end of every run, even after an error.
public enum RollbackKind: String, CaseIterable, Sendable, Decodable, SpelledEnumeration, CustomStringConvertible {
    /// Remove every fault proxy rule.
    case healAll = "heal-all"
    /// Resume every paused process.
    case resumePaused = "resume-paused"
    /// Start every process that is not running.
    case restartStopped = "restart-stopped"
    /// Set every skewed clock back.
    case clearSkew = "clear-skew"
    static var noun: String { "rollback" }
    public var description: String { rawValue }
}
