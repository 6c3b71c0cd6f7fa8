//! The filters of the default profile: each looks at one node for the pod being scheduled
//! and either lets it pass or turns it down with Kubernetes' reason text.

import KubeAPI

/// What every filter of one decision shares: the pod and what was precomputed for it.
struct FilterContext: Sendable {
    var pod: SchedulingPod
    /// The labels of the pod's namespace.
    var namespaceLabels: [String: String]
    var interPodAffinity: InterPodAffinityState

    /// The first rejection of `state` by the filters in the profile's order, or nil when the
    /// node can take the pod.
    func rejection(of state: NodeState) -> FilterRejection? {
        guard let node = state.node else { preconditionFailure("filtering placeholder node without a Node object") }
        if let rejection = Filters.nodeUnschedulable(pod, node) { return rejection }
        if let rejection = Filters.nodeName(pod, node) { return rejection }
        if let rejection = Filters.taintToleration(pod, node) { return rejection }
        if let rejection = Filters.nodeAffinity(pod, node) { return rejection }
        if let rejection = Filters.nodeResourcesFit(pod, state) { return rejection }
        return Filters.interPodAffinity(pod, node, interPodAffinity, namespaceLabels: namespaceLabels)
    }
}

enum Filters {
    static let unschedulableTaint = Taint(key: Taint.unschedulableKey, effect: .noSchedule)

    /// NodeUnschedulable: a cordoned node takes only pods tolerating its unschedulable taint.
    static func nodeUnschedulable(_ pod: SchedulingPod, _ node: SchedulingNode) -> FilterRejection? {
        guard node.unschedulable, !pod.tolerations.tolerate(unschedulableTaint) else { return nil }
        return FilterRejection(plugin: .nodeUnschedulable, resolvableByPreemption: false, reasons: [FilterReason.unschedulable])
    }

    /// NodeName: a pod naming a node fits only there.
    static func nodeName(_ pod: SchedulingPod, _ node: SchedulingNode) -> FilterRejection? {
        guard !pod.nodeName.isEmpty, pod.nodeName != node.name else { return nil }
        return FilterRejection(plugin: .nodeName, resolvableByPreemption: false, reasons: [FilterReason.nodeNameMismatch])
    }

    /// TaintToleration: the node's first NoSchedule or NoExecute taint the pod does not
    /// tolerate turns it down.
    static func taintToleration(_ pod: SchedulingPod, _ node: SchedulingNode) -> FilterRejection? {
        for taint in node.taints where taint.effect != .preferNoSchedule && !pod.tolerations.tolerate(taint) {
            return FilterRejection(plugin: .taintToleration, resolvableByPreemption: false, reasons: [FilterReason.untoleratedTaint(taint)])
        }
        return nil
    }

    /// NodeAffinity: `nodeSelector` and the required node affinity terms.
    static func nodeAffinity(_ pod: SchedulingPod, _ node: SchedulingNode) -> FilterRejection? {
        guard !pod.placement.requiredMatch(node) else { return nil }
        return FilterRejection(plugin: .nodeAffinity, resolvableByPreemption: false, reasons: [FilterReason.nodeAffinityMismatch])
    }

    /// NodeResourcesFit: the pod count, then each requested resource against what is left of
    /// the node's allocatable. A pod that requests nothing is checked for the pod count only.
    static func nodeResourcesFit(_ pod: SchedulingPod, _ state: NodeState) -> FilterRejection? {
        guard let node = state.node else { return nil }
        var reasons: [String] = []
        if Int64(state.podCount) + 1 > node.allowedPodCount { reasons.append(FilterReason.tooManyPods) }
        let request = pod.requests
        if !request.isZero {
            let allocatable = node.allocatable
            let requested = state.requested
            if request.milliCPU > 0 && request.milliCPU > allocatable.milliCPU - requested.milliCPU {
                reasons.append(FilterReason.insufficient("cpu"))
            }
            if request.memory > 0 && request.memory > allocatable.memory - requested.memory {
                reasons.append(FilterReason.insufficient("memory"))
            }
            if request.ephemeralStorage > 0 && request.ephemeralStorage > allocatable.ephemeralStorage - requested.ephemeralStorage {
                reasons.append(FilterReason.insufficient("ephemeral-storage"))
            }
            for (name, amount) in request.scalar.sorted(by: { $0.key < $1.key }) where amount > 0 {
                if amount > allocatable.scalar[name, default: 0] - requested.scalar[name, default: 0] {
                    reasons.append(FilterReason.insufficient(name))
                }
            }
        }
        guard !reasons.isEmpty else { return nil }
        return FilterRejection(plugin: .nodeResourcesFit, resolvableByPreemption: true, reasons: reasons)
    }

    /// InterPodAffinity: the pod's required affinity (some matching pod in the node's domain
    /// of every term, unless no pod anywhere matches and the pod matches its own terms), its
    /// required anti-affinity (no matching pod in the domain), and existing pods'
    /// anti-affinity against it.
    static func interPodAffinity(
        _ pod: SchedulingPod, _ node: SchedulingNode, _ state: InterPodAffinityState, namespaceLabels: [String: String]
    ) -> FilterRejection? {
        if !satisfiesAffinity(pod, node, state, namespaceLabels: namespaceLabels) {
            return FilterRejection(plugin: .interPodAffinity, resolvableByPreemption: false, reasons: [FilterReason.podAffinityMismatch])
        }
        for term in pod.podAffinity.requiredAntiAffinity {
            guard let value = node.labels[term.topologyKey] else { continue }
            if state.antiAffinityCounts[TopologyPair(key: term.topologyKey, value: value), default: 0] > 0 {
                return FilterRejection(plugin: .interPodAffinity, resolvableByPreemption: true, reasons: [FilterReason.podAntiAffinityMismatch])
            }
        }
        if !state.existingAntiAffinityCounts.isEmpty {
            for (key, value) in node.labels where state.existingAntiAffinityCounts[TopologyPair(key: key, value: value), default: 0] > 0 {
                return FilterRejection(
                    plugin: .interPodAffinity, resolvableByPreemption: true, reasons: [FilterReason.existingAntiAffinityMismatch])
            }
        }
        return nil
    }

    private static func satisfiesAffinity(
        _ pod: SchedulingPod, _ node: SchedulingNode, _ state: InterPodAffinityState, namespaceLabels: [String: String]
    ) -> Bool {
        var matchingPodsExist = true
        for term in pod.podAffinity.requiredAffinity {
            // Every topology label must exist on the node.
            guard let value = node.labels[term.topologyKey] else { return false }
            if state.affinityCounts[TopologyPair(key: term.topologyKey, value: value), default: 0] <= 0 { matchingPodsExist = false }
        }
        if matchingPodsExist { return true }
        // The first pod of a group with affinity to itself may go anywhere its topology exists.
        let matchesOwnTerms = pod.podAffinity.requiredAffinity.allSatisfy { $0.matches(pod, namespaceLabels: namespaceLabels) }
        return state.affinityCounts.isEmpty && matchesOwnTerms
    }
}
