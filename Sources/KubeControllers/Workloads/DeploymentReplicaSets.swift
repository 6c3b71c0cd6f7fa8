//! A Deployment's ReplicaSets during one sync: each one's cached object and the edits the sync
//! has made to it (scale, annotations, adoption), so every ReplicaSet gets at most one write per
//! sync carrying the resourceVersion it was read at. Also the deployment annotations on them:
//! revision, revision history, desired and max replicas.
import KubeAPI
import Wire

/// The annotations the Deployment controller keeps on ReplicaSets (and the Deployment).
enum DeploymentAnnotations {
    static let revision = "deployment.kubernetes.io/revision"
    static let revisionHistory = "deployment.kubernetes.io/revision-history"
    static let desiredReplicas = "deployment.kubernetes.io/desired-replicas"
    static let maxReplicas = "deployment.kubernetes.io/max-replicas"
    /// The revision history is cut from the front beyond this many characters (about 100 revisions).
    static let revisionHistoryLengthMax = 2000

    /// Deployment annotations never copied to its ReplicaSets: the controller's own, and the
    /// client's last-applied configuration.
    static let notCopied: Set<String> = [
        "kubectl.kubernetes.io/last-applied-configuration", revision, revisionHistory, desiredReplicas, maxReplicas,
        "deprecated.deployment.rollback.to",
    ]
}

/// One ReplicaSet as the sync sees and edits it.
struct WorkingReplicaSet {
    /// The cached object (nil for one this sync creates).
    let original: JSONValue?
    /// The object with this sync's edits.
    var object: JSONValue

    init(cached: JSONValue) {
        original = cached
        object = cached
    }

    init(creating object: JSONValue) {
        original = nil
        self.object = object
    }

    var isCreated: Bool { original == nil }
    var isChanged: Bool { original.map { $0 != object } ?? true }
    var name: String { object.stringMember("metadata", "name") ?? "" }
    var uid: String { object.stringMember("metadata", "uid") ?? "" }
    var replicas: Int64 { object.intMember("spec", "replicas") ?? 1 }
    /// `spec.replicas` as cached, before this sync's edits.
    var cachedReplicas: Int64 { (original ?? object).intMember("spec", "replicas") ?? 1 }
    var statusReplicas: Int64 { object.intMember("status", "replicas") ?? 0 }
    var readyReplicas: Int64 { object.intMember("status", "readyReplicas") ?? 0 }
    var availableReplicas: Int64 { object.intMember("status", "availableReplicas") ?? 0 }
    var creationTime: Int64 { object.stringMember("metadata", "creationTimestamp").flatMap(KubeTime.parse) ?? 0 }
    var isBeingDeleted: Bool { WorkloadMetadata.isBeingDeleted(object) }
    var template: JSONValue { object.member("spec", "template") ?? .object(JSONObject()) }

    func annotation(_ key: String) -> String? { object.stringMember("metadata", "annotations", key) }

    /// Annotation keys hold dots (`deployment.kubernetes.io/revision`), so no dotted path here.
    mutating func setAnnotation(_ key: String, _ value: String) {
        var annotations = object.objectMember("metadata", "annotations") ?? JSONObject()
        annotations[key] = .string(value)
        object.set("metadata.annotations", .object(annotations))
    }

    /// The revision annotation as a number: 0 when absent, nil when not a number.
    var revision: Int64? {
        guard let text = annotation(DeploymentAnnotations.revision) else { return 0 }
        return Int64(text)
    }

    /// Sets desired-replicas and max-replicas; true when either changed.
    @discardableResult
    mutating func setReplicasAnnotations(desired: Int64, max: Int64) -> Bool {
        var changed = false
        if annotation(DeploymentAnnotations.desiredReplicas) != String(desired) {
            setAnnotation(DeploymentAnnotations.desiredReplicas, String(desired))
            changed = true
        }
        if annotation(DeploymentAnnotations.maxReplicas) != String(max) {
            setAnnotation(DeploymentAnnotations.maxReplicas, String(max))
            changed = true
        }
        return changed
    }

    func replicasAnnotationsNeedUpdate(desired: Int64, max: Int64) -> Bool {
        annotation(DeploymentAnnotations.desiredReplicas) != String(desired) || annotation(DeploymentAnnotations.maxReplicas) != String(max)
    }

    /// `SetNewReplicaSetAnnotations`: the Deployment's own annotations copied over, the revision
    /// raised to `newRevision` when lower (keeping the revisions it served before in the history:
    /// that is a rollback to this ReplicaSet), and, for one being created, the replica counts.
    /// True when anything changed.
    mutating func setNewReplicaSetAnnotations(_ deployment: DeploymentSpecView, newRevision: Int64, exists: Bool) -> Bool {
        var changed = false
        for (key, value) in deployment.annotations where !DeploymentAnnotations.notCopied.contains(key) {
            if annotation(key) == value { continue }
            setAnnotation(key, value)
            changed = true
        }
        let oldRevisionText = annotation(DeploymentAnnotations.revision)
        var oldRevision: Int64 = 0
        if let oldRevisionText, !oldRevisionText.isEmpty {
            // Kubernetes leaves a ReplicaSet with an unreadable revision alone.
            guard let parsed = Int64(oldRevisionText) else { return false }
            oldRevision = parsed
        }
        if oldRevision < newRevision {
            setAnnotation(DeploymentAnnotations.revision, String(newRevision))
            changed = true
            if let oldRevisionText { appendRevisionHistory(oldRevisionText) }
        }
        if !exists && setReplicasAnnotations(desired: deployment.replicas, max: deployment.replicasMax) { changed = true }
        return changed
    }

    private mutating func appendRevisionHistory(_ oldRevision: String) {
        let history = annotation(DeploymentAnnotations.revisionHistory) ?? ""
        guard !history.isEmpty else {
            setAnnotation(DeploymentAnnotations.revisionHistory, oldRevision)
            return
        }
        var revisions = history.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        var totalLength = history.count + oldRevision.count + 1
        var start = 0
        while totalLength > DeploymentAnnotations.revisionHistoryLengthMax && start < revisions.count {
            totalLength -= revisions[start].count + 1
            start += 1
        }
        // Only an old revision longer than the whole limit is left out.
        guard totalLength <= DeploymentAnnotations.revisionHistoryLengthMax else { return }
        revisions = Array(revisions[start...]) + [oldRevision]
        setAnnotation(DeploymentAnnotations.revisionHistory, revisions.joined(separator: ","))
    }
}

/// The orders ReplicaSets are visited in.
enum ReplicaSetOrder {
    /// Oldest first, by creation time, then name (`ReplicaSetsByCreationTimestamp`).
    static func byCreation(_ first: WorkingReplicaSet, _ second: WorkingReplicaSet) -> Bool {
        if first.creationTime != second.creationTime { return first.creationTime < second.creationTime }
        return first.name < second.name
    }

    /// Lowest revision first, creation order among equal or unreadable ones (`ReplicaSetsByRevision`).
    static func byRevision(_ first: WorkingReplicaSet, _ second: WorkingReplicaSet) -> Bool {
        guard let firstRevision = first.revision, let secondRevision = second.revision, firstRevision != secondRevision else {
            return byCreation(first, second)
        }
        return firstRevision < secondRevision
    }

    /// Largest first; among equals older first (`ReplicaSetsBySizeOlder`, for scaling down).
    static func bySizeOlder(_ first: WorkingReplicaSet, _ second: WorkingReplicaSet) -> Bool {
        if first.replicas != second.replicas { return first.replicas > second.replicas }
        return byCreation(first, second)
    }

    /// Largest first; among equals newer first (`ReplicaSetsBySizeNewer`, for scaling up).
    static func bySizeNewer(_ first: WorkingReplicaSet, _ second: WorkingReplicaSet) -> Bool {
        if first.replicas != second.replicas { return first.replicas > second.replicas }
        return byCreation(second, first)
    }
}
