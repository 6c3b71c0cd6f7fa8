//! ScenarioRun: a chaos scenario file on a real cluster. The scenario's seeded planner
//! (`Scenario.NemesisPlanner`) becomes the run's nemesis, its workload and hypothesis the run's
//! plan, and its checks are evaluated over what the run recorded: the history, the inserts and
//! the final read, the leader samples, the members' final states, the watch streams.

import Base
import Foundation
import Linearizability
import Scenario

/// The scenario's planner as the runner's nemesis.
public struct PlannerNemesis: NemesisDriver {
    public private(set) var planner: NemesisPlanner
    /// Firings the planner skipped (no leader appeared in time, …), for the report.
    public private(set) var skipped: [SkippedFiring] = []

    public init(scenario: Scenario, seed: UInt64) { planner = NemesisPlanner(scenario: scenario, seed: seed) }

    public mutating func steps(at time: Nanoseconds, view: ClusterView) -> [NemesisStep] {
        let tick = planner.due(at: time, view: view)
        skipped += tick.skipped
        return tick.actions.map { Self.step($0) }
    }

    /// One planned action as the step the runner carries out.
    public static func step(_ planned: PlannedAction) -> NemesisStep {
        let tag = planned.tag
        let label = planned.action.description
        func rule(_ kind: String, _ hosts: [String], _ fields: [String: Any]) -> NemesisStep {
            .rules(tag: tag, label: label, kind: kind, hosts: hosts, rules: [fields.merging(["kind": kind]) { $1 }])
        }
        switch planned.action {
        case .partition(let groups, let mode):
            return rule("partition", groups.flatMap { $0 }, ["groups": groups, "mode": mode.rawValue])
        case .isolate(let host, let mode, let includeClient):
            return rule("isolate", [host], ["host": host, "mode": mode.rawValue, "include_client": includeClient])
        case .cut(let from, let to, let mode):
            return rule("cut", [from, to], ["from": from, "to": to, "mode": mode.rawValue])
        case .latency(let from, let to, let delay, let jitter):
            return rule("latency", [from, to], ["from": from, "to": to, "delay_ns": Int(delay), "jitter_ns": Int(jitter)])
        case .bandwidth(let from, let to, let rate):
            return rule("bandwidth", [from, to], ["from": from, "to": to, "bytes_per_second": Int(rate)])
        case .reset(let from, let to):
            return .reset(label: label, from: from, to: to)
        case .kill(let host): return .process(tag: tag, label: label, verb: "kill", host: host, wipe: false)
        case .terminate(let host): return .process(tag: tag, label: label, verb: "terminate", host: host, wipe: false)
        case .pause(let host): return .process(tag: tag, label: label, verb: "pause", host: host, wipe: false)
        case .resume(let host): return .process(tag: tag, label: label, verb: "resume", host: host, wipe: false)
        case .restart(let host, let wipe): return .process(tag: tag, label: label, verb: "restart", host: host, wipe: wipe)
        case .skew(let host, let offset, let rate): return .skew(tag: tag, label: label, host: host, offset: offset, rate: rate)
        case .heal(let healed): return .heal(tag: healed)
        case .healAll: return .heal(tag: NemesisStep.everything)
        }
    }
}

public enum ScenarioRun {
    /// The run's plan from a resolved scenario and the command line's choices.
    public static func plan(_ scenario: Scenario, topologyPath: String, impl: String, seed: UInt64, out: String,
        faultline: String, cluster: String, loopback: Bool) -> RunPlan
    {
        var plan = RunPlan(scenario: scenario.name, description: scenario.description ?? "", topologyPath: topologyPath,
            out: out, faultline: faultline, cluster: cluster)
        plan.impl = impl
        plan.timing = scenario.timingName
        plan.loopback = loopback
        plan.seed = seed
        plan.duration = scenario.duration
        plan.probes = scenario.steadyState.map { ($0.kind, $0.within, $0.during) }
        plan.kubernetes = scenario.kubernetes
        if let workload = scenario.workload {
            plan.minimumRate = workload.minimumRate ?? 0
            let mix = workload.mix
            plan.workload.clients = workload.clients
            plan.workload.rate = Double(workload.rate)
            plan.workload.keys = workload.keys
            (plan.workload.read, plan.workload.write, plan.workload.cas) = (Double(mix.read), Double(mix.write), Double(mix.cas))
            (plan.workload.insert, plan.workload.delete) = (Double(mix.insert), Double(mix.delete))
            plan.workload.timeout = workload.timeout
        }
        for check in scenario.checks {
            if case .recovery(let within) = check { plan.recoveryTimeout = within }
        }
        return plan
    }

    /// Every check the scenario asks for (the hypothesis and the minimum rate always), over the record.
    public static func evaluate(_ scenario: Scenario, _ record: RunRecord) -> [CheckResult] {
        if let reason = record.abortReason {
            return [CheckResult(name: "run", verdict: .invalid, summary: "the run could not be carried out: \(reason)")]
        }
        let operations = Linearizability.operations(from: record.history)
        var results: [CheckResult] = []
        let outcomes = record.probes.map { probe in
            ProbeOutcome(kind: ProbeKind(rawValue: probe.probe) ?? .write, phase: ProbeOutcome.Phase(rawValue: probe.phase) ?? .after,
                time: probe.time, succeeded: probe.held, took: probe.took, note: probe.detail)
        }
        if !scenario.steadyState.isEmpty || scenario.kubernetes == nil {
            results.append(Checks.steadyState(probes: scenario.steadyState, outcomes: outcomes))
        }
        if let kube = record.kube {
            results += evaluateKubernetes(scenario, record, kube)
        }
        if let minimum = scenario.workload?.minimumRate {
            results.append(Checks.minimumRate(operations: operations, firstFault: record.firstFault, minimumRate: minimum))
        }
        for check in scenario.checks {
            switch check {
            case .linearizable:
                results.append(Checks.linearizable(events: record.history))
            case .noLostWrites:
                results.append(noLostWrites(record))
            case .electionSafety:
                let observations = record.leaders.compactMap { sample -> LeadershipObservation? in
                    guard let term = sample.term, term >= 0 else { return nil }
                    return LeadershipObservation(member: sample.member, time: sample.time, term: UInt64(term), leader: sample.leader,
                        isLeader: sample.isLeader)
                }
                results.append(Checks.electionSafety(observations: observations))
            case .recovery(let within):
                var result = Checks.recovery(members: record.memberStates.map {
                    MemberState(name: $0.member, answered: $0.revision != nil, revision: $0.revision ?? 0, hash: $0.digest ?? 0)
                })
                if result.verdict == .pass, let after = record.convergedAfter {
                    result.summary += "; converged \(Time.describe(after)) after the rollback (allowed \(Time.describe(within)))"
                }
                results.append(result)
            case .watch:
                results.append(Checks.watchGuarantees(streams: watchStreams(record), committed: committedInserts(record)))
            case .availability(let afterHeal):
                results.append(Checks.availability(operations: operations, lastHeal: record.lastHeal, within: afterHeal,
                    historyEnd: record.workloadEnd))
            case .noMinorityWrites(let grace):
                let windows = QuorumWindows.compute(members: record.members, faults: record.faults, end: record.workloadEnd)
                results.append(Checks.noMinorityWrites(operations: operations, windows: windows.cluster, hostWindows: windows.byHost,
                    nodes: record.plan.workload.sticky ? operationNodes(record) : [:], grace: grace))
            case .nodeConditionTiming, .evictionTiming, .replicasRestored, .surgeBound, .noPodLost, .noEviction, .singleLeader:
                continue  // evaluateKubernetes
            }
        }
        return results
    }

    /// Every acknowledged insert is in the final read, and nothing else is.
    public static func noLostWrites(_ record: RunRecord) -> CheckResult {
        func inserts(_ outcome: OperationRecord.Outcome) -> [InsertRecord] {
            record.inserts.filter { $0.outcome == outcome }.map { InsertRecord(key: $0.key, time: $0.complete) }
        }
        return Checks.noLostWrites(acknowledged: inserts(.ok), indefinite: inserts(.info), failed: inserts(.fail),
            finalKeys: record.finalInserts.map { Set($0.keys) })
    }

    /// Each watcher's deliveries as a stream of segments: a new segment where it resumed, from
    /// the revision after the last one it had seen (what `WatchRecorder` asks for).
    static func watchStreams(_ record: RunRecord) -> [WatchStream] {
        let prefix = record.plan.workload.insertPrefix
        return Dictionary(grouping: record.watch, by: \.watcher).keys.sorted().map { watcher in
            var segments: [WatchSegment] = []
            var next = record.watchStartRevision
            for delivery in record.watch where delivery.watcher == watcher {
                let message = WatchMessage(time: delivery.time, events: delivery.events.map {
                    WatchEvent(revision: $0.revision, key: $0.key, value: $0.isDelete ? nil : $0.value, type: $0.isDelete ? .delete : .put)
                })
                if delivery.resumed || segments.isEmpty { segments.append(WatchSegment(startRevision: next, messages: [])) }
                segments[segments.count - 1].messages.append(message)
                if let last = delivery.events.last { next = last.revision + 1 }
            }
            return WatchStream(name: "watcher-\(watcher)", prefix: prefix, segments: segments)
        }
    }

    /// The inserts the store holds at the end: inserted keys are never overwritten or deleted,
    /// so each one's mod revision is the revision it was committed at.
    static func committedInserts(_ record: RunRecord) -> [WatchEvent] {
        (record.finalInserts ?? [:]).filter { $0.value >= record.watchStartRevision }.map { key, revision in
            WatchEvent(revision: revision, key: key, value: record.finalInsertValues[key], type: .put)
        }
    }

    /// The member each operation was sent to, by `Operation.index` (the position of its invoke).
    /// Only meaningful for sticky clients: a client with several endpoints may move on mid-call.
    static func operationNodes(_ record: RunRecord) -> [Int: String] {
        var nodes: [Int: String] = [:]
        for (index, event) in record.history.filter({ $0.type == .invoke }).enumerated() { nodes[index] = event.node }
        return nodes
    }
}
