//! A Node as the scheduler sees it: name, labels, what it can hold (`status.allocatable`),
//! its taints and whether it is cordoned. Read once from JSON per watch event, so filtering
//! and scoring never touch JSON.

import KubeAPI
import Wire

public struct SchedulingNode: Sendable, Equatable {
    public var name: String
    public var labels: [String: String]
    /// `status.allocatable` cpu, memory, ephemeral storage and extended resources.
    public var allocatable: ResourceAmounts
    /// `status.allocatable.pods`: how many pods the kubelet admits (0 when not reported).
    public var allowedPodCount: Int64
    public var taints: [Taint]
    /// `spec.unschedulable` (`kubectl cordon`).
    public var unschedulable: Bool

    public init(
        name: String, labels: [String: String] = [:], allocatable: ResourceAmounts, allowedPodCount: Int64,
        taints: [Taint] = [], unschedulable: Bool = false
    ) {
        self.name = name
        self.labels = labels
        self.allocatable = allocatable
        self.allowedPodCount = allowedPodCount
        self.taints = taints
        self.unschedulable = unschedulable
    }

    /// Nil when the object has no name.
    public init?(json: JSONValue) {
        guard let name = json.stringMember("metadata", "name"), !name.isEmpty else { return nil }
        let allocatableJSON = json.member("status", "allocatable")
        let pods = allocatableJSON?["pods"].flatMap { ResourceQuantity(json: $0) }?.value ?? 0
        self.init(
            name: name, labels: LabelSelector.labels(of: json), allocatable: ResourceAmounts(resourceList: allocatableJSON),
            allowedPodCount: pods, taints: Taint.of(node: json), unschedulable: json.boolMember("spec", "unschedulable") ?? false)
    }

    /// Kubernetes' zone key (region and zone labels), which orders nodes for the round-robin
    /// walk; empty for a node without either label.
    var zoneKey: String {
        let region = labels["topology.kubernetes.io/region"] ?? labels["failure-domain.beta.kubernetes.io/region"] ?? ""
        let zone = labels["topology.kubernetes.io/zone"] ?? labels["failure-domain.beta.kubernetes.io/zone"] ?? ""
        return region.isEmpty && zone.isEmpty ? "" : region + ":\u{0}:" + zone
    }
}
