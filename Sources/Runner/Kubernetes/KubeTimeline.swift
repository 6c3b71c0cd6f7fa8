//! KubeTimeline: a Kubernetes run told as a list of changes, one line each, on the run's clock
//! — faults and heals, process events, node conditions and taints, pods created, bound, ready,
//! evicted and gone, ReplicaSet scaling, leadership — written to `kube-timeline.txt` beside the
//! report, so a postmortem reads what happened when without replaying the snapshots.

import Base
import Foundation
import Scenario

enum KubeTimeline {
    static func lines(_ record: RunRecord, _ kube: KubeRunRecord) -> [String] {
        var events: [(time: Nanoseconds, order: Int, text: String)] = []
        func add(_ time: Nanoseconds, _ text: String) { events.append((time, events.count, text)) }
        for band in record.faults {
            add(band.start, "fault: \(band.label)")
            if let end = band.end, end > band.start { add(end, "healed: \(band.label)") }
        }
        for event in record.processEvents { add(event.time, "process: \(event.event) \(event.host)") }
        if let rollout = kube.rolloutAt { add(rollout, "rollout started") }
        for span in kube.spans {
            add(span.start, "\(span.lease): \(span.holder) started leading")
            if let end = span.end { add(end, "\(span.lease): \(span.holder) stopped leading") }
        }
        var previous: KubeSnapshot?
        for snapshot in kube.snapshots {
            let time = snapshot.time
            for node in snapshot.nodes {
                let before = previous?.node(node.name)
                if before?.ready != node.ready { add(time, "node \(node.name): Ready=\(node.ready.isEmpty ? "none" : node.ready)") }
                if let before, before.noExecuteTaint != node.noExecuteTaint {
                    add(time, "node \(node.name): NoExecute taint \(node.noExecuteTaint ? "added" : "removed")")
                }
            }
            let earlier = Dictionary((previous?.pods ?? []).map { ($0.uid, $0) }, uniquingKeysWith: { first, _ in first })
            for pod in snapshot.pods {
                let before = earlier[pod.uid]
                if before == nil { add(time, "pod \(pod.name): seen\(pod.node.isEmpty ? "" : " on \(pod.node)") (\(pod.phase))") }
                if let before, before.node.isEmpty, !pod.node.isEmpty { add(time, "pod \(pod.name): bound to \(pod.node)") }
                if let before, before.ready != pod.ready { add(time, "pod \(pod.name): \(pod.ready ? "Ready" : "not Ready") on \(pod.node)") }
                if let before, !before.terminating, pod.terminating { add(time, "pod \(pod.name): terminating (on \(pod.node))") }
            }
            let current = Set(snapshot.pods.map(\.uid))
            for pod in previous?.pods ?? [] where !current.contains(pod.uid) { add(time, "pod \(pod.name): gone") }
            let replicaSets = Dictionary((previous?.replicaSets ?? []).map { ($0.name, $0.replicas) }, uniquingKeysWith: { first, _ in first })
            for replicaSet in snapshot.replicaSets where replicaSets[replicaSet.name] != replicaSet.replicas {
                add(time, "replicaset \(replicaSet.name): \(replicaSets[replicaSet.name].map { "\($0) → " } ?? "")\(replicaSet.replicas) replicas")
            }
            previous = snapshot
        }
        return events.sorted { ($0.time, $0.order) < ($1.time, $1.order) }.map { String(format: "%8.3fs  ", Double($0.time) / 1e9) + $0.text }
    }

    static func write(_ record: RunRecord, to directory: String) throws {
        guard let kube = record.kube else { return }
        var text = lines(record, kube).joined(separator: "\n") + "\n"
        if let problem = kube.steadyStateProblem { text = "steady state did not hold: \(problem)\n" + text }
        try text.write(toFile: directory + "/kube-timeline.txt", atomically: true, encoding: .utf8)
    }
}
