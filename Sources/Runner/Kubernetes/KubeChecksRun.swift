//! KubeChecksRun: a Kubernetes scenario's checks over what the run recorded, with the timing
//! the controller-manager ran with (its host's profile, or the scenario's override): the node
//! monitor grace period and period, the lease renewal interval, the pods' default toleration.

import Base
import Scenario
import Topology

extension ScenarioRun {
    /// The timing profile the controller-manager and the kubelets ran with.
    public static func kubeTiming(_ scenario: Scenario) -> TimingProfile {
        if let name = scenario.timingName, let profile = scenario.topology.timingProfiles[name] { return profile }
        return scenario.topology.hosts.first { $0.role == .controllerManager }?.timing ?? .default
    }

    static func evaluateKubernetes(_ scenario: Scenario, _ record: RunRecord, _ kube: KubeRunRecord) -> [CheckResult] {
        if let problem = kube.steadyStateProblem {
            return [CheckResult(name: "steady-state", verdict: .invalid, summary: problem)]
        }
        guard let workload = scenario.kubernetes else { return [] }
        let timing = kubeTiming(scenario)
        let deployment = workload.deployment.name
        let snapshots = kube.snapshots
        let faultWindows = record.faults.map { TimeWindow(start: $0.start, end: max($0.start, $0.end ?? record.workloadEnd)) }
        var results: [CheckResult] = []
        for check in scenario.checks {
            switch check {
            case .nodeConditionTiming(let tolerance):
                results.append(Checks.nodeConditionTiming(snapshots: snapshots, silences: kube.silences,
                    grace: timing.nodeMonitorGracePeriod.nanoseconds, monitorPeriod: timing.nodeMonitorPeriod.nanoseconds,
                    tolerance: tolerance, readyAfterHeal: timing.nodeMonitorGracePeriod.nanoseconds))
            case .evictionTiming(let tolerance):
                results.append(Checks.evictionTiming(snapshots: snapshots, silences: kube.silences,
                    toleration: timing.podEvictionTimeout.nanoseconds, tolerance: tolerance))
            case .replicasRestored(let within):
                results.append(Checks.replicasRestored(snapshots: snapshots, deployment: deployment, faults: faultWindows, within: within))
            case .surgeBound:
                results.append(Checks.surgeBound(snapshots: snapshots, deployment: deployment))
            case .noPodLost(let within):
                results.append(Checks.noPodLost(snapshots: snapshots, deployment: deployment, within: within))
            case .noEviction:
                results.append(Checks.noEviction(snapshots: snapshots, deployment: deployment))
            case .singleLeader(let takeoverWithin):
                results.append(Checks.singleLeader(spans: kube.spans, pauses: kube.pauses, takeoverWithin: takeoverWithin, stops: kube.stops))
            default:
                continue
            }
        }
        return results
    }
}
