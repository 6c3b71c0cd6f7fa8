//! `faultline controller-manager`: the controllers of kube-controller-manager this project has —
//! node lifecycle with NoExecute taint eviction, ReplicaSet, Deployment, Endpoints, the garbage
//! collector and the namespace controller — as one daemon. Informers keep the objects; their
//! handlers mark what changed (a ReplicaSet's, Deployment's or Service's key, "pods moved", "the
//! owner graph changed", a namespace being deleted) and poke the loop; while this process holds
//! the `kube-controller-manager` lease, each pass runs the node monitor when its period is up and
//! syncs what was marked, sending what the pure controllers answer (`ControllerManagerPass.swift`).
//!
//! A process that gains the lease starts its controllers afresh (as a restarted
//! kube-controller-manager does: NoExecute taints are re-stamped, expectations start empty, the
//! garbage collector has seen no owner go).

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
    public var endpoints = EndpointsController.Configuration()
    /// How long a Service whose Endpoints write failed waits before it is synced again (a watch
    /// event of the Service, its pods or its Endpoints syncs it sooner).
    public var endpointsRetryDelay: Nanoseconds = Time.second
    public var garbageCollector = GarbageCollector.Configuration()
    /// The shortest time between two garbage-collector passes: each rebuilds the owner graph from
    /// every cache, so a burst of watch events makes one pass, not one per event.
    public var garbageCollectionSpacing: Nanoseconds = 100 * Time.millisecond
    public var namespaces = NamespaceController.Configuration()
    /// The shortest time between two syncs of one namespace being deleted (each lists every
    /// namespaced resource in it from the apiserver) when its content's watch events ask for one.
    public var namespaceSyncSpacing: Nanoseconds = 200 * Time.millisecond
    public init() {}
}

public final class ControllerManagerDaemon: Sendable {
    public let settings: ComponentSettings
    public let configuration: ControllerManagerConfiguration
    let loop = ComponentLoop(name: "controller-manager")
    let state: Mutex<ControllerState>
    let parts = Mutex<Parts?>(nil)
    let endpointsController: EndpointsController
    let namespaceController: NamespaceController

    struct Parts {
        let client: APIClient
        let nodes, leases, pods, replicaSets, deployments, services, endpoints, namespaces: Informer
        let elector: LeaderElector?
        var all: [Informer] { [nodes, leases, pods, replicaSets, deployments, services, endpoints, namespaces] }
        /// What the garbage collector sees: caches that each hold every object of their kind. (The
        /// node leases' cache holds one namespace only; a kind passed in part would have its
        /// objects elsewhere taken for gone owners.)
        var collected: [Informer] { [nodes, pods, replicaSets, deployments, services, endpoints] }
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
        /// Services whose Endpoints to sync, by `namespace/name`, with the earliest time each may run.
        var serviceKeys: [String: Nanoseconds] = [:]
        /// The label sets of pods added, changed or deleted since the last pass, by namespace: the
        /// services selecting any of them are synced. Invariant: `changedPodLabelCount` counts the
        /// sets and stays at most `changedPodLabelsMax`; past it `everyServiceDue` stands in.
        var changedPodLabels: [String: Set<[String: String]>] = [:]
        var changedPodLabelCount = 0
        var everyServiceDue = false
        var garbageCollector: GarbageCollector
        /// The owner graph changed (an object came, went, or changed its owners, finalizers or
        /// deletion mark) since the collector's last pass.
        var collectionDue = true
        var nextCollectionAllowed: Nanoseconds = 0
        var collectionResyncAt: Nanoseconds?
        /// Namespaces being deleted, with the earliest time each is synced again; a key stays
        /// until its namespace is gone. Invariant: `lastNamespaceSync` has no other keys.
        var namespaceKeys: [String: Nanoseconds] = [:]
        var lastNamespaceSync: [String: Nanoseconds] = [:]
        /// Namespaces being deleted whose content a watch showed changing since the last pass.
        var contentChangedIn: Set<String> = []
        /// Whether this process leads (controllers act only then).
        var leading = false

        static let changedPodLabelsMax = 4096

        init(_ configuration: ControllerManagerConfiguration) {
            nodeLifecycle = NodeLifecycleController(parameters: configuration.nodeLifecycle)
            taintEviction = TaintEvictionController(parameters: configuration.taintEviction)
            replicaSetController = ReplicaSetController(settings: configuration.replicaSets)
            garbageCollector = GarbageCollector(configuration: configuration.garbageCollector)
        }
    }

    public init(settings: ComponentSettings, configuration: ControllerManagerConfiguration = ControllerManagerConfiguration()) {
        self.settings = settings
        self.configuration = configuration
        state = Mutex(ControllerState(configuration))
        endpointsController = EndpointsController(configuration: configuration.endpoints)
        namespaceController = NamespaceController(configuration: configuration.namespaces)
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
            onAdd: { [self] node in
                mark { state in
                    state.changedNodes.append(node)
                    state.podsOrNodesMoved = true
                    Self.objectChanged(nil, node, in: &state)
                }
            },
            onUpdate: { [self] old, node in
                mark { state in
                    state.changedNodes.append(node)
                    state.podsOrNodesMoved = true
                    Self.objectChanged(old, node, in: &state)
                }
            },
            onDelete: { [self] node in mark { $0.podsOrNodesMoved = true; Self.objectChanged(node, nil, in: &$0) } }))
        let leases = Informer(client: client, resource: .standard("leases", group: "coordination.k8s.io"), namespace: "kube-node-lease",
            configuration: informerConfiguration)
        let pods = Informer(client: client, resource: .standard("pods"), configuration: informerConfiguration, handlers: InformerHandlers(
            onAdd: { [self] pod in
                mark { state in
                    state.replicaSetController.observedCreate(pod: pod)
                    Self.enqueueOwner(of: pod, in: &state)
                    Self.podChanged(nil, pod, in: &state)
                }
            },
            onUpdate: { [self] old, pod in
                mark { state in
                    if old.member("metadata", "deletionTimestamp") == nil && pod.member("metadata", "deletionTimestamp") != nil {
                        state.replicaSetController.observedDelete(pod: pod)
                    }
                    Self.enqueueOwner(of: old, in: &state)
                    Self.enqueueOwner(of: pod, in: &state)
                    Self.podChanged(old, pod, in: &state)
                }
            },
            onDelete: { [self] pod in
                mark { state in
                    state.replicaSetController.observedDelete(pod: pod)
                    Self.enqueueOwner(of: pod, in: &state)
                    Self.podChanged(pod, nil, in: &state)
                }
            }))
        let replicaSets = Informer(client: client, resource: .standard("replicasets", group: "apps"), configuration: informerConfiguration,
            handlers: InformerHandlers(
                onAdd: { [self] set in mark { Self.enqueueReplicaSet(set, key: key(set), in: &$0); Self.objectChanged(nil, set, in: &$0) } },
                onUpdate: { [self] old, set in mark { Self.enqueueReplicaSet(set, key: key(set), in: &$0); Self.objectChanged(old, set, in: &$0) } },
                onDelete: { [self] set in
                    mark { state in
                        state.replicaSetController.forget(replicaSetKey: key(set))
                        if let owner = DeploymentController.controllingKey(of: set) { state.deploymentKeys[owner] = 0 }
                        Self.objectChanged(set, nil, in: &state)
                    }
                }))
        let deployments = Informer(client: client, resource: .standard("deployments", group: "apps"), configuration: informerConfiguration,
            handlers: InformerHandlers(
                onAdd: { [self] deployment in mark { $0.deploymentKeys[key(deployment)] = 0; Self.objectChanged(nil, deployment, in: &$0) } },
                onUpdate: { [self] old, deployment in
                    mark { $0.deploymentKeys[key(deployment)] = 0; Self.objectChanged(old, deployment, in: &$0) }
                },
                onDelete: { [self] deployment in mark { Self.objectChanged(deployment, nil, in: &$0) } }))
        // A Service's key is its Endpoints' key (same namespace and name): either changing syncs it.
        let serviceHandlers = InformerHandlers(
            onAdd: { [self] object in mark { $0.serviceKeys[key(object)] = 0; Self.objectChanged(nil, object, in: &$0) } },
            onUpdate: { [self] old, object in mark { $0.serviceKeys[key(object)] = 0; Self.objectChanged(old, object, in: &$0) } },
            onDelete: { [self] object in mark { $0.serviceKeys[key(object)] = 0; Self.objectChanged(object, nil, in: &$0) } })
        let services = Informer(client: client, resource: .standard("services"), configuration: informerConfiguration, handlers: serviceHandlers)
        let endpoints = Informer(client: client, resource: .standard("endpoints"), configuration: informerConfiguration, handlers: serviceHandlers)
        let namespaces = Informer(client: client, resource: .standard("namespaces"), configuration: informerConfiguration,
            handlers: InformerHandlers(
                onAdd: { [self] namespace in mark { Self.enqueueNamespace(namespace, in: &$0) } },
                onUpdate: { [self] _, namespace in mark { Self.enqueueNamespace(namespace, in: &$0) } },
                onDelete: { [self] namespace in
                    mark { state in
                        let name = namespace.stringMember("metadata", "name") ?? ""
                        state.namespaceKeys[name] = nil
                        state.lastNamespaceSync[name] = nil
                        state.contentChangedIn.remove(name)
                    }
                }))
        let elector: LeaderElector? = settings.leaderElect ? LeaderElector(client: client,
            configuration: electorConfiguration(name: "kube-controller-manager", settings),
            onStartedLeading: { [self] in becomeLeader() },
            onStoppedLeading: { [self] in state.withLock { $0.leading = false } }) : nil
        if elector == nil { becomeLeader() }
        let built = Parts(client: client, nodes: nodes, leases: leases, pods: pods, replicaSets: replicaSets, deployments: deployments,
            services: services, endpoints: endpoints, namespaces: namespaces, elector: elector)
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
                // Endpoints without a Service too: they are deleted (Kubernetes' checkLeftoverEndpoints).
                for object in built.services.list() + built.endpoints.list() { state.serviceKeys[Self.key(of: object)] = 0 }
                for namespace in built.namespaces.list() { Self.enqueueNamespace(namespace, in: &state) }
            }
        }
        loop.poke()
    }

    func mark(_ change: (inout ControllerState) -> Void) {
        state.withLock { change(&$0) }
        loop.poke()
    }

    @Sendable static func key(of object: JSONValue) -> String {
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

    /// A pod came, changed or went: the services selecting it before or after are synced.
    private static func podChanged(_ old: JSONValue?, _ new: JSONValue?, in state: inout ControllerState) {
        objectChanged(old, new, in: &state)
        guard !state.everyServiceDue, let namespace = (new ?? old)?.stringMember("metadata", "namespace") else { return }
        for pod in [old, new].compactMap({ $0 }) {
            let labels = Dictionary(pod.member("metadata", "labels")?.stringPairs ?? [], uniquingKeysWith: { first, _ in first })
            if state.changedPodLabels[namespace, default: []].insert(labels).inserted { state.changedPodLabelCount += 1 }
        }
        if state.changedPodLabelCount > ControllerState.changedPodLabelsMax {
            state.changedPodLabels = [:]
            state.changedPodLabelCount = 0
            state.everyServiceDue = true
        }
    }

    /// An object of a watched kind came, changed or went: the content of its namespace changed
    /// (which matters while that namespace is being deleted), and the garbage collector looks
    /// again when its owner graph did.
    private static func objectChanged(_ old: JSONValue?, _ new: JSONValue?, in state: inout ControllerState) {
        if let namespace = (new ?? old)?.stringMember("metadata", "namespace"), state.namespaceKeys[namespace] != nil {
            state.contentChangedIn.insert(namespace)
        }
        if let old, let new, !ownershipChanged(old, new) { return }
        state.collectionDue = true
    }

    /// Whether an update changed what the garbage collector's owner graph holds of an object
    /// (status writes, the bulk of updates, change none of it).
    static func ownershipChanged(_ old: JSONValue, _ new: JSONValue) -> Bool {
        ["uid", "ownerReferences", "finalizers", "deletionTimestamp"].contains { old.member("metadata", $0) != new.member("metadata", $0) }
    }

    /// A namespace marked for deletion is synced now; its key then stays until it is gone.
    private static func enqueueNamespace(_ namespace: JSONValue, in state: inout ControllerState) {
        guard NamespaceController.isTerminating(namespace), let name = namespace.stringMember("metadata", "name") else { return }
        state.namespaceKeys[name] = 0
    }

    public func stop() {
        loop.stop()
        guard let built = parts.withLock({ $0 }) else { return }
        built.elector?.stop()
        for informer in built.all { informer.stop() }
    }
}
