//! KubeObserver: polls the apiservers (from the root namespace, through the proxy like any
//! client) every `interval` and keeps what each poll saw as a `KubeSnapshot`: the nodes with
//! their Ready condition, NoExecute taints and lease renewals, the workload namespace's pods and
//! ReplicaSets, and the Deployment; plus who holds the component leases, for the nemesis's
//! `leader(kube-…)` selectors. Timestamps the cluster wrote (wall clock) are put on the run's
//! clock with the offset measured when the observer was made (one machine, one clock, unless
//! the scenario skews it).

import Base
import Foundation
import Glibc
import Net
import KubeAPI
import KubeClient
import Scenario
import Synchronization
import Wire

final class KubeObserver: Sendable {
    /// How often it polls: fine enough for a 1 s monitor period, light on a loaded machine.
    static let intervalDefault: Nanoseconds = 200 * Time.millisecond
    /// Snapshots kept at most (an hour at the default interval); later polls only update `latest`.
    static let snapshotsMax = 18_000
    static let requestTimeout: Nanoseconds = 2 * Time.second

    private let client: APIClient
    private let deployment: String
    private let namespace: String
    private let clock: @Sendable () -> Nanoseconds
    /// Wall-clock nanoseconds minus run-clock nanoseconds.
    private let wallOffset: Int64
    private let interval: Nanoseconds
    private let state = Mutex(State())
    private let stopped = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)

    private struct State {
        var snapshots: [KubeSnapshot] = []
        var dropped = 0
        var latest: KubeSnapshot?
        var leaseHolders: [String: String] = [:]
        var failedPolls = 0
        var lastError: String?
    }

    init(client: APIClient, deployment: String, namespace: String, clock: @escaping @Sendable () -> Nanoseconds,
        interval: Nanoseconds = KubeObserver.intervalDefault)
    {
        self.client = client
        self.deployment = deployment
        self.namespace = namespace
        self.clock = clock
        self.interval = interval
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        wallOffset = Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec) - clock()
    }

    var snapshots: [KubeSnapshot] { state.withLock { $0.snapshots } }
    var latest: KubeSnapshot? { state.withLock { $0.latest } }
    var leaseHolders: [String: String] { state.withLock { $0.leaseHolders } }
    var failedPolls: Int { state.withLock { $0.failedPolls } }
    var lastError: String? { state.withLock { $0.lastError } }

    /// A wall-clock instant (nanoseconds since the epoch) on the run's clock.
    func runTime(wallNanoseconds: Int64) -> Nanoseconds { wallNanoseconds - wallOffset }

    func start() {
        let thread = Thread { [self] in
            while !stopped.load(ordering: .acquiring) {
                let began = clock()
                pollOnce()
                let rest = max(Time.millisecond, interval - (clock() - began))
                usleep(UInt32(min(rest, Time.second) / 1_000))
            }
            finished.store(true, ordering: .releasing)
        }
        thread.name = "kube-observer"
        thread.start()
    }

    /// Stops polling; returns once the poller has finished (or after 5 s).
    func stop() {
        stopped.store(true, ordering: .releasing)
        let deadline = MonotonicClock.now() + 5 * Time.second
        while !finished.load(ordering: .acquiring) && MonotonicClock.now() < deadline { usleep(10_000) }
    }

    /// One poll, now (also used before the observer starts, to wait for the steady state).
    @discardableResult
    func pollOnce() -> KubeSnapshot? {
        let time = clock()
        do {
            let nodes = try client.list(.standard("nodes"), timeout: Self.requestTimeout)
            let nodeLeases = try client.list(.standard("leases", group: "coordination.k8s.io"), namespace: "kube-node-lease",
                timeout: Self.requestTimeout)
            let pods = try client.list(.standard("pods"), namespace: namespace, timeout: Self.requestTimeout)
            let replicaSets = try client.list(.standard("replicasets", group: "apps"), namespace: namespace, timeout: Self.requestTimeout)
            let deploymentObject = try? client.get(ObjectReference(.standard("deployments", group: "apps"),
                namespace: namespace, name: deployment), timeout: Self.requestTimeout)
            let componentLeases = try client.list(.standard("leases", group: "coordination.k8s.io"), namespace: "kube-system",
                timeout: Self.requestTimeout)
            let snapshot = KubeSnapshot(time: time, nodes: parseNodes(items(nodes), leases: items(nodeLeases)),
                pods: items(pods).map(parsePod), replicaSets: items(replicaSets).map(Self.parseReplicaSet),
                deployment: deploymentObject.map(Self.parseDeployment))
            var holders: [String: String] = [:]
            for lease in items(componentLeases) {
                if let name = lease.string(at: "metadata.name"), let holder = lease.string(at: "spec.holderIdentity"), !holder.isEmpty {
                    holders[name] = holder
                }
            }
            state.withLock { state in
                state.latest = snapshot
                state.leaseHolders = holders
                if state.snapshots.count < Self.snapshotsMax { state.snapshots.append(snapshot) } else { state.dropped += 1 }
            }
            return snapshot
        } catch {
            state.withLock { state in
                state.failedPolls += 1
                state.lastError = "\(error)"
            }
            return nil
        }
    }

    private func items(_ list: ObjectList) -> [JSONValue] { list.items }

    private func parseNodes(_ nodes: [JSONValue], leases: [JSONValue]) -> [NodeObservation] {
        var renewed: [String: Nanoseconds] = [:]
        for lease in leases {
            guard let name = lease.string(at: "metadata.name"), let text = lease.string(at: "spec.renewTime"),
                let micros = MicroTime.parse(text) ?? KubeTime.parse(text).map({ $0 * 1_000_000 })
            else { continue }
            renewed[name] = runTime(wallNanoseconds: micros * 1_000)
        }
        return nodes.compactMap { node in
            guard let name = node.string(at: "metadata.name") else { return nil }
            let conditions = node.value(at: "status.conditions")?.asArray ?? []
            let ready = conditions.first { $0.string(at: "type") == "Ready" }?.string(at: "status") ?? ""
            let taints = node.value(at: "spec.taints")?.asArray ?? []
            let tainted = taints.contains { taint in
                taint.string(at: "effect") == "NoExecute"
                    && ["node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready"].contains(taint.string(at: "key") ?? "")
            }
            return NodeObservation(name: name, ready: ready, noExecuteTaint: tainted, leaseRenewed: renewed[name])
        }
    }

    private func parsePod(_ pod: JSONValue) -> PodObservation {
        let owner = Self.controller(of: pod, kind: "ReplicaSet")
        let conditions = pod.value(at: "status.conditions")?.asArray ?? []
        let ready = conditions.contains { $0.string(at: "type") == "Ready" && $0.string(at: "status") == "True" }
        let created = pod.string(at: "metadata.creationTimestamp").flatMap(KubeTime.parse).map {
            runTime(wallNanoseconds: $0 * 1_000_000_000)
        } ?? clock()
        return PodObservation(name: pod.string(at: "metadata.name") ?? "", uid: pod.string(at: "metadata.uid") ?? "",
            replicaSet: owner, node: pod.string(at: "spec.nodeName") ?? "", phase: pod.string(at: "status.phase") ?? "Pending",
            ready: ready, terminating: pod.value(at: "metadata.deletionTimestamp") != nil, created: created)
    }

    static func parseReplicaSet(_ replicaSet: JSONValue) -> ReplicaSetObservation {
        ReplicaSetObservation(name: replicaSet.string(at: "metadata.name") ?? "", deployment: controller(of: replicaSet, kind: "Deployment"),
            replicas: Int(replicaSet.integer(at: "spec.replicas") ?? 1))
    }

    static func parseDeployment(_ deployment: JSONValue) -> DeploymentObservation {
        let replicas = Int(deployment.integer(at: "spec.replicas") ?? 1)
        let name = deployment.string(at: "metadata.name") ?? ""
        guard deployment.string(at: "spec.strategy.type") != "Recreate" else {
            return DeploymentObservation(name: name, replicas: replicas, maxSurge: 0, maxUnavailable: replicas)
        }
        let surge = resolve(deployment.value(at: "spec.strategy.rollingUpdate.maxSurge"), of: replicas, roundUp: true)
        let unavailable = resolve(deployment.value(at: "spec.strategy.rollingUpdate.maxUnavailable"), of: replicas, roundUp: false)
        return DeploymentObservation(name: name, replicas: replicas, maxSurge: surge, maxUnavailable: unavailable)
    }

    /// A rolling update's bound as a pod count: a number, or a percentage of `replicas` (25%
    /// when absent), surge rounded up and unavailable down, as the Deployment controller does.
    static func resolve(_ value: JSONValue?, of replicas: Int, roundUp: Bool) -> Int {
        if let number = value?.asInt64 { return Int(number) }
        let text = value?.asString ?? "25%"
        guard text.hasSuffix("%"), let percent = Int(text.dropLast()) else { return Int(text) ?? 0 }
        return roundUp ? (replicas * percent + 99) / 100 : replicas * percent / 100
    }

    /// The name of the object's controlling owner of `kind`; empty when none.
    static func controller(of object: JSONValue, kind: String) -> String {
        let owners = object.value(at: "metadata.ownerReferences")?.asArray ?? []
        return owners.first { $0.string(at: "kind") == kind && $0.value(at: "controller")?.asBool == true }?.string(at: "name") ?? ""
    }
}
