//! KubeRun: a chaos run of a Kubernetes workload. The cluster comes up as for any run; then the
//! runner creates the scenario's Deployment and waits for the steady state (every node Ready,
//! every replica available), starts the run clock, the observer and the etcd status poller,
//! drives the nemesis (and the rollout, when the scenario has one), rolls every fault back,
//! keeps observing while the workload settles, and reads the components' leadership from their
//! logs. `RunRecord.kube` holds what the Kubernetes checks take.

import Base
import Foundation
import Glibc
import Net
import KubeAPI
import KubeClient
import Scenario
import Testbed
import Wire

/// What a Kubernetes run gathered beyond the common record.
public struct KubeRunRecord: Sendable {
    public var snapshots: [KubeSnapshot] = []
    public var spans: [LeadershipSpan] = []
    public var silences: [NodeSilence] = []
    public var pauses: [String: [TimeWindow]] = [:]
    public var stops: [String: [Nanoseconds]] = [:]
    /// Why the steady state did not hold before the nemesis (the run is then invalid).
    public var steadyStateProblem: String?
    /// How long the steady state took to reach, before the run clock started.
    public var steadyAfter: Nanoseconds?
    /// When the rollout was started, on the run's clock.
    public var rolloutAt: Nanoseconds?
    /// How long after the rollback every replica was available and every node Ready (nil: not within `settle`).
    public var settledAfter: Nanoseconds?
    public var failedPolls = 0
    public var lastPollError: String?
    public var kubelets: [String] = []

    public init() {}
}

extension ChaosRun {
    /// The pod template's container name, so the rollout can patch its image.
    static let containerName = "app"

    static func deploymentObject(_ deployment: DeploymentPlan) -> JSONValue {
        let labels: JSONValue = .object(["app": .string(deployment.name)])
        var strategy: JSONObject = ["type": .string(deployment.strategy.rawValue)]
        if deployment.strategy == .rollingUpdate {
            strategy["rollingUpdate"] = .object([
                "maxSurge": .integer(Int64(deployment.maxSurge)), "maxUnavailable": .integer(Int64(deployment.maxUnavailable)),
            ])
        }
        return .object([
            "apiVersion": .string("apps/v1"), "kind": .string("Deployment"),
            "metadata": .object(["name": .string(deployment.name), "namespace": .string(KubeWorkload.namespace)]),
            "spec": .object([
                "replicas": .integer(Int64(deployment.replicas)),
                "selector": .object(["matchLabels": labels]),
                "strategy": .object(strategy),
                "template": .object([
                    "metadata": .object(["labels": labels]),
                    "spec": .object(["containers": .array([.object(["name": .string(containerName), "image": .string(deployment.image)])])]),
                ]),
            ]),
        ])
    }

    static func available(_ snapshot: KubeSnapshot, deployment: String) -> Int { snapshot.availablePods(ofDeployment: deployment).count }

    /// Every kubelet's node Ready and every replica available, with no extra live pod.
    static func settled(_ snapshot: KubeSnapshot, deployment: DeploymentPlan, kubelets: [String]) -> Bool {
        let desired = snapshot.deployment?.replicas ?? deployment.replicas
        let live = snapshot.pods(ofDeployment: deployment.name).filter(\.isLive).count
        return kubelets.allSatisfy { snapshot.node($0)?.ready == "True" } && available(snapshot, deployment: deployment.name) == desired
            && live == desired
    }

    func driveKubernetes(_ record: inout RunRecord, workload kube: KubeWorkload, nemesis: inout some NemesisDriver,
        interrupted: () -> Bool) throws
    {
        let control = try ClusterControl(cluster: plan.cluster)
        let hosts = control.record.hosts
        let members = control.members.map { (name: $0, url: control.clientURL($0)) }
        record.members = members.map(\.name)
        let apiserverHosts = hosts.filter { $0.role == "apiserver" }.map(\.name)
        let apiservers = hosts.filter { $0.role == "apiserver" }.map { "http://\($0.serviceAddress):\($0.launch.ports.first ?? 6443)" }
        let kubelets = hosts.filter { $0.role == "kubelet" }.map(\.name)
        let components = hosts.filter { $0.role == "scheduler" || $0.role == "controller-manager" }.map(\.name)
        var kubeRecord = KubeRunRecord()
        kubeRecord.kubelets = kubelets
        defer { record.kube = kubeRecord }
        guard !apiservers.isEmpty else { throw ControlError("the topology has no apiserver host") }
        var configuration = APIClientConfiguration(servers: apiservers, component: "faultline-run")
        configuration.requestTimeout = 5 * Time.second
        let client = try APIClient(configuration)

        // Set up: the Deployment, then the steady state (every node Ready, every replica available).
        let setupStart = MonotonicClock.now()
        let setupClock: @Sendable () -> Nanoseconds = { MonotonicClock.now() - setupStart }
        var created = false
        var lastError = ""
        while !created && setupClock() < 60 * Time.second && !interrupted() {
            do {
                _ = try client.create(.standard("deployments", group: "apps"), namespace: KubeWorkload.namespace,
                    object: Self.deploymentObject(kube.deployment))
                created = true
            } catch {
                lastError = "\(error)"
                usleep(500_000)
            }
        }
        guard created else { throw ControlError("could not create the Deployment \(kube.deployment.name): \(lastError)") }
        log("created Deployment \(kube.deployment.name): \(kube.deployment.replicas) replicas of \(kube.deployment.image)")
        let setupObserver = KubeObserver(client: client, deployment: kube.deployment.name, namespace: KubeWorkload.namespace, clock: setupClock)
        var steady = false
        var lastSeen = "nothing read yet"
        while setupClock() < Self.steadyStateTimeout && !interrupted() {
            if let snapshot = setupObserver.pollOnce() {
                if Self.settled(snapshot, deployment: kube.deployment, kubelets: kubelets) {
                    steady = true
                    break
                }
                let ready = kubelets.filter { snapshot.node($0)?.ready == "True" }.count
                lastSeen = "\(ready) of \(kubelets.count) nodes Ready, \(Self.available(snapshot, deployment: kube.deployment.name)) of \(kube.deployment.replicas) replicas available"
            } else {
                lastSeen = setupObserver.lastError ?? lastSeen
            }
            usleep(250_000)
        }
        guard steady else {
            kubeRecord.steadyStateProblem = "not steady \(Time.describe(Self.steadyStateTimeout)) after the Deployment was created: \(lastSeen)"
            return
        }
        kubeRecord.steadyAfter = setupClock()
        log("steady after \(Time.describe(setupClock())): every node Ready, \(kube.deployment.replicas) replicas available")

        // The run: the clock starts now.
        let origin = MonotonicClock.now()
        let clock: @Sendable () -> Nanoseconds = { MonotonicClock.now() - origin }
        let observer = KubeObserver(client: client, deployment: kube.deployment.name, namespace: KubeWorkload.namespace, clock: clock)
        observer.start()
        let poller = StatusPoller(members: members, clock: clock)
        poller.start()
        let executor = NemesisExecutor(control: control, clock: clock, log: log)
        var nextProgress: Nanoseconds = Time.second
        var rolloutDue = kube.rollout
        while clock() < kube.duration && !interrupted() {
            let view = executor.view(members: record.members, leader: poller.currentLeader, leaseHolders: observer.leaseHolders)
            for step in nemesis.steps(at: clock(), view: view) { executor.execute(step) }
            if let rollout = rolloutDue, clock() >= rollout.at {
                rolloutDue = nil
                kubeRecord.rolloutAt = clock()
                startRollout(client, kube.deployment.name, image: rollout.image)
            }
            if clock() >= nextProgress {
                nextProgress += Time.second
                log(progressLine(observer.latest, kube: kube, kubelets: kubelets, executor: executor, holders: observer.leaseHolders,
                    time: clock()))
            }
            usleep(20_000)
        }
        record.workloadEnd = clock()
        executor.rollBack(skewHosts: hosts.map(\.name))
        executor.fill(&record)

        // Settle: keep observing until every replica is available and every node Ready again.
        let rolledBack = clock()
        while clock() - rolledBack < kube.settle && !interrupted() {
            if let latest = observer.latest, latest.time > rolledBack, Self.settled(latest, deployment: kube.deployment, kubelets: kubelets) {
                kubeRecord.settledAfter = latest.time - rolledBack
                break
            }
            usleep(100_000)
        }
        log(kubeRecord.settledAfter.map { "settled \(Time.describe($0)) after the rollback" }
            ?? "not settled \(Time.describe(kube.settle)) after the rollback")
        // A little more, so a late extra pod or a flapping node is seen.
        let tail = clock() + 2 * Time.second
        while clock() < tail && !interrupted() { usleep(100_000) }
        observer.stop()
        poller.stop()
        let end = clock()
        record.leaders = poller.observations
        let converged = Convergence.await(members, timeout: plan.recoveryTimeout)
        record.memberStates = converged.states
        record.convergedAfter = converged.after

        kubeRecord.snapshots = observer.snapshots
        kubeRecord.failedPolls = observer.failedPolls
        kubeRecord.lastPollError = observer.lastError
        kubeRecord.silences = KubeEvidence.silences(faults: record.faults, kubelets: kubelets, apiservers: apiserverHosts)
        kubeRecord.pauses = KubeEvidence.pauses(faults: record.faults, end: end)
        kubeRecord.stops = KubeEvidence.stops(faults: record.faults, components: components, apiservers: apiserverHosts)
        var lines: [String: [KubeEvidence.LeadershipLine]] = [:]
        for host in components {
            let text = (try? String(contentsOfFile: control.directory.logPath(host), encoding: .utf8)) ?? ""
            lines[host] = text.split(separator: "\n").compactMap { KubeEvidence.leadershipLine($0, runTime: observer.runTime) }
        }
        kubeRecord.spans = KubeEvidence.spans(lines: lines, faults: record.faults)
    }

    /// How long the cluster may take to register every node and run every replica before the run.
    static let steadyStateTimeout: Nanoseconds = 120 * Time.second

    private func startRollout(_ client: APIClient, _ name: String, image: String) {
        let patch: JSONValue = .object(["spec": .object(["template": .object(["spec": .object([
            "containers": .array([.object(["name": .string(Self.containerName), "image": .string(image)])]),
        ])])])])
        let reference = ObjectReference(.standard("deployments", group: "apps"), namespace: KubeWorkload.namespace, name: name)
        for attempt in 1...5 {
            do {
                _ = try client.mergePatch(reference, patch: patch)
                log("rollout: Deployment \(name) to \(image)")
                return
            } catch {
                log("rollout attempt \(attempt) failed: \(error)")
                usleep(500_000)
            }
        }
    }

    private func progressLine(_ snapshot: KubeSnapshot?, kube: KubeWorkload, kubelets: [String], executor: NemesisExecutor,
        holders: [String: String], time: Nanoseconds) -> String
    {
        let active = executor.activeLabels
        let faults = active.isEmpty ? "none" : active.joined(separator: "; ")
        guard let snapshot else { return String(format: "%5.1fs  (no poll yet)  faults: %@", Double(time) / 1e9, faults) }
        let nodes = kubelets.map { "\($0)=\(snapshot.node($0)?.ready ?? "?")" }.joined(separator: " ")
        let available = Self.available(snapshot, deployment: kube.deployment.name)
        let live = snapshot.pods(ofDeployment: kube.deployment.name).filter(\.isLive).count
        let leaders = Selector.componentLeases.map { "\($0.dropFirst(5))=\(holders[$0] ?? "none")" }.joined(separator: " ")
        return String(format: "%5.1fs  %@  available %d/%d (live %d)  %@  faults: %@", Double(time) / 1e9, nodes, available,
            snapshot.deployment?.replicas ?? kube.deployment.replicas, live, leaders, faults)
    }
}
