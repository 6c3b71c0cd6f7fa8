//! One node and the pods on it, with the sums the filters and scores read: requested
//! resources (as requested and with the non-zero defaults), the pod count, and which pods
//! carry inter-pod terms. Kept up to date pod by pod so no decision rescans the pods.

public struct NodeState: Sendable {
    /// Nil while pods bound to the node are known but the Node object is not (yet, or any
    /// more); such a node holds their resources but is never a candidate.
    public internal(set) var node: SchedulingNode?
    /// The pods on the node, assumed ones included, by `namespace/name`.
    public internal(set) var pods: [String: SchedulingPod] = [:]
    /// Invariant: the sum of `requests` over `pods`.
    public internal(set) var requested = ResourceAmounts()
    /// Invariant: the sum of `nonZeroRequests` over `pods`.
    public internal(set) var nonZeroRequested = ResourceAmounts()
    /// Keys of the pods that declare pod affinity or anti-affinity (scored against newcomers).
    var podsWithAffinity: Set<String> = []
    /// Keys of the pods with required anti-affinity (they can repel newcomers).
    var podsWithRequiredAntiAffinity: Set<String> = []

    init(node: SchedulingNode?) {
        self.node = node
    }

    public var podCount: Int { pods.count }

    mutating func add(_ pod: SchedulingPod) {
        precondition(pods[pod.key] == nil, "pod \(pod.key) is already on node \(node?.name ?? "<unknown>")")
        pods[pod.key] = pod
        requested.add(pod.requests)
        nonZeroRequested.add(pod.nonZeroRequests)
        if pod.podAffinity.declared { podsWithAffinity.insert(pod.key) }
        if !pod.podAffinity.requiredAntiAffinity.isEmpty { podsWithRequiredAntiAffinity.insert(pod.key) }
    }

    @discardableResult
    mutating func remove(podKey: String) -> SchedulingPod? {
        guard let pod = pods.removeValue(forKey: podKey) else { return nil }
        requested.subtract(pod.requests)
        nonZeroRequested.subtract(pod.nonZeroRequests)
        podsWithAffinity.remove(podKey)
        podsWithRequiredAntiAffinity.remove(podKey)
        precondition(requested.milliCPU >= 0 && requested.memory >= 0,
            "node \(node?.name ?? "<unknown>") requested went negative after removing \(podKey): \(requested)")
        return pod
    }

    /// The node as it would be without `podKeys` (the preemption dry run).
    func without(_ podKeys: [String]) -> NodeState {
        var copy = self
        for key in podKeys { copy.remove(podKey: key) }
        return copy
    }
}
