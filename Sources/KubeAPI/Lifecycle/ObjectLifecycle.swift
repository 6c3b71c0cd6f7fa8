//! What the server does to an object on its way in, as the real apiserver's registry
//! strategies do: on create it sets the fields it owns (uid, creationTimestamp, generation, a
//! name from generateName) and resets status where clients may not set it; on update it keeps
//! what the client may not change, takes status only through `/status` and spec only through
//! the main resource, and bumps `metadata.generation` when the spec changed (what
//! `kubectl rollout status` compares with `status.observedGeneration`); on delete it decides
//! between deleting now and marking the object (`deletionTimestamp`) for its kubelet or
//! finalizers to finish.

import Wire

/// The few facts about a resource the lifecycle rules depend on.
public struct LifecycleTraits: Sendable, Equatable {
    public var group: String
    public var plural: String
    /// Has a `/status` subresource: the main resource ignores status, `/status` takes only status.
    public var hasStatus: Bool

    public init(group: String, plural: String, hasStatus: Bool) {
        self.group = group
        self.plural = plural
        self.hasStatus = hasStatus
    }

    var isPod: Bool { group.isEmpty && plural == "pods" }
    var isNamespace: Bool { group.isEmpty && plural == "namespaces" }
    /// Kinds whose spec changes are counted in `metadata.generation`.
    var tracksGeneration: Bool { group == "apps" || (group.isEmpty && plural == "replicationcontrollers") }
}

/// How a delete proceeds.
public enum DeletionPlan: Equatable, Sendable {
    /// Remove the object now.
    case now
    /// Write this (the object with `deletionTimestamp` set); its kubelet or finalizers finish.
    case mark(JSONValue)
    /// It is already being deleted as soon as or sooner than asked: leave it.
    case alreadyDeleting
}

public enum ObjectLifecycle {
    /// Fields of `metadata` only the server sets.
    static let serverOwnedMetadata = ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "resourceVersion"]

    /// The object as created: server-owned fields set, status reset where clients may not set it.
    /// `timestamp` is now in RFC 3339; `uid` and `generatedSuffix` are fresh values from the shell.
    public static func prepareForCreate(_ object: JSONValue, traits: LifecycleTraits, timestamp: String, uid: String,
        generatedSuffix: String) -> JSONValue
    {
        guard case .object(var top) = object else { return object }
        var metadata = top["metadata"].flatMap { if case .object(let m) = $0 { m } else { nil } } ?? JSONObject()
        for field in serverOwnedMetadata { metadata[field] = nil }
        if (metadata["name"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? "").isEmpty,
            case .string(let prefix)? = metadata["generateName"], !prefix.isEmpty
        {
            metadata["name"] = .string(prefix + generatedSuffix)
        }
        metadata["uid"] = .string(uid)
        metadata["creationTimestamp"] = .string(timestamp)
        if traits.tracksGeneration { metadata["generation"] = .integer(1) }
        top["metadata"] = .object(metadata)
        if traits.isPod {
            top["status"] = .object(["phase": .string("Pending"), "qosClass": .string(qosClass(of: .object(top)))])
        } else if traits.isNamespace {
            top["status"] = .object(["phase": .string("Active")])
        } else if traits.hasStatus && traits.group == "apps" {
            top["status"] = .object(JSONObject())
        }
        return .object(top)
    }

    /// `incoming` as it may be written over `current` through the main resource (nil) or a
    /// subresource (`status`).
    public static func prepareForUpdate(_ incoming: JSONValue, current: JSONValue, traits: LifecycleTraits, subresource: String?) -> JSONValue {
        guard case .object(let currentTop) = current else { return incoming }
        if subresource == "status" {
            // Only status (and, as the real server allows, labels and annotations stay as they are).
            var next = currentTop
            if case .object(let given) = incoming, let status = given["status"] { next["status"] = status } else { next["status"] = nil }
            return .object(next)
        }
        guard case .object(var next) = incoming else { return incoming }
        var metadata = next["metadata"].flatMap { if case .object(let m) = $0 { m } else { nil } } ?? JSONObject()
        let old = currentTop["metadata"].flatMap { if case .object(let m) = $0 { m } else { nil } } ?? JSONObject()
        for field in serverOwnedMetadata + ["name", "namespace"] { metadata[field] = old[field] }
        if traits.tracksGeneration, next["spec"] != currentTop["spec"], case .integer(let generation)? = old["generation"] {
            metadata["generation"] = .integer(generation + 1)
        }
        next["metadata"] = .object(metadata)
        if traits.hasStatus { next["status"] = currentTop["status"] }
        return .object(next)
    }

    /// How to delete `object`. Pods on a node get their grace period (the request's, else their
    /// own `terminationGracePeriodSeconds`, else 30 s) for the kubelet to stop them; a pod on no
    /// node, a grace of 0, or anything without finalizers goes at once. `timestamp(seconds from
    /// now)` renders RFC 3339 times.
    public static func deletion(of object: JSONValue, traits: LifecycleTraits, gracePeriod: Int64?, timestamp: (Int64) -> String) -> DeletionPlan {
        let finalizers = self.finalizers(object)
        let deleting = object["metadata"]?["deletionTimestamp"] != nil
        if traits.isPod {
            let node = object["spec"]?["nodeName"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? ""
            let own = object["spec"]?["terminationGracePeriodSeconds"].flatMap { if case .integer(let n) = $0 { n } else { nil } }
            let grace = max(0, gracePeriod ?? own ?? 30)
            if node.isEmpty || grace == 0 { return finalizers.isEmpty ? .now : mark(object, grace: 0, timestamp: timestamp) }
            if deleting, case .integer(let current)? = object["metadata"]?["deletionGracePeriodSeconds"], current <= grace {
                return .alreadyDeleting
            }
            return mark(object, grace: grace, timestamp: timestamp)
        }
        if finalizers.isEmpty { return .now }
        return deleting ? .alreadyDeleting : mark(object, grace: 0, timestamp: timestamp)
    }

    private static func mark(_ object: JSONValue, grace: Int64, timestamp: (Int64) -> String) -> DeletionPlan {
        guard case .object(var top) = object, case .object(var metadata)? = top["metadata"] else { return .now }
        metadata["deletionTimestamp"] = .string(timestamp(grace))
        metadata["deletionGracePeriodSeconds"] = .integer(grace)
        top["metadata"] = .object(metadata)
        return .mark(.object(top))
    }

    public static func finalizers(_ object: JSONValue) -> [String] {
        guard case .array(let items)? = object["metadata"]?["finalizers"] else { return [] }
        return items.compactMap { if case .string(let s) = $0 { s } else { nil } }
    }

    /// Kubernetes' QoS class: Guaranteed when every container has equal, non-empty cpu and
    /// memory requests and limits; BestEffort when none has any; Burstable otherwise.
    public static func qosClass(of pod: JSONValue) -> String {
        var containers: [JSONValue] = []
        for field in ["initContainers", "containers"] {
            if case .array(let list)? = pod["spec"]?[field] { containers += list }
        }
        var anySet = false
        var guaranteed = !containers.isEmpty
        for container in containers {
            let requests = container["resources"]?["requests"]
            let limits = container["resources"]?["limits"]
            for resource in ["cpu", "memory"] {
                let request = requests?[resource], limit = limits?[resource]
                if request != nil || limit != nil { anySet = true }
                // A limit alone implies an equal request.
                if limit == nil || (request != nil && request != limit) { guaranteed = false }
            }
        }
        if !anySet { return "BestEffort" }
        return guaranteed ? "Guaranteed" : "Burstable"
    }

    /// The `autoscaling/v1` Scale view of a Deployment or ReplicaSet.
    public static func scale(of object: JSONValue, selector: String) -> JSONValue {
        let metadata = object["metadata"]
        var scaleMetadata = JSONObject()
        for field in ["name", "namespace", "uid", "resourceVersion", "creationTimestamp"] { scaleMetadata[field] = metadata?[field] }
        return .object([
            "kind": .string("Scale"), "apiVersion": .string("autoscaling/v1"), "metadata": .object(scaleMetadata),
            "spec": .object(["replicas": object["spec"]?["replicas"] ?? .integer(1)]),
            "status": .object(["replicas": object["status"]?["replicas"] ?? .integer(0), "selector": .string(selector)]),
        ])
    }

    /// The pod (or any object with `status.conditions`) with condition `type` set to `status`,
    /// its transition time moved only when the status changes.
    public static func withCondition(_ object: JSONValue, type: String, status: String, timestamp: String) -> JSONValue {
        guard case .object(var top) = object else { return object }
        var statusObject = top["status"].flatMap { if case .object(let o) = $0 { o } else { nil } } ?? JSONObject()
        var conditions: [JSONValue] = []
        if case .array(let list)? = statusObject["conditions"] { conditions = list }
        let index = conditions.firstIndex { $0["type"] == .string(type) }
        if let index, conditions[index]["status"] == .string(status) { return object }
        let condition: JSONValue = .object([
            "type": .string(type), "status": .string(status), "lastProbeTime": .null, "lastTransitionTime": .string(timestamp),
        ])
        if let index { conditions[index] = condition } else { conditions.append(condition) }
        statusObject["conditions"] = .array(conditions)
        top["status"] = .object(statusObject)
        return .object(top)
    }
}
