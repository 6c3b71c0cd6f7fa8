//! KubeNode: the kubelet's pure core. What a kubelet says about its node — the Node object it
//! registers, the status it reports, the Lease it renews — and how pods bound to the node move
//! through their phases: reported Running without running anything on hollow kubelets
//! (HollowPods), run for real through the pod runtime (Runtime/PodRuntime). No I/O and no
//! clock: `faultline kubelet` feeds it the time and carries out what it returns.

import KubeAPI
import Wire

/// What one kubelet registers: its node's name, capacity, labels, taints and addresses.
public struct NodeIdentity: Sendable, Equatable {
    public var name: String
    /// cpu, memory, pods, ephemeral-storage, as Kubernetes quantities (`4`, `8Gi`, `110`).
    public var capacity: [String: String]
    public var labels: [String: String]
    public var taints: [Taint]
    /// The node's InternalIP, and the range its pods' IPs come from.
    public var internalIP: String
    public var podCIDR: String?
    public var kubeletVersion = "v1.32.0"

    public init(name: String, capacity: [String: String] = NodeIdentity.defaultCapacity, labels: [String: String] = [:],
        taints: [Taint] = [], internalIP: String, podCIDR: String? = nil)
    {
        self.name = name
        self.capacity = capacity
        self.labels = labels
        self.taints = taints
        self.internalIP = internalIP
        self.podCIDR = podCIDR
    }

    /// A small worker: kubelet's default of 110 pods.
    public static let defaultCapacity = ["cpu": "4", "memory": "8Gi", "pods": "110", "ephemeral-storage": "20Gi"]

    /// The labels every kubelet sets on its node, with the configured ones over them.
    public var allLabels: [String: String] {
        var all = ["kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64"]
        for (key, value) in labels { all[key] = value }
        return all
    }

    /// The Node object to create when the node is not registered yet.
    public func nodeObject(wallNow: Int64) -> JSONValue {
        var spec = JSONObject()
        if !taints.isEmpty { spec["taints"] = .array(taints.map(\.json)) }
        if let podCIDR {
            spec["podCIDR"] = .string(podCIDR)
            spec["podCIDRs"] = .array([.string(podCIDR)])
        }
        let quantities = JSONValue.object(JSONObject(sortedPairs: capacity.map { ($0.key, JSONValue.string($0.value)) }))
        let status: JSONObject = [
            "capacity": quantities,
            "allocatable": quantities,
            "conditions": .array(NodeConditions.healthy(wallNow: wallNow, transition: wallNow)),
            "addresses": .array([
                .object(["type": .string("InternalIP"), "address": .string(internalIP)]),
                .object(["type": .string("Hostname"), "address": .string(name)]),
            ]),
            "nodeInfo": .object([
                "kubeletVersion": .string(kubeletVersion), "kubeProxyVersion": .string(kubeletVersion),
                "operatingSystem": .string("linux"), "architecture": .string("amd64"),
                "containerRuntimeVersion": .string("faultline://1.0"), "osImage": .string("Faultline"),
                "kernelVersion": .string(""), "machineID": .string(name), "systemUUID": .string(name), "bootID": .string(name),
            ]),
            "daemonEndpoints": .object(["kubeletEndpoint": .object(["Port": .integer(10250)])]),
        ]
        return .object([
            "apiVersion": .string("v1"), "kind": .string("Node"),
            "metadata": .object([
                "name": .string(name),
                "labels": .object(JSONObject(sortedPairs: allLabels.map { ($0.key, JSONValue.string($0.value)) })),
            ]),
            "spec": .object(spec),
            "status": .object(status),
        ])
    }
}

extension JSONObject {
    /// An object with `pairs` in key order, so the same input always serialises the same way.
    init(sortedPairs pairs: [(String, JSONValue)]) {
        self.init()
        for (key, value) in pairs.sorted(by: { $0.0 < $1.0 }) { self[key] = value }
    }
}
