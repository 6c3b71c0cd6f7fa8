//! What the InterPodAffinity filter precomputes once per decision (Kubernetes' PreFilter):
//! per topology pair (`zone=a`, `kubernetes.io/hostname=node-1`), how many existing pods
//! match the incoming pod's affinity terms, its anti-affinity terms, and how many existing
//! pods' anti-affinity terms match the incoming pod.

/// A topology domain: a label key and one of its values.
struct TopologyPair: Hashable, Sendable {
    var key: String
    var value: String
}

struct InterPodAffinityState: Sendable {
    /// Pods matching all of the incoming pod's required affinity terms, per domain.
    var affinityCounts: [TopologyPair: Int64] = [:]
    /// Pods matching some required anti-affinity term of the incoming pod, per term domain.
    var antiAffinityCounts: [TopologyPair: Int64] = [:]
    /// Existing pods whose required anti-affinity terms match the incoming pod, per domain.
    var existingAntiAffinityCounts: [TopologyPair: Int64] = [:]

    /// No counts: for checking the other filters alone.
    init() {}

    /// Counts over the cache for `pod`, whose namespace has `namespaceLabels`.
    init(pod: SchedulingPod, namespaceLabels: [String: String], cache: SchedulerCache) {
        for name in cache.nodesWithRequiredAntiAffinityPods {
            guard let state = cache.nodes[name], let node = state.node else { continue }
            for key in state.podsWithRequiredAntiAffinity {
                guard let existing = state.pods[key] else { continue }
                countExistingAntiAffinity(of: existing, on: node, against: pod, namespaceLabels: namespaceLabels, by: 1)
            }
        }
        guard pod.podAffinity.hasRequired else { return }
        for state in cache.nodes.values {
            guard let node = state.node else { continue }
            for existing in state.pods.values {
                countIncomingTerms(of: pod, matching: existing, on: node, namespaceLabels: cache.labels(ofNamespace: existing.namespace), by: 1)
            }
        }
    }

    /// Whether no existing pod constrains the incoming one and it has no required terms.
    func isTrivial(for pod: SchedulingPod) -> Bool { existingAntiAffinityCounts.isEmpty && !pod.podAffinity.hasRequired }

    /// Takes `existing` (on `node`) out of the counts, as if it were evicted.
    mutating func remove(
        _ existing: SchedulingPod, on node: SchedulingNode, incoming pod: SchedulingPod, incomingNamespaceLabels: [String: String],
        existingNamespaceLabels: [String: String]
    ) {
        countExistingAntiAffinity(of: existing, on: node, against: pod, namespaceLabels: incomingNamespaceLabels, by: -1)
        countIncomingTerms(of: pod, matching: existing, on: node, namespaceLabels: existingNamespaceLabels, by: -1)
    }

    private mutating func countExistingAntiAffinity(
        of existing: SchedulingPod, on node: SchedulingNode, against pod: SchedulingPod, namespaceLabels: [String: String], by delta: Int64
    ) {
        for term in existing.podAffinity.requiredAntiAffinity where term.matches(pod, namespaceLabels: namespaceLabels) {
            guard let value = node.labels[term.topologyKey] else { continue }
            Self.bump(&existingAntiAffinityCounts, TopologyPair(key: term.topologyKey, value: value), by: delta)
        }
    }

    private mutating func countIncomingTerms(
        of pod: SchedulingPod, matching existing: SchedulingPod, on node: SchedulingNode, namespaceLabels: [String: String], by delta: Int64
    ) {
        let affinity = pod.podAffinity.requiredAffinity
        if !affinity.isEmpty, affinity.allSatisfy({ $0.matches(existing, namespaceLabels: namespaceLabels) }) {
            for term in affinity {
                guard let value = node.labels[term.topologyKey] else { continue }
                Self.bump(&affinityCounts, TopologyPair(key: term.topologyKey, value: value), by: delta)
            }
        }
        for term in pod.podAffinity.requiredAntiAffinity where term.matches(existing, namespaceLabels: namespaceLabels) {
            guard let value = node.labels[term.topologyKey] else { continue }
            Self.bump(&antiAffinityCounts, TopologyPair(key: term.topologyKey, value: value), by: delta)
        }
    }

    private static func bump(_ counts: inout [TopologyPair: Int64], _ pair: TopologyPair, by delta: Int64) {
        let count = counts[pair, default: 0] + delta
        counts[pair] = count == 0 ? nil : count
    }
}
