//! The writes one garbage-collection pass wants, gathered per object and then rendered as
//! actions, each under a key that names the write (and, for patches, the resourceVersion they
//! are guarded by) so the collector can tell a write already asked for from a new one.

import KubeAPI
import Wire

struct WritePlan {
    /// One write: the key it is remembered by and the actions that make it.
    struct Write {
        var key: String
        var actions: [ObjectAction]
    }

    private struct Deletion {
        var uid: String
        var propagation: PropagationPolicy
        var blocksAnOwner: Bool
    }

    /// For each dependent (in the order first named), the owner uids whose references go.
    private var removals: [String: Set<String>] = [:]
    private var removalOrder: [String] = []
    private var unblocked: [String] = []
    private var deletions: [Deletion] = []
    private var finalizerRemovals: [(uid: String, finalizer: String)] = []

    mutating func removeReferences(from dependent: String, to owners: [String]) {
        if removals[dependent] == nil { removalOrder.append(dependent) }
        removals[dependent, default: []].formUnion(owners)
    }

    mutating func unblockOwners(of dependent: String) { unblocked.append(dependent) }

    mutating func delete(_ uid: String, propagation: PropagationPolicy, blocksAnOwner: Bool) {
        deletions.append(Deletion(uid: uid, propagation: propagation, blocksAnOwner: blocksAnOwner))
    }

    mutating func removeFinalizer(_ finalizer: String, from uid: String) { finalizerRemovals.append((uid, finalizer)) }

    /// The writes in the order to send them: references first (they settle who owns what), then
    /// deletions, those an owner waits for first, then the finalizers that end an owner's wait.
    func writes(graph: OwnerGraph) -> [Write] {
        var writes: [Write] = []
        for uid in removalOrder {
            let node = graph.nodes[uid]!
            let gone = removals[uid]!
            let kept = node.ownerReferencesJSON.filter { !gone.contains($0.stringMember("uid") ?? "") }
            writes.append(Write(key: "owners \(uid) \(node.resourceVersion ?? "") \(gone.sorted().joined(separator: ","))",
                actions: [.mergePatch(node.reference, patch: Self.metadataPatch(node, "ownerReferences", kept.isEmpty ? .null : .array(kept)))]))
        }
        for uid in unblocked {
            let node = graph.nodes[uid]!
            let references = node.ownerReferencesJSON.map { reference -> JSONValue in
                guard reference["blockOwnerDeletion"] == .bool(true) else { return reference }
                var unblocked = reference
                unblocked.set("blockOwnerDeletion", .bool(false))
                return unblocked
            }
            writes.append(Write(key: "unblock \(uid) \(node.resourceVersion ?? "")",
                actions: [.mergePatch(node.reference, patch: Self.metadataPatch(node, "ownerReferences", .array(references)))]))
        }
        for deletion in deletions.filter(\.blocksAnOwner) + deletions.filter({ !$0.blocksAnOwner }) {
            let node = graph.nodes[deletion.uid]!
            writes.append(Write(key: "delete \(deletion.uid) \(deletion.propagation.rawValue)",
                actions: [.delete(node.reference, uid: node.uid, propagation: deletion.propagation.rawValue)]))
        }
        for (uid, finalizer) in finalizerRemovals {
            let node = graph.nodes[uid]!
            let kept = node.finalizers.filter { $0 != finalizer }
            writes.append(Write(key: "finalizer \(uid) \(node.resourceVersion ?? "") \(finalizer)",
                actions: [.mergePatch(node.reference,
                    patch: Self.metadataPatch(node, "finalizers", kept.isEmpty ? .null : .array(kept.map(JSONValue.string))))]))
        }
        return writes
    }

    /// A JSON merge patch of one `metadata` field, guarded by the resourceVersion the decision
    /// was made on (a merge patch replaces a list whole, so a stale one must fail with 409).
    static func metadataPatch(_ node: GraphNode, _ field: String, _ value: JSONValue) -> JSONValue {
        var metadata = JSONObject()
        if let resourceVersion = node.resourceVersion { metadata["resourceVersion"] = .string(resourceVersion) }
        metadata[field] = value
        return .object(["metadata": .object(metadata)])
    }
}
