//! The FailedScheduling message, as kube-scheduler v1.32 words it, and the writes a failure
//! and a success turn into.

import Base
import KubeAPI
import KubeScheduling
import Testing
import Wire

@Suite struct FailureMessageTests {
    private let controlPlaneTaint = Taint(key: Taint.controlPlaneKey, effect: .noSchedule)

    @Test func mixedFailureCountsReasonsSortedAndPreemptionPerNode() throws {
        let nodes = [
            Fixture.node("worker", cpu: "1"), Fixture.node("cp-1", taints: [controlPlaneTaint]),
            Fixture.node("cp-2", taints: [controlPlaneTaint]),
        ]
        var scheduler = Fixture.scheduler(nodes: nodes)
        let decision = scheduler.decide(try #require(SchedulingPod(json: Fixture.pod("big", cpu: "2"))))
        #expect(decision.failure?.message == "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint "
            + "{node-role.kubernetes.io/control-plane: }. preemption: 0/3 nodes are available: "
            + "1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.")
        #expect(decision.failure?.rejectingPlugins == [.nodeResourcesFit, .taintToleration])
    }

    @Test func onlyUnresolvableReasonsMakePreemptionUnhelpfulEverywhere() throws {
        var scheduler = Fixture.scheduler(nodes: [Fixture.node("n1", labels: ["disk": "hdd"]), Fixture.node("n2")])
        let pod = Fixture.pod("p", spec: ["nodeSelector": .object(["disk": .string("ssd")])])
        let decision = scheduler.decide(try #require(SchedulingPod(json: pod)))
        #expect(decision.failure?.message == "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. "
            + "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.")
    }

    @Test func reasonsSortAsStringsSoTenComesBeforeTwo() throws {
        var nodes = (0..<10).map { Fixture.node("small-\($0)", cpu: "1") }
        nodes += (0..<2).map { Fixture.node("cp-\($0)", taints: [controlPlaneTaint]) }
        var scheduler = Fixture.scheduler(nodes: nodes)
        let decision = scheduler.decide(try #require(SchedulingPod(json: Fixture.pod("big", cpu: "2"))))
        let message = try #require(decision.failure?.message)
        #expect(message.hasPrefix("0/12 nodes are available: 10 Insufficient cpu, 2 node(s) had untolerated taint"))
    }

    @Test func lowerPriorityVictimsMakeANodeAPreemptionCandidate() throws {
        let nodes = [Fixture.node("n1", cpu: "1")]
        let lowly = Fixture.pod("lowly", cpu: "1", nodeName: "n1", priority: 0)
        var scheduler = Fixture.scheduler(nodes: nodes, bound: [lowly])
        let important = try #require(SchedulingPod(json: Fixture.pod("important", cpu: "1", priority: 1000)))
        let decision = scheduler.decide(important)
        #expect(decision.failure?.preemptionCandidates == ["n1"])
        #expect(decision.failure?.message == "0/1 nodes are available: 1 Insufficient cpu.")
        let equal = try #require(SchedulingPod(json: Fixture.pod("equal", cpu: "1", priority: 0)))
        let equalDecision = scheduler.decide(equal)
        #expect(equalDecision.failure?.preemptionCandidates == [])
        let never = try #require(SchedulingPod(json: Fixture.pod("never", cpu: "1", priority: 1000, spec: ["preemptionPolicy": .string("Never")])))
        let neverDecision = scheduler.decide(never)
        #expect(neverDecision.failure?.message
            == "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.")
    }

    @Test func noNodesAtAll() throws {
        var scheduler = Fixture.scheduler(nodes: [])
        let decision = scheduler.decide(try #require(SchedulingPod(json: Fixture.pod("p"))))
        #expect(decision.failure?.message == "no nodes available to schedule pods")
    }

    @Test func failureRecordsAnEventAndPatchesPodScheduledOnce() throws {
        var scheduler = Fixture.scheduler(nodes: [Fixture.node("n1", cpu: "1")])
        scheduler.onPodEvent(Fixture.pod("big", cpu: "2"), now: 0)
        let optionalAttempt = scheduler.scheduleOne(now: 0, wallClock: 1_735_689_600)
        let attempt = try #require(optionalAttempt)
        let message = try #require(attempt.decision.failure?.message)
        let reference = ObjectReference(.standard("pods"), namespace: "default", name: "big")
        #expect(attempt.actions.count == 2)
        #expect(attempt.actions.first == .event(involved: reference, type: "Warning", reason: "FailedScheduling", message: message))
        guard case .mergePatch(let target, let patch, let subresource)? = attempt.actions.last else {
            Issue.record("expected a status patch, got \(attempt.actions)")
            return
        }
        #expect(target == reference && subresource == "status")
        let condition = try #require(patch.member("status", "conditions")?.asArray?.first)
        #expect(condition.stringMember("type") == "PodScheduled")
        #expect(condition.stringMember("status") == "False")
        #expect(condition.stringMember("reason") == "Unschedulable")
        #expect(condition.stringMember("message") == message)
        #expect(condition.stringMember("lastTransitionTime") == "2025-01-01T00:00:00Z")

        // Once the pod carries that condition, the next failure records the event only.
        var carried = Fixture.pod("big", cpu: "2")
        if case .object(var object) = carried {
            object["status"] = patch.member("status")
            carried = .object(object)
        }
        scheduler.onPodEvent(carried, now: 0)
        // A heartbeat that changes nothing the scheduler reads does not requeue the pod; five
        // minutes later it is retried anyway.
        scheduler.onNodeEvent(Fixture.node("n1", cpu: "1"), now: 0)
        let early = scheduler.scheduleOne(now: 2_000_000_000, wallClock: 1_735_689_700)
        #expect(early == nil)
        let optionalAgain = scheduler.scheduleOne(now: 301_000_000_000, wallClock: 1_735_689_900)
        let again = try #require(optionalAgain)
        #expect(again.decision.failure != nil)
        #expect(again.actions.count == 1)
    }

    @Test func successBindsWithTheUIDAndRecordsScheduled() throws {
        var scheduler = Fixture.scheduler(nodes: [Fixture.node("n1")])
        scheduler.onPodEvent(Fixture.pod("web", cpu: "1"), now: 0)
        let optionalAttempt = scheduler.scheduleOne(now: 0, wallClock: 0)
        let attempt = try #require(optionalAttempt)
        let reference = ObjectReference(.standard("pods"), namespace: "default", name: "web")
        #expect(attempt.actions == [
            .bind(pod: reference, node: "n1", uid: "uid-web"),
            .event(involved: reference, type: "Normal", reason: "Scheduled", message: "Successfully assigned default/web to n1"),
        ])
    }

    @Test func longMessagesAreTruncatedInTheEventOnly() throws {
        let nodes = (0..<40).map { Fixture.node("n\($0)", taints: [Taint(key: "key-\($0)-" + String(repeating: "x", count: 30), effect: .noSchedule)]) }
        var scheduler = Fixture.scheduler(nodes: nodes)
        scheduler.onPodEvent(Fixture.pod("p"), now: 0)
        let optionalAttempt = scheduler.scheduleOne(now: 0, wallClock: 0)
        let attempt = try #require(optionalAttempt)
        let full = try #require(attempt.decision.failure?.message)
        #expect(full.utf8.count > 1024)
        guard case .event(_, _, _, let eventMessage)? = attempt.actions.first else {
            Issue.record("expected an event first")
            return
        }
        #expect(eventMessage.utf8.count == 1024 && eventMessage.hasSuffix("..."))
    }
}
