//! The typed views read from JSON and the cache's per-node sums: requests as Kubernetes adds
//! them, assumed pods confirmed, forgotten and expired.

import Base
import KubeAPI
import KubeScheduling
import Testing
import Wire

@Suite struct CacheTests {
    @Test func requestsSumContainersAndMaxInitContainersWithSidecars() throws {
        let json = Fixture.parse(#"""
            {"metadata":{"name":"p"},"spec":{
              "initContainers":[
                {"name":"sidecar","restartPolicy":"Always","resources":{"requests":{"cpu":"100m","memory":"64Mi"}}},
                {"name":"migrate","resources":{"requests":{"cpu":"2","memory":"1Gi"}}}],
              "containers":[
                {"name":"a","resources":{"requests":{"cpu":"500m","memory":"256Mi"}}},
                {"name":"b","resources":{"requests":{"cpu":"250m"}}}],
              "overhead":{"cpu":"10m"}}}
            """#)
        let pod = try #require(SchedulingPod(json: json))
        // max(containers 750m + sidecar 100m, migrate 2 + sidecar 100m) + overhead 10m.
        #expect(pod.requests.milliCPU == 2110)
        #expect(pod.requests.memory == (1024 + 64) * 1024 * 1024)
        // Container b names no memory, so 200Mi counts for it when scoring.
        #expect(pod.nonZeroRequests.memory == (1024 + 64) * 1024 * 1024)
        let empty = try #require(SchedulingPod(json: Fixture.pod("empty")))
        #expect(empty.requests.isZero)
        #expect(empty.nonZeroRequests.milliCPU == 100 && empty.nonZeroRequests.memory == 200 * 1024 * 1024)
        let explicitZero = try #require(SchedulingPod(json: Fixture.pod("zero", cpu: "0", memory: "0")))
        #expect(explicitZero.nonZeroRequests.milliCPU == 0)
    }

    @Test func nodeViewReadsAllocatableTaintsAndCordon() throws {
        let json = Fixture.node("n1", cpu: "3500m", memory: "2Gi", pods: 30, taints: [Taint(key: "k", value: "v", effect: .noExecute)], unschedulable: true)
        let node = try #require(SchedulingNode(json: json))
        #expect(node.allocatable.milliCPU == 3500 && node.allocatable.memory == 2 * 1024 * 1024 * 1024 && node.allowedPodCount == 30)
        #expect(node.taints == [Taint(key: "k", value: "v", effect: .noExecute)] && node.unschedulable)
        #expect(SchedulingNode(json: .object([:])) == nil)
    }

    @Test func boundPodsAddUpAndLeaveWhenDeletedOrFinished() throws {
        var cache = SchedulerCache()
        cache.upsertNode(Fixture.node("n1"))
        let change = cache.upsertPod(Fixture.pod("a", cpu: "1", memory: "1Gi", nodeName: "n1"))
        #expect(change == .placed(node: "n1"))
        let change2 = cache.upsertPod(Fixture.pod("b", cpu: "500m", nodeName: "n1"))
        #expect(change2 == .placed(node: "n1"))
        let change3 = cache.upsertPod(Fixture.pod("pending", cpu: "1"))
        #expect(change3 == .ignored)
        #expect(cache.node(named: "n1")?.requested.milliCPU == 1500)
        #expect(cache.node(named: "n1")?.podCount == 2)
        var finished = Fixture.pod("a", cpu: "1", memory: "1Gi", nodeName: "n1")
        if case .object(var object) = finished {
            object["status"] = .object(["phase": .string("Succeeded")])
            finished = .object(object)
        }
        let change4 = cache.upsertPod(finished)
        #expect(change4 == .removed(node: "n1"))
        #expect(cache.node(named: "n1")?.requested.milliCPU == 500)
        let removed = cache.removePod(namespace: "default", name: "b")
        #expect(removed?.node == "n1")
        #expect(cache.node(named: "n1")?.requested == ResourceAmounts())
        #expect(cache.podCount == 0)
    }

    @Test func assumedPodsAreConfirmedForgottenOrExpired() throws {
        var cache = SchedulerCache(assumedPodExpiry: 30_000_000_000)
        cache.upsertNode(Fixture.node("n1"))
        let pod = try #require(SchedulingPod(json: Fixture.pod("p", cpu: "1")))
        cache.assume(pod: pod, node: "n1", now: 0)
        #expect(cache.isAssumed(namespace: "default", name: "p"))
        #expect(cache.node(named: "n1")?.requested.milliCPU == 1000)
        let change = cache.upsertPod(Fixture.pod("p", cpu: "1", nodeName: "n1"))
        #expect(change == .placed(node: "n1"))
        #expect(!cache.isAssumed(namespace: "default", name: "p"))
        #expect(cache.node(named: "n1")?.requested.milliCPU == 1000)
        // Forgetting a confirmed pod does nothing.
        cache.forget(namespace: "default", name: "p")
        #expect(cache.podCount == 1)

        let other = try #require(SchedulingPod(json: Fixture.pod("q", cpu: "1")))
        cache.assume(pod: other, node: "n1", now: 0)
        cache.forget(namespace: "default", name: "q")
        #expect(cache.node(named: "n1")?.requested.milliCPU == 1000)
        cache.assume(pod: other, node: "n1", now: 0)
        let expired = cache.expireAssumedPods(now: 29_000_000_000)
        #expect(expired == [])
        let expired2 = cache.expireAssumedPods(now: 30_000_000_000)
        #expect(expired2 == ["default/q"])
        #expect(cache.podCount == 1)
    }

    @Test func podsOnAnUnknownNodeCountButTheNodeIsNoCandidate() throws {
        var scheduler = Fixture.scheduler(nodes: [], bound: [Fixture.pod("early", cpu: "1", nodeName: "late")])
        #expect(scheduler.cache.node(named: "late")?.node == nil)
        let beforeNode = scheduler.decide(try #require(SchedulingPod(json: Fixture.pod("p"))))
        #expect(beforeNode.failure?.nodeCount == 0)
        scheduler.onNodeEvent(Fixture.node("late", cpu: "1"), now: 0)
        let decision = scheduler.decide(try #require(SchedulingPod(json: Fixture.pod("p", cpu: "500m"))))
        #expect(decision.failure?.rejections["late"]?.reasons == ["Insufficient cpu"])
    }

    @Test func nodeEventsRequeuePodsTheNewNodeCanTake() throws {
        var scheduler = Fixture.scheduler(nodes: [Fixture.node("small", cpu: "1")])
        scheduler.onPodEvent(Fixture.pod("big", cpu: "2"), now: 0)
        let attempt = scheduler.scheduleOne(now: 0, wallClock: 0)
        #expect(attempt?.decision.node == nil)
        scheduler.onNodeEvent(Fixture.node("small", cpu: "1"), now: 1)
        #expect(scheduler.queue.location(ofKey: "default/big") == .unschedulable)
        scheduler.onNodeEvent(Fixture.node("large", cpu: "8"), now: 2_000_000_000)
        let attempt2 = scheduler.scheduleOne(now: 2_000_000_000, wallClock: 0)
        #expect(attempt2?.decision.node == "large")
        // The watch confirms the binding: the pod leaves the queue and stays counted.
        scheduler.onPodEvent(Fixture.pod("big", cpu: "2", nodeName: "large"), now: 3)
        #expect(scheduler.queue.count == 0)
        #expect(!scheduler.cache.isAssumed(namespace: "default", name: "big"))
        #expect(scheduler.cache.node(named: "large")?.requested.milliCPU == 2000)
    }
}
