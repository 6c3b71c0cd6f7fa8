//! Test fixtures for the node-lifecycle and taint-eviction controllers: builders for Node, Lease
//! and Pod JSON, and a small in-memory cluster that applies the controllers' actions the way the
//! apiserver would (resourceVersion checks included), with kubelets that renew their leases on
//! their own, possibly skewed, clocks.

import Base
import KubeAPI
import KubeControllers
import Wire

enum Fixture {
    /// The wall clock at monotonic zero: 2025-06-15T15:06:40Z.
    static let wallStart: Int64 = 1_750_000_000

    static func node(
        _ name: String, zone: String? = "a", region: String? = "r", ready: String? = "True", heartbeat: Int64 = wallStart,
        transition: Int64 = wallStart, taints: [Taint] = [], labels: [String: String] = [:], created: Int64 = wallStart - 3600
    ) -> JSONValue {
        var labelObject = JSONObject()
        if let zone { labelObject["topology.kubernetes.io/zone"] = .string(zone) }
        if let region { labelObject["topology.kubernetes.io/region"] = .string(region) }
        for (key, value) in labels.sorted(by: { $0.key < $1.key }) { labelObject[key] = .string(value) }
        var conditions: [JSONValue] = []
        if let ready {
            for (type, status) in [("Ready", ready), ("MemoryPressure", "False"), ("DiskPressure", "False"), ("PIDPressure", "False")] {
                conditions.append(.object([
                    "type": .string(type), "status": .string(status),
                    "lastHeartbeatTime": .string(KubeTime.format(heartbeat)),
                    "lastTransitionTime": .string(KubeTime.format(transition)),
                ]))
            }
        }
        var node: JSONValue = .object([
            "apiVersion": .string("v1"), "kind": .string("Node"),
            "metadata": .object([
                "name": .string(name), "uid": .string("uid-\(name)"), "resourceVersion": .string("1"),
                "creationTimestamp": .string(KubeTime.format(created)), "labels": .object(labelObject),
            ]),
            "spec": .object([:]),
            "status": .object(["conditions": .array(conditions)]),
        ])
        if !taints.isEmpty { node.set("spec.taints", .array(taints.map(\.json))) }
        return node
    }

    /// A lease renewed at `renewMicros` (microseconds since the epoch, MicroTime precision).
    static func lease(_ name: String, renewMicros: Int64) -> JSONValue {
        .object([
            "metadata": .object(["name": .string(name), "namespace": .string("kube-node-lease"), "resourceVersion": .string("1")]),
            "spec": .object(["holderIdentity": .string(name), "leaseDurationSeconds": .integer(40),
                "renewTime": .string(microTime(renewMicros))]),
        ])
    }

    static func microTime(_ micros: Int64) -> String {
        let seconds = micros / 1_000_000
        let fraction = String(micros % 1_000_000)
        let text = KubeTime.format(seconds)
        return String(text.dropLast()) + "." + String(repeating: "0", count: 6 - fraction.count) + fraction + "Z"
    }

    /// The tolerations the DefaultTolerationSeconds admission plugin gives every pod.
    static let defaultTolerations: [JSONValue] = [
        .object(["key": .string("node.kubernetes.io/not-ready"), "operator": .string("Exists"),
            "effect": .string("NoExecute"), "tolerationSeconds": .integer(300)]),
        .object(["key": .string("node.kubernetes.io/unreachable"), "operator": .string("Exists"),
            "effect": .string("NoExecute"), "tolerationSeconds": .integer(300)]),
    ]

    static func pod(_ name: String, node: String?, ready: String? = "True", tolerations: [JSONValue] = defaultTolerations,
        namespace: String = "default") -> JSONValue
    {
        var pod: JSONValue = .object([
            "metadata": .object(["name": .string(name), "namespace": .string(namespace), "uid": .string("uid-\(name)"),
                "resourceVersion": .string("1")]),
            "spec": .object(["tolerations": .array(tolerations)]),
            "status": .object(["phase": .string("Running")]),
        ])
        if let node { pod.set("spec.nodeName", .string(node)) }
        if let ready {
            pod.set("status.conditions", .array([.object(["type": .string("Ready"), "status": .string(ready),
                "lastTransitionTime": .string(KubeTime.format(wallStart - 60))])]))
        }
        return pod
    }
}

/// Nodes, leases and pods as the apiserver holds them, changed by the controllers' actions.
struct FakeCluster {
    var nodes: [String: JSONValue] = [:]
    var leases: [String: JSONValue] = [:]
    var pods: [String: JSONValue] = [:]
    var events: [(involved: String, type: String, reason: String, message: String)] = []
    var deleted: [String] = []
    var conflicts = 0
    private var revision: Int64 = 100

    var nodeList: [JSONValue] { nodes.keys.sorted().map { nodes[$0]! } }
    var leaseList: [JSONValue] { leases.keys.sorted().map { leases[$0]! } }
    var podList: [JSONValue] { pods.keys.sorted().map { pods[$0]! } }

    mutating func add(node: JSONValue) { nodes[node.stringMember("metadata", "name")!] = node }
    mutating func add(pod: JSONValue) {
        pods["\(pod.stringMember("metadata", "namespace")!)/\(pod.stringMember("metadata", "name")!)"] = pod
    }

    /// A kubelet's write of its own node (new heartbeat, conditions): bumps the version.
    mutating func replace(node: JSONValue) {
        var node = node
        node.set("metadata.resourceVersion", .string(nextRevision()))
        add(node: node)
    }

    mutating func renewLease(_ name: String, renewMicros: Int64) { leases[name] = Fixture.lease(name, renewMicros: renewMicros) }

    /// Applies actions in order, as the shell would send them; stale writes count as conflicts.
    mutating func apply(_ actions: [ObjectAction]) {
        for action in actions {
            switch action {
            case .update(let reference, let object, _):
                write(reference) { current in
                    guard current.stringMember("metadata", "resourceVersion") == object.stringMember("metadata", "resourceVersion") else { return nil }
                    var next = current
                    next.set("status", object.member("status"))
                    return next
                }
            case .mergePatch(let reference, let patch, _):
                write(reference) { current in
                    if let expected = patch.stringMember("metadata", "resourceVersion"),
                        expected != current.stringMember("metadata", "resourceVersion") { return nil }
                    return MergePatch.apply(patch, to: current)
                }
            case .delete(let reference, _, _, _):
                deleted.append(reference.description)
                if reference.resource.plural == "pods" { pods["\(reference.namespace!)/\(reference.name)"] = nil }
            case .event(let involved, let type, let reason, let message):
                events.append((involved.description, type, reason, message))
            case .create, .bind:
                break
            }
        }
    }

    private mutating func write(_ reference: ObjectReference, _ change: (JSONValue) -> JSONValue?) {
        let isNode = reference.resource.plural == "nodes"
        let key = isNode ? reference.name : "\(reference.namespace!)/\(reference.name)"
        guard let current = isNode ? nodes[key] : pods[key] else { return }
        guard var next = change(current) else {
            conflicts += 1
            return
        }
        next.set("metadata.resourceVersion", .string(nextRevision()))
        if isNode { nodes[key] = next } else { pods[key] = next }
    }

    private mutating func nextRevision() -> String {
        revision += 1
        return String(revision)
    }
}

/// A controller, a cluster and kubelets on one timeline: `run` steps time a second at a time,
/// renewing leases every 10 s (on each kubelet's own clock) and running the monitor every 5 s.
struct NodeLifecycleHarness {
    var controller: NodeLifecycleController
    var cluster = FakeCluster()
    var now: Nanoseconds = 0
    /// Kubelets that renew their leases, with their clock's offset from the true wall clock.
    var renewing: [String: Int64] = [:]
    /// Every action the controller returned, with the time it did.
    var history: [(at: Nanoseconds, action: ObjectAction)] = []

    init(parameters: NodeLifecycleParameters = NodeLifecycleParameters()) {
        controller = NodeLifecycleController(parameters: parameters)
    }

    var wallNow: Int64 { Fixture.wallStart + now / Time.second }

    mutating func addNode(_ node: JSONValue, renewing skew: Int64? = 0) {
        cluster.add(node: node)
        let name = node.stringMember("metadata", "name")!
        if let skew {
            renewing[name] = skew
            cluster.renewLease(name, renewMicros: (wallNow + skew) * 1_000_000)
        }
    }

    mutating func monitor() {
        let actions = controller.monitor(nodes: cluster.nodeList, leases: cluster.leaseList, pods: cluster.podList,
            now: now, wallNow: wallNow)
        record(actions)
    }

    mutating func taintingPass() {
        record(controller.noExecuteTaintingPass(nodes: cluster.nodeList, now: now, wallNow: wallNow))
    }

    mutating func record(_ actions: [ObjectAction]) {
        for action in actions { history.append((now, action)) }
        cluster.apply(actions)
    }

    /// Advances to `end` (seconds), a second at a time: leases renewed every 10 s at offset 3 s,
    /// the monitor every 5 s, the tainting pass every second when `taintEverySecond`.
    mutating func run(until end: Int64, taintEverySecond: Bool = false) {
        while now < end * Time.second {
            now += Time.second
            let second = now / Time.second
            if second % 10 == 3 {
                for (name, skew) in renewing.sorted(by: { $0.key < $1.key }) {
                    cluster.renewLease(name, renewMicros: (wallNow + skew) * 1_000_000 + 123)
                }
            }
            if second % 5 == 0 { monitor() } else if taintEverySecond { taintingPass() }
        }
    }

    /// Times (seconds) of the status writes that turned `node`'s Ready Unknown.
    func unknownWrites(_ node: String) -> [Int64] {
        history.compactMap { entry in
            guard case .update(let reference, let object, "status") = entry.action, reference.name == node,
                reference.resource.plural == "nodes" else { return nil }
            let ready = object.arrayMember("status", "conditions").first { $0.stringMember("type") == "Ready" }
            return ready?.stringMember("status") == "Unknown" ? entry.at / Time.second : nil
        }
    }

    func taints(_ node: String) -> [Taint] { Taint.of(node: cluster.nodes[node]!) }
    func noExecuteTaints(_ node: String) -> [Taint] { taints(node).filter { $0.effect == .noExecute } }
    func readyStatus(_ node: String) -> String? {
        cluster.nodes[node]!.arrayMember("status", "conditions").first { $0.stringMember("type") == "Ready" }?.stringMember("status")
    }

    /// Times (seconds) at which a NoExecute taint first appeared on each node (at or after `since`),
    /// from the patches sent.
    func noExecuteTaintTimes(since: Int64 = 0) -> [String: Int64] {
        var times: [String: Int64] = [:]
        for entry in history where entry.at >= since * Time.second {
            guard case .mergePatch(let reference, let patch, nil) = entry.action, reference.resource.plural == "nodes" else { continue }
            let added = patch.arrayMember("spec", "taints").compactMap(Taint.init(json:)).contains { $0.effect == .noExecute }
            if added && times[reference.name] == nil { times[reference.name] = entry.at / Time.second }
        }
        return times
    }

    /// The kubelet of `name` comes back (or reports) with Ready = `status`, heartbeat now.
    mutating func kubeletPosts(_ name: String, ready status: String) {
        var node = cluster.nodes[name]!
        var conditions = node.arrayMember("status", "conditions")
        for position in conditions.indices {
            guard case .object(var condition) = conditions[position] else { continue }
            let type = condition["type"]?.asString
            let newStatus = type == "Ready" ? status : "False"
            if condition["status"]?.asString != newStatus { condition["lastTransitionTime"] = .string(KubeTime.format(wallNow)) }
            condition["status"] = .string(newStatus)
            condition["reason"] = nil
            condition["message"] = nil
            condition["lastHeartbeatTime"] = .string(KubeTime.format(wallNow))
            conditions[position] = .object(condition)
        }
        node.set("status.conditions", .array(conditions))
        cluster.replace(node: node)
    }
}
