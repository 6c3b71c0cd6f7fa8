//! SurgeBoundCheck: the Deployment controller's bound on how many pods a Deployment may have —
//! never more than its replicas plus maxSurge, counted both as the live pods the polls saw and
//! as the replicas its ReplicaSets ask for. Controllers that create pods twice (two leaders at
//! once, a stale cache acted on) break it.

import Base

extension Checks {
    // MARK: - Surge bound

    /// At every poll that read the Deployment: its live pods, and the sum of its ReplicaSets'
    /// `spec.replicas`, are at most replicas + maxSurge — the larger of this poll's and the
    /// previous one's, so a scale between the reads raises no false alarm. Unknown when no poll
    /// read the Deployment.
    public static func surgeBound(snapshots: [KubeSnapshot], deployment: String) -> CheckResult {
        let name = "surge-bound"
        var previous: DeploymentObservation?
        var details: [CheckDetail] = []
        var polls = 0
        var peak: (pods: Int, asked: Int, bound: Int) = (0, 0, 0)
        for poll in snapshots.inTimeOrder {
            guard let current = poll.deployment(named: deployment) else { continue }
            polls += 1
            let governing = [current, previous].compactMap { $0 }.max { $0.replicas + $0.maxSurge < $1.replicas + $1.maxSurge } ?? current
            previous = current
            let bound = governing.replicas + governing.maxSurge
            let boundText = "the bound \(bound) (\(governing.replicas) replicas + \(governing.maxSurge) surge)"
            let live = poll.pods(ofDeployment: deployment).filter(\.isLive).sorted { $0.name < $1.name }
            let replicaSets = poll.replicaSets.filter { $0.deployment == deployment }.sorted { $0.name < $1.name }
            let asked = replicaSets.reduce(0) { $0 + $1.replicas }
            peak = (max(peak.pods, live.count), max(peak.asked, asked), max(peak.bound, bound))
            if live.count > bound {
                let names = live.map { "\($0.name) on \($0.node.isEmpty ? "no node" : $0.node)" }.joined(separator: ", ")
                details.append(CheckDetail(time: poll.time, "\(live.count) live pods, over \(boundText): \(names)"))
            }
            if asked > bound {
                let each = replicaSets.map { "\($0.name) \($0.replicas)" }.joined(separator: ", ")
                details.append(CheckDetail(time: poll.time, "its ReplicaSets ask for \(asked) pods, over \(boundText): \(each)"))
            }
        }
        guard polls > 0 else { return CheckResult(name: name, verdict: .unknown, summary: "no poll read the Deployment \(deployment)") }
        guard details.isEmpty else {
            return CheckResult(name: name, verdict: .fail,
                summary: "\(deployment) went over replicas + maxSurge \(count(details.count, "time")) in \(count(polls, "poll"))", details: details)
        }
        return CheckResult(name: name, verdict: .pass,
            summary: "at most \(count(peak.pods, "live pod")) and ReplicaSets asking for at most \(peak.asked) over \(count(polls, "poll")) "
                + "(bound at most \(peak.bound))")
    }
}
