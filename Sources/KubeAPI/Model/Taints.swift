//! Taints on nodes and the tolerations of pods, read from their JSON, and the rule that matches
//! one to the other. The scheduler filters and scores with them, and the node-lifecycle
//! controller evicts by them, so both read them here, once.

import Wire

/// What a taint does to pods that do not tolerate it.
public enum TaintEffect: String, Sendable, Hashable, CaseIterable {
    /// New pods are not scheduled onto the node.
    case noSchedule = "NoSchedule"
    /// The scheduler avoids the node when it can.
    case preferNoSchedule = "PreferNoSchedule"
    /// Running pods are evicted (after their toleration's seconds, if any).
    case noExecute = "NoExecute"
}

public struct Taint: Sendable, Hashable {
    public var key: String
    public var value: String
    public var effect: TaintEffect
    /// When the taint was added (RFC 3339), set on NoExecute taints only.
    public var timeAdded: String?

    public init(key: String, value: String = "", effect: TaintEffect, timeAdded: String? = nil) {
        self.key = key
        self.value = value
        self.effect = effect
        self.timeAdded = timeAdded
    }

    /// A taint from its JSON; nil when it has no key or an effect Kubernetes does not know.
    public init?(json: JSONValue) {
        guard let key = json.stringMember("key"), !key.isEmpty,
            let effect = json.stringMember("effect").flatMap(TaintEffect.init(rawValue:))
        else { return nil }
        self.init(key: key, value: json.stringMember("value") ?? "", effect: effect, timeAdded: json.stringMember("timeAdded"))
    }

    public var json: JSONValue {
        var object: JSONObject = ["key": .string(key), "effect": .string(effect.rawValue)]
        if !value.isEmpty { object["value"] = .string(value) }
        if let timeAdded { object["timeAdded"] = .string(timeAdded) }
        return .object(object)
    }

    /// The taints of a Node object (`spec.taints`); malformed entries are skipped.
    public static func of(node: JSONValue) -> [Taint] {
        node.arrayMember("spec", "taints").compactMap(Taint.init(json:))
    }

    // The taints Kubernetes itself puts on nodes.
    public static let unreachableKey = "node.kubernetes.io/unreachable"
    public static let notReadyKey = "node.kubernetes.io/not-ready"
    public static let unschedulableKey = "node.kubernetes.io/unschedulable"
    public static let controlPlaneKey = "node-role.kubernetes.io/control-plane"
}

public struct Toleration: Sendable, Hashable {
    public enum Operator: String, Sendable, Hashable {
        case equal = "Equal"
        case exists = "Exists"
    }

    /// Empty with `exists`: every key.
    public var key: String
    public var `operator`: Operator
    public var value: String
    /// Nil: every effect.
    public var effect: TaintEffect?
    /// For NoExecute: how long the pod stays once the taint appears; nil is forever.
    public var tolerationSeconds: Int64?

    public init(key: String, operator: Operator = .equal, value: String = "", effect: TaintEffect? = nil, tolerationSeconds: Int64? = nil) {
        self.key = key
        self.operator = `operator`
        self.value = value
        self.effect = effect
        self.tolerationSeconds = tolerationSeconds
    }

    /// A toleration from its JSON; nil for an operator or effect Kubernetes does not know
    /// (validation refuses those, so only a foreign writer could have stored one).
    public init?(json: JSONValue) {
        let operatorText = json.stringMember("operator") ?? ""
        guard let parsedOperator = operatorText.isEmpty ? .equal : Operator(rawValue: operatorText) else { return nil }
        let effectText = json.stringMember("effect") ?? ""
        let parsedEffect = effectText.isEmpty ? nil : TaintEffect(rawValue: effectText)
        guard effectText.isEmpty || parsedEffect != nil else { return nil }
        self.init(key: json.stringMember("key") ?? "", operator: parsedOperator, value: json.stringMember("value") ?? "",
            effect: parsedEffect, tolerationSeconds: json.intMember("tolerationSeconds"))
    }

    /// The tolerations of a Pod object (`spec.tolerations`); malformed entries are skipped.
    public static func of(pod: JSONValue) -> [Toleration] {
        pod.arrayMember("spec", "tolerations").compactMap(Toleration.init(json:))
    }

    /// Kubernetes' rule (`Toleration.ToleratesTaint`): the effect matches or is left open, the
    /// key matches or is empty under Exists, and the value matches under Equal.
    public func tolerates(_ taint: Taint) -> Bool {
        if let effect, effect != taint.effect { return false }
        if !key.isEmpty && key != taint.key { return false }
        switch self.operator {
        case .exists: return true
        case .equal: return value == taint.value
        }
    }
}

extension Array where Element == Toleration {
    /// Whether some toleration here tolerates `taint`.
    public func tolerate(_ taint: Taint) -> Bool { contains { $0.tolerates(taint) } }

    /// The taints among `taints` with one of `effects` that nothing here tolerates.
    public func untolerated(_ taints: [Taint], effects: Set<TaintEffect>) -> [Taint] {
        taints.filter { effects.contains($0.effect) && !tolerate($0) }
    }
}
