//! A ReplicaSet's status as its controller computes it (`calculateStatus`): replicas,
//! fullyLabeledReplicas, readyReplicas, availableReplicas, observedGeneration and the
//! ReplicaFailure condition while pods cannot be created or deleted.
import KubeAPI
import Wire

/// Why the last creates or deletes of a ReplicaSet failed, as the shell reported it.
struct ReplicaSetFailure: Sendable, Equatable {
    /// `FailedCreate` or `FailedDelete`.
    var reason: String
    var message: String
}

enum ReplicaSetStatus {
    /// The status `replicaSet` should have given its claimed active pods.
    static func calculate(
        _ replicaSet: JSONValue, claimed: [WorkloadPod], failure: ReplicaSetFailure?, wallNow: Int64
    ) -> JSONValue {
        let minReadySeconds = replicaSet.intMember("spec", "minReadySeconds") ?? 0
        let templateLabels = replicaSet.member("spec", "template", "metadata", "labels")?.stringPairs ?? []
        var fullyLabeled: Int64 = 0
        var ready: Int64 = 0
        var available: Int64 = 0
        for pod in claimed {
            if templateLabels.allSatisfy({ pod.labels[$0.key] == $0.value }) { fullyLabeled += 1 }
            if pod.isReady { ready += 1 }
            if pod.isAvailable(minReadySeconds: minReadySeconds, wallNow: wallNow) { available += 1 }
        }
        var status = replicaSet.objectMember("status") ?? JSONObject()
        status["replicas"] = .integer(Int64(claimed.count))
        status["fullyLabeledReplicas"] = .integer(fullyLabeled)
        status["readyReplicas"] = .integer(ready)
        status["availableReplicas"] = .integer(available)
        status["observedGeneration"] = .integer(replicaSet.intMember("metadata", "generation") ?? 0)
        status["conditions"] = conditions(status["conditions"]?.asArray ?? [], failure: failure, wallNow: wallNow)
        return .object(status)
    }

    /// The conditions with ReplicaFailure set while `failure` stands (its first transition time
    /// kept) and removed once it does not; nil when no condition is left.
    private static func conditions(_ current: [JSONValue], failure: ReplicaSetFailure?, wallNow: Int64) -> JSONValue? {
        var others = current.filter { $0.stringMember("type") != "ReplicaFailure" }
        if let failure {
            let existing = current.first { $0.stringMember("type") == "ReplicaFailure" }
            if let existing, existing.stringMember("status") == "True" {
                // Kubernetes sets the condition only when there is none, so the first failure's
                // reason and time stay until the failures stop.
                others.append(existing)
            } else {
                others.append(.object([
                    "type": .string("ReplicaFailure"), "status": .string("True"),
                    "lastTransitionTime": .string(KubeTime.format(wallNow)),
                    "reason": .string(failure.reason), "message": .string(failure.message),
                ]))
            }
        }
        return others.isEmpty ? nil : .array(others)
    }
}
