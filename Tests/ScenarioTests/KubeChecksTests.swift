//! KubeChecksTests: each Kubernetes check passes a run that keeps Kubernetes' promise, fails a
//! known-bad one naming what broke it (too early or too late, never restored, too many pods, a
//! lost pod, two leaders), and says unknown when the run shows too little to tell.

import Base
import Scenario
import Testing

// MARK: - Builders

/// Polls every 200 ms from 0 to `until` inclusive, each made by `make` from its time.
private func polled(until: Nanoseconds, _ make: (Nanoseconds) -> KubeSnapshot) -> [KubeSnapshot] {
    stride(from: Nanoseconds(0), through: until, by: Int(200 * millisecond)).map(make)
}

private func snapshot(_ time: Nanoseconds, nodes: [NodeObservation] = [NodeObservation(name: "worker-2", ready: "True")],
    pods: [PodObservation] = [], replicaSets: [ReplicaSetObservation] = [ReplicaSetObservation(name: "web-1", deployment: "web", replicas: 3)],
    deployment: DeploymentObservation? = DeploymentObservation(name: "web", replicas: 3, maxSurge: 1, maxUnavailable: 0)) -> KubeSnapshot
{
    KubeSnapshot(time: time, nodes: nodes, pods: pods, replicaSets: replicaSets, deployment: deployment)
}

/// A pod of web's ReplicaSet `web-1` (its uid is its name).
private func pod(_ name: String, on node: String, phase: String = "Running", ready: Bool = true, terminating: Bool = false,
    created: Nanoseconds = 0, replicaSet: String = "web-1") -> PodObservation
{
    PodObservation(name: name, uid: name, replicaSet: replicaSet, node: node, phase: phase, ready: ready, terminating: terminating, created: created)
}

/// worker-1's life around one silence: its kubelet renews its lease every 2 s until the
/// silence starts, and from 300 ms after the heal; the controller marks it Unknown at
/// `markAt`, taints it at `taintAt`, and it is Ready again at `readyAt`.
private struct NodeStory {
    var start: Nanoseconds = 21 * second
    var end: Nanoseconds? = 50 * second
    var markAt: Nanoseconds? = 30 * second
    var taintAt: Nanoseconds? = 30_200 * millisecond
    var readyAt: Nanoseconds? = 51_400 * millisecond
    var until: Nanoseconds = 70 * second
    var renews = true

    var silence: NodeSilence { NodeSilence(node: "worker-1", start: start, end: end, cause: "isolate worker-1") }

    func observation(at time: Nanoseconds) -> NodeObservation {
        let period = 2 * second
        var renewed: Nanoseconds? = min(time, start) / period * period
        if let end, time >= end + 300 * millisecond { renewed = end + 300 * millisecond + (time - end - 300 * millisecond) / period * period }
        let marked = markAt.map { time >= $0 } == true && readyAt.map { time < $0 } != false
        let tainted = taintAt.map { time >= $0 } == true && readyAt.map { time < $0 } != false
        return NodeObservation(name: "worker-1", ready: marked ? "Unknown" : "True", noExecuteTaint: tainted, leaseRenewed: renews ? renewed : nil)
    }

    func polls(pods: (Nanoseconds) -> [PodObservation] = { _ in [] }) -> [KubeSnapshot] {
        polled(until: until) { time in
            let healthy = NodeObservation(name: "worker-2", ready: "True", leaseRenewed: time / (2 * second) * (2 * second))
            return snapshot(time, nodes: [observation(at: time), healthy], pods: pods(time))
        }
    }
}

/// grace 8 s, monitor period 1 s, tolerance 1 s, Ready within 5 s of the heal.
private func nodeTiming(_ story: NodeStory, silences: [NodeSilence]? = nil) -> CheckResult {
    Checks.nodeConditionTiming(snapshots: story.polls(), silences: silences ?? [story.silence], grace: 8 * second,
        monitorPeriod: 1 * second, tolerance: 1 * second, readyAfterHeal: 5 * second)
}

// MARK: - Node condition timing

@Suite struct NodeConditionTimingTests {
    @Test func aNodeMarkedWithinItsBoundsAndReadyAfterTheHealPasses() {
        let result = nodeTiming(NodeStory())
        #expect(result.verdict == .pass)
        #expect(result.summary == "worker-1: Unknown 9s after the fault (last renewal 1s before it; allowed 7s–10s after the fault), Ready again 1.4s after the heal")
        #expect(result.details.contains { $0.text.contains("tainted NoExecute 9.2s after the fault") })
        #expect(result.details.allSatisfy { $0.time != nil })
    }

    @Test func unknownBeforeTheGracePeriodSinceTheLastRenewalFails() {
        let result = nodeTiming(NodeStory(markAt: 27 * second))
        #expect(result.verdict == .fail)
        #expect(result.summary.contains("worker-1: marked early: Unknown 6s after the fault (last renewal 1s before it; allowed 7s–10s"))
        #expect(result.details.first { $0.text.contains("marked early") }?.time == 27 * second)
    }

    @Test func unknownLaterThanGracePlusPeriodPlusToleranceFails() {
        let result = nodeTiming(NodeStory(markAt: 32 * second, taintAt: 32 * second))
        #expect(result.verdict == .fail)
        #expect(result.summary.contains("marked late: Unknown 11s after the fault"))
    }

    @Test func aLongSilenceThatNeverMarksTheNodeFails() {
        let result = nodeTiming(NodeStory(markAt: nil, taintAt: nil))
        #expect(result.verdict == .fail)
        #expect(result.summary.contains("never marked: still Ready 29s after the fault"))
    }

    @Test func aNodeNeverReadyAfterTheHealFails() {
        let never = nodeTiming(NodeStory(readyAt: nil))
        #expect(never.verdict == .fail)
        #expect(never.summary.contains("never Ready again after the heal (allowed 5s; the polls end 20s after it)"))
        let late = nodeTiming(NodeStory(readyAt: 57 * second))
        #expect(late.verdict == .fail)
        #expect(late.summary.contains("Ready again only 7s after the heal (allowed 5s)"))
    }

    @Test func pollsEndingBeforeReadyIsDueAreUnknownNotPass() {
        let result = nodeTiming(NodeStory(readyAt: nil, until: 53 * second))
        #expect(result.verdict == .unknown)
        #expect(result.summary.contains("not Ready again before the polls end, 3s after the heal"))
    }

    @Test func aShortSilenceMustLeaveTheNodeReady() {
        let good = nodeTiming(NodeStory(end: 24 * second, markAt: nil, taintAt: nil, readyAt: nil))
        #expect(good.verdict == .pass)
        #expect(good.summary == "worker-1: stayed Ready while silent 3s (last renewal 1s before it; grace 8s)")
        let early = nodeTiming(NodeStory(end: 24 * second, markAt: 23 * second, taintAt: nil, readyAt: 25 * second))
        #expect(early.verdict == .fail)
        #expect(early.summary.contains("marked early: Unknown 2s after the fault, though silent 3s"))
    }

    @Test func aMarkedNodeMustBeTaintedUnlessOtherNodesWereSilentToo() {
        let alone = nodeTiming(NodeStory(taintAt: nil))
        #expect(alone.verdict == .fail)
        #expect(alone.summary.contains("never tainted NoExecute between the mark and Ready again"))
        // worker-2 was briefly silent at the same time: the controller may rate-limit the tainting.
        let other = NodeSilence(node: "worker-2", start: 22 * second, end: 24 * second, cause: "isolate worker-2")
        let story = NodeStory(taintAt: nil)
        let together = nodeTiming(story, silences: [story.silence, other])
        #expect(together.verdict == .pass)
        #expect(together.summary.hasSuffix("worker-2: stayed Ready while silent 2s (last renewal 0µs before it; grace 8s)"))
        #expect(together.details.contains { $0.text.contains("worker-1: never tainted") && $0.text.contains("not required") })
    }

    @Test func noSilenceOrNoLeaseSeenIsUnknown() {
        #expect(nodeTiming(NodeStory(), silences: []).verdict == .unknown)
        let result = nodeTiming(NodeStory(renews: false))
        #expect(result.verdict == .unknown)
        #expect(result.summary.contains("no renewal of its lease was seen before isolate worker-1"))
    }

    @Test func aNodeNotReadyWhenItsSilenceBeganIsUnknown() {
        let result = nodeTiming(NodeStory(markAt: 15 * second))
        #expect(result.verdict == .unknown)
        #expect(result.summary.contains("worker-1: it was Unknown, not Ready, when isolate worker-1 began"))
    }
}

// MARK: - Eviction timing

/// worker-1 (silenced at 21 s, tainted at 30.2 s) runs web-a and web-b, worker-2 runs web-c;
/// worker-1's pods turn terminating at `evictAt`.
private func evictionRun(end: Nanoseconds? = nil, evictAt: Nanoseconds?, taintAt: Nanoseconds? = 30_200 * millisecond,
    until: Nanoseconds = 80 * second) -> CheckResult
{
    let story = NodeStory(end: end, taintAt: taintAt, readyAt: end.map { $0 + 1 * second }, until: until)
    let snapshots = story.polls { time in
        let evicted = evictAt.map { time >= $0 } == true
        return [pod("web-a", on: "worker-1", terminating: evicted), pod("web-b", on: "worker-1", terminating: evicted), pod("web-c", on: "worker-2")]
    }
    return Checks.evictionTiming(snapshots: snapshots, silences: [story.silence], toleration: 30 * second, tolerance: 2 * second)
}

@Suite struct EvictionTimingTests {
    @Test func podsEvictedWhenTheirTolerationRunsOutPass() {
        let result = evictionRun(evictAt: 60_400 * millisecond)
        #expect(result.verdict == .pass)
        #expect(result.summary == "worker-1: 2 pods evicted 30.2s after the taint (allowed 28s–32s after the taint)")
    }

    @Test func podsEvictedBeforeTheirTolerationRunsOutFail() {
        let result = evictionRun(evictAt: 45 * second)
        #expect(result.verdict == .fail)
        #expect(result.details.contains { $0.text == "pod web-a on worker-1 evicted early: 14.8s after the taint (allowed 28s–32s after the taint)" })
    }

    @Test func podsStillLiveLongAfterTheirTolerationFail() {
        let result = evictionRun(evictAt: nil)
        #expect(result.verdict == .fail)
        #expect(result.details.contains { $0.text.hasPrefix("pod web-b on worker-1 evicted late: still live though silent 49.8s after the taint") })
        #expect(result.summary.contains("2 of 2 pods not evicted in time (web-a, web-b)"))
    }

    @Test func aSilenceHealedBeforeTheTolerationRunsOutEvictsNothing() {
        let good = evictionRun(end: 40 * second, evictAt: nil)
        #expect(good.verdict == .pass)
        #expect(good.summary == "worker-1: healed before the toleration ran out; none of its 2 pods was evicted")
        let bad = evictionRun(end: 40 * second, evictAt: 41 * second)
        #expect(bad.verdict == .fail)
        #expect(bad.summary == "1 of 1 tainted node failed: worker-1: 2 of 2 pods evicted early (web-a, web-b) (allowed 28s–32s after the taint)")
    }

    @Test func noTaintOrNoSilenceIsUnknown() {
        let untainted = evictionRun(evictAt: nil, taintAt: nil)
        #expect(untainted.verdict == .unknown)
        #expect(untainted.details.first?.text == "worker-1 (isolate worker-1) was never tainted while silent")
        let pollsEndEarly = evictionRun(evictAt: nil, until: 50 * second)
        #expect(pollsEndEarly.verdict == .unknown)
    }
}

// MARK: - Replicas restored

/// web wants 3: web-a and web-b on worker-1 (Unknown from 29 s, evicted at `evictAt`), web-c on
/// worker-2; replacements web-d and web-e serve on worker-2 from `replacedAt`.
private func restoreRun(replacedAt: Nanoseconds?, evictAt: Nanoseconds = 49 * second, until: Nanoseconds = 100 * second) -> [KubeSnapshot] {
    polled(until: until) { time in
        let unknown = time >= 29 * second
        let evicted = time >= evictAt
        var pods = [pod("web-a", on: "worker-1", terminating: evicted), pod("web-b", on: "worker-1", terminating: evicted), pod("web-c", on: "worker-2")]
        if evicted {
            let serving = replacedAt.map { time >= $0 } == true
            pods += ["web-d", "web-e"].map { pod($0, on: "worker-2", phase: serving ? "Running" : "Pending", ready: serving, created: evictAt) }
        }
        return snapshot(time, nodes: [NodeObservation(name: "worker-1", ready: unknown ? "Unknown" : "True"), NodeObservation(name: "worker-2", ready: "True")],
            pods: pods)
    }
}

private let isolation = [TimeWindow(start: 20 * second, end: 90 * second)]

@Suite struct ReplicasRestoredTests {
    @Test func replicasBackWithinTheBoundPass() {
        let result = Checks.replicasRestored(snapshots: restoreRun(replacedAt: 50 * second), deployment: "web", faults: isolation, within: 45 * second)
        #expect(result.verdict == .pass)
        #expect(result.summary == "3 of 3 available again 30s after the fault (allowed 45s)")
        #expect(result.details.map(\.text) == ["fell to 1 of 3 available 9s after the fault", "3 of 3 available again 30s after the fault (allowed 45s)"])
    }

    @Test func replicasNeverRestoredFail() {
        let result = Checks.replicasRestored(snapshots: restoreRun(replacedAt: nil), deployment: "web", faults: isolation, within: 45 * second)
        #expect(result.verdict == .fail)
        #expect(result.summary.hasPrefix("not restored by the end: 1 of 3 available at the last poll"))
    }

    @Test func replicasRestoredTooLateFail() {
        let result = Checks.replicasRestored(snapshots: restoreRun(replacedAt: 70 * second), deployment: "web", faults: isolation, within: 45 * second)
        #expect(result.verdict == .fail)
        #expect(result.summary.contains("3 of 3 available again only 50s after the fault (allowed 45s)"))
    }

    @Test func noFaultChecksOnlyTheEndAndNoDeploymentIsUnknown() {
        let healthy = polled(until: 10 * second) { snapshot($0, pods: ["web-a", "web-b", "web-c"].map { pod($0, on: "worker-2") }) }
        let result = Checks.replicasRestored(snapshots: healthy, deployment: "web", faults: [], within: 45 * second)
        #expect(result.verdict == .pass)
        #expect(result.summary == "3 of 3 available at the end; no fault to recover from")
        let unread = healthy.map { snapshot($0.time, pods: $0.pods, deployment: nil) }
        #expect(Checks.replicasRestored(snapshots: unread, deployment: "web", faults: isolation, within: 45 * second).verdict == .unknown)
    }
}

// MARK: - Surge bound

@Suite struct SurgeBoundTests {
    private let web = ReplicaSetObservation(name: "web-1", deployment: "web", replicas: 3)

    @Test func aRolloutWithinReplicasPlusSurgePasses() {
        let rollout = [
            snapshot(1 * second, pods: ["a", "b", "c"].map { pod($0, on: "worker-2") }),
            snapshot(2 * second, pods: ["a", "b", "c"].map { pod($0, on: "worker-2") } + [pod("d", on: "worker-2", replicaSet: "web-2")],
                replicaSets: [web, ReplicaSetObservation(name: "web-2", deployment: "web", replicas: 1)]),
        ]
        let result = Checks.surgeBound(snapshots: rollout, deployment: "web")
        #expect(result.verdict == .pass)
        #expect(result.summary == "at most 4 live pods and ReplicaSets asking for at most 4 over 2 polls (bound at most 4)")
    }

    @Test func morePodsThanReplicasPlusSurgeFail() {
        let five = [snapshot(3 * second, pods: ["a", "b", "c", "d", "e"].map { pod($0, on: "worker-2") })]
        let result = Checks.surgeBound(snapshots: five, deployment: "web")
        #expect(result.verdict == .fail)
        #expect(result.details.map(\.text) == [
            "5 live pods, over the bound 4 (3 replicas + 1 surge): a on worker-2, b on worker-2, c on worker-2, d on worker-2, e on worker-2",
        ])
        #expect(result.details.first?.time == 3 * second)
    }

    @Test func replicaSetsAskingForMoreThanReplicasPlusSurgeFail() {
        let sets = [web, ReplicaSetObservation(name: "web-2", deployment: "web", replicas: 2)]
        let result = Checks.surgeBound(snapshots: [snapshot(1 * second, replicaSets: sets)], deployment: "web")
        #expect(result.verdict == .fail)
        #expect(result.details.map(\.text) == ["its ReplicaSets ask for 5 pods, over the bound 4 (3 replicas + 1 surge): web-1 3, web-2 2"])
    }

    @Test func aScaleDownBetweenReadsIsNoFalseAlarmButTheNextPollIsBound() {
        let six = ["a", "b", "c", "d", "e", "f"].map { pod($0, on: "worker-2") }
        let before = snapshot(1 * second, pods: six, replicaSets: [ReplicaSetObservation(name: "web-1", deployment: "web", replicas: 5)],
            deployment: DeploymentObservation(name: "web", replicas: 5, maxSurge: 1, maxUnavailable: 0))
        let scaled = snapshot(2 * second, pods: six)
        #expect(Checks.surgeBound(snapshots: [before, scaled], deployment: "web").verdict == .pass)
        let stillSix = snapshot(3 * second, pods: six)
        let result = Checks.surgeBound(snapshots: [before, scaled, stillSix], deployment: "web")
        #expect(result.verdict == .fail)
        #expect(result.details.first?.time == 3 * second)
    }

    @Test func noDeploymentReadIsUnknown() {
        #expect(Checks.surgeBound(snapshots: [snapshot(1 * second, deployment: nil)], deployment: "web").verdict == .unknown)
        #expect(Checks.surgeBound(snapshots: [], deployment: "web").verdict == .unknown)
    }
}

// MARK: - No pod lost

/// web-a (on worker-1) turns terminating at 30 s; web-d is created (at `replacementCreated`) and
/// appears 400 ms later.
private func lossRun(replacementCreated: Nanoseconds?, until: Nanoseconds = 100 * second, desiredAfter: Int = 3) -> [KubeSnapshot] {
    polled(until: until) { time in
        var pods = [pod("web-a", on: "worker-1", terminating: time >= 30 * second), pod("web-b", on: "worker-2"), pod("web-c", on: "worker-2")]
        if let replacementCreated, time >= replacementCreated + 400 * millisecond {
            pods.append(pod("web-d", on: "worker-2", created: replacementCreated))
        }
        let desired = time >= 30 * second ? desiredAfter : 3
        return snapshot(time, pods: pods, deployment: DeploymentObservation(name: "web", replicas: desired, maxSurge: 1, maxUnavailable: 0))
    }
}

@Suite struct NoPodLostTests {
    @Test func aLostPodReplacedInTimePasses() {
        let result = Checks.noPodLost(snapshots: lossRun(replacementCreated: 30 * second), deployment: "web", within: 20 * second)
        #expect(result.verdict == .pass)
        #expect(result.summary == "1 pod lost, 1 leaving web short; 1 replaced, the slowest created 0µs after its loss (allowed 20s)")
        #expect(result.details.map(\.text) == ["pod web-a on worker-1 (terminating) replaced by web-d, created 0µs after the loss"])
    }

    @Test func aLostPodNeverReplacedFails() {
        let result = Checks.noPodLost(snapshots: lossRun(replacementCreated: nil), deployment: "web", within: 20 * second)
        #expect(result.verdict == .fail)
        #expect(result.details.map(\.text) == ["pod web-a on worker-1 (terminating) was not replaced within 20s (2 of 3 live then)"])
        #expect(result.details.first?.time == 30 * second)
        let late = Checks.noPodLost(snapshots: lossRun(replacementCreated: 60 * second), deployment: "web", within: 20 * second)
        #expect(late.verdict == .fail)
    }

    @Test func oneReplacementCannotCoverTwoLosses() {
        let snapshots = polled(until: 100 * second) { time in
            let gone = time >= 30 * second
            var pods = [pod("web-a", on: "worker-1", terminating: gone), pod("web-b", on: "worker-1", phase: gone ? "Failed" : "Running"),
                pod("web-c", on: "worker-2")]
            if time >= 31 * second { pods.append(pod("web-d", on: "worker-2", created: 31 * second)) }
            return snapshot(time, pods: pods)
        }
        let result = Checks.noPodLost(snapshots: snapshots, deployment: "web", within: 20 * second)
        #expect(result.verdict == .fail)
        #expect(result.summary == "1 of 2 lost pods needing a replacement got none within 20s (2 pods lost)")
    }

    @Test func aPodRemovedByAScaleDownNeedsNoReplacement() {
        let result = Checks.noPodLost(snapshots: lossRun(replacementCreated: nil, desiredAfter: 2), deployment: "web", within: 20 * second)
        #expect(result.verdict == .pass)
        #expect(result.summary == "1 pod lost, none leaving web short")
    }

    @Test func pollsEndingBeforeTheDeadlineOrNoPodsAreUnknown() {
        let early = Checks.noPodLost(snapshots: lossRun(replacementCreated: nil, until: 40 * second), deployment: "web", within: 20 * second)
        #expect(early.verdict == .unknown)
        #expect(early.summary == "the polls end before 1 of 1 lost pod needing a replacement had one")
        #expect(Checks.noPodLost(snapshots: [snapshot(0)], deployment: "web", within: 20 * second).verdict == .unknown)
    }
}

// MARK: - No eviction

@Suite struct NoEvictionTests {
    /// Every node unreachable from 20 s; web-a turns terminating at `evictAt`.
    private func disruption(evictAt: Nanoseconds?, desiredAfter: Int = 3) -> [KubeSnapshot] {
        polled(until: 100 * second) { time in
            let ready = time >= 20 * second ? "Unknown" : "True"
            let pods = [pod("web-a", on: "worker-1", terminating: evictAt.map { time >= $0 } == true), pod("web-b", on: "worker-2"), pod("web-c", on: "worker-2")]
            let desired = evictAt.map { time >= $0 } == true ? desiredAfter : 3
            return snapshot(time, nodes: [NodeObservation(name: "worker-1", ready: ready), NodeObservation(name: "worker-2", ready: ready)], pods: pods,
                deployment: DeploymentObservation(name: "web", replicas: desired, maxSurge: 1, maxUnavailable: 0))
        }
    }

    @Test func everyPodStayingLivePasses() {
        let result = Checks.noEviction(snapshots: disruption(evictAt: nil), deployment: "web")
        #expect(result.verdict == .pass)
        #expect(result.summary == "3 pods of web stayed live through the run")
    }

    @Test func aPodEvictedDuringTheDisruptionFails() {
        let result = Checks.noEviction(snapshots: disruption(evictAt: 60 * second), deployment: "web")
        #expect(result.verdict == .fail)
        #expect(result.details.map(\.text) == ["pod web-a on worker-1 (terminating) stopped being live while 3 were desired"])
        #expect(result.details.first?.time == 60 * second)
    }

    @Test func aPodRemovedByAScaleDownIsExcused() {
        let result = Checks.noEviction(snapshots: disruption(evictAt: 60 * second, desiredAfter: 2), deployment: "web")
        #expect(result.verdict == .pass)
        #expect(result.summary == "2 pods of web stayed live through the run; 1 removed by a scale-down")
    }

    @Test func noLivePodIsUnknown() {
        #expect(Checks.noEviction(snapshots: [snapshot(0)], deployment: "web").verdict == .unknown)
    }
}

// MARK: - Single leader

private let lease = "kube-system/kube-controller-manager"

private func span(_ holder: String, _ start: Int64, _ end: Int64?) -> LeadershipSpan {
    LeadershipSpan(lease: lease, holder: holder, start: start * second, end: end.map { $0 * second })
}

@Suite struct SingleLeaderTests {
    @Test func aTakeoverWithinTheBoundAfterTheLeaderIsKilledPasses() {
        let result = Checks.singleLeader(spans: [span("cm-1", 0, 30), span("cm-2", 45, nil)], pauses: [:], takeoverWithin: 20 * second,
            stops: ["cm-1": [30 * second]])
        #expect(result.verdict == .pass)
        #expect(result.summary == "kube-system/kube-controller-manager: cm-1 0µs–30s, cm-2 45s–end; cm-2 took over 15s after cm-1 stopped (allowed 20s)")
    }

    @Test func twoLeadersOverlappingFail() {
        let result = Checks.singleLeader(spans: [span("cm-1", 0, 50), span("cm-2", 45, nil)], pauses: [:], takeoverWithin: nil, stops: [:])
        #expect(result.verdict == .fail)
        #expect(result.details.map(\.text) == ["cm-1 and cm-2 both led kube-system/kube-controller-manager from 45s to 50s (5s in all, pauses taken out)"])
        #expect(result.details.first?.time == 45 * second)
    }

    @Test func aPausedLeaderDoesNotOverlapItsSuccessorButActingAfterResumingDoes() {
        let pause = ["cm-1": [TimeWindow(start: 30 * second, end: 58 * second)]]
        let excused = Checks.singleLeader(spans: [span("cm-1", 0, 58), span("cm-2", 45, nil)], pauses: pause, takeoverWithin: nil, stops: [:])
        #expect(excused.verdict == .pass)
        let actedAfter = Checks.singleLeader(spans: [span("cm-1", 0, 60), span("cm-2", 45, nil)], pauses: pause, takeoverWithin: nil, stops: [:])
        #expect(actedAfter.verdict == .fail)
        #expect(actedAfter.details.map(\.text) == ["cm-1 and cm-2 both led kube-system/kube-controller-manager from 58s to 60s (2s in all, pauses taken out)"])
    }

    @Test func aSlowTakeoverFails() {
        let result = Checks.singleLeader(spans: [span("cm-1", 0, 30), span("cm-2", 55, nil)], pauses: [:], takeoverWithin: 20 * second,
            stops: ["cm-1": [30 * second]])
        #expect(result.verdict == .fail)
        #expect(result.summary == "kube-system/kube-controller-manager: cm-2 took over only 25s after cm-1 stopped (allowed 20s)")
        let never = Checks.singleLeader(spans: [span("cm-1", 0, 30), span("cm-1", 60, nil)], pauses: [:], takeoverWithin: 20 * second,
            stops: ["cm-1": [30 * second]])
        #expect(never.verdict == .fail)
        #expect(never.summary.contains("no holder took over within 20s after cm-1 stopped"))
    }

    @Test func noSpansOrAnUntestedTakeoverIsUnknown() {
        #expect(Checks.singleLeader(spans: [], pauses: [:], takeoverWithin: nil, stops: [:]).verdict == .unknown)
        let missed = Checks.singleLeader(spans: [span("cm-1", 0, nil)], pauses: [:], takeoverWithin: 20 * second, stops: ["cm-2": [30 * second]])
        #expect(missed.verdict == .unknown)
        #expect(missed.summary.hasPrefix("no stop hit a leading host"))
        let cutShort = Checks.singleLeader(spans: [span("cm-1", 0, 30)], pauses: [:], takeoverWithin: 20 * second, stops: ["cm-1": [30 * second]])
        #expect(cutShort.verdict == .unknown)
    }
}
