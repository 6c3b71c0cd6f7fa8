//! The ReplicaSet controller's core (`pkg/controller/replicaset`): keep a ReplicaSet's count of
//! active pods at `spec.replicas`, claim the pods its selector matches, and report its status.
//!
//! One `sync` is one pass of Kubernetes' `syncReplicaSet` over the shell's cached ReplicaSet and
//! the cached pods of its namespace. The controller remembers only its expectations (the
//! creations and deletions it asked for and has not yet seen through the watch) and the last
//! failure the shell reported; the shell feeds the watch back through `observedCreate` and
//! `observedDelete` and failures through `createsFailed` and `deleteFailed`.
import Base
import KubeAPI
import Wire

/// What one ReplicaSet sync asks for, in the order to send it.
public struct ReplicaSetSync: Sendable, Equatable {
    /// Adoptions and releases of pods (merge patches of `metadata.ownerReferences`).
    public var claims: [ObjectAction] = []
    /// Pod creations: send them in `createBatches` (slow start), stopping after the first batch
    /// with a failure and reporting the creations not attempted or failed via `createsFailed`.
    public var podCreates: [ObjectAction] = []
    /// Pod deletions (each guarded by the pod's uid); report failures via `deleteFailed`.
    public var podDeletes: [ObjectAction] = []
    /// The status write (`replicasets/status`), sent even when creates or deletes failed; nil
    /// when the status is already right.
    public var statusUpdate: ObjectAction?
    /// Sync this ReplicaSet again after this long even without a watch event: pods becoming
    /// available after `minReadySeconds`, or expectations running out.
    public var requeueAfter: Nanoseconds?

    public init() {}

    /// Everything, in order: claims, creates, deletes, status.
    public var actions: [ObjectAction] { claims + podCreates + podDeletes + (statusUpdate.map { [$0] } ?? []) }

    /// The slow-start batch sizes for `podCreates`: 1, 2, 4, ... summing to their count.
    public var createBatches: [Int] { SlowStart.batchSizes(count: podCreates.count, initial: 1) }
}

/// Kubernetes' slow start: create in batches that double while they succeed, so a namespace out
/// of quota costs one failed request instead of hundreds.
public enum SlowStart {
    public static func batchSizes(count: Int, initial: Int) -> [Int] {
        precondition(count >= 0 && initial > 0, "slow start of \(count) in batches from \(initial)")
        var sizes: [Int] = []
        var remaining = count
        var size = min(remaining, initial)
        while size > 0 {
            sizes.append(size)
            remaining -= size
            size = min(2 * size, remaining)
        }
        return sizes
    }
}

/// The ReplicaSet controller's decisions, with its expectations as state.
public struct ReplicaSetController: Sendable {
    public struct Settings: Sendable {
        /// The most pods one sync creates or deletes (kube-controller-manager's `burstReplicas`, 500).
        public var burstReplicas: Int = 500
        /// How long to wait for the watch to show requested creations and deletions before acting
        /// again anyway (`ExpectationsTimeout`, 5 minutes).
        public var expectationsTimeout: Nanoseconds = 5 * 60 * Time.second

        public init() {}
    }

    public let settings: Settings
    private var expectations: WorkloadExpectations
    /// The last failure the shell reported per ReplicaSet key, shown as ReplicaFailure until the
    /// ReplicaSet has its replicas. Invariant: keys are of ReplicaSets not yet forgotten.
    private var failures: [String: ReplicaSetFailure] = [:]

    public init(settings: Settings = Settings()) {
        precondition(settings.burstReplicas > 0, "burstReplicas \(settings.burstReplicas) must be positive")
        self.settings = settings
        expectations = WorkloadExpectations(timeout: settings.expectationsTimeout)
    }

    static let replicaSets = APIResource.standard("replicasets", group: "apps")
    static let pods = APIResource.standard("pods")

    /// `namespace/name`, the key the work queue and the expectations use.
    public static func key(namespace: String, name: String) -> String { "\(namespace)/\(name)" }

    /// The key of the ReplicaSet that controls `pod`, if one does: which ReplicaSet to sync on a
    /// pod event (an orphan's event should wake every ReplicaSet whose selector matches it).
    public static func controllingKey(of pod: JSONValue) -> String? {
        guard let reference = WorkloadOwnerRef.controller(of: pod), reference.kind == "ReplicaSet",
            reference.apiVersion.hasPrefix("apps/")
        else { return nil }
        return key(namespace: WorkloadMetadata.namespace(pod), name: reference.name)
    }

    // MARK: - Watch and outcome feedback

    /// The watch showed `pod` (an add). A pod already being deleted counts as a deletion.
    public mutating func observedCreate(pod: JSONValue) {
        guard let key = Self.controllingKey(of: pod) else { return }
        if WorkloadPod(pod).isBeingDeleted {
            observedDelete(pod: pod)
            return
        }
        expectations.creationObserved(key)
    }

    /// The watch showed `pod` deleted, or updated with a deletion timestamp; counted once per pod.
    public mutating func observedDelete(pod: JSONValue) {
        guard let key = Self.controllingKey(of: pod) else { return }
        expectations.deletionObserved(key, podKey: WorkloadPod(pod).key)
    }

    /// `count` of the requested creations for the ReplicaSet `key` were not made (failed, or
    /// skipped after a failed slow-start batch): the watch will never show them.
    public mutating func createsFailed(replicaSetKey key: String, count: Int, message: String) {
        precondition(count > 0, "\(count) failed creates reported for \(key)")
        expectations.creationObserved(key, count: count)
        failures[key] = ReplicaSetFailure(reason: "FailedCreate", message: message)
    }

    /// Deleting `pod` failed. A pod already gone is no failure (call `observedDelete` instead).
    public mutating func deleteFailed(replicaSetKey key: String, pod: JSONValue, message: String) {
        expectations.deletionObserved(key, podKey: WorkloadPod(pod).key)
        failures[key] = ReplicaSetFailure(reason: "FailedDelete", message: message)
    }

    /// The ReplicaSet is gone: drop what was remembered for it.
    public mutating func forget(replicaSetKey key: String) {
        expectations.forget(key)
        failures[key] = nil
    }

    /// Whether the ReplicaSet `key` may create or delete now (for tests and traces).
    public func expectationsSatisfied(replicaSetKey key: String, now: Nanoseconds) -> Bool {
        expectations.isSatisfied(key, now: now)
    }

    // MARK: - Sync

    /// One pass over `replicaSet` with the cached `pods` of its namespace (other namespaces' pods
    /// are ignored). `now` is monotonic (expectations); `wallNow` is seconds since the epoch,
    /// compared with the pods' Ready transition times for `minReadySeconds`.
    public mutating func sync(replicaSet: JSONValue, pods: [JSONValue], now: Nanoseconds, wallNow: Int64) -> ReplicaSetSync {
        var result = ReplicaSetSync()
        guard let name = replicaSet.stringMember("metadata", "name"), let uid = replicaSet.stringMember("metadata", "uid"),
            let selectorJSON = replicaSet.member("spec", "selector"),
            let selector = try? LabelSelector(structured: selectorJSON)
        else { return result }  // Kubernetes logs an unusable selector and waits for an edit.
        let namespace = WorkloadMetadata.namespace(replicaSet)
        let key = Self.key(namespace: namespace, name: name)
        let reference = ObjectReference(Self.replicaSets, namespace: namespace, name: name)
        let beingDeleted = WorkloadMetadata.isBeingDeleted(replicaSet)
        let needsSync = expectations.satisfied(key, now: now)

        let active = pods.map(WorkloadPod.init).filter { $0.namespace == namespace && $0.isActive }
        let claim = PodClaim.claim(active, ownerUID: uid, selector: selector, ownerBeingDeleted: beingDeleted)
        let ownerReference = WorkloadOwnerRef.controlling(replicaSet, apiVersion: "apps/v1", kind: "ReplicaSet")
        for pod in claim.adopted {
            let podReference = ObjectReference(Self.pods, namespace: namespace, name: pod.name)
            result.claims.append(.mergePatch(podReference, patch: WorkloadOwnerRefPatch.adopting(pod.object, by: ownerReference)))
        }
        for pod in claim.released {
            let podReference = ObjectReference(Self.pods, namespace: namespace, name: pod.name)
            result.claims.append(.mergePatch(podReference, patch: WorkloadOwnerRefPatch.releasing(pod.object, fromUID: uid)))
        }

        let desired = max(0, Int(replicaSet.intMember("spec", "replicas") ?? 1))
        if claim.claimed.count == desired { failures[key] = nil }
        if needsSync && !beingDeleted {
            manageReplicas(replicaSet, key: key, claimed: claim.claimed, desired: desired, now: now, wallNow: wallNow, into: &result)
        }

        let status = ReplicaSetStatus.calculate(replicaSet, claimed: claim.claimed, failure: failures[key], wallNow: wallNow)
        if status != replicaSet.member("status") ?? .null {
            var updated = replicaSet
            updated.set("status", status)
            result.statusUpdate = .update(reference, object: updated, subresource: "status")
        }
        result.requeueAfter = requeueDelay(key: key, status: status, desired: desired, replicaSet: replicaSet, now: now)
        return result
    }

    /// Creates or deletes toward `desired`, at most `burstReplicas` at a time, and records what
    /// the watch must show before the next pass may act.
    private mutating func manageReplicas(
        _ replicaSet: JSONValue, key: String, claimed: [WorkloadPod], desired: Int, now: Nanoseconds, wallNow: Int64,
        into result: inout ReplicaSetSync
    ) {
        let difference = claimed.count - desired
        let namespace = WorkloadMetadata.namespace(replicaSet)
        if difference < 0 {
            let count = min(-difference, settings.burstReplicas)
            expectations.expectCreations(key, count: count, now: now)
            let pod = Self.podFromTemplate(replicaSet)
            result.podCreates = Array(repeating: .create(Self.pods, namespace: namespace, object: pod), count: count)
        } else if difference > 0 {
            let count = min(difference, settings.burstReplicas)
            var victims = claimed
            if count < claimed.count {
                let ranks = PodDeletionOrder.colocationRanks(of: claimed, related: claimed)
                victims = PodDeletionOrder.sorted(claimed, ranks: ranks, wallNow: wallNow)
            }
            victims = Array(victims.prefix(count))
            expectations.expectDeletions(key, podKeys: victims.map(\.key), now: now)
            result.podDeletes = victims.map { pod in
                .delete(ObjectReference(Self.pods, namespace: namespace, name: pod.name), uid: pod.uid)
            }
        }
    }

    /// The pod a ReplicaSet creates (`GetPodFromTemplate`): the template's labels, annotations,
    /// finalizers and spec, a generated name after the ReplicaSet's, and the ReplicaSet as its
    /// controlling owner.
    static func podFromTemplate(_ replicaSet: JSONValue) -> JSONValue {
        let name = replicaSet.stringMember("metadata", "name") ?? ""
        let template = replicaSet.member("spec", "template") ?? .object(JSONObject())
        var metadata = JSONObject()
        metadata["generateName"] = .string(name + "-")
        metadata["namespace"] = .string(WorkloadMetadata.namespace(replicaSet))
        for field in ["labels", "annotations", "finalizers"] {
            if let value = template.member("metadata", field), value != .null { metadata[field] = value }
        }
        let owner = WorkloadOwnerRef.controlling(replicaSet, apiVersion: "apps/v1", kind: "ReplicaSet")
        metadata["ownerReferences"] = .array([owner.json])
        return .object([
            "apiVersion": .string("v1"), "kind": .string("Pod"), "metadata": .object(metadata),
            "spec": template.member("spec") ?? .object(JSONObject()),
        ])
    }

    /// When to look again without an event: after `minReadySeconds` while every pod is ready but
    /// not all available (Kubernetes' "last line of defense against clock skew"), or when the
    /// outstanding expectations expire (a lost watch event then wakes the ReplicaSet; Kubernetes
    /// relies on its periodic resync for that).
    private func requeueDelay(key: String, status: JSONValue, desired: Int, replicaSet: JSONValue, now: Nanoseconds) -> Nanoseconds? {
        var delays: [Nanoseconds] = []
        let minReadySeconds = replicaSet.intMember("spec", "minReadySeconds") ?? 0
        if minReadySeconds > 0, status.intMember("readyReplicas") == Int64(desired),
            status.intMember("availableReplicas") != Int64(desired)
        {
            delays.append(minReadySeconds * Time.second)
        }
        if let expiry = expectations.expiry(key) { delays.append(max(0, expiry - now) + Time.second) }
        return delays.min()
    }
}
