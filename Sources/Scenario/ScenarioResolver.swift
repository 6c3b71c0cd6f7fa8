//! ScenarioResolver: the checks a decoded scenario must pass against its topology, and the
//! resolution of its defaults. Every error says what is wrong, where (file:line:column) and how
//! to fix it; the first one found is reported. The nemesis entries are resolved in
//! FaultResolver.swift.

import Base
import Topology

struct ScenarioResolver {
    let file: String
    /// The parsed document, for positions the decoded values do not carry.
    let root: DocumentNode
    let topology: Topology

    static let nameLengthMax = 63

    /// The etcd members selectors choose among.
    var members: [String] { topology.etcdHosts.map(\.name) }

    func error(_ position: SourcePosition?, _ message: String) -> DocumentError {
        DocumentError(file: file, position: position ?? root.position, message: message)
    }

    func resolve(_ spec: ScenarioSpec, defaultName: String) throws(DocumentError) -> Scenario {
        let name = try resolveName(spec.name, defaultName: defaultName)
        if let timing = spec.timing, topology.timingProfiles[timing.value] == nil {
            let known = topology.timingProfiles.keys.sorted().joined(separator: ", ")
            throw error(timing.position, "unknown timing profile '\(timing.value)' (the topology '\(topology.name)' has: \(known))")
        }
        let workload: Workload?
        let kubernetes: KubeWorkload?
        switch (spec.workload, spec.kubernetes) {
        case (let given?, nil):
            (workload, kubernetes) = (try resolveWorkload(given), nil)
        case (nil, let given?):
            (workload, kubernetes) = (nil, try resolveKubeWorkload(given))
        case (_?, let second?):
            throw error(second.position,
                "a scenario has one workload: 'workload:' (clients against the store) or 'kubernetes:' (a Deployment on the Kubernetes control plane); remove one")
        case (nil, nil):
            throw error(root.position,
                "the scenario has no workload; add 'workload:' (clients against the store) or 'kubernetes:' (a Deployment on the Kubernetes control plane)")
        }
        let duration = workload?.duration ?? kubernetes?.duration ?? 0
        let probes = try resolveProbes(spec.steadyState ?? [])
        var faults: [Fault] = []
        for (index, entry) in (spec.nemesis ?? []).enumerated() {
            faults.append(try resolveFault(entry, index: index, workloadDuration: duration))
        }
        let checks = try resolveChecks(spec.checks, workload: workload, kubernetes: kubernetes, faults: faults)
        let rollbacks = try resolveRollbacks(spec.rollbacks)
        return Scenario(name: name, description: spec.description, topologyPath: spec.topology.value, topology: topology,
            timingName: spec.timing?.value, seed: spec.seed?.value, workload: workload, kubernetes: kubernetes,
            steadyState: probes, nemesis: faults, checks: checks, rollbacks: rollbacks)
    }

    // MARK: - Name

    func resolveName(_ name: Located<String>?, defaultName: String) throws(DocumentError) -> String {
        let text = name?.value ?? defaultName
        let rule = "use 1 to \(Self.nameLengthMax) lowercase letters, digits and '-', starting with a letter"
        let scalars = text.unicodeScalars
        let problem: String?
        if scalars.isEmpty {
            problem = "is empty"
        } else if scalars.count > Self.nameLengthMax {
            problem = "is longer than \(Self.nameLengthMax) characters"
        } else if !("a"..."z").contains(scalars.first!) {
            problem = "does not start with a lowercase letter"
        } else if let bad = scalars.first(where: { !(("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-") }) {
            problem = "contains '\(bad)'"
        } else {
            problem = nil
        }
        guard let problem else { return text }
        if let name { throw error(name.position, "scenario name '\(text)' \(problem); \(rule)") }
        throw error(SourcePosition(line: 1, column: 1),
            "the scenario's name defaults to the file name '\(text)', which \(problem); add a 'name:' line (\(rule))")
    }

    // MARK: - Workload

    func resolveWorkload(_ located: Located<WorkloadSpec>) throws(DocumentError) -> Workload {
        let spec = located.value
        let clients = spec.clients
        guard (1...Workload.clientsMax).contains(clients.value) else {
            throw error(clients.position, "clients must be between 1 and \(Workload.clientsMax), got \(clients.value)")
        }
        let keys = spec.keys
        guard (1...Workload.keysMax).contains(keys.value) else {
            throw error(keys.position, "keys must be between 1 and \(Workload.keysMax), got \(keys.value)")
        }
        let rate = spec.rate?.value ?? 0
        if let given = spec.rate, given.value < 0 {
            throw error(given.position, "rate must be 0 (as fast as possible) or more operations per second, got \(given.value)")
        }
        let duration = spec.duration.value.nanoseconds
        guard duration > 0 else { throw error(spec.duration.position, "duration must be more than 0, e.g. 30s") }
        let timeout = spec.timeout?.value.nanoseconds ?? Workload.defaultTimeout
        if let given = spec.timeout, timeout == 0 || timeout >= duration {
            throw error(given.position,
                "timeout (\(given.value)) must be more than 0 and shorter than the duration (\(spec.duration.value))")
        }
        if let minimum = spec.minimumRate {
            guard minimum.value >= 0, minimum.value.isFinite else {
                throw error(minimum.position, "min-rate must be 0 or more operations per second, got \(minimum.value)")
            }
            if rate > 0, minimum.value > Double(rate) {
                throw error(minimum.position,
                    "min-rate (\(minimum.value)) is above the target rate (\(rate)), so the run could never be valid; lower min-rate or raise rate")
            }
        }
        let mix = try resolveMix(spec.mix, workloadPosition: located.position)
        return Workload(clients: clients.value, rate: rate, keys: keys.value, mix: mix, duration: duration, timeout: timeout,
            minimumRate: spec.minimumRate?.value)
    }

    func resolveMix(_ located: Located<MixSpec>?, workloadPosition: SourcePosition?) throws(DocumentError) -> OperationMix {
        guard let located else { return .default }
        let spec = located.value
        for weight in [spec.read, spec.write, spec.cas, spec.insert, spec.delete].compactMap({ $0 }) where weight.value < 0 {
            throw error(weight.position, "weights must be 0 or more, got \(weight.value)")
        }
        let mix = OperationMix(read: spec.read?.value ?? 0, write: spec.write?.value ?? 0, cas: spec.cas?.value ?? 0,
            insert: spec.insert?.value ?? 0, delete: spec.delete?.value ?? 0)
        guard mix.total > 0 else {
            throw error(located.position ?? workloadPosition,
                "the mix has no weight; give at least one operation a weight above 0, e.g. {read: 50, write: 50}")
        }
        return mix
    }

    // MARK: - Steady state

    func resolveProbes(_ specs: [Located<ProbeSpec>]) throws(DocumentError) -> [Probe] {
        var probes: [Probe] = []
        var firstSeen: [ProbeKind: SourcePosition?] = [:]
        for located in specs {
            let spec = located.value
            if let first = firstSeen[spec.probe.value] {
                throw error(spec.probe.position,
                    "the probe '\(spec.probe.value)' is already listed\(first.map { " (line \($0.line))" } ?? ""); list each probe once")
            }
            firstSeen[spec.probe.value] = spec.probe.position
            let within = spec.within?.value.nanoseconds ?? Probe.defaultWithin
            if let given = spec.within, within == 0 {
                throw error(given.position, "within must be more than 0: it is how long the probe may take to succeed")
            }
            probes.append(Probe(kind: spec.probe.value, within: within, during: spec.during?.value ?? false))
        }
        return probes
    }

    // MARK: - Checks

    /// Checks run when a scenario lists none.
    static let defaultChecks: [Check] = [.linearizable, .electionSafety, .recovery(within: Check.recoveryWithinDefault)]
    /// Checks run when a Kubernetes scenario lists none.
    static let defaultKubernetesChecks: [Check] = [
        .nodeConditionTiming(tolerance: Check.toleranceDefault), .replicasRestored(within: Check.replicasRestoredWithinDefault),
        .surgeBound, .noPodLost(within: Check.noPodLostWithinDefault), .singleLeader(takeoverWithin: nil),
    ]

    func resolveChecks(_ specs: [Located<CheckSpec>]?, workload: Workload?, kubernetes: KubeWorkload?, faults: [Fault])
        throws(DocumentError) -> [Check]
    {
        guard let specs else { return kubernetes == nil ? Self.defaultChecks : Self.defaultKubernetesChecks }
        var checks: [Check] = []
        var firstSeen: [CheckName: SourcePosition?] = [:]
        for located in specs {
            let name = located.value.name
            if let first = firstSeen[name] {
                throw error(located.position,
                    "the check '\(name)' is already listed\(first.map { " (line \($0.line))" } ?? ""); list each check once")
            }
            firstSeen[name] = located.position
            if name.needsKeyValueWorkload, workload == nil {
                throw error(located.position,
                    "the check '\(name)' judges the key-value clients' history, and this scenario runs a Kubernetes workload; use the Kubernetes checks (node-condition-timing, eviction-timing, replicas-restored, surge-bound, no-pod-lost, no-eviction, single-leader) or election-safety and recovery, which watch the store")
            }
            if name.isKubernetes, kubernetes == nil {
                throw error(located.position,
                    "the check '\(name)' judges a Kubernetes workload, and this scenario has none; add a 'kubernetes:' section (docs/scenarios.md) or remove the check")
            }
            let check = try resolveCheck(located)
            if let workload { try checkFeasible(check, at: located.position, workload: workload, faults: faults) }
            checks.append(check)
        }
        return checks
    }

    func resolveCheck(_ located: Located<CheckSpec>) throws(DocumentError) -> Check {
        let name = located.value.name
        let parameters = located.value.parameters
        let given: [(String, Located<GoDuration>?)] = [
            ("after-heal", parameters?.value.afterHeal), ("grace", parameters?.value.grace), ("within", parameters?.value.within),
            ("tolerance", parameters?.value.tolerance), ("takeover-within", parameters?.value.takeoverWithin),
        ]
        let accepted: [CheckName: String] = [
            .availability: "after-heal", .noMinorityWrites: "grace", .recovery: "within", .nodeConditionTiming: "tolerance",
            .evictionTiming: "tolerance", .replicasRestored: "within", .noPodLost: "within", .singleLeader: "takeover-within",
        ]
        for case (let field, let value?) in given where accepted[name] != field {
            let takes = accepted[name].map { "it takes only '\($0)'" } ?? "it takes no parameters; write it as a plain '- \(name)'"
            throw error(value.position, "'\(field)' is not a parameter of the check '\(name)'; \(takes)")
        }
        if let parameters, given.allSatisfy({ $0.1 == nil }), accepted[name] == nil {
            throw error(parameters.position, "the check '\(name)' takes no parameters; write it as a plain '- \(name)'")
        }
        func duration(_ value: Located<GoDuration>?, default fallback: Nanoseconds) throws(DocumentError) -> Nanoseconds {
            guard let value else { return fallback }
            guard value.value.nanoseconds > 0 || name == .noMinorityWrites else {
                throw error(value.position, "the check '\(name)' needs a duration above 0")
            }
            return value.value.nanoseconds
        }
        switch name {
        case .linearizable: return .linearizable
        case .noLostWrites: return .noLostWrites
        case .electionSafety: return .electionSafety
        case .watch: return .watch
        case .recovery: return .recovery(within: try duration(parameters?.value.within, default: Check.recoveryWithinDefault))
        case .availability:
            return .availability(afterHeal: try duration(parameters?.value.afterHeal, default: Check.afterHealDefault))
        case .noMinorityWrites: return .noMinorityWrites(grace: try duration(parameters?.value.grace, default: Check.graceDefault))
        case .nodeConditionTiming:
            return .nodeConditionTiming(tolerance: try duration(parameters?.value.tolerance, default: Check.toleranceDefault))
        case .evictionTiming: return .evictionTiming(tolerance: try duration(parameters?.value.tolerance, default: Check.toleranceDefault))
        case .replicasRestored:
            return .replicasRestored(within: try duration(parameters?.value.within, default: Check.replicasRestoredWithinDefault))
        case .surgeBound: return .surgeBound
        case .noPodLost: return .noPodLost(within: try duration(parameters?.value.within, default: Check.noPodLostWithinDefault))
        case .noEviction: return .noEviction
        case .singleLeader:
            guard let takeover = parameters?.value.takeoverWithin else { return .singleLeader(takeoverWithin: nil) }
            return .singleLeader(takeoverWithin: try duration(takeover, default: 0))
        }
    }

    /// Refuses checks the scenario could never satisfy or that would say nothing.
    func checkFeasible(_ check: Check, at position: SourcePosition?, workload: Workload, faults: [Fault]) throws(DocumentError) {
        let lastHeal = faults.flatMap(\.occurrences).compactMap(\.end).max()
        switch check {
        case .noLostWrites where workload.mix.insert == 0:
            throw error(position, "no-lost-writes follows inserts, and the workload's mix has none; add an insert weight, e.g. mix: {read: 50, write: 30, insert: 20}")
        case .availability(let afterHeal):
            guard let lastHeal else {
                throw error(position, "availability measures the time to the first write after the last heal, and no fault is ever healed; add a fault with 'for:' or remove the check")
            }
            guard lastHeal + afterHeal <= workload.duration else {
                throw error(position,
                    "the last fault heals at \(Time.describe(lastHeal)) and availability waits \(Time.describe(afterHeal)) after it, past the workload's end at \(Time.describe(workload.duration)); lengthen the workload or shorten after-heal")
            }
        default: return
        }
    }

    // MARK: - Rollbacks

    func resolveRollbacks(_ specs: [Located<RollbackKind>]?) throws(DocumentError) -> [RollbackKind] {
        guard let specs else { return RollbackKind.allCases }
        var result: [RollbackKind] = []
        for rollback in specs {
            if result.contains(rollback.value) {
                throw error(rollback.position, "the rollback '\(rollback.value)' is already listed; list each once")
            }
            result.append(rollback.value)
        }
        return result
    }
}
