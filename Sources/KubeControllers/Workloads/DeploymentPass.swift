//! One sync of one Deployment as a value: the cached Deployment, its claimed ReplicaSets being
//! edited, the status being built, and the writes that result. Kubernetes' controller writes as
//! it goes (an RS update here, a status update there, each returning the fresh object); this
//! pass edits working copies instead and writes each object once at the end, in dependency
//! order, so no write of the sync conflicts with an earlier write of the same sync.
import Base
import KubeAPI
import Wire

struct DeploymentPass {
    static let deployments = APIResource.standard("deployments", group: "apps")
    static let replicaSets = APIResource.standard("replicasets", group: "apps")

    let deployment: DeploymentSpecView
    let wallNow: Int64
    /// The Deployment's status as cached: the base for progress estimates.
    let cachedStatus: JSONObject
    /// The status being built: conditions and collisionCount edited in place as Kubernetes edits
    /// `d.Status`, the counts filled in by `calculateStatus`.
    var status: JSONObject
    /// The revision annotation the Deployment should carry (written when it differs).
    var revision: String?
    /// The claimed ReplicaSets, plus the one this pass creates.
    var replicaSets: [WorkingReplicaSet]
    /// Every ReplicaSet of the namespace from the cache, claimed or not: a name taken by one the
    /// Deployment does not own is a hash collision.
    let namespaceReplicaSets: [JSONValue]
    /// Pods of the claimed ReplicaSets by ReplicaSet uid (the Recreate strategy waits on them).
    let podsByReplicaSet: [String: [WorkloadPod]]

    /// Index of the new ReplicaSet (the one whose template is the Deployment's), once found or made.
    var newIndex: Int?
    /// Set once `findReplicaSets` ran.
    var searched = false
    /// Releases of ReplicaSets that no longer match: written first.
    var releases: [ObjectAction] = []
    /// Old ReplicaSets removed by the revision history limit.
    var deletions: [ObjectAction] = []
    var events: [ObjectAction] = []
    var requeueAfter: Nanoseconds?

    init(deployment: DeploymentSpecView, claimed: [WorkingReplicaSet], namespaceReplicaSets: [JSONValue],
        podsByReplicaSet: [String: [WorkloadPod]], wallNow: Int64)
    {
        self.deployment = deployment
        self.wallNow = wallNow
        cachedStatus = deployment.object.objectMember("status") ?? JSONObject()
        status = cachedStatus
        revision = deployment.object.stringMember("metadata", "annotations", DeploymentAnnotations.revision)
        replicaSets = claimed.sorted(by: ReplicaSetOrder.byCreation)
        self.namespaceReplicaSets = namespaceReplicaSets
        self.podsByReplicaSet = podsByReplicaSet
    }

    var reference: ObjectReference { ObjectReference(Self.deployments, namespace: deployment.namespace, name: deployment.name) }
    var oldIndices: [Int] { replicaSets.indices.filter { $0 != newIndex } }
    var allIndices: [Int] { Array(replicaSets.indices) }
    var newReplicaSet: WorkingReplicaSet? { newIndex.map { replicaSets[$0] } }

    // MARK: - New and old ReplicaSets

    /// `getAllReplicaSetsAndSyncRevision`: finds the new ReplicaSet (the oldest whose template
    /// equals the Deployment's, hash label aside), brings its annotations and revision up to date,
    /// and with `create` makes it when missing. False when creating hit a name collision: the
    /// collision count is raised and the pass must stop.
    mutating func findReplicaSets(create: Bool) -> Bool {
        if !searched {
            searched = true
            newIndex = replicaSets.firstIndex { PodTemplateHash.equalIgnoringHash($0.template, deployment.template) }
            if let newIndex { syncExistingNewReplicaSet(newIndex) }
        }
        if newIndex == nil && create { return createNewReplicaSet() }
        return true
    }

    /// One more than the highest revision among the old ReplicaSets.
    private var nextRevision: Int64 {
        (oldIndices.compactMap { replicaSets[$0].revision }.max() ?? 0) + 1
    }

    private mutating func syncExistingNewReplicaSet(_ index: Int) {
        let newRevision = nextRevision
        _ = replicaSets[index].setNewReplicaSetAnnotations(deployment, newRevision: newRevision, exists: true)
        if replicaSets[index].object.intMember("spec", "minReadySeconds") ?? 0 != deployment.minReadySeconds {
            replicaSets[index].object.set("spec.minReadySeconds", .integer(deployment.minReadySeconds))
        }
        if let current = replicaSets[index].annotation(DeploymentAnnotations.revision) { revision = current }
        if deployment.progressDeadlineSeconds != nil && condition("Progressing") == nil {
            setCondition(type: "Progressing", status: "True", reason: DeploymentReasons.foundNewReplicaSet,
                message: "Found new replica set \(JSON.quoted(replicaSets[index].name))")
        }
    }

    private mutating func createNewReplicaSet() -> Bool {
        let hash = PodTemplateHash.value(of: deployment.template, collisionCount: status["collisionCount"]?.asInt64)
        let name = "\(deployment.name)-\(hash)"
        if namespaceReplicaSets.contains(where: { $0.stringMember("metadata", "name") == name }) {
            // The name is taken by a ReplicaSet that is not this template's (else it would have been
            // found): count the collision, which changes the hash for the next attempt.
            status["collisionCount"] = .integer((status["collisionCount"]?.asInt64 ?? 0) + 1)
            requeueAfter = Time.second
            return false
        }
        var replicaSet = WorkingReplicaSet(creating: newReplicaSetObject(name: name, hash: hash))
        let newRevision = nextRevision
        replicaSets.append(replicaSet)
        let index = replicaSets.count - 1
        let count = newReplicaSetReplicas(newIndex: index)
        replicaSet.object.set("spec.replicas", .integer(count))
        _ = replicaSet.setNewReplicaSetAnnotations(deployment, newRevision: newRevision, exists: false)
        replicaSets[index] = replicaSet
        newIndex = index
        if count > 0 { recordScaling("Scaled up replica set \(name) to \(count)") }
        revision = String(newRevision)
        if deployment.progressDeadlineSeconds != nil {
            setCondition(type: "Progressing", status: "True", reason: DeploymentReasons.newReplicaSetCreated,
                message: "Created new replica set \(JSON.quoted(name))")
        }
        return true
    }

    /// The ReplicaSet for the Deployment's template: named and labelled with the template hash,
    /// its selector narrowed by the hash, owned by the Deployment, starting at zero replicas.
    private func newReplicaSetObject(name: String, hash: String) -> JSONValue {
        var template = deployment.template
        template.set("metadata.labels.\(PodTemplateHash.labelKey)", .string(hash))
        var selector = deployment.selectorJSON
        selector.set("matchLabels.\(PodTemplateHash.labelKey)", .string(hash))
        let owner = WorkloadOwnerRef.controlling(deployment.object, apiVersion: "apps/v1", kind: "Deployment")
        var metadata: JSONObject = [
            "name": .string(name), "namespace": .string(deployment.namespace), "ownerReferences": .array([owner.json]),
        ]
        metadata["labels"] = template.member("metadata", "labels")
        return .object([
            "apiVersion": .string("apps/v1"), "kind": .string("ReplicaSet"), "metadata": .object(metadata),
            "spec": .object([
                "replicas": .integer(0), "minReadySeconds": .integer(deployment.minReadySeconds), "selector": selector,
                "template": template,
            ]),
        ])
    }

    // MARK: - Scaling

    /// `NewRSNewReplicas`: how far the new ReplicaSet may grow now. Rolling: up to the surge
    /// limit over all ReplicaSets' sizes, never past the desired count. Recreate: all at once.
    func newReplicaSetReplicas(newIndex: Int) -> Int64 {
        let current = replicaSets[newIndex].replicas
        guard deployment.isRollingUpdate else { return deployment.replicas }
        let total = replicaSets.reduce(0) { $0 + $1.replicas }
        guard total < deployment.replicasMax else { return current }
        return current + min(deployment.replicasMax - total, deployment.replicas - current)
    }

    /// `scaleReplicaSetAndRecordEvent`: true when the size changed.
    @discardableResult
    mutating func scale(_ index: Int, to newScale: Int64) -> Bool {
        let current = replicaSets[index].replicas
        guard current != newScale else { return false }
        return scale(index, to: newScale, operation: current < newScale ? "up" : "down")
    }

    /// `scaleReplicaSet`: sets the size and the replica annotations; true when the size changed.
    @discardableResult
    mutating func scale(_ index: Int, to newScale: Int64, operation: String) -> Bool {
        precondition(newScale >= 0, "scaling \(replicaSets[index].name) of \(deployment.key) to \(newScale)")
        let current = replicaSets[index].replicas
        let sizeChanges = current != newScale
        let desired = deployment.replicas, maximum = deployment.replicasMax
        guard sizeChanges || replicaSets[index].replicasAnnotationsNeedUpdate(desired: desired, max: maximum) else { return false }
        replicaSets[index].object.set("spec.replicas", .integer(newScale))
        replicaSets[index].setReplicasAnnotations(desired: desired, max: maximum)
        if sizeChanges {
            recordScaling("Scaled \(operation) replica set \(replicaSets[index].name) to \(newScale) from \(current)")
        }
        return sizeChanges
    }

    private mutating func recordScaling(_ message: String) {
        events.append(.event(involved: reference, type: "Normal", reason: "ScalingReplicaSet", message: message))
    }

    // MARK: - Writes

    /// The writes of this pass in the order to send them: releases, the new ReplicaSet, the
    /// other ReplicaSet edits, history deletions, the Deployment's status, its revision
    /// annotation, then events. The shell stops at the first failed write and retries the sync.
    func actions() -> [ObjectAction] {
        var actions = releases
        for replicaSet in replicaSets where replicaSet.isCreated {
            actions.append(.create(Self.replicaSets, namespace: deployment.namespace, object: replicaSet.object))
        }
        for replicaSet in replicaSets where !replicaSet.isCreated && replicaSet.isChanged {
            let reference = ObjectReference(Self.replicaSets, namespace: deployment.namespace, name: replicaSet.name)
            actions.append(.update(reference, object: replicaSet.object))
        }
        actions += deletions
        if status != cachedStatus {
            var updated = deployment.object
            updated.set("status", .object(status))
            actions.append(.update(reference, object: updated, subresource: "status"))
        }
        let cachedRevision = deployment.object.stringMember("metadata", "annotations", DeploymentAnnotations.revision)
        if let revision, revision != cachedRevision {
            let patch: JSONValue = .object(["metadata": .object(["annotations": .object([DeploymentAnnotations.revision: .string(revision)])])])
            actions.append(.mergePatch(reference, patch: patch))
        }
        return actions + events
    }
}
