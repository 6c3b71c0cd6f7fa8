//! Reading what the node-lifecycle controller needs out of Node, Lease and Pod JSON: conditions,
//! the zone key, a lease's renew time, and the fixed texts Kubernetes writes.

import KubeAPI
import Wire

/// One entry of `status.conditions` on a node or a pod.
public struct ObjectCondition: Sendable, Equatable {
    public var type: String
    /// `True`, `False` or `Unknown`.
    public var status: String
    public var lastHeartbeatTime: String?
    public var lastTransitionTime: String?
    public var reason: String?

    init?(json: JSONValue) {
        guard let type = json.stringMember("type"), let status = json.stringMember("status") else { return nil }
        self.type = type
        self.status = status
        lastHeartbeatTime = json.stringMember("lastHeartbeatTime")
        lastTransitionTime = json.stringMember("lastTransitionTime")
        reason = json.stringMember("reason")
    }

    /// The condition of `type` in an object's `status.conditions`, if any.
    static func of(_ object: JSONValue, type: String) -> ObjectCondition? {
        object.arrayMember("status", "conditions").lazy.compactMap(ObjectCondition.init(json:)).first { $0.type == type }
    }
}

/// Names and texts as Kubernetes spells them.
enum NodeLifecycleVocabulary {
    static let ready = "Ready"
    static let conditionTrue = "True"
    static let conditionFalse = "False"
    static let conditionUnknown = "Unknown"
    /// The conditions the controller turns Unknown when the kubelet goes quiet; NetworkUnavailable
    /// is left alone because the network plugin, not the kubelet, owns it.
    static let kubeletConditions = ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"]
    static let stoppedPostingReason = "NodeStatusUnknown"
    static let stoppedPostingMessage = "Kubelet stopped posting node status."
    static let neverPostedReason = "NodeStatusNeverUpdated"
    static let neverPostedMessage = "Kubelet never posted node status."
    /// Nodes carrying this label are left out of zone-disruption counting.
    static let excludeDisruptionLabel = "node.kubernetes.io/exclude-disruption"
    static let nodeLeaseNamespace = "kube-node-lease"
    static let zoneLabel = "topology.kubernetes.io/zone"
    static let regionLabel = "topology.kubernetes.io/region"
    static let betaZoneLabel = "failure-domain.beta.kubernetes.io/zone"
    static let betaRegionLabel = "failure-domain.beta.kubernetes.io/region"

    /// Node condition (type, status) -> the key of the NoSchedule taint that mirrors it
    /// (`nodeConditionToTaintKeyStatusMap`).
    static let conditionTaintKeys: [(type: String, status: String, key: String)] = [
        ("Ready", "False", Taint.notReadyKey),
        ("Ready", "Unknown", Taint.unreachableKey),
        ("MemoryPressure", "True", "node.kubernetes.io/memory-pressure"),
        ("DiskPressure", "True", "node.kubernetes.io/disk-pressure"),
        ("NetworkUnavailable", "True", "node.kubernetes.io/network-unavailable"),
        ("PIDPressure", "True", "node.kubernetes.io/pid-pressure"),
    ]
    /// Keys of the NoSchedule taints this controller owns (condition taints and unschedulable).
    static let ownedNoScheduleKeys: Set<String> = Set(conditionTaintKeys.map(\.key)).union([Taint.unschedulableKey])
}

enum NodeObjects {
    static let nodes = APIResource.standard("nodes")
    static let pods = APIResource.standard("pods")

    static func name(_ object: JSONValue) -> String? { object.stringMember("metadata", "name") }
    static func uid(_ object: JSONValue) -> String { object.stringMember("metadata", "uid") ?? "" }
    static func resourceVersion(_ object: JSONValue) -> String { object.stringMember("metadata", "resourceVersion") ?? "" }

    static func nodeReference(_ name: String) -> ObjectReference { ObjectReference(nodes, namespace: nil, name: name) }

    /// Kubernetes' `GetZoneKey`: region and zone (beta labels first), or "" when neither is set.
    /// The NUL keeps `a:b` + `c` apart from `a` + `b:c`.
    static func zoneKey(_ node: JSONValue) -> String {
        let labels = node.objectMember("metadata", "labels")
        func label(_ key: String) -> String? { labels?[key]?.asString }
        let zone = label(NodeLifecycleVocabulary.betaZoneLabel) ?? label(NodeLifecycleVocabulary.zoneLabel) ?? ""
        let region = label(NodeLifecycleVocabulary.betaRegionLabel) ?? label(NodeLifecycleVocabulary.regionLabel) ?? ""
        if region.isEmpty && zone.isEmpty { return "" }
        return region + ":\u{0}:" + zone
    }

    static func isExcludedFromDisruption(_ node: JSONValue) -> Bool {
        node.objectMember("metadata", "labels")?[NodeLifecycleVocabulary.excludeDisruptionLabel] != nil
    }

    /// The renew time of a Lease as microseconds since the epoch (MicroTime keeps six decimals),
    /// or nil when missing or malformed.
    static func renewMicroseconds(_ lease: JSONValue) -> Int64? {
        guard let text = lease.stringMember("spec", "renewTime") else { return nil }
        return microseconds(text)
    }

    /// Microseconds since the epoch of an RFC 3339 time with an optional fraction.
    static func microseconds(_ text: String) -> Int64? {
        guard let seconds = KubeTime.parse(text) else { return nil }
        var micros: Int64 = 0
        if let dot = text.firstIndex(of: ".") {
            let digits = text[text.index(after: dot)...].prefix { $0.isASCII && $0.isNumber }
            for (position, digit) in digits.prefix(6).enumerated() {
                var scale: Int64 = 1
                for _ in 0..<(5 - position) { scale *= 10 }
                micros += Int64(digit.wholeNumberValue!) * scale
            }
        }
        return seconds * 1_000_000 + micros
    }
}
