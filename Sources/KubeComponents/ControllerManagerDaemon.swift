//! `faultline controller-manager`: the controllers of kube-controller-manager this project has —
//! node lifecycle with NoExecute taint eviction, ReplicaSet and Deployment — as one daemon.
//! Informers keep the objects; their handlers mark what changed (a ReplicaSet's key, a
//! Deployment's key, "pods moved") and poke the loop; while this process holds the
//! `kube-controller-manager` lease, each pass runs the node monitor when its period is up and
//! syncs the keys marked, sending what the pure controllers answer.
//!
//! A process that gains the lease starts its controllers afresh (as a restarted
//! kube-controller-manager does: NoExecute taints are re-stamped, expectations start empty).

import Base
import Foundation
import KubeAPI
import KubeClient
import KubeControllers
import Net
import Synchronization
import Wire

public struct ControllerManagerConfiguration: Sendable {
    public var nodeLifecycle = NodeLifecycleParameters()
    public var taintEviction = TaintEvictionParameters()
    public var replicaSets = ReplicaSetController.Settings()
    public init() {}
}

public final class ControllerManagerDaemon: Sendable {
    public let settings: ComponentSettings
    public let configuration: ControllerManagerConfiguration
    private let loop = ComponentLoop(name: "controller-manager")
    private let state: Mutex<ControllerState>
    private let parts = Mutex<Parts?>(nil)

    struct Parts {
        let client: APIClient
        let nodes, leases, pods, replicaSets, deployments: Informer
        let elector: LeaderElector?
        var all: [Informer] { [nodes, leases, pods, replicaSets, deployments] }
    }

    /// The controllers and what is waiting for them; guarded by `state`.
    struct ControllerState {
        var nodeLifecycle: NodeLifecycleController
        var taintEviction: TaintEvictionController
        var replicaSetController: ReplicaSetController
        var deploymentController = DeploymentController()
        var nextMonitor: Nanoseconds = 0
        var changedNodes: [JSONValue] = []
        var podsOrNodesMoved = true
        /// Keys waiting for a sync, with the earliest time each may run.
        var replicaSetKeys: [String: Nanoseconds] = [:]
        var deploymentKeys: [String: Nanoseconds] = [:]
        /// Whether this process leads (controllers act only then).
        var leading = false

        init(_ configuration: ControllerManagerConfiguration) {
            nodeLifecycle = NodeLifecycleController(parameters: configuration.nodeLifecycle)
            taintEviction = TaintEvictionController(parameters: configuration.taintEviction)
            replicaSetController = ReplicaSetController(settings: configuration.replicaSets)
        }
    }

    public init(settings: ComponentSettings, configuration: ControllerManagerConfiguration = ControllerManagerConfiguration()) {
        self.settings = settings
        self.configuration = configuration
        state = Mutex(ControllerState(configuration))
    }

    public var isLeading: Bool { state.withLock { $0.leading } }

    public func start() throws(APIClientConfigurationError) {
        var clientConfiguration = APIClientConfiguration(servers: settings.apiservers, component: "kube-controller-manager")
        clientConfiguration.host = settings.identity
        let client = try APIClient(clientConfiguration)
        var informerConfiguration = InformerConfiguration()
        informerConfiguration.log = settings.log
        let key = Self.key(of:)
        let nodes = Informer(client: client, resource: .standard("nodes"), configuration: informerConfiguration, handlers: InformerHandlers(
            onAdd: { [self] node in mark { $0.changedNodes.append(node); $0.podsOrNodesMoved = true } },
            onUpdate: { [self] _, node in mark { $0.changedNodes.append(node); $0.podsOrNodesMoved = true } },
            onDelete: { [self] _ in mark { $0.podsOrNodesMoved = true } }))
        let leases = Informer(client: client, resource: .standard("leases", group: "coordination.k8s.io"), namespace: "kube-node-lease",
            configuration: informerConfiguration)
        let pods = Informer(client: client, resource: .standard("pods"), configuration: informerConfiguration, handlers: InformerHandlers(
            onAdd: { [self] pod in
                mark { state in
                    state.replicaSetController.observedCreate(pod: pod)
                    Self.enqueueOwner(of: pod, in: &state)
                }
            },
            onUpdate: { [self] old, pod in
                mark { state in
                    if old.member("metadata", "deletionTimestamp") == nil && pod.member("metadata", "deletionTimestamp") != nil {
                        state.replicaSetController.observedDelete(pod: pod)
                    }
                    Self.enqueueOwner(of: old, in: &state)
                    Self.enqueueOwner(of: pod, in: &state)
                }
            },
            onDelete: { [self] pod in
                mark { state in
                    state.replicaSetController.observedDelete(pod: pod)
                    Self.enqueueOwner(of: pod, in: &state)
                }
            }))
        let replicaSets = Informer(client: client, resource: .standard("replicasets", group: "apps"), configuration: informerConfiguration,
            handlers: InformerHandlers(
                onAdd: { [self] set in mark { Self.enqueueReplicaSet(set, key: key(set), in: &$0) } },
                onUpdate: { [self] _, set in mark { Self.enqueueReplicaSet(set, key: key(set), in: &$0) } },
                onDelete: { [self] set in
                    mark { state in
                        state.replicaSetController.forget(replicaSetKey: key(set))
                        if let owner = DeploymentController.controllingKey(of: set) { state.deploymentKeys[owner] = 0 }
                    }
                }))
        let deployments = Informer(client: client, resource: .standard("deployments", group: "apps"), configuration: informerConfiguration,
            handlers: InformerHandlers(
                onAdd: { [self] deployment in mark { $0.deploymentKeys[key(deployment)] = 0 } },
                onUpdate: { [self] _, deployment in mark { $0.deploymentKeys[key(deployment)] = 0 } },
                onDelete: { _ in }))
        let elector: LeaderElector? = settings.leaderElect ? LeaderElector(client: client,
            configuration: electorConfiguration(name: "kube-controller-manager", settings),
            onStartedLeading: { [self] in becomeLeader() },
            onStoppedLeading: { [self] in state.withLock { $0.leading = false } }) : nil
        if elector == nil { becomeLeader() }
        let built = Parts(client: client, nodes: nodes, leases: leases, pods: pods, replicaSets: replicaSets, deployments: deployments, elector: elector)
        parts.withLock { $0 = built }
        for informer in built.all { informer.start() }
        elector?.start()
        let sender = ActionSender(client: client, log: settings.log)
        loop.start { [self] now in
            guard built.all.allSatisfy(\.hasSynced) else { return now + 100 * Time.millisecond }
            guard state.withLock({ $0.leading }) && (elector?.isLeading ?? true) else { return now + Time.second }
            return pass(built, sender, now: now)
        }
    }

    /// Fresh controllers for a new term, and everything marked for a first sync.
    private func becomeLeader() {
        state.withLock { state in
            state = ControllerState(configuration)
            state.leading = true
        }
        if let built = parts.withLock({ $0 }) {
            mark { state in
                for set in built.replicaSets.list() { state.replicaSetKeys[Self.key(of: set)] = 0 }
                for deployment in built.deployments.list() { state.deploymentKeys[Self.key(of: deployment)] = 0 }
            }
        }
        loop.poke()
    }

    private func mark(_ change: (inout ControllerState) -> Void) {
        state.withLock { change(&$0) }
        loop.poke()
    }

    @Sendable private static func key(of object: JSONValue) -> String {
        ReplicaSetController.key(namespace: object.stringMember("metadata", "namespace") ?? "", name: object.stringMember("metadata", "name") ?? "")
    }

    private static func enqueueOwner(of pod: JSONValue, in state: inout ControllerState) {
        state.podsOrNodesMoved = true
        if let owner = ReplicaSetController.controllingKey(of: pod) { state.replicaSetKeys[owner] = 0 }
    }

    private static func enqueueReplicaSet(_ set: JSONValue, key: String, in state: inout ControllerState) {
        state.replicaSetKeys[key] = 0
        if let owner = DeploymentController.controllingKey(of: set) { state.deploymentKeys[owner] = 0 }
    }

    // MARK: - One pass

    private func pass(_ parts: Parts, _ sender: ActionSender, now: Nanoseconds) -> Nanoseconds? {
        let wallNow = Int64(FaultClock.shared.wallNow().timeIntervalSince1970)
        let nodes = parts.nodes.list()
        let pods = parts.pods.list()
        var podsByNamespace: [String: [JSONValue]] = [:]
        for pod in pods { podsByNamespace[pod.stringMember("metadata", "namespace") ?? "", default: []].append(pod) }

        // Node lifecycle and taint eviction.
        let actions: [ObjectAction] = state.withLock { state in
            var actions: [ObjectAction] = []
            for node in state.changedNodes { actions += state.nodeLifecycle.nodeChanged(node, now: now, wallNow: wallNow) }
            state.changedNodes.removeAll()
            if now >= state.nextMonitor {
                actions += state.nodeLifecycle.monitor(nodes: nodes, leases: parts.leases.list(), pods: pods, now: now, wallNow: wallNow)
                state.nextMonitor = now + configuration.nodeLifecycle.nodeMonitorPeriod
            }
            if let attempt = state.nodeLifecycle.nextTaintingAttempt(now: now), attempt <= now {
                actions += state.nodeLifecycle.noExecuteTaintingPass(nodes: nodes, now: now, wallNow: wallNow)
            }
            if state.podsOrNodesMoved || (state.taintEviction.nextEvictionAt.map { $0 <= wallNow } ?? false) {
                state.podsOrNodesMoved = false
                actions += state.taintEviction.reconcile(nodes: nodes, pods: pods, wallNow: wallNow)
            }
            return actions
        }
        sender.send(actions)

        // ReplicaSets due now.
        let dueSets = state.withLock { state in
            let due = state.replicaSetKeys.filter { $0.value <= now }.map(\.key).sorted()
            for key in due { state.replicaSetKeys[key] = nil }
            return due
        }
        for key in dueSets { syncReplicaSet(key, parts, podsByNamespace, sender, now: now, wallNow: wallNow) }

        // Deployments due now.
        let dueDeployments = state.withLock { state in
            let due = state.deploymentKeys.filter { $0.value <= now }.map(\.key).sorted()
            for key in due { state.deploymentKeys[key] = nil }
            return due
        }
        // ReplicaSets grouped once per pass, as the pods are, not listed again for each Deployment.
        var setsByNamespace: [String: [JSONValue]] = [:]
        if !dueDeployments.isEmpty {
            for set in parts.replicaSets.list() { setsByNamespace[set.stringMember("metadata", "namespace") ?? "", default: []].append(set) }
        }
        for key in dueDeployments {
            guard let deployment = parts.deployments.get(key) else { continue }
            let namespace = deployment.stringMember("metadata", "namespace") ?? ""
            let sets = setsByNamespace[namespace] ?? []
            let sync = state.withLock {
                $0.deploymentController.sync(deployment: deployment, replicaSets: sets, pods: podsByNamespace[namespace] ?? [], wallNow: wallNow)
            }
            sender.send(sync.actions, stopOnFailure: true)
            if let after = sync.requeueAfter { state.withLock { $0.deploymentKeys[key] = min($0.deploymentKeys[key] ?? .max, now + after) } }
        }

        return state.withLock { state -> Nanoseconds? in
            var next = state.nextMonitor
            if let attempt = state.nodeLifecycle.nextTaintingAttempt(now: now) { next = min(next, attempt) }
            if let eviction = state.taintEviction.nextEvictionAt { next = min(next, now + max(0, eviction - wallNow) * Time.second) }
            for due in state.replicaSetKeys.values { next = min(next, due) }
            for due in state.deploymentKeys.values { next = min(next, due) }
            return next
        }
    }

    private func syncReplicaSet(_ key: String, _ parts: Parts, _ podsByNamespace: [String: [JSONValue]], _ sender: ActionSender,
        now: Nanoseconds, wallNow: Int64)
    {
        guard let set = parts.replicaSets.get(key) else {
            state.withLock { $0.replicaSetController.forget(replicaSetKey: key) }
            return
        }
        let namespace = set.stringMember("metadata", "namespace") ?? ""
        let sync = state.withLock { $0.replicaSetController.sync(replicaSet: set, pods: podsByNamespace[namespace] ?? [], now: now, wallNow: wallNow) }
        sender.send(sync.claims)
        // Creates in slow-start batches: after a batch with a failure, the rest are not tried.
        var remaining = sync.podCreates[...]
        for batch in sync.createBatches {
            let chunk = remaining.prefix(batch)
            remaining = remaining.dropFirst(batch)
            let failures = chunk.filter { !sender.send($0) }.count
            if failures > 0 {
                state.withLock {
                    $0.replicaSetController.createsFailed(replicaSetKey: key, count: failures + remaining.count,
                        message: "\(failures) of \(chunk.count) pod creates failed")
                }
                break
            }
        }
        let reference = ObjectReference(.standard("replicasets", group: "apps"), object: set)
        if let reference, !sync.podCreates.isEmpty {
            sender.send(.event(involved: reference, type: "Normal", reason: "SuccessfulCreate",
                message: "Created \(sync.podCreates.count) pod\(sync.podCreates.count == 1 ? "" : "s")"))
        }
        for delete in sync.podDeletes where !sender.send(delete) {
            guard case .delete(let pod, _, _, _) = delete, let cached = parts.pods.get("\(pod.namespace ?? "")/\(pod.name)") else { continue }
            state.withLock { $0.replicaSetController.deleteFailed(replicaSetKey: key, pod: cached, message: "delete of \(pod) failed") }
        }
        if let status = sync.statusUpdate { sender.send(status) }
        if let after = sync.requeueAfter { state.withLock { $0.replicaSetKeys[key] = min($0.replicaSetKeys[key] ?? .max, now + after) } }
    }

    public func stop() {
        loop.stop()
        guard let built = parts.withLock({ $0 }) else { return }
        built.elector?.stop()
        for informer in built.all { informer.stop() }
    }
}
