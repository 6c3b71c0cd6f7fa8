//! Builders for the Node and Pod JSON the scheduler tests feed in.

import Base
import KubeAPI
import KubeScheduling
import Wire

enum Fixture {
    static func node(
        _ name: String, cpu: String = "4", memory: String = "8Gi", pods: Int64 = 110, labels: [String: String] = [:],
        taints: [Taint] = [], unschedulable: Bool = false
    ) -> JSONValue {
        var allLabels = labels
        allLabels["kubernetes.io/hostname"] = allLabels["kubernetes.io/hostname"] ?? name
        var metadata: JSONObject = ["name": .string(name)]
        metadata["labels"] = .object(JSONObject(pairs: allLabels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
        var spec: JSONObject = [:]
        if !taints.isEmpty { spec["taints"] = .array(taints.map(\.json)) }
        if unschedulable { spec["unschedulable"] = .bool(true) }
        return .object([
            "metadata": .object(metadata), "spec": .object(spec),
            "status": .object(["allocatable": .object(["cpu": .string(cpu), "memory": .string(memory), "pods": .integer(pods)])]),
        ])
    }

    /// A pod with one container requesting `cpu` and `memory` (nil: not requested), plus any
    /// extra `spec` members.
    static func pod(
        _ name: String, namespace: String = "default", cpu: String? = nil, memory: String? = nil, labels: [String: String] = [:],
        nodeName: String? = nil, priority: Int64? = nil, spec extra: JSONObject = [:], created: String = "2025-01-01T00:00:00Z"
    ) -> JSONValue {
        var requests = JSONObject()
        if let cpu { requests["cpu"] = .string(cpu) }
        if let memory { requests["memory"] = .string(memory) }
        var container: JSONObject = ["name": .string("app"), "image": .string("nginx")]
        if requests.count > 0 { container["resources"] = .object(["requests": .object(requests)]) }
        var spec: JSONObject = ["containers": .array([.object(container)]), "schedulerName": .string("default-scheduler")]
        if let nodeName { spec["nodeName"] = .string(nodeName) }
        if let priority { spec["priority"] = .integer(priority) }
        for (key, value) in extra.members { spec[key] = value }
        var metadata: JSONObject = [
            "name": .string(name), "namespace": .string(namespace), "uid": .string("uid-\(name)"),
            "creationTimestamp": .string(created),
        ]
        if !labels.isEmpty {
            metadata["labels"] = .object(JSONObject(pairs: labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
        }
        return .object(["metadata": .object(metadata), "spec": .object(spec), "status": .object(["phase": .string("Pending")])])
    }

    static func parse(_ text: String) -> JSONValue {
        do { return try JSON.parse(text) } catch { preconditionFailure("fixture JSON does not parse: \(error) in \(text)") }
    }

    /// A scheduler over `nodes`, with pods already bound.
    static func scheduler(
        nodes: [JSONValue], bound: [JSONValue] = [], configuration: SchedulerConfiguration = SchedulerConfiguration(), seed: UInt64 = 1
    ) -> Scheduler {
        var scheduler = Scheduler(configuration: configuration, random: SeededRandom(seed: seed))
        for node in nodes { scheduler.onNodeEvent(node, now: 0) }
        for pod in bound { scheduler.onPodEvent(pod, now: 0) }
        return scheduler
    }

    /// Queues `pods` and schedules until the queue has nothing ready; the placements by pod
    /// name (nil: unschedulable).
    static func scheduleAll(_ pods: [JSONValue], on scheduler: inout Scheduler, now: Nanoseconds = 0) -> [String: String?] {
        for pod in pods { scheduler.onPodEvent(pod, now: now) }
        var placements: [String: String?] = [:]
        while let attempt = scheduler.scheduleOne(now: now, wallClock: 1_735_689_600) {
            placements[attempt.pod.name] = attempt.decision.node
        }
        return placements
    }
}

extension JSONObject {
    init(pairs: [(String, JSONValue)]) {
        self.init()
        for (key, value) in pairs { self[key] = value }
    }
}
