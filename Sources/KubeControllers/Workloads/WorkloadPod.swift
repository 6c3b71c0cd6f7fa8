//! A pod as the workload controllers see it: the handful of fields that decide whether it counts
//! (active, ready, available), who controls it, and where it stands in the deletion order. Read
//! once from the cached JSON so ranking and counting do not re-walk the object.
import KubeAPI
import Wire

/// Metadata every workload object is read for.
enum WorkloadMetadata {
    /// The namespace, `default` when the cached object names none.
    static func namespace(_ object: JSONValue) -> String { object.stringMember("metadata", "namespace") ?? "default" }

    /// Whether the object carries a deletion timestamp (finalizers or grace keep it a while).
    static func isBeingDeleted(_ object: JSONValue) -> Bool {
        object.member("metadata", "deletionTimestamp").map { $0 != .null } ?? false
    }
}

/// The decision-relevant fields of one cached pod.
struct WorkloadPod {
    let object: JSONValue
    let namespace: String
    let name: String
    let uid: String
    let labels: [String: String]
    /// Empty while the pod is unscheduled.
    let nodeName: String
    let phase: String
    let isBeingDeleted: Bool
    /// When the Ready condition last became True (seconds since the epoch); nil when the pod is
    /// not ready. A ready pod with no parsable time reads as ready since 0 ("zero time" in Go).
    let readySince: Int64?
    let creationTime: Int64?
    let restartsMax: Int64
    /// `controller.kubernetes.io/pod-deletion-cost`: lower is deleted first; 0 when absent or invalid.
    let deletionCost: Int64
    let controllerRef: WorkloadOwnerRef?

    init(_ object: JSONValue) {
        self.object = object
        namespace = WorkloadMetadata.namespace(object)
        name = object.stringMember("metadata", "name") ?? ""
        uid = object.stringMember("metadata", "uid") ?? ""
        labels = LabelSelector.labels(of: object)
        nodeName = object.stringMember("spec", "nodeName") ?? ""
        phase = object.stringMember("status", "phase") ?? ""
        isBeingDeleted = WorkloadMetadata.isBeingDeleted(object)
        readySince = Self.readySince(object)
        creationTime = object.stringMember("metadata", "creationTimestamp").flatMap(KubeTime.parse)
        restartsMax = object.arrayMember("status", "containerStatuses").compactMap { $0.intMember("restartCount") }.max() ?? 0
        deletionCost = Self.deletionCost(object)
        controllerRef = WorkloadOwnerRef.controller(of: object)
    }

    var key: String { "\(namespace)/\(name)" }
    var isReady: Bool { readySince != nil }

    /// Not finished (Succeeded or Failed) and not being deleted: the pods a controller counts.
    var isActive: Bool { phase != "Succeeded" && phase != "Failed" && !isBeingDeleted }

    /// Ready for longer than `minReadySeconds` by the wall clock (`IsPodAvailable`: ready with no
    /// wait, or ready since a known time that plus the wait is strictly before now).
    func isAvailable(minReadySeconds: Int64, wallNow: Int64) -> Bool {
        guard let readySince else { return false }
        if minReadySeconds == 0 { return true }
        return readySince > 0 && readySince + minReadySeconds < wallNow
    }

    private static func readySince(_ object: JSONValue) -> Int64? {
        for condition in object.arrayMember("status", "conditions") where condition.stringMember("type") == "Ready" {
            guard condition.stringMember("status") == "True" else { return nil }
            return condition.stringMember("lastTransitionTime").flatMap(KubeTime.parse) ?? 0
        }
        return nil
    }

    private static func deletionCost(_ object: JSONValue) -> Int64 {
        guard let text = object.stringMember("metadata", "annotations", "controller.kubernetes.io/pod-deletion-cost"),
            let cost = Int32(text)
        else { return 0 }
        return Int64(cost)
    }
}

/// One entry of `metadata.ownerReferences`.
struct WorkloadOwnerRef: Equatable {
    var apiVersion: String
    var kind: String
    var name: String
    var uid: String
    var controller: Bool
    var blockOwnerDeletion: Bool

    /// The reference a controller puts on what it creates or adopts (`metav1.NewControllerRef`).
    static func controlling(_ owner: JSONValue, apiVersion: String, kind: String) -> WorkloadOwnerRef {
        WorkloadOwnerRef(
            apiVersion: apiVersion, kind: kind, name: owner.stringMember("metadata", "name") ?? "",
            uid: owner.stringMember("metadata", "uid") ?? "", controller: true, blockOwnerDeletion: true)
    }

    init(apiVersion: String, kind: String, name: String, uid: String, controller: Bool, blockOwnerDeletion: Bool) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.uid = uid
        self.controller = controller
        self.blockOwnerDeletion = blockOwnerDeletion
    }

    init?(_ json: JSONValue) {
        guard let uid = json.stringMember("uid"), let name = json.stringMember("name") else { return nil }
        self.init(
            apiVersion: json.stringMember("apiVersion") ?? "", kind: json.stringMember("kind") ?? "", name: name, uid: uid,
            controller: json.boolMember("controller") ?? false, blockOwnerDeletion: json.boolMember("blockOwnerDeletion") ?? false)
    }

    /// The owner reference marked `controller: true`, if any (`metav1.GetControllerOf`).
    static func controller(of object: JSONValue) -> WorkloadOwnerRef? {
        object.arrayMember("metadata", "ownerReferences").lazy.compactMap(WorkloadOwnerRef.init).first { $0.controller }
    }

    var json: JSONValue {
        .object([
            "apiVersion": .string(apiVersion), "kind": .string(kind), "name": .string(name), "uid": .string(uid),
            "controller": .bool(controller), "blockOwnerDeletion": .bool(blockOwnerDeletion),
        ])
    }
}

/// Adopting and releasing: the ownerReferences list of `object` with `reference` added or with
/// every reference to `uid` removed, as the merge patch that writes it. A merge patch replaces a
/// list whole, so the patch carries the full list and the resourceVersion it was computed from:
/// a concurrent change to the references makes it fail with a conflict instead of losing one.
enum WorkloadOwnerRefPatch {
    static func adopting(_ object: JSONValue, by reference: WorkloadOwnerRef) -> JSONValue {
        let references = object.arrayMember("metadata", "ownerReferences") + [reference.json]
        return patch(object, references: .array(references))
    }

    static func releasing(_ object: JSONValue, fromUID uid: String) -> JSONValue {
        let references = object.arrayMember("metadata", "ownerReferences").filter { $0.stringMember("uid") != uid }
        return patch(object, references: references.isEmpty ? .null : .array(references))
    }

    private static func patch(_ object: JSONValue, references: JSONValue) -> JSONValue {
        var metadata: JSONObject = ["ownerReferences": references]
        if let resourceVersion = object.stringMember("metadata", "resourceVersion") {
            metadata["resourceVersion"] = .string(resourceVersion)
        }
        return .object(["metadata": .object(metadata)])
    }
}
