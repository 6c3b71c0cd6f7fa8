//! The taint changes one pass makes, gathered per node so each node gets at most one write.
//!
//! A JSON merge patch replaces `spec.taints` whole, so two patches from one pass would undo each
//! other; gathering them also keeps the order Kubernetes applies them in (reachable-again
//! removals, condition swaps, NoSchedule reconciling, then the rate-limited NoExecute taints).

import KubeAPI
import Wire

struct NodeTaintEdits {
    /// Working taint lists, by node name, for nodes touched this pass.
    private(set) var working: [String: [Taint]] = [:]
    /// The lists as read, for the same nodes.
    private var original: [String: [Taint]] = [:]

    /// The node's taints as this pass has left them so far.
    mutating func taints(of node: JSONValue) -> [Taint] {
        let name = NodeObjects.name(node) ?? ""
        if let taints = working[name] { return taints }
        let taints = Taint.of(node: node)
        working[name] = taints
        original[name] = taints
        return taints
    }

    /// Kubernetes' `AddOrUpdateTaint`: replaces the taint of the same key and effect, or appends.
    mutating func addOrUpdate(_ taint: Taint, on node: JSONValue) {
        var taints = taints(of: node)
        if let position = taints.firstIndex(where: { $0.key == taint.key && $0.effect == taint.effect }) {
            taints[position] = taint
        } else {
            taints.append(taint)
        }
        working[NodeObjects.name(node) ?? ""] = taints
    }

    /// Removes the taint of `key` and `effect`; true when there was one.
    @discardableResult
    mutating func remove(key: String, effect: TaintEffect, on node: JSONValue) -> Bool {
        var taints = taints(of: node)
        let before = taints.count
        taints.removeAll { $0.key == key && $0.effect == effect }
        working[NodeObjects.name(node) ?? ""] = taints
        return taints.count != before
    }

    /// Names of nodes whose taints differ from what was read, sorted.
    var changedNodes: [String] {
        working.keys.filter { working[$0] != original[$0] }.sorted()
    }

    /// The merge patch that sets `name`'s taints, guarded by the version they were read at.
    func patch(for name: String, resourceVersion: String) -> JSONValue {
        let taints = working[name] ?? []
        let list: JSONValue = taints.isEmpty ? .null : .array(taints.map(\.json))
        return .object([
            "metadata": .object(["resourceVersion": .string(resourceVersion)]),
            "spec": .object(["taints": list]),
        ])
    }
}

extension Taint {
    /// True when `taints` holds one with this key and effect (`TaintExists` matches by both).
    func isPresent(in taints: [Taint]) -> Bool { taints.contains { $0.key == key && $0.effect == effect } }

    static let unreachableNoExecute = Taint(key: Taint.unreachableKey, effect: .noExecute)
    static let notReadyNoExecute = Taint(key: Taint.notReadyKey, effect: .noExecute)
}
