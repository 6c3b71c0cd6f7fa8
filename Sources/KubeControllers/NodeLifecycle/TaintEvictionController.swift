//! The NoExecute taint-eviction controller's pure core (Kubernetes' pkg/controller/tainteviction,
//! the "taint manager"): pods on a node with NoExecute taints they do not tolerate are deleted at
//! once; pods that tolerate them for `tolerationSeconds` are deleted when that runs out; pods
//! that tolerate them forever stay. A taint that goes away cancels the eviction.
//!
//! Difference from Kubernetes, on purpose: Kubernetes starts a pod's clock when its taint
//! manager first sees the taint, so a controller-manager restart starts it again. Here the clock
//! starts at the taint's `timeAdded` (the first sight only for a taint without one), so the
//! answer depends on the objects alone and a restarted controller keeps the deadline. Each taint
//! has its own deadline (its `timeAdded` plus the seconds of the first toleration matching it)
//! and the pod goes at the earliest; with one taint, the usual case, this is Kubernetes' rule.
//!
//! `reconcile` recomputes everything from the nodes and pods given, so the shell may call it on
//! every change and at `nextEvictionAt`; it remembers only what it scheduled (to announce
//! cancellations) and the deletes it sent (so it does not send them twice).

import KubeAPI
import Wire

public struct TaintEvictionParameters: Sendable, Equatable {
    /// Not a Kubernetes setting: seconds after which a delete that has not taken effect (the pod
    /// is still there and not terminating) is sent again. Kubernetes retries 5 times at once.
    public var deleteRetrySeconds: Int64 = 10
    /// The most pods handled; bounds the controller's memory.
    public var podsMax: Int = 100_000

    public init() {}
}

/// A pod's pending deletion.
public struct ScheduledEviction: Sendable, Equatable {
    public var pod: ObjectReference
    public var uid: String
    public var node: String
    /// When it is due, in seconds since the epoch.
    public var fireAt: Int64
}

public struct TaintEvictionController: Sendable {
    public let parameters: TaintEvictionParameters
    /// Pending deletions by `namespace/name`.
    public private(set) var scheduled: [String: ScheduledEviction] = [:]
    /// Deletes sent, by `namespace/name`: the UID deleted and when. Dropped once the pod is gone
    /// or terminating.
    private var deletesSent: [String: (uid: String, sentAt: Int64)] = [:]
    /// When this controller first saw each NoExecute taint that carries no `timeAdded`.
    private var taintFirstSeen: [String: Int64] = [:]

    public init(parameters: TaintEvictionParameters = TaintEvictionParameters()) {
        precondition(parameters.deleteRetrySeconds > 0 && parameters.podsMax > 0,
            "deleteRetrySeconds \(parameters.deleteRetrySeconds) and podsMax \(parameters.podsMax) must be > 0")
        self.parameters = parameters
    }

    /// The earliest pending deletion, in seconds since the epoch: when to call `reconcile` next.
    public var nextEvictionAt: Int64? { scheduled.values.map(\.fireAt).min() }

    /// Evictions due and cancelled, given every node and pod the informers hold and the wall
    /// clock (seconds since the epoch).
    public mutating func reconcile(nodes: [JSONValue], pods: [JSONValue], wallNow: Int64) -> [ObjectAction] {
        precondition(pods.count <= parameters.podsMax, "\(pods.count) pods exceed podsMax \(parameters.podsMax)")
        let taintStarts = noExecuteTaints(nodes, wallNow: wallNow)
        var actions: [ObjectAction] = []
        actions.reserveCapacity(8)
        var present: Set<String> = []
        for pod in Self.sortedByKey(pods) {
            guard let reference = ObjectReference(NodeObjects.pods, object: pod) else { continue }
            let key = "\(reference.namespace!)/\(reference.name)"
            present.insert(key)
            reconcilePod(pod, reference: reference, key: key, taintStarts: taintStarts, wallNow: wallNow, &actions)
        }
        for key in scheduled.keys.sorted() where !present.contains(key) {
            // The pod is gone: Kubernetes announces the cancelled deletion.
            actions.append(Self.event(scheduled[key]!.pod, "Cancelling deletion of Pod \(key)"))
            scheduled[key] = nil
        }
        deletesSent = deletesSent.filter { present.contains($0.key) }
        return actions
    }

    // MARK: - One pod

    private mutating func reconcilePod(
        _ pod: JSONValue, reference: ObjectReference, key: String, taintStarts: [String: [(taint: Taint, start: Int64)]],
        wallNow: Int64, _ actions: inout [ObjectAction]
    ) {
        let uid = NodeObjects.uid(pod)
        guard let nodeName = pod.stringMember("spec", "nodeName"), !nodeName.isEmpty,
            pod.member("metadata", "deletionTimestamp") == nil
        else {
            // Unbound, or already terminating: nothing to do, and nothing to announce.
            scheduled[key] = nil
            deletesSent[key] = nil
            return
        }
        guard let taints = taintStarts[nodeName], let fireAt = Self.deadline(taints, tolerations: Toleration.of(pod: pod)) else {
            cancel(key, &actions)
            return
        }
        guard fireAt <= wallNow else {
            scheduled[key] = ScheduledEviction(pod: reference, uid: uid, node: nodeName, fireAt: fireAt)
            return
        }
        scheduled[key] = nil
        if let sent = deletesSent[key], sent.uid == uid, wallNow - sent.sentAt < parameters.deleteRetrySeconds { return }
        deletesSent[key] = (uid, wallNow)
        actions.append(Self.event(reference, "Marking for deletion Pod \(key)"))
        if let patch = Self.disruptionTargetPatch(pod, wallNow: wallNow) {
            actions.append(.mergePatch(reference, patch: patch, subresource: "status"))
        }
        actions.append(.delete(reference, uid: uid.isEmpty ? nil : uid))
    }

    private mutating func cancel(_ key: String, _ actions: inout [ObjectAction]) {
        guard let pending = scheduled.removeValue(forKey: key) else { return }
        actions.append(Self.event(pending.pod, "Cancelling deletion of Pod \(key)"))
    }

    /// When the pod must go (seconds since the epoch), or nil when it may stay for ever: now-ish
    /// (the earliest taint start) when some taint is not tolerated, else the earliest of each
    /// taint's start plus the seconds of the first toleration that matches it (Kubernetes'
    /// `GetMatchingTolerations`; zero or negative seconds mean at once).
    static func deadline(_ taints: [(taint: Taint, start: Int64)], tolerations: [Toleration]) -> Int64? {
        var earliest: Int64?
        for (taint, start) in taints {
            guard let toleration = tolerations.first(where: { $0.tolerates(taint) }) else {
                return Int64.min
            }
            guard let seconds = toleration.tolerationSeconds else { continue }
            let due = start + max(0, seconds)
            earliest = min(earliest ?? due, due)
        }
        return earliest
    }

    // MARK: - Taints

    /// Each node's NoExecute taints with when their clocks started.
    private mutating func noExecuteTaints(_ nodes: [JSONValue], wallNow: Int64) -> [String: [(taint: Taint, start: Int64)]] {
        var result: [String: [(taint: Taint, start: Int64)]] = [:]
        var seen: Set<String> = []
        for node in nodes {
            guard let name = NodeObjects.name(node) else { continue }
            let taints = Taint.of(node: node).filter { $0.effect == .noExecute }
            guard !taints.isEmpty else { continue }
            result[name] = taints.map { taint in
                if let text = taint.timeAdded, let added = KubeTime.parse(text) { return (taint, added) }
                let identity = "\(name)\u{0}\(taint.key)\u{0}\(taint.value)"
                seen.insert(identity)
                let start = taintFirstSeen[identity] ?? wallNow
                taintFirstSeen[identity] = start
                return (taint, start)
            }
        }
        taintFirstSeen = taintFirstSeen.filter { seen.contains($0.key) }
        return result
    }

    // MARK: - Helpers

    /// The status patch adding DisruptionTarget=True (reason `DeletionByTaintManager`), guarded by
    /// the pod's version; nil when the pod already has it.
    static func disruptionTargetPatch(_ pod: JSONValue, wallNow: Int64) -> JSONValue? {
        var conditions = pod.arrayMember("status", "conditions")
        let reason = "DeletionByTaintManager"
        if conditions.contains(where: { $0.stringMember("type") == "DisruptionTarget" && $0.stringMember("status") == "True"
            && $0.stringMember("reason") == reason })
        {
            return nil
        }
        conditions.removeAll { $0.stringMember("type") == "DisruptionTarget" }
        conditions.append(.object([
            "type": .string("DisruptionTarget"), "status": .string("True"), "reason": .string(reason),
            "message": .string("Taint manager: deleting due to NoExecute taint"),
            "lastTransitionTime": .string(KubeTime.format(wallNow)),
        ]))
        return .object([
            "metadata": .object(["resourceVersion": .string(NodeObjects.resourceVersion(pod))]),
            "status": .object(["conditions": .array(conditions)]),
        ])
    }

    static func event(_ pod: ObjectReference, _ message: String) -> ObjectAction {
        .event(involved: pod, type: "Normal", reason: "TaintManagerEviction", message: message)
    }

    static func sortedByKey(_ pods: [JSONValue]) -> [JSONValue] {
        pods.map { (key: "\($0.stringMember("metadata", "namespace") ?? "default")/\(NodeObjects.name($0) ?? "")", pod: $0) }
            .sorted { $0.key < $1.key }.map(\.pod)
    }
}
