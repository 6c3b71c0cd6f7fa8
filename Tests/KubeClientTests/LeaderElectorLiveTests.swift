//! Two leader electors against a live apiserver, with scaled-down timing (lease 3 s, renew
//! deadline 2 s, retry 0.5 s): one leads, never both; when the leader stops without releasing,
//! the other takes over once the lease has gone unrenewed for its duration; with release it
//! takes over at its next attempt.

import Base
import Foundation
import KubeAPI
import KubeClient
import Net
import Synchronization
import Testing
import Wire

private let timing = LeaderElectionTiming(leaseDuration: 3 * Time.second, renewDeadline: 2 * Time.second,
    retryPeriod: 500 * Time.millisecond)

/// Who leads, as the callbacks say, and whether two ever led at once.
private final class Leadership: Sendable {
    private let state = Mutex<(leaders: Set<String>, overlaps: [String], started: [String: Nanoseconds])>(([], [], [:]))

    func started(_ identity: String) {
        state.withLock { state in
            if !state.leaders.isEmpty { state.overlaps.append("\(identity) started while \(state.leaders.sorted()) lead") }
            state.leaders.insert(identity)
            state.started[identity] = MonotonicClock.now()
        }
    }

    func stopped(_ identity: String) { _ = state.withLock { $0.leaders.remove(identity) } }
    var leaders: Set<String> { state.withLock { $0.leaders } }
    var overlaps: [String] { state.withLock { $0.overlaps } }
    func startedAt(_ identity: String) -> Nanoseconds? { state.withLock { $0.started[identity] } }
}

private func elector(_ identity: String, _ cluster: LiveCluster, _ leadership: Leadership, release: Bool = false) throws -> LeaderElector {
    var configuration = LeaderElectorConfiguration(name: "test-controller", identity: identity, timing: timing)
    configuration.releaseOnStop = release
    return LeaderElector(client: try cluster.client(requestTimeout: Time.second), configuration: configuration,
        onStartedLeading: { leadership.started(identity) }, onStoppedLeading: { leadership.stopped(identity) })
}

@Suite(.serialized) struct LeaderElectorLiveTests {
    @Test func theOtherTakesOverWhenTheLeaderStops() throws {
        let cluster = try LiveCluster(basePort: 23170)
        defer { cluster.stop() }
        let leadership = Leadership()
        let first = try elector("first", cluster, leadership)
        first.start()
        #expect(eventually(5 * Time.second) { leadership.leaders == ["first"] })
        let second = try elector("second", cluster, leadership)
        second.start()
        defer { second.stop() }
        // The second waits while the first renews.
        usleep(UInt32((timing.leaseDuration + timing.retryPeriod) / Time.microsecond))
        #expect(leadership.leaders == ["first"])
        #expect(!second.isLeading)

        let client = try cluster.client()
        let lease = ObjectReference(.standard("leases", group: "coordination.k8s.io"), namespace: "kube-system", name: "test-controller")
        let held = try client.get(lease)
        #expect(held.stringMember("spec", "holderIdentity") == "first")
        #expect(held.intMember("spec", "leaseDurationSeconds") == 3)
        #expect(held.intMember("spec", "leaseTransitions") == 0)
        #expect(MicroTime.parse(held.stringMember("spec", "renewTime") ?? "") != nil)
        #expect(held.stringMember("spec", "renewTime")?.count == "2026-11-23T10:00:00.000000Z".count)

        let stoppedAt = MonotonicClock.now()
        first.stop()
        #expect(eventually(2 * Time.second) { first.hasFinished })
        #expect(eventually(timing.leaseDuration + 3 * timing.retryPeriod) { leadership.leaders == ["second"] })
        let takeover = (leadership.startedAt("second") ?? .max) - stoppedAt
        // The lease must go unrenewed for its duration as the second saw it: it observed the
        // last renewal within one retry period and acquires at the attempt after expiry.
        #expect(takeover >= timing.leaseDuration - timing.retryPeriod, "took over after \(Time.describe(takeover)): too early")
        #expect(takeover <= timing.leaseDuration + 2 * timing.retryPeriod + Time.second,
            "took over after \(Time.describe(takeover))")
        let taken = try client.get(lease)
        #expect(taken.stringMember("spec", "holderIdentity") == "second")
        #expect(taken.intMember("spec", "leaseTransitions") == 1)
        #expect(leadership.overlaps == [])
    }

    @Test func aLeaderThatCannotRenewStopsByItsRenewDeadline() throws {
        let cluster = try LiveCluster(basePort: 23180)
        defer { cluster.stop() }
        let leadership = Leadership()
        let only = try elector("only", cluster, leadership)
        only.start()
        defer { only.stop() }
        #expect(eventually(5 * Time.second) { leadership.leaders == ["only"] })
        usleep(700_000)
        let cutAt = MonotonicClock.now()
        cluster.stopAPIServer(0)
        #expect(eventually(timing.renewDeadline + Time.second) { leadership.leaders.isEmpty })
        let stoppedAfter = MonotonicClock.now() - cutAt
        // Its last renewal began at most a retry period before the cut; it stops by that
        // renewal's start + renewDeadline, whatever the requests in flight are doing.
        #expect(stoppedAfter <= timing.renewDeadline + 500 * Time.millisecond, "stopped leading \(Time.describe(stoppedAfter)) after the cut")
        #expect(stoppedAfter >= timing.renewDeadline - timing.retryPeriod - 300 * Time.millisecond,
            "stopped leading only \(Time.describe(stoppedAfter)) after the cut")
        #expect(!only.isLeading)
    }

    @Test func aReleasedLeaseIsTakenAtTheNextAttempt() throws {
        let cluster = try LiveCluster(basePort: 23175)
        defer { cluster.stop() }
        let leadership = Leadership()
        let first = try elector("first", cluster, leadership, release: true)
        first.start()
        #expect(eventually(5 * Time.second) { leadership.leaders == ["first"] })
        let second = try elector("second", cluster, leadership)
        second.start()
        defer { second.stop() }
        usleep(1_000_000)
        let stoppedAt = MonotonicClock.now()
        first.stop()
        #expect(eventually(timing.leaseDuration) { leadership.leaders == ["second"] })
        let takeover = (leadership.startedAt("second") ?? .max) - stoppedAt
        // Released: no lease duration to wait out (one second, the released record's duration, at most).
        #expect(takeover < timing.leaseDuration - timing.retryPeriod, "took over after \(Time.describe(takeover))")
        #expect(leadership.overlaps == [])
    }
}
