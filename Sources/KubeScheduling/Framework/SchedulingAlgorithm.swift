//! One scheduling attempt (Kubernetes' `schedulePod`): filter the nodes in node-tree order
//! from where the last attempt stopped until enough feasible ones are found, score them,
//! pick the best (a seeded draw among ties), or explain the failure including what
//! preemption would have found.

import Base

struct SchedulingAlgorithm {
    /// Where the next attempt starts its walk over the nodes (Kubernetes'
    /// `nextStartNodeIndex`), so successive pods see different nodes first.
    var nextStartNodeIndex = 0

    mutating func schedule(
        _ pod: SchedulingPod, cache: inout SchedulerCache, configuration: SchedulerConfiguration, random: inout SeededRandom
    ) -> SchedulingDecision {
        let names = cache.nodeNamesInOrder()
        guard !names.isEmpty else {
            return .unschedulable(
                SchedulingFailure(
                    message: FilterReason.noNodesAvailable, nodeCount: 0, rejections: [:], rejectingPlugins: [], preemptionCandidates: []))
        }
        let namespaceLabels = cache.labels(ofNamespace: pod.namespace)
        let context = FilterContext(
            pod: pod, namespaceLabels: namespaceLabels,
            interPodAffinity: InterPodAffinityState(pod: pod, namespaceLabels: namespaceLabels, cache: cache))
        let wanted = configuration.feasibleNodesToFind(nodeCount: names.count)
        var feasible: [NodeState] = []
        feasible.reserveCapacity(min(wanted, names.count))
        var rejections: [String: FilterRejection] = [:]
        var processed = 0
        let start = nextStartNodeIndex % names.count
        for offset in 0..<names.count {
            let name = names[(start + offset) % names.count]
            guard let state = cache.nodes[name] else { preconditionFailure("node \(name) is ordered but not cached") }
            processed += 1
            if let rejection = context.rejection(of: state) {
                rejections[name] = rejection
            } else {
                feasible.append(state)
                if feasible.count >= wanted { break }
            }
        }
        nextStartNodeIndex = (start + processed) % names.count
        if feasible.isEmpty {
            return .unschedulable(failure(pod, rejections: rejections, nodeCount: names.count, context: context, cache: cache))
        }
        if feasible.count == 1 { return .bind(node: feasible[0].node!.name, scores: []) }
        let scores = Scores.score(pod, nodes: feasible, cache: cache, configuration: configuration, namespaceLabels: namespaceLabels)
        return .bind(node: scores[Self.selectHost(scores, random: &random)].node, scores: scores)
    }

    /// The index of a best-scoring node, each of the tied best equally likely (reservoir
    /// sampling over the list, as Kubernetes' `selectHost`).
    static func selectHost(_ scores: [NodeScore], random: inout SeededRandom) -> Int {
        precondition(!scores.isEmpty, "selecting a host among no scored nodes")
        var selected = 0
        var tied = 1
        for index in scores.indices.dropFirst() {
            if scores[index].total > scores[selected].total {
                selected = index
                tied = 1
            } else if scores[index].total == scores[selected].total {
                tied += 1
                if random.int(in: 0...(tied - 1)) == 0 { selected = index }
            }
        }
        return selected
    }

    // MARK: - Failure and the preemption dry run

    private func failure(
        _ pod: SchedulingPod, rejections: [String: FilterRejection], nodeCount: Int, context: FilterContext, cache: SchedulerCache
    ) -> SchedulingFailure {
        precondition(rejections.count == nodeCount, "\(rejections.count) rejections for \(nodeCount) nodes with none feasible")
        let filterMessage = FailureMessage.fit(nodeCount: nodeCount, reasonsPerNode: rejections.values.map(\.reasons))
        let (preemptionMessage, candidates) = Self.preemption(pod, rejections: rejections, nodeCount: nodeCount, context: context, cache: cache)
        return SchedulingFailure(
            message: preemptionMessage.isEmpty ? filterMessage : filterMessage + " " + preemptionMessage, nodeCount: nodeCount,
            rejections: rejections, rejectingPlugins: Set(rejections.values.map(\.plugin)), preemptionCandidates: candidates)
    }

    /// What DefaultPreemption's PostFilter reports: nodes where evicting every lower-priority
    /// pod would let the pod pass the filters are candidates; otherwise the message says, per
    /// node, why preemption cannot help. An empty message when there are candidates.
    static func preemption(
        _ pod: SchedulingPod, rejections: [String: FilterRejection], nodeCount: Int, context: FilterContext, cache: SchedulerCache
    ) -> (message: String, candidates: [String]) {
        if pod.preemptionPolicy == "Never" { return ("preemption: not eligible due to preemptionPolicy=Never.", []) }
        var reasonsPerNode: [[String]] = []
        var candidates: [String] = []
        for (name, rejection) in rejections.sorted(by: { $0.key < $1.key }) where rejection.resolvableByPreemption {
            guard let state = cache.nodes[name], let node = state.node else { continue }
            let victims = state.pods.values.filter { $0.priority < pod.priority }
            guard !victims.isEmpty else {
                reasonsPerNode.append([FilterReason.noPreemptionVictims])
                continue
            }
            var trial = context
            for victim in victims {
                trial.interPodAffinity.remove(
                    victim, on: node, incoming: pod, incomingNamespaceLabels: context.namespaceLabels,
                    existingNamespaceLabels: cache.labels(ofNamespace: victim.namespace))
            }
            if let remaining = trial.rejection(of: state.without(victims.map(\.key))) {
                reasonsPerNode.append(remaining.reasons)
            } else {
                candidates.append(name)
            }
        }
        guard candidates.isEmpty else { return ("", candidates) }
        let message = FailureMessage.fit(
            nodeCount: nodeCount, reasonsPerNode: reasonsPerNode, absentReason: FilterReason.preemptionNotHelpful,
            absentCount: nodeCount - reasonsPerNode.count)
        return ("preemption: " + message, [])
    }
}
