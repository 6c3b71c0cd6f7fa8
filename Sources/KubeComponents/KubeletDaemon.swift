//! `faultline kubelet`: kubelets that register their Nodes, renew their Leases and report node
//! status, and look after the pods bound to them in one of two ways:
//!
//! - hollow (`--hollow N`, or one node by default): N kubelets in one process report their pods
//!   Running without running anything (kubemark's hollow node). Enough for the node-lifecycle
//!   controller, the scheduler and the workload controllers to see a real cluster's traffic;
//!   killing or pausing the process silences every node in it, as a dead machine would.
//! - process (`--runtime process`, one node): each container runs as a real process (the
//!   built-in images of `faultline container`), with restart policies and CrashLoopBackOff,
//!   probes and graceful termination, decided by `PodRuntime` and carried out by
//!   `ContainerRuntimeShell`. Containers outlive a killed kubelet, as they outlive a real one.
//!
//! Timings are the kubelet's: the Lease renewed every quarter of its 40 s duration, node status
//! reported every 5 minutes when nothing changed (`nodeStatusReportFrequency`) and at once when
//! the node controller marked the node otherwise (checked every 10 s,
//! `nodeStatusUpdateFrequency`).

import Base
import Foundation
import KubeAPI
import KubeClient
import KubeNode
import Net
import Synchronization
import Wire

public struct KubeletConfiguration: Sendable {
    public var nodes: [NodeIdentity]
    public var lease = NodeLeaseSettings()
    /// How often node status is checked and, if the node is not Ready in the apiserver, reported.
    public var nodeStatusUpdateFrequency: Nanoseconds = 10 * Time.second
    /// How often node status is reported when nothing changed.
    public var nodeStatusReportFrequency: Nanoseconds = 5 * 60 * Time.second
    /// Run the pods' containers as processes (one node only); nil keeps the kubelet hollow.
    public var processRuntime: ProcessRuntimeSettings? {
        didSet { precondition(processRuntime == nil || nodes.count == 1, "a process runtime serves one node, not \(nodes.count)") }
    }

    public init(nodes: [NodeIdentity]) {
        precondition(!nodes.isEmpty, "a kubelet needs at least one node")
        precondition(Set(nodes.map(\.name)).count == nodes.count, "node names repeat: \(nodes.map(\.name))")
        self.nodes = nodes
    }
}

public final class KubeletDaemon: Sendable {
    public let settings: ComponentSettings
    public let configuration: KubeletConfiguration
    private let loop = ComponentLoop(name: "kubelet")
    private let state: Mutex<[String: NodeState]>
    private let parts = Mutex<(client: APIClient, nodes: Informer, pods: Informer)?>(nil)
    /// The process runtime's shell, when the pods run for real.
    private let containers = Mutex<ContainerRuntimeShell?>(nil)
    /// Pod reports in flight at once.
    static let reportsInFlightMax = 16
    private let reportQueue = DispatchQueue(label: "kubelet-pod-reports", attributes: .concurrent)
    private let reporters = DispatchSemaphore(value: KubeletDaemon.reportsInFlightMax)

    /// What the kubelet remembers about one of its nodes.
    struct NodeState {
        var identity: NodeIdentity
        var pods: HollowPods
        var registered = false
        var lease: JSONValue?
        var nextLeaseRenewal: Nanoseconds = 0
        var nextStatusCheck: Nanoseconds = 0
        var nextStatusReport: Nanoseconds = 0
        /// Bumped by the pod informer's handlers; the pass syncs when it is ahead of what it
        /// last synced (a flag set by a handler during a pass would be lost when the pass
        /// writes its copy back).
        var podsGeneration = 1
        var podsSyncedGeneration = 0
        /// When pods not yet settled (reports or deletions not seen back) are synced again.
        var podsRetryAt: Nanoseconds?
    }

    public init(settings: ComponentSettings, configuration: KubeletConfiguration) {
        self.settings = settings
        self.configuration = configuration
        var nodes: [String: NodeState] = [:]
        for identity in configuration.nodes {
            nodes[identity.name] = NodeState(identity: identity,
                pods: HollowPods(node: identity.name, hostIP: identity.internalIP, podCIDR: identity.podCIDR))
        }
        state = Mutex(nodes)
    }

    public func start() throws(APIClientConfigurationError) {
        var clientConfiguration = APIClientConfiguration(servers: settings.apiservers, component: "kubelet")
        clientConfiguration.host = configuration.nodes.count == 1 ? configuration.nodes[0].name : settings.identity
        let client = try APIClient(clientConfiguration)
        var informerConfiguration = InformerConfiguration()
        informerConfiguration.log = settings.log
        let single = configuration.nodes.count == 1 ? configuration.nodes[0].name : nil
        let touch: @Sendable (JSONValue) -> Void = { [self] pod in
            guard let node = pod.stringMember("spec", "nodeName") else { return }
            let mine = state.withLock { nodes -> Bool in
                guard nodes[node] != nil else { return false }
                nodes[node]!.podsGeneration += 1
                return true
            }
            if mine { loop.poke() }
        }
        // One kubelet watches only its own pods; a hollow process watches all and keeps its own.
        let pods = Informer(client: client, resource: .standard("pods"), fieldSelector: single.map { "spec.nodeName=\($0)" },
            configuration: informerConfiguration, handlers: InformerHandlers(onAdd: touch, onUpdate: { _, pod in touch(pod) }, onDelete: touch))
        let nodes = Informer(client: client, resource: .standard("nodes"), fieldSelector: single.map { "metadata.name=\($0)" },
            configuration: informerConfiguration)
        parts.withLock { $0 = (client, nodes, pods) }
        pods.start()
        nodes.start()
        let sender = ActionSender(client: client, log: settings.log)
        if let processRuntime = configuration.processRuntime {
            let shell = ContainerRuntimeShell(node: configuration.nodes[0], settings: processRuntime,
                send: { sender.send($0) }, log: settings.log, wake: { [loop] in loop.poke() })
            containers.withLock { $0 = shell }
        }
        loop.start { [self] now in pass(client, nodes: nodes, pods: pods, sender, now: now) }
    }

    private func pass(_ client: APIClient, nodes: Informer, pods: Informer, _ sender: ActionSender, now: Nanoseconds) -> Nanoseconds? {
        let wall = FaultClock.shared.wallNow().timeIntervalSince1970
        let wallNow = Int64(wall), wallMicros = Int64(wall * 1_000_000)
        let names = state.withLock { Array($0.keys).sorted() }
        var next = now + configuration.nodeStatusUpdateFrequency
        var podsByNode: [String: [JSONValue]]?
        var generationsAtList: [String: Int] = [:]
        let reports = DispatchGroup()
        for name in names {
            guard var node = state.withLock({ $0[name] }) else { continue }
            if !node.registered { node.registered = register(node.identity, client, wallNow: wallNow) }
            if node.registered && now >= node.nextLeaseRenewal {
                node.lease = renewLease(node, client, wallMicros: wallMicros)
                node.nextLeaseRenewal = now + (node.lease == nil ? Time.second : node.identity.renewInterval(configuration.lease))
            }
            if node.registered && now >= node.nextStatusCheck {
                let current = nodes.get(name)
                if now >= node.nextStatusReport || current.map({ !NodeConditions.isReady($0) }) ?? false, let current {
                    if sender.send(.mergePatch(ObjectReference(.standard("nodes"), namespace: nil, name: name),
                        patch: NodeConditions.heartbeatPatch(current: current, wallNow: wallNow), subresource: "status"))
                    {
                        node.nextStatusReport = now + configuration.nodeStatusReportFrequency
                    }
                }
                node.nextStatusCheck = now + configuration.nodeStatusUpdateFrequency
            }
            let podsDue = node.podsSyncedGeneration < node.podsGeneration || node.podsRetryAt.map { now >= $0 } ?? false
            if let shell = containers.withLock({ $0 }) {
                // The process runtime keeps its own timers (backoffs, probes, grace periods,
                // report retries): it is given the pods when they change and ticked otherwise.
                if podsDue && pods.hasSynced {
                    node.podsSyncedGeneration = state.withLock { $0[name]?.podsGeneration ?? 0 }
                    shell.sync(pods: pods.list().filter { $0.stringMember("spec", "nodeName") == name }, now: now, wallNow: wallNow)
                } else {
                    shell.tick(now: now, wallNow: wallNow)
                }
                if let wakeup = shell.nextWakeup { next = min(next, max(wakeup, now + Time.millisecond)) }
            } else if podsDue && pods.hasSynced {
                node.podsRetryAt = nil
                if podsByNode == nil {
                    // The generations first, then the list: every change a generation counts is
                    // in the list (the cache holds a change before its handler runs). A change
                    // after the snapshot leaves the node due again for the next pass.
                    generationsAtList = state.withLock { $0.mapValues(\.podsGeneration) }
                    var grouped: [String: [JSONValue]] = [:]
                    for pod in pods.list() { if let bound = pod.stringMember("spec", "nodeName") { grouped[bound, default: []].append(pod) } }
                    podsByNode = grouped
                }
                node.podsSyncedGeneration = generationsAtList[name] ?? 0
                // Pod reports go out in parallel (bounded): thousands of pods after a burst of
                // bindings would otherwise wait for each other's round trips.
                for action in node.pods.sync(pods: podsByNode?[name] ?? [], wallNow: wallNow) {
                    reporters.wait()
                    reports.enter()
                    reportQueue.async { [self] in
                        sender.send(action)
                        reporters.signal()
                        reports.leave()
                    }
                }
                // A delete or a report not yet seen through the watch is sent again after the retry interval.
                let unsettled = podsByNode?[name]?.contains { pod in
                    pod.member("metadata", "deletionTimestamp") != nil
                        || !["Running", "Succeeded", "Failed"].contains(pod.stringMember("status", "phase") ?? "Pending")
                } ?? false
                if unsettled {
                    node.podsRetryAt = now + node.pods.retryAfterSeconds * Time.second
                    next = min(next, node.podsRetryAt!)
                }
            }
            next = min(next, node.nextLeaseRenewal, node.nextStatusCheck)
            let updated = node
            state.withLock { nodes in
                // Keep the handlers' bumps made while this pass ran.
                var merged = updated
                merged.podsGeneration = max(updated.podsGeneration, nodes[name]?.podsGeneration ?? 0)
                nodes[name] = merged
            }
        }
        reports.wait()
        return next
    }

    /// Creates the Node (a node already registered is fine: its status is reported next).
    private func register(_ identity: NodeIdentity, _ client: APIClient, wallNow: Int64) -> Bool {
        do {
            _ = try client.create(.standard("nodes"), namespace: nil, object: identity.nodeObject(wallNow: wallNow))
            settings.log("node \(identity.name) registered")
            return true
        } catch {
            if error.isAlreadyExists { return true }
            settings.log("registering node \(identity.name) failed: \(error)")
            return false
        }
    }

    /// Renews (or creates) the node's Lease; nil when that failed (tried again in a second).
    private func renewLease(_ node: NodeState, _ client: APIClient, wallMicros: Int64) -> JSONValue? {
        let reference = NodeLease.reference(node: node.identity.name)
        do {
            if let lease = node.lease {
                return try client.update(reference, object: NodeLease.renewed(lease, node: node.identity.name, settings: configuration.lease,
                    wallMicros: wallMicros))
            }
            let existing: JSONValue?
            do { existing = try client.get(reference) } catch where error.isNotFound { existing = nil }
            if let existing {
                return try client.update(reference, object: NodeLease.renewed(existing, node: node.identity.name, settings: configuration.lease,
                    wallMicros: wallMicros))
            }
            let uid = try? client.get(ObjectReference(.standard("nodes"), namespace: nil, name: node.identity.name)).stringMember("metadata", "uid")
            return try client.create(reference.resource, namespace: NodeLease.namespace,
                object: NodeLease.object(node: node.identity.name, nodeUID: uid, settings: configuration.lease, wallMicros: wallMicros))
        } catch {
            settings.log("renewing the lease of node \(node.identity.name) failed: \(error)")
            return nil
        }
    }

    /// Stops every node of this process at once: no more renewals, reports or pod updates.
    public func stop() {
        loop.stop()
        containers.withLock { $0 }?.stop()
        guard let (_, nodes, pods) = parts.withLock({ $0 }) else { return }
        nodes.stop()
        pods.stop()
    }
}

extension KubeletDaemon {
    /// Kills every container the process runtime started (for tests; a stopped kubelet leaves
    /// its containers running).
    public func killContainers() { containers.withLock { $0 }?.killAll() }
}

extension NodeIdentity {
    func renewInterval(_ settings: NodeLeaseSettings) -> Nanoseconds { settings.renewInterval * Time.second }
}
