//! What one scheduling attempt decided: a node to bind to (with the scores, for debugging),
//! or why no node would do, worded as kube-scheduler v1.32 words its FailedScheduling events.

/// The outcome of scheduling one pod.
public enum SchedulingDecision: Sendable, Equatable {
    /// Bind to `node`. `scores` holds every feasible node's scores (empty when only one node
    /// was feasible: Kubernetes does not score then).
    case bind(node: String, scores: [NodeScore])
    case unschedulable(SchedulingFailure)

    /// The chosen node, or nil when unschedulable.
    public var node: String? {
        if case .bind(let node, _) = self { return node }
        return nil
    }

    public var failure: SchedulingFailure? {
        if case .unschedulable(let failure) = self { return failure }
        return nil
    }
}

/// Why a pod fits no node.
public struct SchedulingFailure: Sendable, Equatable {
    /// The FailedScheduling message: `0/3 nodes are available: 1 Insufficient cpu, 2 node(s)
    /// had untolerated taint {node-role.kubernetes.io/control-plane: }. preemption: 0/3 nodes
    /// are available: 1 No preemption victims found for incoming pod, 2 Preemption is not
    /// helpful for scheduling.`
    public var message: String
    /// The nodes considered (those with a Node object).
    public var nodeCount: Int
    /// Each node's rejection, by node name.
    public var rejections: [String: FilterRejection]
    /// The plugins that rejected some node: the cluster events that may help are theirs.
    public var rejectingPlugins: Set<SchedulerPlugin>
    /// Nodes where evicting lower-priority pods would make room. Kubernetes would preempt
    /// there; this scheduler reports them but does not evict.
    public var preemptionCandidates: [String]
}

/// Kubernetes' `FitError` text.
enum FailureMessage {
    /// `0/<nodeCount> nodes are available: <count> <reason>, ... .` with the reasons sorted as
    /// strings (counts included, so `10 x` sorts before `2 y`, as Go's `sort.Strings` does),
    /// and `absentCount` nodes counted under `absentReason`.
    static func fit(nodeCount: Int, reasonsPerNode: [[String]], absentReason: String? = nil, absentCount: Int = 0) -> String {
        var counts: [String: Int] = [:]
        for reasons in reasonsPerNode {
            for reason in reasons { counts[reason, default: 0] += 1 }
        }
        if let absentReason, absentCount > 0 { counts[absentReason, default: 0] += absentCount }
        var message = "0/\(nodeCount) nodes are available:"
        let histogram = counts.map { "\($0.value) \($0.key)" }.sorted { Array($0.utf8).lexicographicallyPrecedes($1.utf8) }
        if !histogram.isEmpty { message += " " + histogram.joined(separator: ", ") + "." }
        return message
    }

    /// The message limit of an Event (Kubernetes truncates to 1024 bytes with `...`); the
    /// pod condition keeps the full text.
    static let eventMessageBytesMax = 1024

    static func truncatedForEvent(_ message: String) -> String {
        guard message.utf8.count > eventMessageBytesMax else { return message }
        var kept = ""
        var bytes = 0
        for character in message {
            let size = String(character).utf8.count
            guard bytes + size <= eventMessageBytesMax - 3 else { break }
            kept.append(character)
            bytes += size
        }
        return kept + "..."
    }
}
