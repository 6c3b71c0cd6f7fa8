//! `faultline scheduler`: the scheduler daemon. Informers on nodes, pods and namespaces feed the
//! pure `Scheduler`; while this process holds the `kube-scheduler` lease (or runs without leader
//! election) its loop schedules every pod that is ready to be tried and sends the binding, the
//! events and the status patches the core answers with. A process that loses the lease stops
//! binding at once (its renew deadline passes before anyone else may take the lease).

import Base
import Foundation
import KubeAPI
import KubeClient
import KubeScheduling
import Net
import Synchronization
import Wire

public final class SchedulerDaemon: Sendable {
    public let settings: ComponentSettings
    private let scheduler: Mutex<Scheduler>
    private let loop = ComponentLoop(name: "scheduler")
    private let parts = Mutex<(informers: [Informer], elector: LeaderElector?)?>(nil)
    private let statistics = Mutex(SchedulingStatistics())
    /// Bindings in flight at once (each is a bind and an event): bounded, so a slow apiserver
    /// holds the scheduling loop back instead of piling up work.
    static let bindingsInFlightMax = 16
    private let bindingQueue = DispatchQueue(label: "scheduler-binding", attributes: .concurrent)
    private let binders = DispatchSemaphore(value: SchedulerDaemon.bindingsInFlightMax)

    public init(settings: ComponentSettings, configuration: SchedulerConfiguration = SchedulerConfiguration(), seed: UInt64) {
        self.settings = settings
        scheduler = Mutex(Scheduler(configuration: configuration, random: SeededRandom(seed: seed)))
    }

    public func start() throws(APIClientConfigurationError) {
        var configuration = APIClientConfiguration(servers: settings.apiservers, component: "default-scheduler")
        configuration.host = settings.identity
        let client = try APIClient(configuration)
        let sender = ActionSender(client: client, log: settings.log)
        var informerConfiguration = InformerConfiguration()
        informerConfiguration.log = settings.log
        let nodes = Informer(client: client, resource: .standard("nodes"), configuration: informerConfiguration, handlers: InformerHandlers(
            onAdd: { [self] node in scheduler.withLock { $0.onNodeEvent(node, now: MonotonicClock.now()) }; loop.poke() },
            onUpdate: { [self] _, node in scheduler.withLock { $0.onNodeEvent(node, now: MonotonicClock.now()) }; loop.poke() },
            onDelete: { [self] node in scheduler.withLock { $0.onNodeDeleted(name: node.stringMember("metadata", "name") ?? "") } }))
        let pods = Informer(client: client, resource: .standard("pods"), configuration: informerConfiguration, handlers: InformerHandlers(
            onAdd: { [self] pod in scheduler.withLock { $0.onPodEvent(pod, now: MonotonicClock.now()) }; loop.poke() },
            onUpdate: { [self] _, pod in scheduler.withLock { $0.onPodEvent(pod, now: MonotonicClock.now()) }; loop.poke() },
            onDelete: { [self] pod in
                scheduler.withLock {
                    $0.onPodDeleted(namespace: pod.stringMember("metadata", "namespace") ?? "", name: pod.stringMember("metadata", "name") ?? "",
                        now: MonotonicClock.now())
                }
                loop.poke()
            }))
        let namespaces = Informer(client: client, resource: .standard("namespaces"), configuration: informerConfiguration, handlers: InformerHandlers(
            onAdd: { [self] namespace in scheduler.withLock { $0.onNamespaceEvent(namespace) } },
            onUpdate: { [self] _, namespace in scheduler.withLock { $0.onNamespaceEvent(namespace) } },
            onDelete: { [self] namespace in scheduler.withLock { $0.onNamespaceDeleted(name: namespace.stringMember("metadata", "name") ?? "") } }))
        let informers = [nodes, pods, namespaces]
        let elector: LeaderElector? = settings.leaderElect ? LeaderElector(client: client,
            configuration: electorConfiguration(name: "kube-scheduler", settings), onStartedLeading: { [self] in loop.poke() }, onStoppedLeading: {}) : nil
        parts.withLock { $0 = (informers, elector) }
        for informer in informers { informer.start() }
        elector?.start()
        loop.start { [self] now in
            guard informers.allSatisfy(\.hasSynced) else { return now + 100 * Time.millisecond }
            guard elector?.isLeading ?? true else { return now + Time.second }
            return schedulePending(sender, elector: elector)
        }
    }

    /// Schedules until nothing is ready; returns when the next pod becomes ready to retry.
    private func schedulePending(_ sender: ActionSender, elector: LeaderElector?) -> Nanoseconds? {
        while !loop.isStopped {
            // Check leadership before every decision: a deposed leader must not bind.
            guard elector?.isLeading ?? true else { return MonotonicClock.now() + Time.second }
            let began = MonotonicClock.now()
            let wall = Int64(FaultClock.shared.wallNow().timeIntervalSince1970)
            guard let attempt = scheduler.withLock({ $0.scheduleOne(now: began, wallClock: wall) }) else { break }
            let decided = MonotonicClock.now()
            statistics.withLock { $0.record(attempt.decision, took: decided - began) }
            // The binding cycle runs beside the scheduling loop, as kube-scheduler's does: the pod is
            // already assumed on its node in the cache, so the next decision counts it.
            binders.wait()
            bindingQueue.async { [self] in
                defer { binders.signal() }
                // A leader deposed since the decision does not bind (the pod goes back to the queue).
                guard elector?.isLeading ?? true else {
                    scheduler.withLock { $0.bindingFailed(namespace: attempt.pod.namespace ?? "", name: attempt.pod.name, now: MonotonicClock.now()) }
                    return
                }
                for action in attempt.actions {
                    if sender.send(action) { continue }
                    if case .bind(let pod, _, _) = action {
                        scheduler.withLock { $0.bindingFailed(namespace: pod.namespace ?? "", name: pod.name, now: MonotonicClock.now()) }
                        loop.poke()
                        return
                    }
                }
            }
        }
        let now = MonotonicClock.now()
        return scheduler.withLock { $0.nextWakeup(now: now) }
    }

    /// Decisions so far: counts and how long the pure core took per decision.
    public var decisions: SchedulingStatistics { statistics.withLock { $0 } }

    public var isLeading: Bool { parts.withLock { $0?.elector }?.isLeading ?? !settings.leaderElect }

    public func stop() {
        loop.stop()
        guard let (informers, elector) = parts.withLock({ $0 }) else { return }
        elector?.stop()
        for informer in informers { informer.stop() }
    }
}

/// What the scheduler decided and how long each decision took (the last `samplesMax` kept).
public struct SchedulingStatistics: Sendable {
    public var bound = 0
    public var unschedulable = 0
    public private(set) var durations: [Nanoseconds] = []
    public static let samplesMax = 100_000
    private var next = 0

    mutating func record(_ decision: SchedulingDecision, took duration: Nanoseconds) {
        if case .bind = decision { bound += 1 } else { unschedulable += 1 }
        if durations.count < Self.samplesMax {
            durations.append(duration)
        } else {
            durations[next] = duration
            next = (next + 1) % Self.samplesMax
        }
    }

    /// The decision time at quantile `q` (0…1) of the kept samples.
    public func percentile(_ q: Double) -> Nanoseconds {
        let sorted = durations.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]
    }
}
