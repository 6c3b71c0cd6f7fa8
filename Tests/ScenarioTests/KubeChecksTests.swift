//! KubeChecksTests: the Kubernetes checks on small, hand-made runs — each passes on a run where
//! the property holds and fails (or says unknown) on one where it does not.

import Base
import Scenario
import Testing

private let s = Time.second
private let ms = Time.millisecond

/// Snapshots every 200 ms from `from` to `to`, each made by `make(time)`.
private func run(from: Nanoseconds = 0, to: Nanoseconds, _ make: (Nanoseconds) -> KubeSnapshot) -> [KubeSnapshot] {
    stride(from: from, through: to, by: Int(200 * ms)).map(make)
}

/// A node renewing its lease every second until `silentFrom`, marked `ready` by `readiness(time)`.
private func node(_ name: String, at time: Nanoseconds, silentFrom: Nanoseconds = .max, healedAt: Nanoseconds = .max,
    readiness: (Nanoseconds) -> String = { _ in "True" }, taintedFrom: Nanoseconds = .max, taintedUntil: Nanoseconds = .max) -> NodeObservation
{
    let renewing = time < silentFrom || time >= healedAt
    let lastRenew = renewing ? time / s * s : (silentFrom - 1) / s * s
    return NodeObservation(name: name, ready: readiness(time), noExecuteTaint: time >= taintedFrom && time < taintedUntil, leaseRenewed: lastRenew)
}

private func pod(_ name: String, node: String, created: Nanoseconds = 0, ready: Bool = true, terminating: Bool = false,
    replicaSet: String = "web-1") -> PodObservation
{
    PodObservation(name: name, uid: "uid-" + name, replicaSet: replicaSet, node: node, phase: "Running", ready: ready,
        terminating: terminating, created: created)
}

private let web = DeploymentObservation(name: "web", replicas: 2, maxSurge: 1, maxUnavailable: 0)
private let webSet = ReplicaSetObservation(name: "web-1", deployment: "web", replicas: 2)

@Suite struct NodeConditionTimingTests {
    let grace = 4 * s, period = 1 * s, tolerance = 2 * s
    let silence = NodeSilence(node: "w1", start: 10 * s, end: 30 * s, cause: "isolate w1")

    func snapshots(markedAt: Nanoseconds, readyAgainAt: Nanoseconds = 30_400 * ms, taint: Bool = true) -> [KubeSnapshot] {
        run(to: 40 * s) { time in
            let w1 = node("w1", at: time, silentFrom: 10 * s, healedAt: 30 * s,
                readiness: { $0 >= markedAt && $0 < readyAgainAt ? "Unknown" : "True" },
                taintedFrom: taint && markedAt < .max ? markedAt + 200 * ms : .max, taintedUntil: readyAgainAt)
            return KubeSnapshot(time: time, nodes: [w1], pods: [], replicaSets: [], deployment: nil)
        }
    }

    func check(_ snapshots: [KubeSnapshot], _ silences: [NodeSilence]? = nil) -> CheckResult {
        Checks.nodeConditionTiming(snapshots: snapshots, silences: silences ?? [silence], grace: grace, monitorPeriod: period,
            tolerance: tolerance, readyAfterHeal: grace)
    }

    @Test func unknownWithinTheGraceBoundsPasses() {
        // Last renewal at 9 s: Unknown no earlier than 13 s, no later than 10 + 4 + 1 + 2 = 17 s.
        let result = check(snapshots(markedAt: 13_600 * ms))
        #expect(result.verdict == .pass, "\(result)")
        #expect(result.summary.contains("Unknown 3.6s after isolate w1") && result.summary.contains("Ready again"), "\(result.summary)")
    }

    @Test func unknownBeforeTheGracePeriodFails() {
        let result = check(snapshots(markedAt: 11 * s))
        #expect(result.verdict == .fail && result.details.first?.text.contains("before the 4s grace period was over") == true, "\(result)")
    }

    @Test func unknownTooLateFails() {
        #expect(check(snapshots(markedAt: 19 * s)).verdict == .fail)
        #expect(check(snapshots(markedAt: .max)).details.first?.text.contains("still Ready") == true)
    }

    @Test func aMarkedNodeMustBeTaintedAndComeBack() {
        #expect(check(snapshots(markedAt: 14 * s, taint: false)).verdict == .fail)
        let neverBack = check(snapshots(markedAt: 14 * s, readyAgainAt: .max))
        #expect(neverBack.verdict == .fail && neverBack.details.contains { $0.text.contains("not Ready again") }, "\(neverBack)")
    }

    @Test func aShortSilenceMustNotMarkTheNode() {
        let short = NodeSilence(node: "w1", start: 10 * s, end: 10_500 * ms, cause: "pause w1")
        let steady = run(to: 20 * s) { time in
            KubeSnapshot(time: time, nodes: [node("w1", at: time, silentFrom: 10 * s, healedAt: 10_500 * ms)], pods: [], replicaSets: [], deployment: nil)
        }
        #expect(check(steady, [short]).verdict == .pass)
        let flapped = run(to: 20 * s) { time in
            KubeSnapshot(time: time, nodes: [node("w1", at: time, silentFrom: 10 * s, healedAt: 10_500 * ms,
                readiness: { $0 >= 11 * s && $0 < 12 * s ? "Unknown" : "True" })], pods: [], replicaSets: [], deployment: nil)
        }
        #expect(check(flapped, [short]).verdict == .fail)
    }

    @Test func nothingToJudgeIsUnknown() {
        #expect(check(snapshots(markedAt: 14 * s), []).verdict == .unknown)
        #expect(check([], [silence]).verdict == .unknown)
        // The run ended before the node could be Ready again.
        #expect(check(snapshots(markedAt: 14 * s, readyAgainAt: .max).filter { $0.time <= 31 * s }).verdict == .unknown)
    }
}

@Suite struct EvictionTimingTests {
    let silence = NodeSilence(node: "w1", start: 10 * s, end: 50 * s, cause: "isolate w1")

    /// w1 tainted from 14 s; its pod stops at `evictedAt`.
    func snapshots(evictedAt: Nanoseconds) -> [KubeSnapshot] {
        run(to: 55 * s) { time in
            let w1 = node("w1", at: time, silentFrom: 10 * s, readiness: { $0 >= 14 * s ? "Unknown" : "True" }, taintedFrom: 14 * s)
            return KubeSnapshot(time: time, nodes: [w1], pods: [pod("a", node: "w1", terminating: time >= evictedAt)], replicaSets: [webSet],
                deployment: web)
        }
    }

    func check(_ snapshots: [KubeSnapshot]) -> CheckResult {
        Checks.evictionTiming(snapshots: snapshots, silences: [silence], toleration: 20 * s, tolerance: 2 * s)
    }

    @Test func evictionWhenTheTolerationRunsOutPasses() {
        let result = check(snapshots(evictedAt: 34_400 * ms))
        #expect(result.verdict == .pass && result.summary.contains("evicted 20.4s"), "\(result)")
    }

    @Test func earlyLateAndMissingEvictionsFail() {
        #expect(check(snapshots(evictedAt: 20 * s)).details.first?.text.contains("before its 20s toleration ran out") == true)
        #expect(check(snapshots(evictedAt: 40 * s)).verdict == .fail)
        #expect(check(snapshots(evictedAt: .max)).details.first?.text.contains("not evicted") == true)
    }

    @Test func noTaintIsUnknown() {
        let untainted = run(to: 20 * s) { time in
            KubeSnapshot(time: time, nodes: [node("w1", at: time)], pods: [pod("a", node: "w1")], replicaSets: [webSet], deployment: web)
        }
        #expect(check(untainted).verdict == .unknown)
    }
}

@Suite struct WorkloadChecksTests {
    /// Two replicas on w1 and w2; w1's pod is evicted at `lostAt` and replaced on w2 at `replacedAt`.
    func eviction(lostAt: Nanoseconds, replacedAt: Nanoseconds, extraFrom: Nanoseconds = .max) -> [KubeSnapshot] {
        run(to: 40 * s) { time in
            var pods = [pod("a", node: "w2"), pod("b", node: "w1", terminating: time >= lostAt)]
            if time >= replacedAt { pods.append(pod("c", node: "w2", created: replacedAt)) }
            if time >= extraFrom { pods.append(pod("d", node: "w2", created: extraFrom)) }
            if time - s >= extraFrom { pods.append(pod("e", node: "w2", created: extraFrom)) }
            let w1 = node("w1", at: time, readiness: { $0 >= 12 * s && $0 < 30 * s ? "Unknown" : "True" })
            return KubeSnapshot(time: time, nodes: [w1, node("w2", at: time)], pods: pods, replicaSets: [webSet], deployment: web)
        }
    }

    @Test func replicasRestoredWithinTheBound() {
        let fault = [TimeWindow(start: 10 * s, end: 30 * s)]
        let good = Checks.replicasRestored(snapshots: eviction(lostAt: 32 * s, replacedAt: 33 * s), deployment: "web", faults: fault, within: 25 * s)
        #expect(good.verdict == .pass && good.summary.contains("2 of 2 available again 20s after the fault at 10s"), "\(good)")
        let slow = Checks.replicasRestored(snapshots: eviction(lostAt: 32 * s, replacedAt: 33 * s), deployment: "web", faults: fault, within: 15 * s)
        #expect(slow.verdict == .fail, "\(slow)")
        let never = Checks.replicasRestored(snapshots: eviction(lostAt: 32 * s, replacedAt: .max), deployment: "web", faults: fault, within: 25 * s)
        #expect(never.verdict == .fail && never.details.contains { $0.text.contains("1 of 2 available when the run ended") }, "\(never)")
        #expect(Checks.replicasRestored(snapshots: [], deployment: "web", faults: fault, within: s).verdict == .unknown)
    }

    @Test func theSurgeBoundCountsLivePodsAndReplicaSetReplicas() {
        #expect(Checks.surgeBound(snapshots: eviction(lostAt: 32 * s, replacedAt: 33 * s), deployment: "web").verdict == .pass)
        // Four live pods against 2 + 1.
        let over = Checks.surgeBound(snapshots: eviction(lostAt: .max, replacedAt: 20 * s, extraFrom: 25 * s), deployment: "web")
        #expect(over.verdict == .fail && over.details.first?.text.contains("4 live pods, more than 2 + maxSurge 1 = 3") == true, "\(over)")
        let greedy = [KubeSnapshot(time: 0, nodes: [], pods: [], replicaSets: [
            ReplicaSetObservation(name: "web-1", deployment: "web", replicas: 2), ReplicaSetObservation(name: "web-2", deployment: "web", replicas: 2),
        ], deployment: web)]
        #expect(Checks.surgeBound(snapshots: greedy, deployment: "web").details.first?.text.contains("ask for 4 replicas") == true)
        #expect(Checks.surgeBound(snapshots: [], deployment: "web").verdict == .unknown)
    }

    @Test func everyLostPodIsReplaced() {
        let replaced = Checks.noPodLost(snapshots: eviction(lostAt: 32 * s, replacedAt: 33 * s), deployment: "web", within: 5 * s)
        #expect(replaced.verdict == .pass && replaced.summary.contains("1 pod lost, 1 with a new pod"), "\(replaced)")
        let lost = Checks.noPodLost(snapshots: eviction(lostAt: 20 * s, replacedAt: .max), deployment: "web", within: 5 * s)
        #expect(lost.verdict == .fail && lost.details.first?.text.contains("b on w1 was lost") == true, "\(lost)")
        let late = Checks.noPodLost(snapshots: eviction(lostAt: 20 * s, replacedAt: 30 * s), deployment: "web", within: 5 * s)
        #expect(late.verdict == .fail)
        // Lost just before the run ended: too early to say.
        #expect(Checks.noPodLost(snapshots: eviction(lostAt: 38 * s, replacedAt: .max), deployment: "web", within: 5 * s).verdict == .unknown)
    }

    @Test func noEvictionInAFullDisruption() {
        let calm = eviction(lostAt: .max, replacedAt: .max)
        #expect(Checks.noEviction(snapshots: calm, deployment: "web").verdict == .pass)
        let evicted = Checks.noEviction(snapshots: eviction(lostAt: 20 * s, replacedAt: 21 * s), deployment: "web")
        #expect(evicted.verdict == .fail && evicted.details.first?.text.contains("b on w1 stopped") == true, "\(evicted)")
        // A scale-down is not an eviction.
        let scaledDown = run(to: 4 * s) { time in
            let desired = time >= 2 * s ? 1 : 2
            let pods = [pod("a", node: "w1"), pod("b", node: "w2", terminating: time >= 2 * s)]
            return KubeSnapshot(time: time, nodes: [], pods: pods, replicaSets: [webSet],
                deployment: DeploymentObservation(name: "web", replicas: desired, maxSurge: 1, maxUnavailable: 0))
        }
        #expect(Checks.noEviction(snapshots: scaledDown, deployment: "web").verdict == .pass)
    }
}

@Suite struct SingleLeaderTests {
    let lease = "kube-system/kube-controller-manager"

    @Test func handOverAfterTheLeaderStopsPasses() {
        let spans = [LeadershipSpan(lease: lease, holder: "cm-1", start: 0, end: 10 * s),
                     LeadershipSpan(lease: lease, holder: "cm-2", start: 24 * s, end: nil)]
        let result = Checks.singleLeader(spans: spans, pauses: [:], takeoverWithin: 20 * s, stops: ["cm-1": [10 * s]])
        #expect(result.verdict == .pass && result.summary.contains("cm-2 took over 14s after cm-1 stopped"), "\(result)")
    }

    @Test func twoLeadersAtOnceFail() {
        let spans = [LeadershipSpan(lease: lease, holder: "cm-1", start: 0, end: 20 * s),
                     LeadershipSpan(lease: lease, holder: "cm-2", start: 15 * s, end: nil)]
        let result = Checks.singleLeader(spans: spans, pauses: [:], takeoverWithin: nil, stops: [:])
        #expect(result.verdict == .fail && result.details.first?.text.contains("cm-1 and cm-2 both leading from 15s to 20s") == true, "\(result)")
    }

    @Test func aPausedLeaderDoesNotAct() {
        // cm-1 paused 5–25 s and still said it led until 25.1 s; cm-2 led from 21 s.
        let spans = [LeadershipSpan(lease: lease, holder: "cm-1", start: 0, end: 25 * s),
                     LeadershipSpan(lease: lease, holder: "cm-2", start: 21 * s, end: nil)]
        let pauses = ["cm-1": [TimeWindow(start: 5 * s, end: 25 * s)]]
        #expect(Checks.singleLeader(spans: spans, pauses: pauses, takeoverWithin: nil, stops: [:]).verdict == .pass)
        // Acting after the resume while the other leads is a violation.
        let late = [LeadershipSpan(lease: lease, holder: "cm-1", start: 0, end: 27 * s), spans[1]]
        #expect(Checks.singleLeader(spans: late, pauses: pauses, takeoverWithin: nil, stops: [:]).verdict == .fail)
    }

    @Test func aSlowTakeoverFails() {
        let spans = [LeadershipSpan(lease: lease, holder: "cm-1", start: 0, end: 10 * s),
                     LeadershipSpan(lease: lease, holder: "cm-2", start: 40 * s, end: nil)]
        let result = Checks.singleLeader(spans: spans, pauses: [:], takeoverWithin: 20 * s, stops: ["cm-1": [10 * s]])
        #expect(result.verdict == .fail && result.details.first?.text.contains("nobody took over within 20s") == true, "\(result)")
        #expect(Checks.singleLeader(spans: [], pauses: [:], takeoverWithin: nil, stops: [:]).verdict == .unknown)
    }
}
