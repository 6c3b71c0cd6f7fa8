//! The Deployment controller's core (`pkg/controller/deployment`): roll a Deployment's pod
//! template out through ReplicaSets, one per template revision, within maxSurge and
//! maxUnavailable (or all at once for Recreate), scale them when the Deployment is scaled, keep
//! the revision history, and report status and conditions for `kubectl rollout status`.
//!
//! `sync` is one pass of `syncDeployment` over the shell's cache. The controller keeps no state
//! between passes: Kubernetes' has none either beyond its work queue, and relies on the
//! resourceVersion of each write to fail a pass that acted on a stale cache.
import Base
import KubeAPI
import Wire

/// What one Deployment sync asks for.
public struct DeploymentSync: Sendable, Equatable {
    /// Send in order, stopping at the first failed write (events excepted) and syncing again with
    /// backoff: later writes assume the earlier ones succeeded. A create answered "already
    /// exists" is retried by the next sync, which will see a name collision if it is one.
    public var actions: [ObjectAction] = []
    /// Sync this Deployment again after this long even without an event: to check the progress
    /// deadline of a rollout that shows no progress, or to retry after a hash collision.
    public var requeueAfter: Nanoseconds?

    public init(actions: [ObjectAction] = [], requeueAfter: Nanoseconds? = nil) {
        self.actions = actions
        self.requeueAfter = requeueAfter
    }
}

/// The Deployment controller's decisions.
public struct DeploymentController: Sendable {
    public init() {}

    /// `namespace/name` of the Deployment that controls `replicaSet`, if one does: which
    /// Deployment to sync on a ReplicaSet event.
    public static func controllingKey(of replicaSet: JSONValue) -> String? {
        guard let reference = WorkloadOwnerRef.controller(of: replicaSet), reference.kind == "Deployment",
            reference.apiVersion.hasPrefix("apps/")
        else { return nil }
        return "\(WorkloadMetadata.namespace(replicaSet))/\(reference.name)"
    }

    /// The `pod-template-hash` the Deployment's current template gets (its new ReplicaSet is
    /// `<name>-<hash>`), given its `status.collisionCount`.
    public static func podTemplateHash(of deployment: JSONValue) -> String {
        PodTemplateHash.value(
            of: deployment.member("spec", "template") ?? .object(JSONObject()),
            collisionCount: deployment.intMember("status", "collisionCount"))
    }

    /// One pass over `deployment` with the cached ReplicaSets and pods of its namespace (others
    /// are ignored). `wallNow` (seconds since the epoch) stamps conditions and is compared with
    /// them for the progress deadline; the decisions need no monotonic time.
    public func sync(deployment: JSONValue, replicaSets: [JSONValue], pods: [JSONValue], wallNow: Int64) -> DeploymentSync {
        let view = DeploymentSpecView(deployment)
        guard !view.name.isEmpty, !view.uid.isEmpty, let selector = try? LabelSelector(structured: view.selectorJSON) else {
            return DeploymentSync()  // Kubernetes logs an unusable selector and waits for an edit.
        }
        if selector.isEverything { return selectingEverything(view) }
        var pass = claimedPass(view, selector: selector, replicaSets: replicaSets, pods: pods, wallNow: wallNow)
        if view.isBeingDeleted {
            _ = pass.findReplicaSets(create: false)
            pass.syncDeploymentStatus()
        } else {
            pass.checkPausedConditions()
            if view.paused || pass.isScalingEvent() {
                pass.syncScaling()
            } else {
                switch view.strategyType {
                case "Recreate": pass.rolloutRecreate()
                case "RollingUpdate": pass.rolloutRolling()
                default: break  // Validation admits only the two; Kubernetes returns an error.
                }
            }
        }
        return DeploymentSync(actions: pass.actions(), requeueAfter: pass.requeueAfter)
    }

    /// An empty selector would claim every pod of the namespace: Kubernetes refuses to act,
    /// warns, and only records that it saw the generation.
    private func selectingEverything(_ view: DeploymentSpecView) -> DeploymentSync {
        let reference = ObjectReference(DeploymentPass.deployments, namespace: view.namespace, name: view.name)
        var actions: [ObjectAction] = []
        if view.object.intMember("status", "observedGeneration") ?? 0 < view.generation {
            var updated = view.object
            updated.set("status.observedGeneration", .integer(view.generation))
            actions.append(.update(reference, object: updated, subresource: "status"))
        }
        actions.append(.event(involved: reference, type: "Warning", reason: "SelectingAll",
            message: "This deployment is selecting all pods. A non-empty selector is required."))
        return DeploymentSync(actions: actions)
    }

    /// Claims the namespace's ReplicaSets (adoption edits the working copy, so it rides on that
    /// ReplicaSet's one write; a release is a patch of its own) and groups the claimed ones' pods.
    private func claimedPass(
        _ view: DeploymentSpecView, selector: LabelSelector, replicaSets: [JSONValue], pods: [JSONValue], wallNow: Int64
    ) -> DeploymentPass {
        let namespaceReplicaSets = replicaSets.filter { WorkloadMetadata.namespace($0) == view.namespace }
        let claim = ControllerClaim.claim(
            namespaceReplicaSets, object: { $0 }, ownerUID: view.uid, selector: selector, ownerBeingDeleted: view.isBeingDeleted)
        let owner = WorkloadOwnerRef.controlling(view.object, apiVersion: "apps/v1", kind: "Deployment")
        let adoptedUIDs = Set(claim.adopted.compactMap { $0.stringMember("metadata", "uid") })
        let claimed = claim.claimed.map { replicaSet in
            var working = WorkingReplicaSet(cached: replicaSet)
            if adoptedUIDs.contains(working.uid) {
                working.object.set("metadata.ownerReferences", .array(replicaSet.arrayMember("metadata", "ownerReferences") + [owner.json]))
            }
            return working
        }
        let claimedUIDs = Set(claimed.map(\.uid))
        var podsByReplicaSet: [String: [WorkloadPod]] = [:]
        for pod in pods.map(WorkloadPod.init) where pod.namespace == view.namespace && selector.matches(labels: pod.labels) {
            guard let owner = pod.controllerRef, claimedUIDs.contains(owner.uid) else { continue }
            podsByReplicaSet[owner.uid, default: []].append(pod)
        }
        var pass = DeploymentPass(
            deployment: view, claimed: claimed, namespaceReplicaSets: namespaceReplicaSets, podsByReplicaSet: podsByReplicaSet,
            wallNow: wallNow)
        pass.releases = claim.released.map { replicaSet in
            let reference = ObjectReference(DeploymentPass.replicaSets, namespace: view.namespace,
                name: replicaSet.stringMember("metadata", "name") ?? "")
            return .mergePatch(reference, patch: WorkloadOwnerRefPatch.releasing(replicaSet, fromUID: view.uid))
        }
        return pass
    }
}
