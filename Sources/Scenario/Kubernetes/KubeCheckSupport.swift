//! KubeCheckSupport: what the Kubernetes checks share — one fault's judgement (its verdict,
//! the figures measured, the details) and how a check's judgements combine into its result;
//! a node's observations in poll order; and the workload's pods as counted by the checks.

import Base

/// What one check concluded about one fault (a node's silence, a fault window, a stop): its
/// verdict, one line of measured figures for the summary, and the details for the report.
struct FaultJudgement {
    var verdict: Verdict
    var figures: String
    var details: [CheckDetail]
    /// The delay measured (a recovery, a takeover), for picking the slowest.
    var measured: Nanoseconds?

    init(_ verdict: Verdict, _ figures: String, details: [CheckDetail] = [], measured: Nanoseconds? = nil) {
        (self.verdict, self.figures, self.details, self.measured) = (verdict, figures, details, measured)
    }
}

extension Checks {
    /// Slack for bounds computed from a component's own timestamps (a lease's renewTime): its
    /// clock and the runner's are the same machine's, read a few milliseconds apart.
    static let kubeClockSlack: Nanoseconds = 100 * Time.millisecond

    /// Fail if any judgement fails; unknown if there are none or any could not be judged (a
    /// pass must mean every fault was checked); pass otherwise. The summary gives the failing
    /// (or unjudged) figures first, else every fault's figures; every judgement's details go in.
    static func combine(_ name: String, _ judgements: [FaultJudgement], noun: String, none: String) -> CheckResult {
        let details = judgements.flatMap(\.details)
        guard !judgements.isEmpty else { return CheckResult(name: name, verdict: .unknown, summary: none, details: details) }
        let failing = judgements.filter { $0.verdict == .fail }
        let unjudged = judgements.filter { $0.verdict == .unknown }
        if !failing.isEmpty {
            return CheckResult(name: name, verdict: .fail,
                summary: "\(failing.count) of \(count(judgements.count, noun)) failed: " + failing.map(\.figures).joined(separator: "; "),
                details: details)
        }
        if !unjudged.isEmpty {
            return CheckResult(name: name, verdict: .unknown,
                summary: "\(unjudged.count) of \(count(judgements.count, noun)) could not be judged: "
                    + unjudged.map(\.figures).joined(separator: "; "),
                details: details)
        }
        return CheckResult(name: name, verdict: .pass, summary: judgements.map(\.figures).joined(separator: "; "), details: details)
    }
}

/// One node as one poll saw it.
struct NodeAtPoll {
    var time: Nanoseconds
    var node: NodeObservation

    /// The Ready status for messages: `Unknown`, `False`, or `without a Ready condition`.
    var readiness: String { node.ready.isEmpty ? "without a Ready condition" : node.ready }
}

extension [KubeSnapshot] {
    /// The polls in time order (the runner records them in order; the checks do not rely on it).
    var inTimeOrder: [KubeSnapshot] { sorted { $0.time < $1.time } }

    /// The node named `name` in every poll that saw it, in the order of `self`.
    func timeline(ofNode name: String) -> [NodeAtPoll] {
        compactMap { snapshot in snapshot.node(name).map { NodeAtPoll(time: snapshot.time, node: $0) } }
    }
}

extension KubeSnapshot {
    /// The Deployment `name` if this poll read it.
    func deployment(named name: String) -> DeploymentObservation? { deployment?.name == name ? deployment : nil }

    /// The Deployment's pods that serve: live, Running, Ready, on a node whose Ready is `True`
    /// in this poll (a pod on an unreachable node still says Ready, since its kubelet cannot
    /// say otherwise, but serves nobody).
    public func availablePods(ofDeployment name: String) -> [PodObservation] {
        pods(ofDeployment: name).filter { pod in
            pod.isLive && pod.ready && pod.phase == "Running" && node(pod.node)?.ready == "True"
        }
    }
}
