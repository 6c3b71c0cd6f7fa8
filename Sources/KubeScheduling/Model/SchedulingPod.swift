//! A Pod as the scheduler sees it: identity, labels, what it requests (summed over its
//! containers the way Kubernetes sums them), where it may go (node selector, affinity,
//! tolerations) and its place in the queue (priority, creation time).

import KubeAPI
import Wire

public struct SchedulingPod: Sendable, Equatable {
    public var namespace: String
    public var name: String
    public var uid: String
    public var labels: [String: String]
    /// What the NodeResourcesFit filter counts: containers summed, each init container
    /// maxed in (sidecars, `restartPolicy: Always`, added), plus the pod overhead.
    public var requests: ResourceAmounts
    /// The same sum with 100m CPU and 200Mi memory for every container that leaves them out,
    /// which the LeastAllocated and MostAllocated scores use so empty pods still spread.
    public var nonZeroRequests: ResourceAmounts
    public var placement: NodePlacement
    public var podAffinity: PodAffinityRules
    public var tolerations: [Toleration]
    /// `spec.nodeName`; empty while unscheduled.
    public var nodeName: String
    public var schedulerName: String
    public var priority: Int64
    /// `spec.preemptionPolicy`: `PreemptLowerPriority` (the default) or `Never`.
    public var preemptionPolicy: String
    /// `metadata.creationTimestamp` in seconds since the epoch (0 when absent).
    public var creationTimestamp: Int64
    /// Whether `metadata.deletionTimestamp` is set.
    public var isTerminating: Bool
    /// `status.phase`; Succeeded and Failed pods hold no resources.
    public var phase: String
    /// `spec.schedulingGates` names: while any is left the pod waits outside the active queue.
    public var schedulingGates: [String]
    /// `status.conditions`, kept so a status patch rewrites only PodScheduled.
    public var conditions: [JSONValue]

    /// The key the cache and queue use: `namespace/name`.
    public var key: String { namespace + "/" + name }

    /// Default requests for containers that name no CPU or memory (Kubernetes'
    /// `DefaultMilliCPURequest` and `DefaultMemoryRequest`).
    public static let defaultMilliCPURequest: Int64 = 100
    public static let defaultMemoryRequest: Int64 = 200 * 1024 * 1024

    /// Nil when the object has no name.
    public init?(json: JSONValue) {
        guard let name = json.stringMember("metadata", "name"), !name.isEmpty else { return nil }
        let namespace = json.stringMember("metadata", "namespace").flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        self.namespace = namespace
        self.name = name
        uid = json.stringMember("metadata", "uid") ?? ""
        labels = LabelSelector.labels(of: json)
        (requests, nonZeroRequests) = Self.requests(of: json)
        placement = NodePlacement(pod: json)
        podAffinity = PodAffinityRules(pod: json, namespace: namespace)
        tolerations = Toleration.of(pod: json)
        nodeName = json.stringMember("spec", "nodeName") ?? ""
        let scheduler = json.stringMember("spec", "schedulerName") ?? ""
        schedulerName = scheduler.isEmpty ? "default-scheduler" : scheduler
        priority = json.intMember("spec", "priority") ?? 0
        preemptionPolicy = json.stringMember("spec", "preemptionPolicy") ?? "PreemptLowerPriority"
        creationTimestamp = json.stringMember("metadata", "creationTimestamp").flatMap(KubeTime.parse) ?? 0
        isTerminating = json.member("metadata", "deletionTimestamp").map { $0 != .null } ?? false
        phase = json.stringMember("status", "phase") ?? ""
        schedulingGates = json.arrayMember("spec", "schedulingGates").compactMap { $0.stringMember("name") }
        conditions = json.arrayMember("status", "conditions")
    }

    /// Whether the pod has finished and so no longer holds a node's resources.
    public var isTerminal: Bool { phase == "Succeeded" || phase == "Failed" }

    /// Whether `scheduler` should place this pod: it names that scheduler, has no node yet, and
    /// is neither being deleted nor finished.
    public func awaitsScheduling(by scheduler: String) -> Bool {
        schedulerName == scheduler && nodeName.isEmpty && !isTerminating && !isTerminal
    }

    /// The pod's PodScheduled condition (status, reason, message), if it has one.
    var podScheduledCondition: (status: String, reason: String, message: String)? {
        for condition in conditions where condition.stringMember("type") == "PodScheduled" {
            return (condition.stringMember("status") ?? "", condition.stringMember("reason") ?? "", condition.stringMember("message") ?? "")
        }
        return nil
    }

    /// Kubernetes' `PodRequests`: regular containers and sidecars run together and add up;
    /// each ordinary init container runs alone beside the sidecars started before it, so the
    /// pod needs at least the largest such moment; the overhead comes on top. Computed twice:
    /// as requested, and with defaults for missing CPU and memory.
    static func requests(of pod: JSONValue) -> (requests: ResourceAmounts, nonZero: ResourceAmounts) {
        func containerRequests(_ container: JSONValue) -> (ResourceAmounts, ResourceAmounts) {
            let list = container.member("resources", "requests")
            let requested = ResourceAmounts(resourceList: list)
            var nonZero = requested
            if list?["cpu"] == nil { nonZero.milliCPU = defaultMilliCPURequest }
            if list?["memory"] == nil { nonZero.memory = defaultMemoryRequest }
            return (requested, nonZero)
        }
        var sum = (ResourceAmounts(), ResourceAmounts())
        for container in pod.arrayMember("spec", "containers") {
            let (requested, nonZero) = containerRequests(container)
            sum.0.add(requested)
            sum.1.add(nonZero)
        }
        var sidecars = (ResourceAmounts(), ResourceAmounts())
        var initPeak = (ResourceAmounts(), ResourceAmounts())
        for container in pod.arrayMember("spec", "initContainers") {
            let (requested, nonZero) = containerRequests(container)
            if container.stringMember("restartPolicy") == "Always" {
                sum.0.add(requested)
                sum.1.add(nonZero)
                sidecars.0.add(requested)
                sidecars.1.add(nonZero)
                initPeak.0.raise(to: sidecars.0)
                initPeak.1.raise(to: sidecars.1)
            } else {
                initPeak.0.raise(to: requested + sidecars.0)
                initPeak.1.raise(to: nonZero + sidecars.1)
            }
        }
        sum.0.raise(to: initPeak.0)
        sum.1.raise(to: initPeak.1)
        let overhead = ResourceAmounts(resourceList: pod.member("spec", "overhead"))
        sum.0.add(overhead)
        sum.1.add(overhead)
        return sum
    }
}
