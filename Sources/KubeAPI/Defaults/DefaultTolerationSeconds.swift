//! The DefaultTolerationSeconds admission plugin: every pod that does not already tolerate them
//! gets tolerations of the `not-ready` and `unreachable` NoExecute taints, bounded in time, so a
//! node's short outage does not evict its pods at once and a long one does. The two bounds are
//! kube-apiserver's `--default-not-ready-toleration-seconds` and
//! `--default-unreachable-toleration-seconds`; since `--pod-eviction-timeout` went away they are
//! how long pods stay on a failing node.
import Wire

/// How long the tolerations the apiserver adds let a pod stay on a failing node, in whole seconds.
public struct DefaultTolerationSeconds: Sendable, Equatable {
    /// Both flags' default in kube-apiserver: five minutes.
    public static let kubernetesDefaultSeconds: Int64 = 300
    /// What kube-apiserver does when neither flag is given.
    public static let kubernetes = DefaultTolerationSeconds()

    /// The tolerationSeconds of the added `node.kubernetes.io/not-ready:NoExecute` toleration.
    /// Invariant: at least 0 (0 evicts as soon as the taint appears).
    public let notReady: Int64
    /// The tolerationSeconds of the added `node.kubernetes.io/unreachable:NoExecute` toleration.
    /// Invariant: at least 0.
    public let unreachable: Int64

    public init(notReady: Int64 = kubernetesDefaultSeconds, unreachable: Int64 = kubernetesDefaultSeconds) {
        precondition(notReady >= 0, "default not-ready toleration seconds must be at least 0, got \(notReady)")
        precondition(unreachable >= 0, "default unreachable toleration seconds must be at least 0, got \(unreachable)")
        self.notReady = notReady
        self.unreachable = unreachable
    }
}

extension PodDefaults {
    /// The two NoExecute taints the node lifecycle controller puts on a failing node.
    static let notReadyTaintKey = "node.kubernetes.io/not-ready"
    static let unreachableTaintKey = "node.kubernetes.io/unreachable"

    /// Adds, each on its own, the toleration of a taint the pod does not tolerate yet, after the
    /// pod's own tolerations. A toleration the pod already has wins, whatever its seconds.
    static func addDefaultTolerations(_ spec: inout JSONObject, seconds: DefaultTolerationSeconds) {
        let tolerations = spec["tolerations"]?.asArray ?? []
        var additions: [JSONValue] = []
        for (key, tolerationSeconds) in [(notReadyTaintKey, seconds.notReady), (unreachableTaintKey, seconds.unreachable)]
        where !tolerations.contains(where: { tolerates($0, noExecuteKey: key) }) {
            additions.append(.object([
                "key": .string(key), "operator": .string("Exists"), "effect": .string("NoExecute"),
                "tolerationSeconds": .integer(tolerationSeconds),
            ]))
        }
        if !additions.isEmpty { spec["tolerations"] = .array(tolerations + additions) }
    }

    /// Whether `toleration` covers the NoExecute taint `key`: an empty key or effect matches any
    /// (the plugin looks at nothing else, not even the operator or the value).
    private static func tolerates(_ toleration: JSONValue, noExecuteKey key: String) -> Bool {
        let tolerationKey = toleration.stringMember("key") ?? ""
        let effect = toleration.stringMember("effect") ?? ""
        return (tolerationKey == key || tolerationKey.isEmpty) && (effect == "NoExecute" || effect.isEmpty)
    }
}
