//! A Deployment's status: the replica counts summed over its ReplicaSets (`calculateStatus`),
//! the Available condition, and the Progressing condition with its deadline
//! (`syncRolloutStatus`), which is what `kubectl rollout status` reads.
import Base
import KubeAPI
import Wire

/// The condition reasons Kubernetes writes (pkg/controller/deployment/util).
enum DeploymentReasons {
    static let replicaSetUpdated = "ReplicaSetUpdated"
    static let newReplicaSetCreated = "NewReplicaSetCreated"
    static let foundNewReplicaSet = "FoundNewReplicaSet"
    static let newReplicaSetAvailable = "NewReplicaSetAvailable"
    static let progressDeadlineExceeded = "ProgressDeadlineExceeded"
    static let paused = "DeploymentPaused"
    static let resumed = "DeploymentResumed"
    static let minimumReplicasAvailable = "MinimumReplicasAvailable"
    static let minimumReplicasUnavailable = "MinimumReplicasUnavailable"
}

extension DeploymentPass {
    // MARK: - Conditions

    func condition(_ type: String, in status: JSONObject? = nil) -> JSONValue? {
        ((status ?? self.status)["conditions"]?.asArray ?? []).first { $0.stringMember("type") == type }
    }

    /// `SetDeploymentCondition` on the working status.
    mutating func setCondition(type: String, status conditionStatus: String, reason: String, message: String) {
        Self.setCondition(&status, type: type, status: conditionStatus, reason: reason, message: message, wallNow: wallNow)
    }

    /// Adds or replaces the condition `type`, unless one with the same status and reason is there
    /// already; a condition whose status stays keeps its lastTransitionTime.
    static func setCondition(
        _ status: inout JSONObject, type: String, status conditionStatus: String, reason: String, message: String,
        wallNow: Int64, lastTransitionTime: String? = nil
    ) {
        var conditions = status["conditions"]?.asArray ?? []
        let current = conditions.first { $0.stringMember("type") == type }
        if let current, current.stringMember("status") == conditionStatus, current.stringMember("reason") == reason { return }
        let now = KubeTime.format(wallNow)
        var transition = lastTransitionTime ?? now
        if let current, current.stringMember("status") == conditionStatus, let kept = current.stringMember("lastTransitionTime") {
            transition = kept
        }
        conditions.removeAll { $0.stringMember("type") == type }
        conditions.append(.object([
            "type": .string(type), "status": .string(conditionStatus), "lastUpdateTime": .string(now),
            "lastTransitionTime": .string(transition), "reason": .string(reason), "message": .string(message),
        ]))
        status["conditions"] = .array(conditions)
    }

    static func removeCondition(_ status: inout JSONObject, type: String) {
        guard let conditions = status["conditions"]?.asArray else { return }
        let kept = conditions.filter { $0.stringMember("type") != type }
        status["conditions"] = kept.isEmpty ? nil : .array(kept)
    }

    /// `checkPausedConditions`: Progressing Unknown while paused, and again on resume, so time
    /// spent paused never counts against the progress deadline. A timed-out rollout keeps its
    /// condition.
    mutating func checkPausedConditions() {
        guard deployment.progressDeadlineSeconds != nil else { return }
        let current = condition("Progressing")
        let reason = current?.stringMember("reason")
        if reason == DeploymentReasons.progressDeadlineExceeded { return }
        if deployment.paused && reason != DeploymentReasons.paused {
            setCondition(type: "Progressing", status: "Unknown", reason: DeploymentReasons.paused, message: "Deployment is paused")
        } else if !deployment.paused && reason == DeploymentReasons.paused {
            setCondition(type: "Progressing", status: "Unknown", reason: DeploymentReasons.resumed, message: "Deployment is resumed")
        }
    }

    // MARK: - Status

    /// `calculateStatus`: counts over all ReplicaSets, the working conditions, and Available.
    func calculatedStatus() -> JSONObject {
        let all = replicaSets
        let available = all.reduce(0) { $0 + $1.availableReplicas }
        let total = all.reduce(0) { $0 + $1.replicas }
        var next = status
        next["observedGeneration"] = .integer(deployment.generation)
        next["replicas"] = .integer(all.reduce(0) { $0 + $1.statusReplicas })
        next["updatedReplicas"] = .integer(newReplicaSet?.statusReplicas ?? 0)
        next["readyReplicas"] = .integer(all.reduce(0) { $0 + $1.readyReplicas })
        next["availableReplicas"] = .integer(available)
        // More available than asked for (while scaling down) is no unavailability.
        next["unavailableReplicas"] = .integer(max(0, total - available))
        if available >= deployment.availableMin {
            Self.setCondition(&next, type: "Available", status: "True", reason: DeploymentReasons.minimumReplicasAvailable,
                message: "Deployment has minimum availability.", wallNow: wallNow)
        } else {
            Self.setCondition(&next, type: "Available", status: "False", reason: DeploymentReasons.minimumReplicasUnavailable,
                message: "Deployment does not have minimum availability.", wallNow: wallNow)
        }
        return next
    }

    /// `syncDeploymentStatus`: the counts only, for scaling and paused passes (no progress estimate).
    mutating func syncDeploymentStatus() {
        status = calculatedStatus()
    }

    /// `syncRolloutStatus`: the counts, then the Progressing condition: complete, progressing (an
    /// update of its time), or past the deadline; ReplicaFailure copied from the ReplicaSets.
    mutating func syncRolloutStatus() {
        var next = calculatedStatus()
        if deployment.progressDeadlineSeconds == nil { Self.removeCondition(&next, type: "Progressing") }
        let current = condition("Progressing")
        let isComplete = next["replicas"] == next["updatedReplicas"]
            && current?.stringMember("reason") == DeploymentReasons.newReplicaSetAvailable
        if deployment.progressDeadlineSeconds != nil && !isComplete {
            updateProgressing(&next, current: current)
        }
        if let failure = replicaFailure() {
            var conditions = (next["conditions"]?.asArray ?? []).filter { $0.stringMember("type") != "ReplicaFailure" }
            if let existing = condition("ReplicaFailure", in: next), existing.stringMember("status") == failure.stringMember("status"),
                existing.stringMember("reason") == failure.stringMember("reason")
            {
                conditions.append(existing)
            } else {
                conditions.append(failure)
            }
            next["conditions"] = .array(conditions)
        } else {
            Self.removeCondition(&next, type: "ReplicaFailure")
        }
        if next == cachedStatus { requeueAfter = requeueAfter ?? progressCheckDelay(next) }
        status = next
    }

    private func updateProgressing(_ next: inout JSONObject, current: JSONValue?) {
        let subject = newReplicaSet.map { "ReplicaSet \(JSON.quoted($0.name))" } ?? "Deployment \(JSON.quoted(deployment.name))"
        if isComplete(next) {
            Self.setCondition(&next, type: "Progressing", status: "True", reason: DeploymentReasons.newReplicaSetAvailable,
                message: "\(subject) has successfully progressed.", wallNow: wallNow)
        } else if isProgressing(next) {
            // Progress refreshes lastUpdateTime even with the same reason (the deadline counts
            // from it), keeping the transition time of a condition that was True already.
            let kept = current?.stringMember("status") == "True" ? current?.stringMember("lastTransitionTime") : nil
            Self.removeCondition(&next, type: "Progressing")
            Self.setCondition(&next, type: "Progressing", status: "True", reason: DeploymentReasons.replicaSetUpdated,
                message: "\(subject) is progressing.", wallNow: wallNow, lastTransitionTime: kept)
        } else if hasTimedOut(next) {
            Self.setCondition(&next, type: "Progressing", status: "False", reason: DeploymentReasons.progressDeadlineExceeded,
                message: "\(subject) has timed out progressing.", wallNow: wallNow)
        }
    }

    /// `DeploymentComplete`: every desired replica updated and available, none old, and the
    /// current generation observed.
    func isComplete(_ candidate: JSONObject) -> Bool {
        let replicas = deployment.replicas
        return candidate["updatedReplicas"]?.asInt64 ?? 0 == replicas && candidate["replicas"]?.asInt64 ?? 0 == replicas
            && candidate["availableReplicas"]?.asInt64 ?? 0 == replicas
            && candidate["observedGeneration"]?.asInt64 ?? 0 >= deployment.generation
    }

    /// `DeploymentProgressing`: more updated, fewer old, more ready or more available pods than
    /// the cached status shows.
    private func isProgressing(_ candidate: JSONObject) -> Bool {
        func count(_ status: JSONObject, _ field: String) -> Int64 { status[field]?.asInt64 ?? 0 }
        let oldBefore = count(cachedStatus, "replicas") - count(cachedStatus, "updatedReplicas")
        let oldNow = count(candidate, "replicas") - count(candidate, "updatedReplicas")
        return count(candidate, "updatedReplicas") > count(cachedStatus, "updatedReplicas") || oldNow < oldBefore
            || count(candidate, "readyReplicas") > count(cachedStatus, "readyReplicas")
            || count(candidate, "availableReplicas") > count(cachedStatus, "availableReplicas")
    }

    /// `DeploymentTimedOut`: the Progressing condition's last update is more than the deadline ago.
    private func hasTimedOut(_ candidate: JSONObject) -> Bool {
        guard let deadline = deployment.progressDeadlineSeconds, let progressing = condition("Progressing", in: candidate) else {
            return false
        }
        switch progressing.stringMember("reason") {
        case DeploymentReasons.newReplicaSetAvailable: return false
        case DeploymentReasons.progressDeadlineExceeded: return true
        default:
            guard let lastUpdate = progressing.stringMember("lastUpdateTime").flatMap(KubeTime.parse) else { return false }
            return lastUpdate + deadline < wallNow
        }
    }

    /// The ReplicaFailure condition of the new ReplicaSet, else of any other, as a Deployment condition.
    private func replicaFailure() -> JSONValue? {
        let candidates = (newReplicaSet.map { [$0] } ?? []) + replicaSets
        for replicaSet in candidates {
            for condition in replicaSet.object.arrayMember("status", "conditions")
            where condition.stringMember("type") == "ReplicaFailure" {
                let time = condition.member("lastTransitionTime") ?? .null
                return .object([
                    "type": .string("ReplicaFailure"), "status": condition.member("status") ?? .string("True"),
                    "lastUpdateTime": time, "lastTransitionTime": time,
                    "reason": condition.member("reason") ?? .string(""), "message": condition.member("message") ?? .string(""),
                ])
            }
        }
        return nil
    }

    /// `requeueStuckDeployment`: while a rollout is neither complete nor timed out, look again
    /// when its deadline would pass (plus a second against rounding), at once when under a second.
    private func progressCheckDelay(_ next: JSONObject) -> Nanoseconds? {
        guard let deadline = deployment.progressDeadlineSeconds, let current = condition("Progressing", in: cachedStatus) else {
            return nil
        }
        if isComplete(next) || current.stringMember("reason") == DeploymentReasons.progressDeadlineExceeded { return nil }
        guard let lastUpdate = current.stringMember("lastUpdateTime").flatMap(KubeTime.parse) else { return nil }
        let remaining = lastUpdate + deadline - wallNow
        // Kubernetes requeues at once (rate limited) under a second; a second is the limiter's floor here.
        if remaining < 1 { return Time.second }
        return (remaining + 1) * Time.second
    }
}
