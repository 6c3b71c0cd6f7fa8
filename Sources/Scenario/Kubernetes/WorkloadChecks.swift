//! WorkloadChecks: what the ReplicaSet and Deployment controllers promise about a Deployment
//! under faults — it is fully available again within a bound after each fault, it never runs
//! more pods (nor asks for more ReplicaSet replicas) than replicas + maxSurge, every pod it
//! loses while short is replaced, and in a full disruption nothing is evicted at all.

import Base

extension Checks {
    /// Pods of the Deployment that serve: live, Running and Ready, on a node that is Ready.
    public static func available(_ snapshot: KubeSnapshot, deployment: String) -> Int {
        let readyNodes = Set(snapshot.nodes.filter { $0.ready == "True" }.map(\.name))
        return snapshot.pods(ofDeployment: deployment).filter {
            $0.isLive && $0.ready && $0.phase == "Running" && readyNodes.contains($0.node)
        }.count
    }

    public static func replicasRestored(snapshots: [KubeSnapshot], deployment: String, faults: [TimeWindow],
        within: Nanoseconds) -> CheckResult
    {
        let name = "replicas-restored"
        let observed = snapshots.filter { $0.deployment != nil }
        guard let last = observed.last, let desiredAtEnd = last.deployment?.replicas else {
            return CheckResult(name: name, verdict: .unknown, summary: "the Deployment \(deployment) was never read")
        }
        var failures: [CheckDetail] = []
        var figures: [String] = []
        for fault in faults {
            let after = observed.filter { $0.time >= fault.start }
            guard let firstShort = after.first(where: { available($0, deployment: deployment) < $0.deployment!.replicas }) else {
                figures.append("never short after the fault at \(Time.describe(fault.start))")
                continue
            }
            let deadline = fault.start + within
            let restored = after.first { $0.time > firstShort.time && available($0, deployment: deployment) >= $0.deployment!.replicas }
            if let restored, restored.time <= deadline {
                figures.append("\(restored.deployment!.replicas) of \(restored.deployment!.replicas) available again \(Time.describe(restored.time - fault.start)) after the fault at \(Time.describe(fault.start)) (short for \(Time.describe(restored.time - firstShort.time)); allowed \(Time.describe(within)))")
            } else if restored == nil && last.time < deadline {
                return CheckResult(name: name, verdict: .unknown,
                    summary: "the run ended \(Time.describe(last.time - fault.start)) after the fault at \(Time.describe(fault.start)) with \(available(last, deployment: deployment)) of \(desiredAtEnd) available, before the \(Time.describe(within)) allowed")
            } else {
                let measured = restored.map { "only \(Time.describe($0.time - fault.start)) after it" } ?? "never"
                failures.append(CheckDetail(time: deadline,
                    "after the fault at \(Time.describe(fault.start)) the Deployment was short from \(Time.describe(firstShort.time)) and fully available again \(measured) (allowed \(Time.describe(within)))"))
            }
        }
        let availableAtEnd = available(last, deployment: deployment)
        if availableAtEnd != desiredAtEnd {
            failures.append(CheckDetail(time: last.time, "\(availableAtEnd) of \(desiredAtEnd) available when the run ended"))
        }
        if !failures.isEmpty {
            return CheckResult(name: name, verdict: .fail, summary: "the Deployment \(deployment) was not restored in time", details: failures)
        }
        return CheckResult(name: name, verdict: .pass,
            summary: (figures.isEmpty ? "no fault" : figures.joined(separator: "; ")) + "; \(availableAtEnd) of \(desiredAtEnd) available at the end")
    }

    public static func surgeBound(snapshots: [KubeSnapshot], deployment: String) -> CheckResult {
        let name = "surge-bound"
        var failures: [CheckDetail] = []
        var previousBound: Int?
        var highest = 0, highestReplicas = 0
        var seen = 0
        for snapshot in snapshots {
            guard let observed = snapshot.deployment else { continue }
            seen += 1
            let ownBound = observed.replicas + observed.maxSurge
            // A scale between two reads must not raise a false alarm: allow the larger bound.
            let bound = max(ownBound, previousBound ?? ownBound)
            previousBound = ownBound
            let live = snapshot.pods(ofDeployment: deployment).filter(\.isLive)
            let replicaSum = snapshot.replicaSets.filter { $0.deployment == deployment }.map(\.replicas).reduce(0, +)
            highest = max(highest, live.count)
            highestReplicas = max(highestReplicas, replicaSum)
            if live.count > bound {
                failures.append(CheckDetail(time: snapshot.time,
                    "\(live.count) live pods, more than \(observed.replicas) + maxSurge \(observed.maxSurge) = \(bound): \(live.map { "\($0.name)@\($0.node.isEmpty ? "unscheduled" : $0.node)" }.joined(separator: ", "))"))
            }
            if replicaSum > bound {
                failures.append(CheckDetail(time: snapshot.time, "its ReplicaSets ask for \(replicaSum) replicas, more than \(bound)"))
            }
        }
        guard seen > 0 else { return CheckResult(name: name, verdict: .unknown, summary: "the Deployment \(deployment) was never read") }
        if !failures.isEmpty {
            return CheckResult(name: name, verdict: .fail, summary: "the surge bound was exceeded at \(count(failures.count, "poll"))", details: failures)
        }
        return CheckResult(name: name, verdict: .pass,
            summary: "at most \(count(highest, "live pod")) and \(highestReplicas) ReplicaSet replicas over \(count(seen, "poll")) (bound replicas + maxSurge)")
    }

    /// A pod of the Deployment that stopped being live, when it was first seen so.
    struct PodLoss {
        var pod: PodObservation
        var time: Nanoseconds
        /// Live pods of the Deployment below the desired count then.
        var short: Bool
    }

    /// Every loss of a pod of the Deployment: it turns terminating or finished, or vanishes after being seen live.
    static func losses(_ snapshots: [KubeSnapshot], deployment: String) -> [PodLoss] {
        var losses: [PodLoss] = []
        var live: [String: PodObservation] = [:]
        for snapshot in snapshots {
            let pods = snapshot.pods(ofDeployment: deployment)
            let byUid = Dictionary(pods.map { ($0.uid, $0) }, uniquingKeysWith: { first, _ in first })
            let liveCount = pods.filter(\.isLive).count
            let desired = snapshot.deployment?.replicas ?? 0
            for (uid, pod) in live where !(byUid[uid]?.isLive ?? false) {
                // Gone from the Deployment's pods but still present and live elsewhere (its
                // ReplicaSet vanished from this poll): not a loss.
                if byUid[uid] == nil, snapshot.pods.contains(where: { $0.uid == uid && $0.isLive }) { continue }
                losses.append(PodLoss(pod: pod, time: snapshot.time, short: liveCount < desired))
                live[uid] = nil
            }
            for pod in pods where pod.isLive { live[pod.uid] = pod }
        }
        return losses
    }

    public static func noPodLost(snapshots: [KubeSnapshot], deployment: String, within: Nanoseconds) -> CheckResult {
        let name = "no-pod-lost"
        guard let lastTime = snapshots.last?.time, snapshots.contains(where: { $0.deployment != nil }) else {
            return CheckResult(name: name, verdict: .unknown, summary: "the Deployment \(deployment) was never read")
        }
        let losses = losses(snapshots, deployment: deployment)
        // Every pod of the Deployment ever seen, by creation time, to match against the losses.
        var firstSeen: [String: PodObservation] = [:]
        for snapshot in snapshots { for pod in snapshot.pods(ofDeployment: deployment) where firstSeen[pod.uid] == nil { firstSeen[pod.uid] = pod } }
        var candidates = firstSeen.values.sorted { ($0.created, $0.name) < ($1.created, $1.name) }
        var failures: [CheckDetail] = []
        var replaced = 0
        var slowest: Nanoseconds = 0
        var pending: [String] = []
        for loss in losses {
            // Whole-second creation times: a replacement may carry a stamp up to a second before the loss.
            if let index = candidates.firstIndex(where: { $0.uid != loss.pod.uid && $0.created >= loss.time - Time.second && $0.created <= loss.time + within }) {
                slowest = max(slowest, candidates[index].created - loss.time)
                candidates.remove(at: index)
                replaced += 1
            } else if !loss.short {
                continue  // the Deployment still had its count (a rollout's or a scale-down's deletion)
            } else if lastTime < loss.time + within {
                pending.append(loss.pod.name)
            } else {
                failures.append(CheckDetail(time: loss.time,
                    "\(loss.pod.name) on \(loss.pod.node.isEmpty ? "no node" : loss.pod.node) was lost and no new pod of \(deployment) was created within \(Time.describe(within))"))
            }
        }
        if !failures.isEmpty {
            return CheckResult(name: name, verdict: .fail, summary: "\(count(failures.count, "pod")) lost without a replacement", details: failures)
        }
        if !pending.isEmpty {
            return CheckResult(name: name, verdict: .unknown,
                summary: "the run ended within \(Time.describe(within)) of losing \(pending.joined(separator: ", ")), before a replacement was due")
        }
        return CheckResult(name: name, verdict: .pass,
            summary: "\(count(losses.count, "pod")) lost, \(replaced) with a new pod within \(Time.describe(within))\(replaced > 0 ? " (the latest created \(Time.describe(max(0, slowest))) after its loss, to the second)" : "")")
    }

    public static func noEviction(snapshots: [KubeSnapshot], deployment: String) -> CheckResult {
        let name = "no-eviction"
        guard snapshots.contains(where: { $0.deployment != nil }) else {
            return CheckResult(name: name, verdict: .unknown, summary: "the Deployment \(deployment) was never read")
        }
        // A loss counts unless the desired count dropped (a scale-down is not an eviction).
        var desiredBefore: [Nanoseconds: Int] = [:]
        var previous: Int?
        for snapshot in snapshots {
            if let replicas = snapshot.deployment?.replicas { desiredBefore[snapshot.time] = previous ?? replicas; previous = replicas }
        }
        let losses = losses(snapshots, deployment: deployment).filter { loss in
            let now = snapshots.first { $0.time == loss.time }?.deployment?.replicas
            return now.map { $0 >= (desiredBefore[loss.time] ?? $0) } ?? true
        }
        if !losses.isEmpty {
            return CheckResult(name: name, verdict: .fail, summary: "\(count(losses.count, "pod")) stopped though nothing may be evicted",
                details: losses.map { CheckDetail(time: $0.time, "\($0.pod.name) on \($0.pod.node) stopped") })
        }
        let kept = snapshots.last.map { $0.pods(ofDeployment: deployment).filter(\.isLive).count } ?? 0
        return CheckResult(name: name, verdict: .pass, summary: "no pod of \(deployment) stopped; \(count(kept, "pod")) live at the end")
    }
}
