//! The cluster as the scheduler sees it: nodes, the pods bound to them, and the pods it has
//! bound itself but not yet seen bound in a watch ("assumed"), which count against capacity
//! so a burst of decisions cannot overcommit a node. Updated one watch event at a time.

import Base
import Wire

public struct SchedulerCache: Sendable {
    /// Every node by name, including placeholders for pods bound to unknown nodes.
    public private(set) var nodes: [String: NodeState] = [:]
    /// Where each cached pod is. Invariant: `nodes[podNodes[key]!]!.pods[key] != nil`.
    private var podNodes: [String: String] = [:]
    /// Pods placed by this scheduler and not yet confirmed by a watch, with their deadline
    /// (nil: they wait for confirmation forever, as Kubernetes' default).
    private var assumed: [String: Nanoseconds?] = [:]
    /// Namespace labels, for affinity terms with a namespace selector.
    private var namespaceLabels: [String: [String: String]] = [:]
    /// Names of nodes holding pods that declare pod affinity or anti-affinity.
    private(set) var nodesWithAffinityPods: Set<String> = []
    /// Names of nodes holding pods with required anti-affinity.
    private(set) var nodesWithRequiredAntiAffinityPods: Set<String> = []

    // Kubernetes' node tree: zones in the order first seen, each zone's nodes in the order
    // added; the scheduler walks them round-robin across zones.
    private var zoneOrder: [String] = []
    private var zoneNodes: [String: [String]] = [:]
    private var nodeZone: [String: String] = [:]
    private var orderedNodes: [String] = []
    private var orderedNodesValid = true

    /// How long an assumed pod may stay unconfirmed before it is dropped; nil never.
    public let assumedPodExpiry: Nanoseconds?

    public init(assumedPodExpiry: Nanoseconds? = nil) {
        precondition(assumedPodExpiry.map { $0 > 0 } ?? true, "assumedPodExpiry must be positive, not \(assumedPodExpiry!)")
        self.assumedPodExpiry = assumedPodExpiry
    }

    // MARK: - Nodes

    /// What a node event changed.
    public enum NodeChange: Sendable, Equatable {
        case added
        /// Something the filters or scores read changed (labels, taints, allocatable, cordon).
        case updated
        /// Only fields the scheduler ignores changed (heartbeats, conditions).
        case unchanged
    }

    /// Adds or replaces a node from its JSON; nil when the object has no name.
    @discardableResult
    public mutating func upsertNode(_ json: JSONValue) -> NodeChange? {
        guard let node = SchedulingNode(json: json) else { return nil }
        return upsertNode(node)
    }

    @discardableResult
    public mutating func upsertNode(_ node: SchedulingNode) -> NodeChange {
        let previous = nodes[node.name]?.node
        nodes[node.name, default: NodeState(node: nil)].node = node
        if previous?.zoneKey != node.zoneKey {
            if previous != nil { removeFromTree(node.name) }
            addToTree(node.name, zone: node.zoneKey)
        }
        guard let previous else { return .added }
        return previous == node ? .unchanged : .updated
    }

    /// Removes a node; its pods stay counted on a placeholder until they are deleted.
    public mutating func removeNode(name: String) {
        guard nodes[name]?.node != nil else { return }
        removeFromTree(name)
        nodes[name]?.node = nil
        if nodes[name]?.pods.isEmpty ?? false { nodes[name] = nil }
    }

    public func node(named name: String) -> NodeState? { nodes[name] }

    /// The names of the nodes with a Node object, in Kubernetes' node-tree order.
    public mutating func nodeNamesInOrder() -> [String] {
        if !orderedNodesValid {
            orderedNodes.removeAll(keepingCapacity: true)
            var position = 0
            var added = true
            while added {
                added = false
                for zone in zoneOrder {
                    guard let names = zoneNodes[zone], position < names.count else { continue }
                    orderedNodes.append(names[position])
                    added = true
                }
                position += 1
            }
            orderedNodesValid = true
        }
        return orderedNodes
    }

    private mutating func addToTree(_ name: String, zone: String) {
        if zoneNodes[zone] == nil { zoneOrder.append(zone) }
        zoneNodes[zone, default: []].append(name)
        nodeZone[name] = zone
        orderedNodesValid = false
    }

    private mutating func removeFromTree(_ name: String) {
        guard let zone = nodeZone.removeValue(forKey: name) else { return }
        zoneNodes[zone]?.removeAll { $0 == name }
        if zoneNodes[zone]?.isEmpty ?? false {
            zoneNodes[zone] = nil
            zoneOrder.removeAll { $0 == zone }
        }
        orderedNodesValid = false
    }

    // MARK: - Pods

    /// What a pod event did to the cache.
    public enum PodChange: Sendable, Equatable {
        /// The pod is now counted on `node` (newly, or confirming an assumed placement).
        case placed(node: String)
        /// A placed pod changed (its labels, say) and stays on `node`.
        case updated(node: String)
        /// The pod no longer counts (finished, or it lost its node).
        case removed(node: String)
        /// Not a placed pod, nor one before: nothing to do.
        case ignored
    }

    /// Records a pod from a watch event: a pod with a node that has not finished is counted
    /// there (confirming it if it was assumed); any other pod is dropped from the cache.
    @discardableResult
    public mutating func upsertPod(_ json: JSONValue) -> PodChange {
        guard let pod = SchedulingPod(json: json) else { return .ignored }
        return upsertPod(pod)
    }

    @discardableResult
    public mutating func upsertPod(_ pod: SchedulingPod) -> PodChange {
        let wasAssumed = assumed.removeValue(forKey: pod.key) != nil
        let previousNode = podNodes[pod.key]
        guard !pod.nodeName.isEmpty, !pod.isTerminal else {
            guard let previousNode else { return .ignored }
            removeCached(pod.key)
            return .removed(node: previousNode)
        }
        if previousNode != nil { removeCached(pod.key) }
        addCached(pod, node: pod.nodeName)
        return previousNode == pod.nodeName && !wasAssumed ? .updated(node: pod.nodeName) : .placed(node: pod.nodeName)
    }

    /// Drops a deleted pod (assumed or not); returns it and its node when it was counted.
    @discardableResult
    public mutating func removePod(namespace: String, name: String) -> (pod: SchedulingPod, node: String)? {
        let key = namespace + "/" + name
        assumed[key] = nil
        guard let node = podNodes[key], let pod = removeCached(key) else { return nil }
        return (pod, node)
    }

    public func pod(namespace: String, name: String) -> SchedulingPod? {
        let key = namespace + "/" + name
        return podNodes[key].flatMap { nodes[$0]?.pods[key] }
    }

    public var podCount: Int { podNodes.count }
    public var assumedPodCount: Int { assumed.count }

    public func isAssumed(namespace: String, name: String) -> Bool { assumed[namespace + "/" + name] != nil }

    // MARK: - Assumed pods

    /// Counts `pod` on `node` before the binding is confirmed, so the next decisions see the
    /// capacity it takes. The pod must not be cached already.
    public mutating func assume(pod: SchedulingPod, node: String, now: Nanoseconds) {
        precondition(podNodes[pod.key] == nil, "assuming \(pod.key) on \(node) but it is already cached on \(podNodes[pod.key]!)")
        var placed = pod
        placed.nodeName = node
        addCached(placed, node: node)
        // `.some`: a nil deadline is a value here, not a removal.
        assumed[pod.key] = .some(assumedPodExpiry.map { now + $0 })
    }

    /// Undoes `assume` after a failed binding; a pod that is not assumed is left alone.
    public mutating func forget(namespace: String, name: String) {
        let key = namespace + "/" + name
        guard assumed.removeValue(forKey: key) != nil else { return }
        removeCached(key)
    }

    /// Drops assumed pods past their deadline (a binding whose confirmation never came);
    /// returns their keys, sorted.
    public mutating func expireAssumedPods(now: Nanoseconds) -> [String] {
        guard assumedPodExpiry != nil else { return [] }
        let expired = assumed.compactMap { key, deadline in deadline.map { $0 <= now } ?? false ? key : nil }.sorted()
        for key in expired {
            assumed[key] = nil
            removeCached(key)
        }
        return expired
    }

    // MARK: - Namespaces

    public mutating func upsertNamespace(_ json: JSONValue) {
        guard let name = json.stringMember("metadata", "name") else { return }
        var labels: [String: String] = [:]
        for (key, value) in json.member("metadata", "labels")?.stringPairs ?? [] { labels[key] = value }
        namespaceLabels[name] = labels
    }

    public mutating func removeNamespace(name: String) { namespaceLabels[name] = nil }

    public func labels(ofNamespace name: String) -> [String: String] { namespaceLabels[name] ?? [:] }

    // MARK: - Bookkeeping

    private mutating func addCached(_ pod: SchedulingPod, node name: String) {
        nodes[name, default: NodeState(node: nil)].add(pod)
        podNodes[pod.key] = name
        refreshAffinityIndex(name)
    }

    @discardableResult
    private mutating func removeCached(_ key: String) -> SchedulingPod? {
        guard let name = podNodes.removeValue(forKey: key) else { return nil }
        let pod = nodes[name]?.remove(podKey: key)
        precondition(pod != nil, "pod \(key) indexed on node \(name) but not held there")
        if let state = nodes[name], state.node == nil, state.pods.isEmpty { nodes[name] = nil }
        refreshAffinityIndex(name)
        return pod
    }

    private mutating func refreshAffinityIndex(_ name: String) {
        let state = nodes[name]
        if state?.podsWithAffinity.isEmpty ?? true { nodesWithAffinityPods.remove(name) } else { nodesWithAffinityPods.insert(name) }
        if state?.podsWithRequiredAntiAffinity.isEmpty ?? true {
            nodesWithRequiredAntiAffinityPods.remove(name)
        } else {
            nodesWithRequiredAntiAffinityPods.insert(name)
        }
    }
}
