//! What the server does to an object on its way in, as the real apiserver's registry
//! strategies do: on create it sets the fields it owns (uid, creationTimestamp, generation, a
//! name from generateName) and resets status where clients may not set it; on update it keeps
//! what the client may not change, takes status only through `/status` and spec only through
//! the main resource, and bumps `metadata.generation` when the spec changed (what
//! `kubectl rollout status` compares with `status.observedGeneration`); on delete it decides
//! between deleting now and marking the object (`deletionTimestamp`) for its kubelet or
//! finalizers to finish, turning the request's propagation policy into the garbage collector's
//! finalizers (`foregroundDeletion`, `orphan`) as the generic registry store does. Namespaces
//! have rules of their own (`NamespaceLifecycle.swift`).

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

/// What a delete does with the object's dependents (`DeleteOptions.propagationPolicy`).
public enum PropagationPolicy: String, Sendable, CaseIterable {
    /// The dependents go first: the object waits, marked, with finalizer `foregroundDeletion`.
    case foreground = "Foreground"
    /// The object goes now; the garbage collector deletes the dependents afterwards.
    case background = "Background"
    /// The dependents stay, their owner references to the object removed (finalizer `orphan`).
    case orphan = "Orphan"
}

extension LifecycleTraits {
    /// What a delete that names no policy does (the registry strategy's
    /// `DefaultGarbageCollectionPolicy`): `batch/v1` Jobs orphan their pods, for compatibility;
    /// namespaces have their own deletion and take no policy (nil); everything else is background.
    public var defaultPropagation: PropagationPolicy? {
        if isNamespace { return nil }
        if group == "batch" && plural == "jobs" { return .orphan }
        return .background
    }
}

/// The `DeleteOptions` a delete request carries, from its body or its query.
public struct DeletionOptions: Sendable, Equatable {
    public var gracePeriodSeconds: Int64?
    /// As sent (validated by `validate`): `Foreground`, `Background` or `Orphan`.
    public var propagationPolicy: String?
    /// The legacy form of `Orphan` (true) and `Background` (false).
    public var orphanDependents: Bool?
    public var preconditionUID: String?
    public var preconditionResourceVersion: String?

    public init(gracePeriodSeconds: Int64? = nil, propagationPolicy: String? = nil, orphanDependents: Bool? = nil,
        preconditionUID: String? = nil, preconditionResourceVersion: String? = nil)
    {
        self.gracePeriodSeconds = gracePeriodSeconds
        self.propagationPolicy = propagationPolicy
        self.orphanDependents = orphanDependents
        self.preconditionUID = preconditionUID
        self.preconditionResourceVersion = preconditionResourceVersion
    }

    /// The options of a `DeleteOptions` body (`{"kind":"DeleteOptions","propagationPolicy":"Foreground",…}`).
    public init(body: JSONValue) {
        gracePeriodSeconds = body["gracePeriodSeconds"]?.asInt64
        propagationPolicy = body["propagationPolicy"]?.asString
        orphanDependents = body["orphanDependents"]?.asBool
        preconditionUID = body["preconditions"]?["uid"]?.asString
        preconditionResourceVersion = body["preconditions"]?["resourceVersion"]?.asString
    }

    /// Takes what the query gives (`?gracePeriodSeconds=0&propagationPolicy=Foreground`,
    /// `orphanDependents=true`) over the body's. Returns the message of a value that does not
    /// read, nil when all do.
    public mutating func read(query: QueryParameters) -> String? {
        if let text = query["gracePeriodSeconds"] {
            guard let seconds = Int64(text), seconds >= 0 else { return "gracePeriodSeconds '\(text)' is not a whole number of seconds" }
            gracePeriodSeconds = seconds
        }
        if let text = query["propagationPolicy"] { propagationPolicy = text }
        if let text = query["orphanDependents"] {
            // Go's strconv.ParseBool, which Kubernetes' query decoder uses.
            switch text {
            case "1", "t", "T", "true", "TRUE", "True": orphanDependents = true
            case "0", "f", "F", "false", "FALSE", "False": orphanDependents = false
            default: return "orphanDependents '\(text)' is not a boolean"
            }
        }
        return nil
    }

    /// Kubernetes' `ValidateDeleteOptions`: the legacy and the new form together are refused, and
    /// a policy must be one of the three. The server answers 422 for `DeleteOptions.meta.k8s.io ""`.
    public func validate() -> [FieldCause] {
        var causes: [FieldCause] = []
        if orphanDependents != nil, let propagationPolicy {
            causes.append(.invalid("propagationPolicy", .string(propagationPolicy), "orphanDependents and deletionPropagation cannot be both set"))
        }
        if let propagationPolicy, PropagationPolicy(rawValue: propagationPolicy) == nil {
            causes.append(.notSupported("propagationPolicy", .string(propagationPolicy),
                supported: PropagationPolicy.allCases.map(\.rawValue) + ["nil"]))
        }
        return causes
    }

    /// The 409 message of a precondition `object` fails, nil when they hold (the real server's `BeforeDelete`).
    public func preconditionFailure(_ object: JSONValue) -> String? {
        if let preconditionUID, let actual = object["metadata"]?["uid"]?.asString, preconditionUID != actual {
            return "Precondition failed: UID in precondition: \(preconditionUID), UID in object meta: \(actual)"
        }
        if let preconditionResourceVersion, let actual = object["metadata"]?["resourceVersion"]?.asString,
            preconditionResourceVersion != actual
        {
            return "Precondition failed: ResourceVersion in precondition: \(preconditionResourceVersion), ResourceVersion in object meta: \(actual)"
        }
        return nil
    }
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
            return NamespaceLifecycle.prepareForCreate(.object(top))
        } else if traits.hasStatus && traits.group == "apps" {
            top["status"] = .object(JSONObject())
        }
        return .object(top)
    }

    /// `incoming` as it may be written over `current` through the main resource (nil) or a
    /// subresource (`status`).
    public static func prepareForUpdate(_ incoming: JSONValue, current: JSONValue, traits: LifecycleTraits, subresource: String?) -> JSONValue {
        guard case .object(let currentTop) = current else { return incoming }
        if traits.isNamespace && subresource == "finalize" {
            return NamespaceLifecycle.prepareForUpdate(incoming, current: current, subresource: subresource)
        }
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
        if traits.isNamespace { return NamespaceLifecycle.prepareForUpdate(.object(next), current: current, subresource: subresource) }
        return .object(next)
    }

    /// Whether an update that leaves the object as `next` deletes it instead (the generic
    /// store's `ShouldDeleteDuringUpdate`): it is being deleted and its last finalizer is gone.
    /// Pods wait for their kubelet; a namespace also waits for its `spec.finalizers`.
    public static func deletesOnUpdate(_ next: JSONValue, traits: LifecycleTraits) -> Bool {
        guard let mark = next["metadata"]?["deletionTimestamp"], mark != .null, finalizers(next).isEmpty, !traits.isPod else { return false }
        return !traits.isNamespace || NamespaceLifecycle.specFinalizers(next).isEmpty
    }

    /// How to delete `object` with only a grace period (no propagation policy, no preconditions).
    public static func deletion(of object: JSONValue, traits: LifecycleTraits, gracePeriod: Int64?, timestamp: (Int64) -> String) -> DeletionPlan {
        deletion(of: object, traits: traits, options: DeletionOptions(gracePeriodSeconds: gracePeriod), timestamp: timestamp)
    }

    /// How to delete `object`, as the generic registry store does. Pods on a node get their grace
    /// period (the request's, else their own `terminationGracePeriodSeconds`, else 30 s) for the
    /// kubelet to stop them; a pod on no node or a grace of 0 goes at once. The propagation policy
    /// becomes the garbage collector's finalizers (`foregroundDeletion`, `orphan`), and an object
    /// left with any finalizer is only marked (`deletionTimestamp`) for their owners to finish.
    /// `timestamp(seconds from now)` renders RFC 3339 times.
    public static func deletion(of object: JSONValue, traits: LifecycleTraits, options: DeletionOptions, timestamp: (Int64) -> String)
        -> DeletionPlan
    {
        if traits.isNamespace { return NamespaceLifecycle.deletion(of: object, timestamp: timestamp(0)) }
        let deleting = object["metadata"]?["deletionTimestamp"] != nil
        let deletingGrace = object["metadata"]?["deletionGracePeriodSeconds"]?.asInt64
        if traits.isPod {
            let node = object["spec"]?["nodeName"].flatMap { if case .string(let s) = $0 { s } else { nil } } ?? ""
            let own = object["spec"]?["terminationGracePeriodSeconds"].flatMap { if case .integer(let n) = $0 { n } else { nil } }
            let grace = max(0, options.gracePeriodSeconds ?? own ?? 30)
            // A graceful deletion under way may only be shortened; while it runs, a delete changes
            // no finalizers (the real server's `pendingGraceful`).
            if deleting, let deletingGrace, deletingGrace > 0, !node.isEmpty, grace > 0 {
                guard let asked = options.gracePeriodSeconds, asked < deletingGrace else { return .alreadyDeleting }
                return mark(object, finalizers: finalizers(object), grace: grace, timestamp: timestamp)
            }
            let next = finalizersAfterDeletion(of: object, traits: traits, options: options)
            if node.isEmpty || grace == 0 || deleting { return settle(object, finalizers: next, timestamp: timestamp) }
            return mark(object, finalizers: next, grace: grace, timestamp: timestamp)
        }
        return settle(object, finalizers: finalizersAfterDeletion(of: object, traits: traits, options: options), timestamp: timestamp)
    }

    /// A deletion without a grace period: at once when no finalizer is left, else marked (an
    /// object already marked keeps its time, and is left alone when its finalizers stay as they are).
    private static func settle(_ object: JSONValue, finalizers next: [String], timestamp: (Int64) -> String) -> DeletionPlan {
        if next.isEmpty { return .now }
        let deleting = object["metadata"]?["deletionTimestamp"] != nil
        if deleting && next == finalizers(object) && object["metadata"]?["deletionGracePeriodSeconds"]?.asInt64 == 0 {
            return .alreadyDeleting
        }
        return mark(object, finalizers: next, grace: 0, timestamp: timestamp)
    }

    private static func mark(_ object: JSONValue, finalizers next: [String], grace: Int64, timestamp: (Int64) -> String) -> DeletionPlan {
        guard case .object(var top) = object, case .object(var metadata)? = top["metadata"] else { return .now }
        let deleting = metadata["deletionTimestamp"] != nil
        // The real server counts the start of a deletion as a change of the object.
        if !deleting, let generation = metadata["generation"]?.asInt64, generation > 0 { metadata["generation"] = .integer(generation + 1) }
        // Shortening a graceful deletion moves its time; any other mark of an object already
        // being deleted keeps the time it had.
        if !deleting || grace > 0 { metadata["deletionTimestamp"] = .string(timestamp(grace)) }
        metadata["deletionGracePeriodSeconds"] = .integer(grace)
        if next != finalizers(object) { metadata["finalizers"] = next.isEmpty ? nil : .array(next.map(JSONValue.string)) }
        top["metadata"] = .object(metadata)
        return .mark(.object(top))
    }

    // MARK: - Deletion propagation

    /// The finalizer that makes the garbage collector delete an object's dependents before it.
    public static let foregroundDeletionFinalizer = "foregroundDeletion"
    /// The finalizer that makes the garbage collector remove the owner references to an object
    /// from its dependents, which then outlive it.
    public static let orphanFinalizer = "orphan"

    /// `object`'s finalizers once a delete with `options` has set the garbage collector's two:
    /// an explicit policy (or the legacy `orphanDependents`) wins, then a finalizer the object
    /// already has, then the kind's default (Kubernetes' `deletionFinalizersForGarbageCollection`).
    /// When the set is unchanged the list keeps its order.
    public static func finalizersAfterDeletion(of object: JSONValue, traits: LifecycleTraits, options: DeletionOptions) -> [String] {
        let current = finalizers(object)
        guard let defaultPolicy = traits.defaultPropagation else { return current }
        let orphan: Bool
        let foreground: Bool
        if let orphanDependents = options.orphanDependents {
            orphan = orphanDependents
            foreground = false
        } else if let policy = options.propagationPolicy.flatMap(PropagationPolicy.init(rawValue:)) {
            orphan = policy == .orphan
            foreground = policy == .foreground
        } else {
            // The first of the two finalizers present decides orphaning; the kind's default otherwise.
            let first = current.first { $0 == orphanFinalizer || $0 == foregroundDeletionFinalizer }
            orphan = first.map { $0 == orphanFinalizer } ?? (defaultPolicy == .orphan)
            foreground = current.contains(foregroundDeletionFinalizer)
        }
        var next = current.filter { $0 != orphanFinalizer && $0 != foregroundDeletionFinalizer }
        if orphan { next.append(orphanFinalizer) }
        if foreground { next.append(foregroundDeletionFinalizer) }
        return Set(next) == Set(current) ? current : next
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
