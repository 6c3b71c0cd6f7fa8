//! The namespace controller (kube-controller-manager's `pkg/controller/namespace`): empties a
//! namespace being deleted, then lets the apiserver remove it.
//!
//! A deleted namespace is only marked (`deletionTimestamp`, phase Terminating, creates refused)
//! and keeps the `kubernetes` entry of `spec.finalizers`. Each `sync` looks at the namespace and
//! at what it still holds of every namespaced resource the apiserver serves, and answers:
//!
//! - while anything is left: a delete (background propagation, pods with their own grace) of
//!   each object not already being deleted, and the status conditions Kubernetes reports
//!   (`NamespaceContentRemaining`, `NamespaceFinalizersRemaining`, ...);
//! - once nothing is left: `kubernetes` removed through `PUT namespaces/NAME/finalize`, after
//!   which the apiserver deletes the namespace (no finalizer of either kind holds it);
//! - for a namespace whose `spec.finalizers` are already empty: a delete of the namespace
//!   itself, as the real controller does (`deleteNamespaceWhenDone`).
//!
//! Pure and stateless: the shell lists the content from the apiserver for each sync (as the real
//! controller does; a lagging cache could make a namespace look empty too early), passes only the
//! resources whose list succeeded, and syncs again after `requeueAfter`. A resource missing from
//! the content is taken for not yet known to be empty, so the namespace is never finalized then.

import Base
import KubeAPI
import Wire

/// What one sync of a namespace asks for.
public struct NamespaceSync: Sendable, Equatable {
    /// The writes, in order: status first, then the content's deletes; or the finalize alone.
    public var actions: [ObjectAction] = []
    /// Objects still in the namespace (deletes just asked for included).
    public var remaining: Int = 0
    /// Sync again after this long (nil: the namespace is not being deleted, nothing to wait for).
    public var requeueAfter: Nanoseconds?

    public init() {}
}

public struct NamespaceController: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// How long to wait before looking again at a namespace still being emptied (the real
        /// controller waits the estimated time left or backs off; the shell also syncs on the
        /// informer events of the content it watches).
        public var recheckInterval: Nanoseconds

        public init(recheckInterval: Nanoseconds = 2 * Time.second) {
            precondition(recheckInterval > 0, "recheckInterval must be positive, is \(recheckInterval)")
            self.recheckInterval = recheckInterval
        }
    }

    public let configuration: Configuration

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    static let namespaces = APIResource.standard("namespaces")

    /// Every namespaced resource the apiserver serves: what a namespace must be emptied of.
    public static let contentResources: [APIResource] = ResourceRegistry.standard.resources.filter(\.namespaced)

    /// Whether the controller has anything to do with `namespace`: it is being deleted.
    public static func isTerminating(_ namespace: JSONValue) -> Bool {
        namespace.member("metadata", "deletionTimestamp").map { $0 != .null } ?? false
    }

    /// One pass over `namespace` (as read from the apiserver) with `content`, the objects listed
    /// in it by resource; a resource absent from `content` could not be listed. `timestamp` (RFC
    /// 3339, now) is the transition time of conditions that change.
    public func sync(namespace: JSONValue, content: [APIResource: [JSONValue]], timestamp: String) -> NamespaceSync {
        var result = NamespaceSync()
        guard Self.isTerminating(namespace), let name = namespace.stringMember("metadata", "name") else { return result }
        result.requeueAfter = configuration.recheckInterval
        let reference = ObjectReference(Self.namespaces, namespace: nil, name: name)
        let specFinalizers = NamespaceLifecycle.specFinalizers(namespace)
        guard specFinalizers.contains(NamespaceLifecycle.kubernetesFinalizer) else {
            // Finalized already (or by hand): the namespace goes when no other finalizer holds it.
            if specFinalizers.isEmpty {
                result.actions = [.delete(reference, uid: namespace.stringMember("metadata", "uid"))]
            }
            return result
        }

        let unlisted = Self.contentResources.filter { content[$0] == nil }
        var remainingByResource: [(resource: APIResource, count: Int)] = []
        var finalizerCounts: [String: Int] = [:]
        var deletes: [ObjectAction] = []
        for resource in Self.contentResources {
            // Only what is in this namespace counts, whatever the shell passed.
            let objects = (content[resource] ?? []).filter { $0.stringMember("metadata", "namespace") == name }
            if !objects.isEmpty { remainingByResource.append((resource, objects.count)) }
            for object in objects {
                for finalizer in ObjectLifecycle.finalizers(object) { finalizerCounts[finalizer, default: 0] += 1 }
                guard !Self.isTerminating(object), let objectName = object.stringMember("metadata", "name") else { continue }
                // Background, as the real controller's deletes: dependents go through the garbage collector.
                deletes.append(.delete(ObjectReference(resource, namespace: name, name: objectName), uid: object.stringMember("metadata", "uid"),
                    propagation: PropagationPolicy.background.rawValue))
            }
        }
        result.remaining = remainingByResource.reduce(0) { $0 + $1.count }

        if result.remaining == 0 && unlisted.isEmpty {
            // Empty: hand the namespace back without `kubernetes`; the apiserver then deletes it.
            var finalized = namespace
            let kept = specFinalizers.filter { $0 != NamespaceLifecycle.kubernetesFinalizer }
            finalized.set("spec.finalizers", .array(kept.map(JSONValue.string)))
            result.actions = [.update(reference, object: finalized, subresource: "finalize")]
            return result
        }

        let conditions = Self.conditions(remaining: remainingByResource, finalizers: finalizerCounts, unlisted: unlisted)
        let status = NamespaceConditions.merged(conditions, into: namespace.arrayMember("status", "conditions"), timestamp: timestamp)
        if status != namespace.arrayMember("status", "conditions") {
            var updated = namespace
            updated.set("status.conditions", .array(status))
            result.actions.append(.update(reference, object: updated, subresource: "status"))
        }
        result.actions += deletes
        return result
    }

    /// The five conditions the real controller reports while it deletes (`status_condition_utils.go`).
    static func conditions(remaining: [(resource: APIResource, count: Int)], finalizers: [String: Int], unlisted: [APIResource])
        -> [NamespaceCondition]
    {
        var conditions = [
            NamespaceCondition(type: "NamespaceDeletionDiscoveryFailure", failing: false, reason: "ResourcesDiscovered",
                message: "All resources successfully discovered"),
            NamespaceCondition(type: "NamespaceDeletionGroupVersionParsingFailure", failing: false, reason: "ParsedGroupVersions",
                message: "All legacy kube types successfully parsed"),
        ]
        if unlisted.isEmpty {
            conditions.append(NamespaceCondition(type: "NamespaceDeletionContentFailure", failing: false, reason: "ContentDeleted",
                message: "All content successfully deleted, may be waiting on finalization"))
        } else {
            conditions.append(NamespaceCondition(type: "NamespaceDeletionContentFailure", failing: true, reason: "ContentDeletionFailed",
                message: "Failed to list \(unlisted.count) resource types: \(unlisted.map(\.qualifiedName).sorted().joined(separator: ", "))"))
        }
        if remaining.isEmpty {
            conditions.append(NamespaceCondition(type: "NamespaceContentRemaining", failing: false, reason: "ContentRemoved",
                message: "All content successfully removed"))
        } else {
            let parts = remaining.map { "\($0.resource.qualifiedName) has \($0.count) resource instances" }.sorted()
            conditions.append(NamespaceCondition(type: "NamespaceContentRemaining", failing: true, reason: "SomeResourcesRemain",
                message: "Some resources are remaining: \(parts.joined(separator: ", "))"))
        }
        if finalizers.isEmpty {
            conditions.append(NamespaceCondition(type: "NamespaceFinalizersRemaining", failing: false, reason: "ContentHasNoFinalizers",
                message: "All content-preserving finalizers finished"))
        } else {
            let parts = finalizers.sorted { $0.key < $1.key }.map { "\($0.key) in \($0.value) resource instances" }
            conditions.append(NamespaceCondition(type: "NamespaceFinalizersRemaining", failing: true, reason: "SomeFinalizersRemain",
                message: "Some content in the namespace has finalizers remaining: \(parts.joined(separator: ", "))"))
        }
        return conditions
    }
}

/// One `status.conditions` entry of a namespace: status True when the condition holds (a failure,
/// or content remaining), False when all is well.
struct NamespaceCondition: Equatable {
    var type: String
    var failing: Bool
    var reason: String
    var message: String
}

enum NamespaceConditions {
    /// `conditions` written over `existing`: an entry whose status, reason and message are
    /// unchanged is kept as it is (its transition time too); others take `timestamp`. Conditions
    /// of other types stay, in front.
    static func merged(_ conditions: [NamespaceCondition], into existing: [JSONValue], timestamp: String) -> [JSONValue] {
        let types = Set(conditions.map(\.type))
        var result = existing.filter { !types.contains($0.stringMember("type") ?? "") }
        for condition in conditions {
            let status = condition.failing ? "True" : "False"
            let old = existing.first { $0.stringMember("type") == condition.type }
            if let old, old.stringMember("status") == status, old.stringMember("reason") == condition.reason,
                old.stringMember("message") == condition.message
            {
                result.append(old)
                continue
            }
            // The transition time moves only when the status does (a new message alone keeps it).
            let transition = old.flatMap { $0.stringMember("status") == status ? $0.stringMember("lastTransitionTime") : nil } ?? timestamp
            result.append(.object([
                "type": .string(condition.type), "status": .string(status), "lastTransitionTime": .string(transition),
                "reason": .string(condition.reason), "message": .string(condition.message),
            ]))
        }
        return result
    }
}
