//! PodLosses: a Deployment's pods over the run, as the loss checks need them — when each pod
//! stopped being live (evicted or deleted, finished, or gone), how many of the Deployment's pods
//! were live then and how many were wanted, and every pod ever seen (the candidates for
//! replacements).

import Base

/// One pod of the Deployment ceasing to be live.
struct PodLoss {
    /// The pod as last seen live.
    var pod: PodObservation
    /// The first poll that no longer saw it live.
    var time: Nanoseconds
    /// `terminating`, `Failed`, `Succeeded` or `gone`.
    var how: String
    /// The Deployment's live pods in that poll.
    var liveThen: Int
    /// The desired count then (the last one read when that poll could not read the Deployment).
    var desiredThen: Int?
    /// The largest desired count while the pod was live.
    var desiredWhileLive: Int?

    var described: String { "pod \(pod.name) on \(pod.node.isEmpty ? "no node" : pod.node) (\(how))" }
}

/// The Deployment's pods over the run.
struct PodHistory {
    var losses: [PodLoss] = []
    /// Every pod of the Deployment any poll saw, by uid: the first sighting.
    var seen: [String: PodObservation] = [:]
    /// Pods live in some poll and never lost.
    var stayed: Int = 0
    var runEnd: Nanoseconds?

    /// Follows each pod by uid through the polls: once a pod has been seen belonging to the
    /// Deployment it is looked up in the whole pod list, so a ReplicaSet missing from one
    /// poll's list does not make its pods look lost.
    init(_ snapshots: [KubeSnapshot], deployment: String) {
        var live: [String: (pod: PodObservation, desired: Int?)] = [:]
        var desired: Int?
        for poll in snapshots.inTimeOrder {
            runEnd = poll.time
            desired = poll.deployment(named: deployment)?.replicas ?? desired
            let owned = poll.pods(ofDeployment: deployment)
            let byUID = Dictionary(poll.pods.map { ($0.uid, $0) }, uniquingKeysWith: { first, _ in first })
            let liveCount = owned.filter(\.isLive).count
            for (uid, entry) in live {
                let now = byUID[uid]
                if let now, now.isLive { continue }
                let how = now.map { $0.terminating ? "terminating" : $0.phase } ?? "gone"
                losses.append(PodLoss(pod: entry.pod, time: poll.time, how: how, liveThen: liveCount, desiredThen: desired,
                    desiredWhileLive: entry.desired))
                live[uid] = nil
            }
            for pod in owned {
                if seen[pod.uid] == nil { seen[pod.uid] = pod }
                guard pod.isLive else { continue }
                let before = live[pod.uid]?.desired
                live[pod.uid] = (pod, [before, desired].compactMap { $0 }.max())
            }
        }
        stayed = live.count
        losses.sort { ($0.time, $0.pod.name) < ($1.time, $1.pod.name) }
    }
}
