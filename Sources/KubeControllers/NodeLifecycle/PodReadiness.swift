//! Marking a lost node's pods not Ready (Kubernetes' `MarkPodsNotReady`), so Services stop
//! sending them traffic long before the pods are evicted.

import KubeAPI
import Wire

enum PodReadiness {
    /// The pod with its Ready condition turned False (transition time now), or nil when it has no
    /// Ready condition or it is already False: Kubernetes writes only a change.
    static func markedNotReady(_ pod: JSONValue, wallNow: Int64) -> JSONValue? {
        var conditions = pod.arrayMember("status", "conditions")
        guard let position = conditions.firstIndex(where: { $0.stringMember("type") == NodeLifecycleVocabulary.ready }),
            case .object(var condition) = conditions[position],
            condition["status"]?.asString != NodeLifecycleVocabulary.conditionFalse
        else { return nil }
        condition["status"] = .string(NodeLifecycleVocabulary.conditionFalse)
        condition["lastTransitionTime"] = .string(KubeTime.format(wallNow))
        conditions[position] = .object(condition)
        var updated = pod
        updated.set("status.conditions", .array(conditions))
        return updated
    }

    /// Whether the pod reads as Ready=True.
    static func isReady(_ pod: JSONValue) -> Bool {
        ObjectCondition.of(pod, type: NodeLifecycleVocabulary.ready)?.status == NodeLifecycleVocabulary.conditionTrue
    }

    static func reference(_ pod: JSONValue) -> ObjectReference? { ObjectReference(NodeObjects.pods, object: pod) }

    /// `pods/namespace/name`: the ledger's key for a pod.
    static func key(_ pod: JSONValue) -> String? { reference(pod)?.description }
}
