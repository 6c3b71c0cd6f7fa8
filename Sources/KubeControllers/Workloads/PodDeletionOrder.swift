//! Which pods a ReplicaSet deletes first when it has too many: Kubernetes' `ActivePodsWithRanks`
//! order, so the pods lost are the ones that cost the least (not yet scheduled, not yet running,
//! not ready, cheap to delete, doubled up on a node, ready most recently, restarting, youngest).
//!
//! Times are compared on a logarithmic scale of their age (the `LogarithmicScaleDown` rule, on
//! by default since 1.22): pods whose ages are within the same power of two are equivalent, and
//! ties fall to the pod UIDs, which spreads deletions pseudo-randomly among equals.

/// The deletion order among the pods of one ReplicaSet.
enum PodDeletionOrder {
    /// Phases by how far the pod got: earlier phases are deleted first.
    private static func phaseOrdinal(_ phase: String) -> Int {
        switch phase {
        case "Pending": 0
        case "Unknown": 1
        case "Running": 2
        default: 0  // Go's map lookup of an unknown phase yields the zero value.
        }
    }

    /// `pods` sorted so the ones to delete first come first. `rank[i]` counts the active related
    /// pods on the node of `pods[i]` (more doubled-up pods go first); `wallNow` anchors the
    /// logarithmic age comparison.
    static func sorted(_ pods: [WorkloadPod], ranks: [Int], wallNow: Int64) -> [WorkloadPod] {
        precondition(pods.count == ranks.count, "\(pods.count) pods but \(ranks.count) ranks")
        let indices = pods.indices.sorted { left, right in
            switch compare(pods[left], ranks[left], pods[right], ranks[right], wallNow: wallNow) {
            case .some(let first): return first
            // Keep the input order among equals so the result is deterministic.
            case .none: return left < right
            }
        }
        return indices.map { pods[$0] }
    }

    /// The ranks for `pods`: how many active pods of `related` share each pod's node.
    static func colocationRanks(of pods: [WorkloadPod], related: [WorkloadPod]) -> [Int] {
        var podsOnNode: [String: Int] = [:]
        for pod in related where pod.isActive { podsOnNode[pod.nodeName, default: 0] += 1 }
        return pods.map { podsOnNode[$0.nodeName] ?? 0 }
    }

    /// True when `first` should be deleted before `second`, false when after, nil when no rule
    /// tells them apart.
    static func compare(_ first: WorkloadPod, _ firstRank: Int, _ second: WorkloadPod, _ secondRank: Int, wallNow: Int64) -> Bool? {
        // 1. Unassigned before assigned.
        if first.nodeName != second.nodeName && (first.nodeName.isEmpty || second.nodeName.isEmpty) {
            return first.nodeName.isEmpty
        }
        // 2. Pending before Unknown before Running.
        let firstPhase = phaseOrdinal(first.phase), secondPhase = phaseOrdinal(second.phase)
        if firstPhase != secondPhase { return firstPhase < secondPhase }
        // 3. Not ready before ready.
        if first.isReady != second.isReady { return !first.isReady }
        // 4. Lower deletion cost first.
        if first.deletionCost != second.deletionCost { return first.deletionCost < second.deletionCost }
        // 5. More pods of the same owner on the node first.
        if firstRank != secondRank { return firstRank > secondRank }
        // 6. Ready for less time first.
        if let firstReady = first.readySince, let secondReady = second.readySince, firstReady != secondReady {
            return newerFirst(firstReady, second: secondReady, first.uid, second.uid, wallNow: wallNow)
        }
        // 7. More container restarts first.
        if first.restartsMax != second.restartsMax { return first.restartsMax > second.restartsMax }
        // 8. Younger first; a missing creation time counts as newest.
        let firstCreated = first.creationTime ?? 0, secondCreated = second.creationTime ?? 0
        if firstCreated != secondCreated {
            return newerFirst(firstCreated, second: secondCreated, first.uid, second.uid, wallNow: wallNow)
        }
        return nil
    }

    /// Whether time `first` sorts before `second` when newer goes first: zero (unknown) goes
    /// first, and otherwise ages in the same power-of-two bucket tie, broken by UID.
    private static func newerFirst(_ first: Int64, second: Int64, _ firstUID: String, _ secondUID: String, wallNow: Int64) -> Bool {
        if first == 0 || second == 0 { return first == 0 }
        let rankDifference = logarithmicAge(first, wallNow: wallNow) - logarithmicAge(second, wallNow: wallNow)
        if rankDifference == 0 { return firstUID < secondUID }
        return rankDifference < 0
    }

    /// floor(log2(age in nanoseconds)), or -1 for a time not in the past (Go's `logarithmicRankDiff`
    /// works on durations in nanoseconds; our timestamps are whole seconds).
    static func logarithmicAge(_ time: Int64, wallNow: Int64) -> Int {
        let ageSeconds = wallNow - time
        guard ageSeconds > 0 else { return -1 }
        let (ageNanoseconds, overflow) = ageSeconds.multipliedReportingOverflow(by: 1_000_000_000)
        let age = overflow ? Int64.max : ageNanoseconds
        return Int64.bitWidth - 1 - age.leadingZeroBitCount
    }
}
