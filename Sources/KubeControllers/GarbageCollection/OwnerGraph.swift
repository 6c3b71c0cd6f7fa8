//! The garbage collector's view of the cached objects: each object by uid with its owner
//! references, and for each uid the objects that name it as an owner (the graph builder's
//! `uidToNode` and `dependents`, rebuilt from the caches on every pass).

import KubeAPI
import Wire

/// One entry of an object's `metadata.ownerReferences`.
struct OwnerLink: Equatable {
    var group: String
    var kind: String
    var name: String
    var uid: String
    /// Whether the owner's foreground deletion waits for this dependent to be gone.
    var blocksOwnerDeletion: Bool
    /// The entry as stored, written back unchanged when another entry is removed.
    var json: JSONValue

    init?(_ json: JSONValue) {
        guard let uid = json.stringMember("uid"), !uid.isEmpty, let kind = json.stringMember("kind"),
            let name = json.stringMember("name")
        else { return nil }
        let apiVersion = json.stringMember("apiVersion") ?? ""
        // `apps/v1` is group `apps`; `v1` is the core group.
        group = apiVersion.contains("/") ? String(apiVersion.split(separator: "/")[0]) : ""
        self.kind = kind
        self.name = name
        self.uid = uid
        blocksOwnerDeletion = json.boolMember("blockOwnerDeletion") ?? false
        self.json = json
    }
}

/// A kind as owner references name it: group and kind (the version does not matter).
struct KindKey: Hashable {
    var group: String
    var kind: String
}

/// One cached object.
struct GraphNode {
    var resource: APIResource
    var uid: String
    /// Nil for cluster-scoped objects.
    var namespace: String?
    var name: String
    var resourceVersion: String?
    var owners: [OwnerLink]
    var ownerReferencesJSON: [JSONValue]
    var deleting: Bool
    var finalizers: [String]

    var reference: ObjectReference { ObjectReference(resource, namespace: namespace, name: name) }
    var kind: KindKey { KindKey(group: resource.group, kind: resource.kind) }
    /// Marked for deletion and waiting for its dependents to go first.
    var deletingDependents: Bool { deleting && finalizers.contains(ObjectLifecycle.foregroundDeletionFinalizer) }
    var orphaningDependents: Bool { deleting && finalizers.contains(ObjectLifecycle.orphanFinalizer) }

    init?(resource: APIResource, object: JSONValue) {
        guard let uid = object.stringMember("metadata", "uid"), !uid.isEmpty,
            let name = object.stringMember("metadata", "name")
        else { return nil }
        self.resource = resource
        self.uid = uid
        namespace = resource.namespaced ? (object.stringMember("metadata", "namespace") ?? "default") : nil
        self.name = name
        resourceVersion = object.stringMember("metadata", "resourceVersion")
        ownerReferencesJSON = object.arrayMember("metadata", "ownerReferences")
        owners = ownerReferencesJSON.compactMap(OwnerLink.init)
        deleting = object.member("metadata", "deletionTimestamp").map { $0 != .null } ?? false
        finalizers = ObjectLifecycle.finalizers(object)
    }
}

/// What an owner reference points at, as far as the caches tell.
enum OwnerState: Equatable {
    /// The owner exists and is not waiting for its dependents.
    case solid
    /// The owner exists, marked for deletion with `foregroundDeletion`: its dependents must go.
    case waitingForDependents
    /// No object of that kind, name and uid is cached.
    case absent
    /// The kind is not cached (or the reference cannot be judged): never taken for absent.
    case unknown
}

struct OwnerGraph {
    /// Every cached object with a uid, by uid.
    private(set) var nodes: [String: GraphNode] = [:]
    /// The uids in a fixed order (resource, namespace, name), so the actions come out the same way every time.
    private(set) var order: [String] = []
    /// For each uid, the uids of the objects naming it as an owner, in `order`.
    private(set) var dependents: [String: [String]] = [:]
    /// The kinds the caches hold, and whether each is namespaced.
    private(set) var cachedKinds: [KindKey: Bool] = [:]

    init(objects: [APIResource: [JSONValue]]) {
        // Resources in a fixed order, so that of two objects claiming one uid the same one is kept.
        for (resource, list) in objects.sorted(by: { ($0.key.group, $0.key.plural) < ($1.key.group, $1.key.plural) }) {
            cachedKinds[KindKey(group: resource.group, kind: resource.kind)] = resource.namespaced
            for object in list {
                guard let node = GraphNode(resource: resource, object: object), nodes[node.uid] == nil else { continue }
                nodes[node.uid] = node
            }
        }
        order = nodes.values.sorted {
            ($0.resource.group, $0.resource.plural, $0.namespace ?? "", $0.name, $0.uid)
                < ($1.resource.group, $1.resource.plural, $1.namespace ?? "", $1.name, $1.uid)
        }.map(\.uid)
        for uid in order {
            for owner in Set(nodes[uid]!.owners.map(\.uid)).sorted() { dependents[owner, default: []].append(uid) }
        }
    }

    /// Where `link` of `dependent` points: the owner must be cached with the same uid, kind and
    /// name, in the dependent's namespace when its kind is namespaced.
    func state(of link: OwnerLink, from dependent: GraphNode) -> OwnerState {
        let key = KindKey(group: link.group, kind: link.kind)
        guard let ownerNamespaced = cachedKinds[key] else { return .unknown }
        // A cluster-scoped object cannot have a namespaced owner; Kubernetes leaves it alone.
        if ownerNamespaced && dependent.namespace == nil { return .unknown }
        guard let owner = nodes[link.uid], owner.kind == key, owner.name == link.name,
            !ownerNamespaced || owner.namespace == dependent.namespace
        else { return .absent }
        return owner.deletingDependents ? .waitingForDependents : .solid
    }
}
