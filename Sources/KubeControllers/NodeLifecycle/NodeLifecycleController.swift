//! The node-lifecycle controller's pure core: kube-controller-manager v1.32's
//! pkg/controller/nodelifecycle, without the goroutines, locks and client.
//!
//! The shell calls `monitor` every `nodeMonitorPeriod` with what its informers hold (nodes,
//! leases in kube-node-lease, pods) and sends the `ObjectAction`s it returns, in order. One pass:
//! 1. new nodes are registered (and their NoExecute taints cleared, as Kubernetes does on start),
//!    gone nodes forgotten;
//! 2. each node is judged (`NodeHealthJudge`): silent past its grace period, its kubelet
//!    conditions become Unknown; a node that just stopped being Ready gets a NodeNotReady event
//!    and its pods are marked not Ready;
//! 3. NoExecute taints follow the Ready condition as read: swapped at once when the opposite one
//!    is there, removed when Ready, otherwise the node is queued in its zone's rate-limited queue;
//!    NoSchedule taints mirror the conditions;
//! 4. zones are judged Normal / PartialDisruption / FullDisruption and their queues' rates set;
//!    when every zone is fully disrupted the controller stops tainting and lifts its NoExecute
//!    taints ("master disruption mode"), since then it is more likely cut off than the nodes;
//! 5. the queues hand out NoExecute taints as their tokens allow (`noExecuteTaintingPass`,
//!    which the shell may also call on its own at `nextTaintingAttempt`).
//! Taint changes of one pass go out as one merge patch per node, after that node's status write
//! (and not in the same pass as one, since both are guarded by the version read).

import Base
import KubeAPI
import Wire

public struct NodeLifecycleController: Sendable {
    public let parameters: NodeLifecycleParameters
    /// Nodes registered, by name, with their UIDs (Kubernetes' `knownNodeSet`).
    private var knownNodes: [String: String] = [:]
    /// Invariant: only for known nodes.
    public private(set) var health: [String: NodeHealthRecord] = [:]
    /// Invariant: every zone here has a queue in `tainters`.
    private(set) var zoneStates: [String: ZoneState] = [:]
    private(set) var tainters: [String: RateLimitedTimedQueue] = [:]
    private var ledger: WriteLedger
    /// Set on entering master disruption mode, cleared on leaving it.
    public private(set) var isInMasterDisruptionMode = false
    /// What the last pass saw, for the views.
    private(set) var lastZoneOfNode: [String: String] = [:]
    private(set) var lastReadyOfNode: [String: String] = [:]
    private(set) var lastZoneCounts: [String: (nodes: Int, notReady: Int)] = [:]

    public init(parameters: NodeLifecycleParameters = NodeLifecycleParameters()) {
        parameters.validate()
        self.parameters = parameters
        // Node status, node spec and pod writes share the ledger; pods may outnumber nodes.
        ledger = WriteLedger(retryInterval: parameters.writeRetryInterval, capacity: parameters.nodesMax * 200)
    }

    // MARK: - Monitor pass

    /// One monitor pass over the informers' contents. `now` is the monotonic clock (every grace
    /// period is measured on it); `wallNow` is seconds since the epoch, only for the timestamps
    /// written into conditions and taints.
    public mutating func monitor(
        nodes: [JSONValue], leases: [JSONValue], pods: [JSONValue], now: Nanoseconds, wallNow: Int64
    ) -> [ObjectAction] {
        var pass = MonitorPass(nodes: nodes, now: now, wallNow: wallNow)
        precondition(pass.nodes.count <= parameters.nodesMax, "\(pass.nodes.count) nodes exceed nodesMax \(parameters.nodesMax)")
        pruneLedger(pass: pass, pods: pods)
        registerNodes(&pass)
        let leasesByNode = Self.nodeLeases(leases)
        let podsByNode = Self.podsByNode(pods)
        var zoneReadiness: [String: [String?]] = [:]
        lastReadyOfNode = [:]
        for node in pass.nodes {
            let name = NodeObjects.name(node)!
            let currentReady = monitorNode(node, lease: leasesByNode[name], pods: podsByNode[name] ?? [], &pass)
            if let currentReady { lastReadyOfNode[name] = currentReady.status }
            if !NodeObjects.isExcludedFromDisruption(node) {
                zoneReadiness[NodeObjects.zoneKey(node), default: []].append(currentReady?.status)
            }
            reconcileNoScheduleTaints(node, &pass)
        }
        handleDisruption(zoneReadiness, &pass)
        runTainters(&pass)
        finishTaints(&pass)
        return pass.actions
    }

    /// The rate-limited NoExecute tainting alone (Kubernetes runs it every 100 ms); the shell may
    /// call it at `nextTaintingAttempt` between monitor passes so taints are not held to the tick.
    public mutating func noExecuteTaintingPass(nodes: [JSONValue], now: Nanoseconds, wallNow: Int64) -> [ObjectAction] {
        var pass = MonitorPass(nodes: nodes, now: now, wallNow: wallNow)
        runTainters(&pass)
        finishTaints(&pass)
        return pass.actions
    }

    /// A node changed in the informer: reconciles its NoSchedule condition taints at once
    /// (Kubernetes' `doNoScheduleTaintingPass`, which runs on node events).
    public mutating func nodeChanged(_ node: JSONValue, now: Nanoseconds, wallNow: Int64) -> [ObjectAction] {
        var pass = MonitorPass(nodes: [node], now: now, wallNow: wallNow)
        reconcileNoScheduleTaints(node, &pass)
        finishTaints(&pass)
        return pass.actions
    }

    /// When a tainting queue could next taint a node (a node is due and a token is there), or nil.
    public func nextTaintingAttempt(now: Nanoseconds) -> Nanoseconds? {
        tainters.values.compactMap { $0.nextAttemptAt(now: now) }.min()
    }

    // MARK: - Registering nodes

    /// Kubernetes' `classifyNodes` and what follows it: events for nodes seen and gone, zones
    /// created for new nodes, and the NoExecute taints of newly seen nodes lifted.
    private mutating func registerNodes(_ pass: inout MonitorPass) {
        let current = Set(pass.nodes.map { NodeObjects.name($0)! })
        for node in pass.nodes {
            let name = NodeObjects.name(node)!
            guard knownNodes[name] == nil else {
                if zoneStates[NodeObjects.zoneKey(node)] == nil { addZone(for: node) }
                continue
            }
            pass.actions.append(Self.nodeEvent(name, reason: "RegisteredNode", message: "Node \(name) event: Registered Node \(name) in Controller"))
            knownNodes[name] = NodeObjects.uid(node)
            addZone(for: node)
            markReachable(node, &pass)
        }
        for name in knownNodes.keys.sorted() where !current.contains(name) {
            pass.actions.append(Self.nodeEvent(name, reason: "RemovingNode", message: "Node \(name) event: Removing Node \(name) from Controller"))
            knownNodes[name] = nil
            health[name] = nil
            for zone in tainters.keys { tainters[zone]!.remove(name) }
        }
        // Queues of zones no node is in any more hold only departed nodes.
        let zonesInUse = Set(pass.nodes.map(NodeObjects.zoneKey))
        for zone in tainters.keys where !zonesInUse.contains(zone) {
            tainters[zone] = nil
            zoneStates[zone] = nil
        }
        lastZoneOfNode = Dictionary(uniqueKeysWithValues: pass.nodes.map { (NodeObjects.name($0)!, NodeObjects.zoneKey($0)) })
        precondition(knownNodes.count == current.count, "known nodes \(knownNodes.count) != nodes read \(current.count)")
    }

    /// Kubernetes' `addPodEvictorForNewZone`: a zone first seen starts Initial with a full bucket.
    private mutating func addZone(for node: JSONValue) {
        let zone = NodeObjects.zoneKey(node)
        guard zoneStates[zone] == nil else { return }
        zoneStates[zone] = .initial
        tainters[zone] = RateLimitedTimedQueue(
            limiter: TokenBucket(ratePerSecond: parameters.nodeEvictionRate, burst: 1), capacity: parameters.nodesMax)
    }

    // MARK: - One node

    /// Judges one node, writes its status when it went silent, marks its pods not Ready when it
    /// just stopped being Ready, and steers its NoExecute taint. Returns its Ready condition after
    /// this pass (nil when it has none).
    private mutating func monitorNode(_ node: JSONValue, lease: JSONValue?, pods: [JSONValue], _ pass: inout MonitorPass) -> ObjectCondition? {
        let name = NodeObjects.name(node)!
        let judgement = NodeHealthJudge.judge(node: node, lease: lease, record: health[name], parameters: parameters,
            now: pass.now, wallNow: pass.wallNow)
        health[name] = judgement.record
        var justWentNotReady = false
        if let update = judgement.statusUpdate, claimWrite(node, &pass) {
            pass.actions.append(.update(NodeObjects.nodeReference(name), object: update, subresource: "status"))
            justWentNotReady = judgement.observedReady.status == NodeLifecycleVocabulary.conditionTrue
        }
        guard let currentReady = judgement.currentReady else { return nil }
        steerNoExecuteTaint(node, observedReady: judgement.observedReady, &pass)
        if justWentNotReady {
            pass.actions.append(Self.nodeEvent(name, reason: "NodeNotReady", message: "Node \(name) status is now: NodeNotReady"))
            markPodsNotReady(pods, nodeName: name, &pass)
        } else if currentReady.status == NodeLifecycleVocabulary.conditionUnknown {
            // Kubernetes retries failed marks and marks pods bound later (`nodesToRetry`,
            // `processPod`); without write results, pods still Ready on a lost node are marked again.
            markPodsNotReady(pods, nodeName: name, &pass)
        }
        return currentReady
    }

    /// Kubernetes' `processTaintBaseEviction`, on the node as read.
    private mutating func steerNoExecuteTaint(_ node: JSONValue, observedReady: ObjectCondition, _ pass: inout MonitorPass) {
        let taintsAsRead = Taint.of(node: node)
        switch observedReady.status {
        case NodeLifecycleVocabulary.conditionFalse:
            if Taint.unreachableNoExecute.isPresent(in: taintsAsRead) {
                swapNoExecuteTaint(node, adding: Taint.notReadyNoExecute, removing: Taint.unreachableNoExecute, &pass)
            } else {
                queueForTainting(node, wanted: Taint.notReadyNoExecute, taintsAsRead: taintsAsRead, now: pass.now)
            }
        case NodeLifecycleVocabulary.conditionUnknown:
            if Taint.notReadyNoExecute.isPresent(in: taintsAsRead) {
                swapNoExecuteTaint(node, adding: Taint.unreachableNoExecute, removing: Taint.notReadyNoExecute, &pass)
            } else {
                queueForTainting(node, wanted: Taint.unreachableNoExecute, taintsAsRead: taintsAsRead, now: pass.now)
            }
        case NodeLifecycleVocabulary.conditionTrue:
            markReachable(node, &pass)
        default:
            break
        }
    }

    /// Kubernetes' `markNodeForTainting`: requeues a node whose wanted taint is missing.
    private mutating func queueForTainting(_ node: JSONValue, wanted: Taint, taintsAsRead: [Taint], now: Nanoseconds) {
        let name = NodeObjects.name(node)!
        let zone = NodeObjects.zoneKey(node)
        guard tainters[zone] != nil else { preconditionFailure("no tainting queue for zone '\(ZoneDisruption.displayName(zone))' of node \(name)") }
        if !wanted.isPresent(in: taintsAsRead) { tainters[zone]!.remove(name) }
        _ = tainters[zone]!.add(name, uid: NodeObjects.uid(node), now: now)
    }

    /// Kubernetes' `markNodeAsReachable`: lifts both NoExecute taints and dequeues the node.
    private mutating func markReachable(_ node: JSONValue, _ pass: inout MonitorPass) {
        pass.taints.remove(key: Taint.unreachableKey, effect: .noExecute, on: node)
        pass.taints.remove(key: Taint.notReadyKey, effect: .noExecute, on: node)
        tainters[NodeObjects.zoneKey(node)]?.remove(NodeObjects.name(node)!)
    }

    /// Kubernetes' `SwapNodeControllerTaint`: the added taint is stamped with the time now.
    private func swapNoExecuteTaint(_ node: JSONValue, adding: Taint, removing: Taint, _ pass: inout MonitorPass) {
        var stamped = adding
        stamped.timeAdded = KubeTime.format(pass.wallNow)
        pass.taints.addOrUpdate(stamped, on: node)
        pass.taints.remove(key: removing.key, effect: removing.effect, on: node)
    }

    /// Kubernetes' `MarkPodsNotReady`: Ready=False on each pod of the node that is not already so.
    private mutating func markPodsNotReady(_ pods: [JSONValue], nodeName: String, _ pass: inout MonitorPass) {
        for pod in pods {
            guard let updated = PodReadiness.markedNotReady(pod, wallNow: pass.wallNow),
                let reference = PodReadiness.reference(pod)
            else { continue }
            let key = reference.description
            let version = NodeObjects.resourceVersion(pod)
            guard ledger.allows(key, resourceVersion: version, now: pass.now) else { continue }
            ledger.record(key, resourceVersion: version, now: pass.now)
            pass.actions.append(.update(reference, object: updated, subresource: "status"))
            pass.actions.append(.event(involved: reference, type: "Warning", reason: "NodeNotReady", message: "Node is not ready"))
        }
    }

    // MARK: - NoSchedule taints

    /// Kubernetes' `doNoScheduleTaintingPass`: the node's NoSchedule taints owned by the
    /// controller become exactly those its conditions (and `spec.unschedulable`) call for.
    private func reconcileNoScheduleTaints(_ node: JSONValue, _ pass: inout MonitorPass) {
        var wanted: [String] = []
        for condition in node.arrayMember("status", "conditions") {
            guard let type = condition.stringMember("type"), let status = condition.stringMember("status") else { continue }
            for mapping in NodeLifecycleVocabulary.conditionTaintKeys where mapping.type == type && mapping.status == status {
                wanted.append(mapping.key)
            }
        }
        if node.boolMember("spec", "unschedulable") == true { wanted.append(Taint.unschedulableKey) }
        let present = Taint.of(node: node).filter { $0.effect == .noSchedule && NodeLifecycleVocabulary.ownedNoScheduleKeys.contains($0.key) }
        for key in wanted where !present.contains(where: { $0.key == key }) {
            pass.taints.addOrUpdate(Taint(key: key, effect: .noSchedule, timeAdded: KubeTime.format(pass.wallNow)), on: node)
        }
        for taint in present where !wanted.contains(taint.key) {
            pass.taints.remove(key: taint.key, effect: .noSchedule, on: node)
        }
    }

    // MARK: - Zones

    /// Kubernetes' `handleDisruption`: new zone states, their rates, and master disruption mode.
    private mutating func handleDisruption(_ zoneReadiness: [String: [String?]], _ pass: inout MonitorPass) {
        var newStates: [String: ZoneState] = [:]
        lastZoneCounts = [:]
        for (zone, statuses) in zoneReadiness {
            let (notReady, state) = ZoneDisruption.state(readyStatuses: statuses, unhealthyThreshold: parameters.unhealthyZoneThreshold)
            newStates[zone] = state
            lastZoneCounts[zone] = (statuses.count, notReady)
            if zoneStates[zone] == nil { addZone(key: zone) }
        }
        let allAreFullyDisrupted = newStates.values.allSatisfy { $0 == .fullDisruption }
        for zone in zoneStates.keys where zoneReadiness[zone] == nil { zoneStates[zone] = nil }
        let allWereFullyDisrupted = zoneStates.values.allSatisfy { $0 == .fullDisruption }
        if !allAreFullyDisrupted { isInMasterDisruptionMode = false }
        if allAreFullyDisrupted && allWereFullyDisrupted {
            // Staying in master disruption mode: Kubernetes lifts the taints once on entry; a
            // lift that did not land is repeated here, since nothing else would retry it.
            if isInMasterDisruptionMode { for node in pass.nodes { markReachable(node, &pass) } }
            return
        }
        if allAreFullyDisrupted {
            // Entering: every node looks lost, which more likely means this controller is cut off.
            isInMasterDisruptionMode = true
            for node in pass.nodes { markReachable(node, &pass) }
            for zone in zoneStates.keys.sorted() {
                tainters[zone]!.swapRate(0, now: pass.now)
                zoneStates[zone] = .fullDisruption
            }
            return
        }
        if allWereFullyDisrupted {
            // Leaving: every node gets a fresh grace period, as if just heard from.
            for name in health.keys.sorted() {
                health[name]!.probeTimestamp = pass.now
                health[name]!.readyTransitionTimestamp = pass.now
            }
            for zone in zoneStates.keys.sorted() { setRate(zone: zone, state: newStates[zone]!, pass.now) }
            return
        }
        for zone in zoneStates.keys.sorted() where zoneStates[zone] != newStates[zone] {
            setRate(zone: zone, state: newStates[zone]!, pass.now)
        }
    }

    private mutating func addZone(key zone: String) {
        zoneStates[zone] = .initial
        if tainters[zone] == nil {
            tainters[zone] = RateLimitedTimedQueue(
                limiter: TokenBucket(ratePerSecond: parameters.nodeEvictionRate, burst: 1), capacity: parameters.nodesMax)
        }
    }

    /// Kubernetes' `setLimiterInZone`, and the zone's new state.
    private mutating func setRate(zone: String, state: ZoneState, _ now: Nanoseconds) {
        if let rate = ZoneDisruption.rate(for: state, size: lastZoneCounts[zone]?.nodes ?? 0, parameters: parameters) {
            tainters[zone]!.swapRate(rate, now: now)
        }
        zoneStates[zone] = state
    }

    // MARK: - NoExecute tainting

    /// Kubernetes' `doNoExecuteTaintingPass`: each zone's queue, in zone order, taints due nodes
    /// while its tokens last, by the Ready condition as read.
    private mutating func runTainters(_ pass: inout MonitorPass) {
        for zone in tainters.keys.sorted() {
            var queue = tainters[zone]!
            queue.tryProcess(now: pass.now) { value in
                guard let node = pass.node(named: value.value) else { return .processed }
                guard let ready = ObjectCondition.of(node, type: NodeLifecycleVocabulary.ready) else {
                    return .retry(after: 50 * Time.millisecond)
                }
                // Taints wait while a write to this node is pending; the version it was read at is stale.
                guard !pass.statusWritten.contains(value.value),
                    ledger.allows(Self.nodeKey(value.value), resourceVersion: NodeObjects.resourceVersion(node), now: pass.now)
                else { return .retry(after: 50 * Time.millisecond) }
                switch ready.status {
                case NodeLifecycleVocabulary.conditionFalse:
                    swapNoExecuteTaint(node, adding: Taint.notReadyNoExecute, removing: Taint.unreachableNoExecute, &pass)
                case NodeLifecycleVocabulary.conditionUnknown:
                    swapNoExecuteTaint(node, adding: Taint.unreachableNoExecute, removing: Taint.notReadyNoExecute, &pass)
                default:
                    break  // Ready again: nothing to taint.
                }
                return .processed
            }
            tainters[zone] = queue
        }
    }

    /// One merge patch per node whose taints changed, unless a write to it is already pending.
    private mutating func finishTaints(_ pass: inout MonitorPass) {
        for name in pass.taints.changedNodes {
            guard let node = pass.node(named: name), !pass.statusWritten.contains(name) else { continue }
            let version = NodeObjects.resourceVersion(node)
            guard ledger.allows(Self.nodeKey(name), resourceVersion: version, now: pass.now) else { continue }
            ledger.record(Self.nodeKey(name), resourceVersion: version, now: pass.now)
            pass.actions.append(.mergePatch(NodeObjects.nodeReference(name), patch: pass.taints.patch(for: name, resourceVersion: version)))
        }
    }

    // MARK: - Helpers

    /// Claims the node's one write of this pass for its status; false when one from the same
    /// version is still pending.
    private mutating func claimWrite(_ node: JSONValue, _ pass: inout MonitorPass) -> Bool {
        let name = NodeObjects.name(node)!
        let version = NodeObjects.resourceVersion(node)
        guard ledger.allows(Self.nodeKey(name), resourceVersion: version, now: pass.now) else { return false }
        ledger.record(Self.nodeKey(name), resourceVersion: version, now: pass.now)
        pass.statusWritten.insert(name)
        return true
    }

    private mutating func pruneLedger(pass: MonitorPass, pods: [JSONValue]) {
        var versions: [String: String] = [:]
        for node in pass.nodes { versions[Self.nodeKey(NodeObjects.name(node)!)] = NodeObjects.resourceVersion(node) }
        for pod in pods {
            if let key = PodReadiness.key(pod) { versions[key] = NodeObjects.resourceVersion(pod) }
        }
        ledger.prune(current: versions)
    }

    static func nodeKey(_ name: String) -> String { NodeObjects.nodeReference(name).description }

    static func nodeEvent(_ name: String, reason: String, message: String) -> ObjectAction {
        .event(involved: NodeObjects.nodeReference(name), type: "Normal", reason: reason, message: message)
    }

    /// Leases in kube-node-lease, by the node they are named after.
    static func nodeLeases(_ leases: [JSONValue]) -> [String: JSONValue] {
        var byNode: [String: JSONValue] = [:]
        for lease in leases where lease.stringMember("metadata", "namespace") == NodeLifecycleVocabulary.nodeLeaseNamespace {
            if let name = NodeObjects.name(lease) { byNode[name] = lease }
        }
        return byNode
    }

    /// Pods by `spec.nodeName`, unbound ones left out.
    static func podsByNode(_ pods: [JSONValue]) -> [String: [JSONValue]] {
        var byNode: [String: [JSONValue]] = [:]
        for pod in pods {
            guard let node = pod.stringMember("spec", "nodeName"), !node.isEmpty else { continue }
            byNode[node, default: []].append(pod)
        }
        return byNode
    }
}

/// What one pass has read and decided so far.
struct MonitorPass {
    /// Nodes with a name, sorted by it, one per name.
    let nodes: [JSONValue]
    private let nodesByName: [String: JSONValue]
    let now: Nanoseconds
    let wallNow: Int64
    var actions: [ObjectAction] = []
    var taints = NodeTaintEdits()
    /// Nodes whose status is written this pass; their taints wait for the next.
    var statusWritten: Set<String> = []

    init(nodes: [JSONValue], now: Nanoseconds, wallNow: Int64) {
        var byName: [String: JSONValue] = [:]
        for node in nodes {
            if let name = NodeObjects.name(node) { byName[name] = node }
        }
        nodesByName = byName
        self.nodes = byName.keys.sorted().map { byName[$0]! }
        self.now = now
        self.wallNow = wallNow
        actions.reserveCapacity(16)
    }

    func node(named name: String) -> JSONValue? { nodesByName[name] }
}
