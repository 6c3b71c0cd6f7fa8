//! The scores of the default profile for the nodes that passed the filters: each plugin
//! gives every node 0-100 (after its own normalisation), and a node's total is the sum of the
//! scores times the plugins' weights, as Kubernetes adds them.

/// One plugin's score for one node, after normalisation (before the weight).
public struct PluginScore: Sendable, Equatable {
    public var plugin: SchedulerPlugin
    public var score: Int64
}

/// A feasible node's scores, for debugging a placement.
public struct NodeScore: Sendable, Equatable {
    public var node: String
    /// The weighted sum the scheduler compares.
    public var total: Int64
    public var plugins: [PluginScore]
}

enum Scores {
    static let maxNodeScore: Int64 = 100

    /// Scores `nodes` (all feasible) for `pod`. Plugins Kubernetes would skip for this pod
    /// (no preferred node affinity; no inter-pod terms anywhere) are left out.
    static func score(
        _ pod: SchedulingPod, nodes: [NodeState], cache: SchedulerCache, configuration: SchedulerConfiguration,
        namespaceLabels: [String: String]
    ) -> [NodeScore] {
        var perPlugin: [(SchedulerPlugin, [Int64])] = []
        perPlugin.append((.nodeResourcesFit, nodes.map { resourceFit(pod, $0, configuration) }))
        perPlugin.append((.nodeResourcesBalancedAllocation, nodes.map { balancedAllocation(pod, $0) }))
        if !pod.placement.preferredTerms.isEmpty {
            let raw = nodes.map { pod.placement.preferredWeight($0.node!) }
            perPlugin.append((.nodeAffinity, normalize(raw, reverse: false)))
        }
        let preferNoScheduleTolerations = pod.tolerations.filter { $0.effect == nil || $0.effect == .preferNoSchedule }
        let taintCounts = nodes.map { state in
            state.node!.taints.reduce(Int64(0)) { count, taint in
                taint.effect == .preferNoSchedule && !preferNoScheduleTolerations.tolerate(taint) ? count + 1 : count
            }
        }
        perPlugin.append((.taintToleration, normalize(taintCounts, reverse: true)))
        if let topologyScores = interPodTopologyScores(pod, cache: cache, configuration: configuration, namespaceLabels: namespaceLabels) {
            let raw = nodes.map { state in
                state.node!.labels.reduce(Int64(0)) { sum, label in sum + (topologyScores[label.key]?[label.value] ?? 0) }
            }
            perPlugin.append((.interPodAffinity, normalizeMinMax(raw)))
        }
        return nodes.indices.map { index in
            let plugins = perPlugin.map { PluginScore(plugin: $0.0, score: $0.1[index]) }
            let total = plugins.reduce(Int64(0)) { $0 + $1.score * $1.plugin.scoreWeight }
            return NodeScore(node: nodes[index].node!.name, total: total, plugins: plugins)
        }
    }

    // MARK: - NodeResourcesFit

    /// LeastAllocated or MostAllocated over the configured resources, with the non-zero
    /// defaults for pods that request no CPU or memory, as Kubernetes scores.
    static func resourceFit(_ pod: SchedulingPod, _ state: NodeState, _ configuration: SchedulerConfiguration) -> Int64 {
        var weighted: Int64 = 0
        var weightSum: Int64 = 0
        for resource in configuration.scoringResources {
            let (allocatable, requested) = amounts(resource.name, pod: pod, state: state, nonZero: true)
            guard allocatable > 0 else { continue }
            let score: Int64
            switch configuration.scoringStrategy {
            case .leastAllocated:
                score = requested > allocatable ? 0 : (allocatable - requested) * maxNodeScore / allocatable
            case .mostAllocated:
                score = min(requested, allocatable) * maxNodeScore / allocatable
            }
            weighted += score * resource.weight
            weightSum += resource.weight
        }
        return weightSum == 0 ? 0 : weighted / weightSum
    }

    /// NodeResourcesBalancedAllocation: 100 times one minus the spread of the CPU and memory
    /// fractions the node would have with the pod (its requests as written).
    static func balancedAllocation(_ pod: SchedulingPod, _ state: NodeState) -> Int64 {
        var fractions: [Double] = []
        for name in ["cpu", "memory"] {
            let (allocatable, requested) = amounts(name, pod: pod, state: state, nonZero: false)
            guard allocatable > 0 else { continue }
            fractions.append(min(1, Double(requested) / Double(allocatable)))
        }
        var deviation = 0.0
        if fractions.count == 2 {
            deviation = abs((fractions[0] - fractions[1]) / 2)
        } else if fractions.count > 2 {
            let mean = fractions.reduce(0, +) / Double(fractions.count)
            deviation = (fractions.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(fractions.count)).squareRoot()
        }
        return Int64((1 - deviation) * Double(maxNodeScore))
    }

    /// A node's allocatable amount of `resource` and what it would have requested with the pod.
    private static func amounts(_ resource: String, pod: SchedulingPod, state: NodeState, nonZero: Bool) -> (Int64, Int64) {
        let node = state.node!
        let onNode = nonZero ? state.nonZeroRequested : state.requested
        let ofPod = nonZero ? pod.nonZeroRequests : pod.requests
        switch resource {
        case "cpu": return (node.allocatable.milliCPU, onNode.milliCPU + ofPod.milliCPU)
        case "memory": return (node.allocatable.memory, onNode.memory + ofPod.memory)
        case "ephemeral-storage":
            return (node.allocatable.ephemeralStorage, state.requested.ephemeralStorage + pod.requests.ephemeralStorage)
        default:
            // An extended resource the pod does not request is left out of the score.
            let podAmount = pod.requests.scalar[resource, default: 0]
            guard podAmount > 0 else { return (0, 0) }
            return (node.allocatable.scalar[resource, default: 0], state.requested.scalar[resource, default: 0] + podAmount)
        }
    }

    // MARK: - Normalisation

    /// Kubernetes' `DefaultNormalizeScore`: scale to 0-100 by the largest, reversed on request.
    static func normalize(_ scores: [Int64], reverse: Bool) -> [Int64] {
        let largest = scores.max() ?? 0
        guard largest > 0 else { return scores.map { _ in reverse ? maxNodeScore : 0 } }
        return scores.map { score in
            let scaled = maxNodeScore * score / largest
            return reverse ? maxNodeScore - scaled : scaled
        }
    }

    /// InterPodAffinity's normalisation: min-max to 0-100.
    static func normalizeMinMax(_ scores: [Int64]) -> [Int64] {
        guard let low = scores.min(), let high = scores.max(), high > low else { return scores.map { _ in 0 } }
        return scores.map { Int64(Double(maxNodeScore) * Double($0 - low) / Double(high - low)) }
    }

    // MARK: - InterPodAffinity

    /// Per topology key and value, the weights the preferred terms (the incoming pod's, and
    /// existing pods' preferred and required terms about it) add; nil when no term applies,
    /// in which case Kubernetes skips the plugin.
    static func interPodTopologyScores(
        _ pod: SchedulingPod, cache: SchedulerCache, configuration: SchedulerConfiguration, namespaceLabels: [String: String]
    ) -> [String: [String: Int64]]? {
        let hasPreferred = pod.podAffinity.hasPreferred
        guard hasPreferred || !cache.nodesWithAffinityPods.isEmpty else { return nil }
        var scores: [String: [String: Int64]] = [:]
        var touched = false
        func add(_ term: PodAffinityTerm, _ weight: Int64, on node: SchedulingNode) {
            guard let value = node.labels[term.topologyKey] else { return }
            scores[term.topologyKey, default: [:]][value, default: 0] += weight
            touched = true
        }
        let nodeNames = hasPreferred ? Array(cache.nodes.keys) : Array(cache.nodesWithAffinityPods)
        for name in nodeNames {
            guard let state = cache.nodes[name], let node = state.node, !node.labels.isEmpty else { continue }
            let keys = hasPreferred ? Array(state.pods.keys) : Array(state.podsWithAffinity)
            for key in keys {
                guard let existing = state.pods[key] else { continue }
                let existingLabels = cache.labels(ofNamespace: existing.namespace)
                for preferred in pod.podAffinity.preferredAffinity where preferred.term.matches(existing, namespaceLabels: existingLabels) {
                    add(preferred.term, preferred.weight, on: node)
                }
                for preferred in pod.podAffinity.preferredAntiAffinity where preferred.term.matches(existing, namespaceLabels: existingLabels) {
                    add(preferred.term, -preferred.weight, on: node)
                }
                if configuration.hardPodAffinityWeight > 0 {
                    for term in existing.podAffinity.requiredAffinity where term.matches(pod, namespaceLabels: namespaceLabels) {
                        add(term, configuration.hardPodAffinityWeight, on: node)
                    }
                }
                for preferred in existing.podAffinity.preferredAffinity where preferred.term.matches(pod, namespaceLabels: namespaceLabels) {
                    add(preferred.term, preferred.weight, on: node)
                }
                for preferred in existing.podAffinity.preferredAntiAffinity where preferred.term.matches(pod, namespaceLabels: namespaceLabels) {
                    add(preferred.term, -preferred.weight, on: node)
                }
            }
        }
        return touched ? scores : nil
    }
}
