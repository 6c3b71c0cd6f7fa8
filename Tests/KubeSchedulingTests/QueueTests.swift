//! The scheduling queue: order, backoff timings, requeue on cluster events and after five
//! minutes, the bound, and which pods it takes at all.

import Base
import KubeAPI
import KubeScheduling
import Testing
import Wire

@Suite struct QueueTests {
    private let second: Nanoseconds = 1_000_000_000

    private func pod(_ name: String, priority: Int64 = 0, spec: JSONObject = [:]) throws -> SchedulingPod {
        try #require(SchedulingPod(json: Fixture.pod(name, priority: priority, spec: spec)))
    }

    /// A queue holding pod `p` as unschedulable after one attempt rejected by `plugins` at 0.
    private func queueAfterOneFailure(_ plugins: Set<SchedulerPlugin>) throws -> SchedulingQueue {
        var queue = SchedulingQueue()
        queue.add(try pod("p"), now: 0)
        let popped = queue.popReady(now: 0)
        queue.requeueUnschedulable(try #require(popped), plugins: plugins, now: 0)
        return queue
    }

    @Test func activeQueuePopsByPriorityThenArrival() throws {
        var queue = SchedulingQueue()
        queue.add(try pod("low-early"), now: 1)
        queue.add(try pod("high", priority: 100), now: 2)
        queue.add(try pod("low-late"), now: 3)
        let popped = queue.popReady(now: 10)
        #expect(popped?.pod.name == "high")
        let popped2 = queue.popReady(now: 10)
        #expect(popped2?.pod.name == "low-early")
        let popped3 = queue.popReady(now: 10)
        #expect(popped3?.pod.name == "low-late")
        let popped4 = queue.popReady(now: 10)
        #expect(popped4 == nil)
    }

    @Test func backoffDoublesFromOneSecondToTen() throws {
        let queue = SchedulingQueue()
        #expect((0...6).map { queue.backoffDuration(attempts: $0) / second } == [0, 1, 2, 4, 8, 10, 10])
        var configured = SchedulerConfiguration()
        configured.podInitialBackoff = 3 * second
        configured.podMaxBackoff = 20 * second
        #expect(SchedulingQueue(configuration: configured).backoffDuration(attempts: 3) == 12 * second)
    }

    @Test func failedPodWaitsOutItsBackoffAfterAClusterEvent() throws {
        var queue = try queueAfterOneFailure([.nodeResourcesFit])
        #expect(queue.location(ofKey: "default/p") == .unschedulable)
        let popped = queue.popReady(now: 10 * second)
        #expect(popped == nil)
        let moved = queue.moveAllOnClusterChange(now: 10 * second)
        #expect(moved == 1)
        // One attempt: one second of backoff, long over by then.
        #expect(queue.location(ofKey: "default/p") == .active)
        let secondPop = queue.popReady(now: 10 * second)
        let pending = try #require(secondPop)
        #expect(pending.attempts == 2)
        queue.requeueUnschedulable(pending, plugins: [.nodeResourcesFit], now: 10 * second)
        queue.moveAllOnClusterChange(now: 10 * second + 1)
        #expect(queue.location(ofKey: "default/p") == .backoff)
        let popped2 = queue.popReady(now: 12 * second - 1)
        #expect(popped2 == nil)
        #expect(queue.nextWakeup(now: 11 * second) == 12 * second)
        let popped3 = queue.popReady(now: 12 * second)
        #expect(popped3?.attempts == 3)
    }

    @Test func eventsOnlyMovePodsTheyMayHelp() throws {
        var queue = SchedulingQueue()
        queue.add(try pod("short"), now: 0)
        queue.add(try pod("tainted"), now: 0)
        for plugin in [SchedulerPlugin.nodeResourcesFit, .taintToleration] {
            let optionalPending = queue.popReady(now: 0)
            let pending = try #require(optionalPending)
            queue.requeueUnschedulable(pending, plugins: [pending.pod.name == "short" ? .nodeResourcesFit : plugin], now: 0)
        }
        let moved = queue.moveOnClusterChange(now: 5 * second) { $0.unschedulablePlugins.contains(.nodeResourcesFit) }
        #expect(moved == 1)
        #expect(queue.location(ofKey: "default/short") == .active)
        #expect(queue.location(ofKey: "default/tainted") == .unschedulable)
    }

    @Test func unschedulablePodsReturnAfterFiveMinutes() throws {
        var queue = try queueAfterOneFailure([.nodeAffinity])
        let popped = queue.popReady(now: 299 * second)
        #expect(popped == nil)
        // Flushes run every 30 s: the one at 329 s is the first past the five minutes.
        let popped2 = queue.popReady(now: 301 * second)
        #expect(popped2 == nil)
        let popped3 = queue.popReady(now: 329 * second)
        #expect(popped3?.pod.name == "p")
    }

    @Test func anEventDuringTheAttemptSendsTheFailureToBackoff() throws {
        var queue = SchedulingQueue()
        queue.add(try pod("p"), now: 0)
        let optionalPending = queue.popReady(now: 0)
        let pending = try #require(optionalPending)
        queue.moveAllOnClusterChange(now: 0)
        queue.requeueUnschedulable(pending, plugins: [.nodeResourcesFit], now: 0)
        #expect(queue.location(ofKey: "default/p") == .backoff)
    }

    @Test func onlyThisSchedulersUnboundLivePodsAreQueued() throws {
        var queue = SchedulingQueue()
        let admission = queue.add(try pod("other", spec: ["schedulerName": .string("my-scheduler")]), now: 0)
        #expect(admission == .notPending)
        let admission2 = queue.add(try pod("bound", spec: ["nodeName": .string("n1")]), now: 0)
        #expect(admission2 == .notPending)
        var deleting = Fixture.pod("deleting")
        if case .object(var object) = deleting, case .object(var metadata)? = object["metadata"] {
            metadata["deletionTimestamp"] = .string("2025-01-01T00:00:00Z")
            object["metadata"] = .object(metadata)
            deleting = .object(object)
        }
        let admission3 = queue.add(try #require(SchedulingPod(json: deleting)), now: 0)
        #expect(admission3 == .notPending)
        let admission4 = queue.add(try pod("mine"), now: 0)
        #expect(admission4 == .queued)
        let admission5 = queue.update(try pod("mine", spec: ["nodeName": .string("n1")]), now: 0)
        #expect(admission5 == .removed)
        #expect(queue.count == 0)
    }

    @Test func gatedPodsWaitUntilTheirGatesAreRemoved() throws {
        var queue = SchedulingQueue()
        queue.add(try pod("gated", spec: ["schedulingGates": Fixture.parse(#"[{"name":"example.com/wait"}]"#)]), now: 0)
        let popped = queue.popReady(now: 0)
        #expect(popped == nil)
        queue.update(try pod("gated"), now: 1)
        let popped2 = queue.popReady(now: 1)
        #expect(popped2?.pod.name == "gated")
    }

    @Test func aFullQueueRefusesNewPods() throws {
        var configuration = SchedulerConfiguration()
        configuration.queueCapacity = 2
        var queue = SchedulingQueue(configuration: configuration)
        let admission = queue.add(try pod("a"), now: 0)
        #expect(admission == .queued)
        let admission2 = queue.add(try pod("b"), now: 0)
        #expect(admission2 == .queued)
        let admission3 = queue.add(try pod("c"), now: 0)
        #expect(admission3 == .full)
        let admission4 = queue.add(try pod("a", priority: 5), now: 0)
        #expect(admission4 == .updated)
        queue.delete(key: "default/b")
        let admission5 = queue.add(try pod("c"), now: 0)
        #expect(admission5 == .queued)
    }

    @Test func statusOnlyUpdatesDoNotRequeueAnUnschedulablePod() throws {
        var queue = try queueAfterOneFailure([.nodeAffinity])
        var withStatus = try pod("p")
        withStatus.conditions = [.object(["type": .string("PodScheduled"), "status": .string("False")])]
        queue.update(withStatus, now: 1)
        #expect(queue.location(ofKey: "default/p") == .unschedulable)
        queue.update(try pod("p", spec: ["nodeSelector": .object(["disk": .string("ssd")])]), now: 2 * second)
        #expect(queue.location(ofKey: "default/p") == .active)
    }
}
