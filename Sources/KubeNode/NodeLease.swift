//! The node's Lease in `kube-node-lease`: the kubelet's cheap heartbeat. The kubelet renews it
//! every `renewInterval` (10 s: a quarter of its 40 s duration); the node-lifecycle controller
//! watches it to tell a live node from a silent one.

import KubeAPI
import Wire

public struct NodeLeaseSettings: Sendable, Equatable {
    /// `--node-lease-duration-seconds` (kubelet's default 40).
    public var durationSeconds: Int64 = 40
    /// How often the lease is renewed: the kubelet renews at a quarter of the duration.
    public var renewInterval: Int64 { max(1, durationSeconds / 4) }
    public init(durationSeconds: Int64 = 40) { self.durationSeconds = durationSeconds }
}

public enum NodeLease {
    public static let namespace = "kube-node-lease"

    public static func reference(node: String) -> ObjectReference {
        ObjectReference(.standard("leases", group: "coordination.k8s.io"), namespace: namespace, name: node)
    }

    /// A fresh lease held by `node`, renewed at `wallMicros` (microseconds since the epoch).
    public static func object(node: String, nodeUID: String?, settings: NodeLeaseSettings, wallMicros: Int64) -> JSONValue {
        var metadata: JSONObject = ["name": .string(node), "namespace": .string(namespace)]
        if let nodeUID {
            // Owned by the Node, so deleting the node takes its lease with it.
            metadata["ownerReferences"] = .array([.object([
                "apiVersion": .string("v1"), "kind": .string("Node"), "name": .string(node), "uid": .string(nodeUID),
            ])])
        }
        return .object([
            "apiVersion": .string("coordination.k8s.io/v1"), "kind": .string("Lease"),
            "metadata": .object(metadata),
            "spec": .object([
                "holderIdentity": .string(node), "leaseDurationSeconds": .integer(settings.durationSeconds),
                "renewTime": .string(MicroTime.format(microseconds: wallMicros)),
            ]),
        ])
    }

    /// `lease` renewed at `wallMicros`: the object to PUT (it keeps its resourceVersion, so a
    /// concurrent writer makes the renewal fail rather than be overwritten).
    public static func renewed(_ lease: JSONValue, node: String, settings: NodeLeaseSettings, wallMicros: Int64) -> JSONValue {
        var next = lease
        next.set("spec.holderIdentity", .string(node))
        next.set("spec.leaseDurationSeconds", .integer(settings.durationSeconds))
        next.set("spec.renewTime", .string(MicroTime.format(microseconds: wallMicros)))
        return next
    }
}
