//! The scheduler's core: watch events in, one decision per `scheduleOne`, and the writes the
//! shell should send (a binding, or a FailedScheduling event and the pod's PodScheduled
//! condition). It owns the cache, the queue and the seeded random source for ties.
//!
//! Shell contract: feed every pod, node and namespace event; call `scheduleOne` until it
//! answers nil, then wait until `nextWakeup` or the next event. Send a result's actions in
//! order; if the binding fails, call `bindingFailed` and skip the rest.

import Base
import KubeAPI
import Wire

/// One attempt: which pod, what was decided, and what to send.
public struct ScheduleAttempt: Sendable, Equatable {
    public var pod: ObjectReference
    public var decision: SchedulingDecision
    public var actions: [ObjectAction]
}

public struct Scheduler: Sendable {
    public let configuration: SchedulerConfiguration
    public private(set) var cache: SchedulerCache
    public private(set) var queue: SchedulingQueue
    private var random: SeededRandom
    private var algorithm = SchedulingAlgorithm()
    /// Assumed pods are checked for expiry at most this often (Kubernetes' cleanup period).
    private static let assumedPodCleanupPeriod: Nanoseconds = SchedulerConfiguration.nanosecondsPerSecond
    private var nextAssumedPodCleanup: Nanoseconds = .min

    public init(configuration: SchedulerConfiguration = SchedulerConfiguration(), random: SeededRandom) {
        configuration.validate()
        self.configuration = configuration
        self.cache = SchedulerCache(assumedPodExpiry: configuration.assumedPodExpiry)
        self.queue = SchedulingQueue(configuration: configuration)
        self.random = random
    }

    // MARK: - Watch events

    /// A pod was added or modified. Bound pods go to the cache (confirming our own
    /// bindings); pods waiting for this scheduler go to the queue.
    public mutating func onPodEvent(_ json: JSONValue, now: Nanoseconds) {
        guard let pod = SchedulingPod(json: json) else { return }
        guard pod.nodeName.isEmpty && !pod.isTerminal else {
            queue.delete(key: pod.key)
            switch cache.upsertPod(pod) {
            case .placed, .updated:
                // A pod in a domain can satisfy affinity, or now repel by anti-affinity.
                queue.moveOnClusterChange(now: now) { $0.unschedulablePlugins.contains(.interPodAffinity) }
            case .removed:
                releaseCapacity(now: now)
            case .ignored: break
            }
            return
        }
        if cache.pod(namespace: pod.namespace, name: pod.name) != nil {
            cache.removePod(namespace: pod.namespace, name: pod.name)
            releaseCapacity(now: now)
        }
        queue.update(pod, now: now)
    }

    /// A pod was deleted.
    public mutating func onPodDeleted(namespace: String, name: String, now: Nanoseconds) {
        queue.delete(key: namespace + "/" + name)
        if cache.removePod(namespace: namespace, name: name) != nil { releaseCapacity(now: now) }
    }

    /// A node was added or modified: pods that failed only for reasons this node no longer
    /// has get another try.
    public mutating func onNodeEvent(_ json: JSONValue, now: Nanoseconds) {
        guard let change = cache.upsertNode(json), change != .unchanged,
            let name = json.stringMember("metadata", "name"), let state = cache.node(named: name)
        else { return }
        let snapshot = cache
        queue.moveOnClusterChange(now: now) { pending in
            if pending.unschedulablePlugins.contains(.interPodAffinity) { return true }
            let context = FilterContext(
                pod: pending.pod, namespaceLabels: snapshot.labels(ofNamespace: pending.pod.namespace),
                interPodAffinity: InterPodAffinityState())
            return context.rejection(of: state) == nil
        }
    }

    public mutating func onNodeDeleted(name: String) { cache.removeNode(name: name) }

    public mutating func onNamespaceEvent(_ json: JSONValue) { cache.upsertNamespace(json) }

    public mutating func onNamespaceDeleted(name: String) { cache.removeNamespace(name: name) }

    /// Freed capacity may help pods short of resources or kept out by anti-affinity.
    private mutating func releaseCapacity(now: Nanoseconds) {
        queue.moveOnClusterChange(now: now) {
            $0.unschedulablePlugins.contains(.nodeResourcesFit) || $0.unschedulablePlugins.contains(.interPodAffinity)
        }
    }

    // MARK: - Scheduling

    /// Schedules the next ready pod, if any: on success it is assumed onto the node and the
    /// actions bind it; on failure it goes back to the queue and the actions record why.
    /// `wallClock` (seconds since the epoch) stamps the pod condition's transition time.
    public mutating func scheduleOne(now: Nanoseconds, wallClock: Int64) -> ScheduleAttempt? {
        if configuration.assumedPodExpiry != nil && now >= nextAssumedPodCleanup {
            if !cache.expireAssumedPods(now: now).isEmpty { releaseCapacity(now: now) }
            nextAssumedPodCleanup = now + Self.assumedPodCleanupPeriod
        }
        var popped = queue.popReady(now: now)
        // A pod the cache already holds was bound meanwhile (its event raced the queue).
        while let stale = popped, cache.pod(namespace: stale.pod.namespace, name: stale.pod.name) != nil {
            queue.delete(key: stale.key)
            popped = queue.popReady(now: now)
        }
        guard let pending = popped else { return nil }
        let pod = pending.pod
        let reference = ObjectReference(.standard("pods"), namespace: pod.namespace, name: pod.name)
        let decision = algorithm.schedule(pod, cache: &cache, configuration: configuration, random: &random)
        switch decision {
        case .bind(let node, _):
            cache.assume(pod: pod, node: node, now: now)
            queue.assumed(key: pod.key)
            let actions: [ObjectAction] = [
                .bind(pod: reference, node: node, uid: pod.uid.isEmpty ? nil : pod.uid),
                .event(involved: reference, type: "Normal", reason: "Scheduled",
                    message: "Successfully assigned \(pod.namespace)/\(pod.name) to \(node)"),
            ]
            return ScheduleAttempt(pod: reference, decision: decision, actions: actions)
        case .unschedulable(let failure):
            queue.requeueUnschedulable(pending, plugins: failure.rejectingPlugins, now: now)
            var actions: [ObjectAction] = [
                .event(involved: reference, type: "Warning", reason: "FailedScheduling",
                    message: FailureMessage.truncatedForEvent(failure.message))
            ]
            if let patch = Self.unschedulableStatusPatch(pod, message: failure.message, wallClock: wallClock) {
                actions.append(.mergePatch(reference, patch: patch, subresource: "status"))
            }
            return ScheduleAttempt(pod: reference, decision: decision, actions: actions)
        }
    }

    /// Decides for `pod` against the current cache without queueing or assuming anything.
    public mutating func decide(_ pod: SchedulingPod) -> SchedulingDecision {
        algorithm.schedule(pod, cache: &cache, configuration: configuration, random: &random)
    }

    /// The binding for an assumed pod failed: the pod no longer counts on the node and backs
    /// off before its next attempt.
    public mutating func bindingFailed(namespace: String, name: String, now: Nanoseconds) {
        cache.forget(namespace: namespace, name: name)
        if let pending = queue.pending(key: namespace + "/" + name) {
            queue.requeueUnschedulable(pending, plugins: [], now: now)
        }
        releaseCapacity(now: now)
    }

    /// When to call `scheduleOne` next without a new event; nil when nothing waits.
    public func nextWakeup(now: Nanoseconds) -> Nanoseconds? { queue.nextWakeup(now: now) }

    // MARK: - Status

    /// The merge patch of `pods/status` that sets PodScheduled=False, reason Unschedulable,
    /// keeping the pod's other conditions (a merge patch replaces the whole list); nil when
    /// the condition already says exactly this, as Kubernetes then skips the write.
    static func unschedulableStatusPatch(_ pod: SchedulingPod, message: String, wallClock: Int64) -> JSONValue? {
        let current = pod.podScheduledCondition
        if let current, current.status == "False", current.reason == "Unschedulable", current.message == message { return nil }
        var transitionTime = JSONValue.string(KubeTime.format(wallClock))
        var conditions: [JSONValue] = []
        var replaced = false
        let condition = { (time: JSONValue) -> JSONValue in
            .object([
                "type": .string("PodScheduled"), "status": .string("False"), "lastProbeTime": .null,
                "lastTransitionTime": time, "reason": .string("Unschedulable"), "message": .string(message),
            ])
        }
        for existing in pod.conditions {
            guard existing.stringMember("type") == "PodScheduled" else {
                conditions.append(existing)
                continue
            }
            if existing.stringMember("status") == "False", let time = existing.member("lastTransitionTime") { transitionTime = time }
            conditions.append(condition(transitionTime))
            replaced = true
        }
        if !replaced { conditions.append(condition(transitionTime)) }
        return .object(["status": .object(["conditions": .array(conditions)])])
    }
}
