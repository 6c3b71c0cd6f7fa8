//! LeaderElector: the shell around `LeaderElection`. Its thread reads the Lease every
//! retryPeriod, writes it as the decision says (guarded: a 409 means someone else wrote first),
//! and calls `onStartedLeading` / `onStoppedLeading` on that thread as leadership begins and
//! ends. While leading it never sleeps or waits on a request past its renew deadline, so it
//! stops leading on time even when the apiservers do not answer.
//!
//! The identity must be unique per process instance (client-go uses `hostname_<uuid>`): a
//! restarted process with the same identity would take its old lease back at once.

import Base
import Foundation
import Net
import KubeAPI
import Synchronization
import Wire

public struct LeaderElectorConfiguration: Sendable {
    /// The Lease: `kube-system/kube-scheduler`, `kube-system/kube-controller-manager`.
    public var namespace: String
    public var name: String
    public var identity: String
    public var timing: LeaderElectionTiming
    /// On `stop`, hand the lease back (no holder) so another candidate need not wait it out
    /// (client-go's ReleaseOnCancel; off by default there too).
    public var releaseOnStop = false
    public var log: @Sendable (String) -> Void = { _ in }

    public init(namespace: String = "kube-system", name: String, identity: String, timing: LeaderElectionTiming = LeaderElectionTiming()) {
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.timing = timing
    }
}

public final class LeaderElector: Sendable {
    public let configuration: LeaderElectorConfiguration
    private let client: APIClient
    private let clock: ClientClock
    private let onStartedLeading: @Sendable () -> Void
    private let onStoppedLeading: @Sendable () -> Void
    private let election: Mutex<LeaderElection>
    private let stopSignal = StopSignal()
    private let started = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)
    private let lease: ObjectReference

    public init(
        client: APIClient, configuration: LeaderElectorConfiguration, clock: ClientClock = .host,
        onStartedLeading: @escaping @Sendable () -> Void, onStoppedLeading: @escaping @Sendable () -> Void
    ) {
        self.client = client
        self.configuration = configuration
        self.clock = clock
        self.onStartedLeading = onStartedLeading
        self.onStoppedLeading = onStoppedLeading
        election = Mutex(LeaderElection(identity: configuration.identity, timing: configuration.timing))
        lease = ObjectReference(.standard("leases", group: "coordination.k8s.io"), namespace: configuration.namespace, name: configuration.name)
    }

    /// Whether this elector leads now (by its own deadline).
    public var isLeading: Bool {
        let now = clock.monotonic()
        return election.withLock { $0.isLeading(now: now) }
    }

    /// Whether the elector's thread has ended (after `stop`).
    public var hasFinished: Bool { finished.load(ordering: .acquiring) }

    /// Starts campaigning on a thread of its own (once).
    public func start() {
        guard !started.exchange(true, ordering: .sequentiallyConsistent) else { return }
        let thread = Thread { [self] in
            run()
            finished.store(true, ordering: .releasing)
        }
        thread.name = "leader-elector-\(configuration.name)"
        thread.start()
    }

    /// Stops campaigning; a leader stops leading (`onStoppedLeading` on the elector's thread,
    /// after releasing the lease when configured) before the thread ends.
    public func stop() { stopSignal.stop() }

    // MARK: - The loop

    private func run() {
        var announced = false
        let announce = { [self] (leading: Bool) in
            guard leading != announced else { return }
            announced = leading
            configuration.log("leader election \(lease): \(configuration.identity) \(leading ? "started" : "stopped") leading")
            if leading { onStartedLeading() } else { onStoppedLeading() }
        }
        while !stopSignal.isStopped {
            attempt()
            announce(isLeading)
            // Sleep until the next attempt, but wake at the renew deadline to stop on time.
            let now = clock.monotonic()
            let deadline = election.withLock { $0.leadingDeadline }
            let wait = min(configuration.timing.retryPeriod, deadline.map { max(0, $0 - now) } ?? .max)
            if stopSignal.sleep(wait) { break }
            _ = election.withLock { $0.expire(now: clock.monotonic()) }
            announce(isLeading)
        }
        // Stop leading first, then hand the lease back: nobody else may lead while we still act.
        let wasLeading = announced
        let record = election.withLock { $0.release(wallMicroseconds: clock.wallMicroseconds()) }
        announce(false)
        if configuration.releaseOnStop && wasLeading, let record { release(record) }
    }

    /// One read, decision and (maybe) write.
    private func attempt() {
        let readTimeout = requestTimeout()
        let read: JSONValue?
        do {
            read = try client.get(lease, timeout: readTimeout)
        } catch let error where error.isNotFound {
            read = nil
        } catch {
            configuration.log("leader election \(lease): reading the lease failed: \(error)")
            return
        }
        let attemptStart = clock.monotonic()
        let decision = election.withLock { election in
            election.decide(read: read.map(ObservedLease.init(lease:)), now: attemptStart, wallMicroseconds: clock.wallMicroseconds())
        }
        switch decision {
        case .acquire(let record), .renew(let record):
            write(record, over: read, attemptStart: attemptStart)
        case .wait:
            break
        case .lost(let why):
            configuration.log("leader election \(lease): \(configuration.identity) lost the lease: \(why)")
        }
    }

    private func write(_ record: LeaseRecord, over read: JSONValue?, attemptStart: Nanoseconds) {
        var object = read ?? .object([
            "apiVersion": .string("coordination.k8s.io/v1"), "kind": .string("Lease"),
            "metadata": .object(["name": .string(lease.name), "namespace": .string(configuration.namespace)]),
        ])
        object.set("spec", record.spec)
        do {
            let timeout = requestTimeout()
            let written = read == nil
                ? try client.create(lease.resource, namespace: configuration.namespace, object: object, timeout: timeout)
                : try client.update(lease, object: object, timeout: timeout)
            let now = clock.monotonic()
            _ = election.withLock { $0.writeSucceeded(ObservedLease(lease: written), attemptStart: attemptStart, now: now) }
        } catch {
            // 409: another candidate wrote first; the next read shows who.
            configuration.log("leader election \(lease): writing the lease failed: \(error)")
        }
    }

    /// Hands the lease back (guarded, best effort): only while the Lease still names us.
    private func release(_ record: LeaseRecord) {
        guard var object = try? client.get(lease, timeout: configuration.timing.retryPeriod),
            LeaseRecord(lease: object).holderIdentity == configuration.identity
        else { return }
        object.set("spec", record.spec)
        _ = try? client.update(lease, object: object, timeout: configuration.timing.retryPeriod)
    }

    /// A request's timeout: the client's, but while leading no later than the renew deadline.
    private func requestTimeout() -> Nanoseconds {
        let now = clock.monotonic()
        let standard = client.configuration.requestTimeout
        guard let deadline = election.withLock({ $0.leadingDeadline }) else { return standard }
        return max(Time.millisecond, min(standard, deadline - now))
    }
}
