import Base
import KubeAPI
import KubeControllers
import Testing
import Wire

/// Health judging, status writes, taints and pod readiness of the node-lifecycle controller,
/// driven on the Kubernetes timeline: monitor every 5 s, leases renewed every 10 s, grace 50 s.
@Suite struct NodeLifecycleTests {
    @Test func defaultsAreKubernetes132() {
        let parameters = NodeLifecycleParameters()
        #expect(parameters.nodeMonitorPeriod == 5 * Time.second)
        #expect(parameters.nodeMonitorGracePeriod == 50 * Time.second)
        #expect(parameters.nodeStartupGracePeriod == 60 * Time.second)
        #expect(parameters.nodeEvictionRate == 0.1)
        #expect(parameters.secondaryNodeEvictionRate == 0.01)
        #expect(parameters.largeClusterSizeThreshold == 50)
        #expect(parameters.unhealthyZoneThreshold == 0.55)
    }

    @Test func silentNodeBecomesUnknownAfterGraceAndWithinOnePeriodMore() throws {
        var harness = NodeLifecycleHarness()
        harness.addNode(Fixture.node("quiet"))
        harness.addNode(Fixture.node("steady"))
        harness.run(until: 100)
        // The kubelet of "quiet" stops renewing; its last renewal was at 93 s, seen at the 95 s tick.
        harness.renewing["quiet"] = nil
        harness.run(until: 200)
        let unknownAt = try #require(harness.unknownWrites("quiet").first)
        let lastObserved: Int64 = 95
        let grace: Int64 = 50
        #expect(unknownAt > lastObserved + grace)
        #expect(unknownAt <= lastObserved + grace + 5)
        #expect(harness.unknownWrites("quiet").count == 1, "the Unknown status is written once")
        #expect(harness.unknownWrites("steady").isEmpty)
        #expect(harness.readyStatus("steady") == "True")

        let node = try #require(harness.cluster.nodes["quiet"])
        for type in ["Ready", "MemoryPressure", "DiskPressure", "PIDPressure"] {
            let condition = try #require(node.arrayMember("status", "conditions").first { $0.stringMember("type") == type })
            #expect(condition.stringMember("status") == "Unknown")
            #expect(condition.stringMember("reason") == "NodeStatusUnknown")
            #expect(condition.stringMember("message") == "Kubelet stopped posting node status.")
            #expect(condition.stringMember("lastTransitionTime") == KubeTime.format(Fixture.wallStart + unknownAt))
            // The heartbeat is the kubelet's; the controller leaves it as it was.
            #expect(condition.stringMember("lastHeartbeatTime") == KubeTime.format(Fixture.wallStart))
        }
        let notReadyEvents = harness.cluster.events.filter { $0.reason == "NodeNotReady" && $0.involved == "nodes/quiet" }
        #expect(notReadyEvents.map(\.message) == ["Node quiet status is now: NodeNotReady"])
        #expect(harness.cluster.events.filter { $0.reason == "RegisteredNode" }.map(\.message).sorted()
            == ["Node quiet event: Registered Node quiet in Controller", "Node steady event: Registered Node steady in Controller"])
    }

    @Test func nodeThatKeepsRenewingIsNeverTouched() {
        var harness = NodeLifecycleHarness()
        for name in ["a1", "a2", "a3"] { harness.addNode(Fixture.node(name)) }
        harness.run(until: 900)
        let writes = harness.history.filter { if case .event = $0.action { return false } else { return true } }
        #expect(writes.isEmpty, "healthy nodes get no writes: \(writes.map(\.action))")
        for name in ["a1", "a2", "a3"] {
            #expect(harness.taints(name).isEmpty, "healthy \(name) must not be tainted")
            #expect(harness.readyStatus(name) == "True")
        }
        #expect(harness.controller.zoneViews.map(\.state) == [.normal])
    }

    @Test func skewedKubeletClocksStillCountAsRenewals() {
        var harness = NodeLifecycleHarness()
        harness.addNode(Fixture.node("behind"), renewing: -3600)
        harness.addNode(Fixture.node("ahead"), renewing: 7200)
        harness.addNode(Fixture.node("exact"))
        harness.run(until: 600)
        for name in ["behind", "ahead", "exact"] {
            #expect(harness.unknownWrites(name).isEmpty, "\(name) renews on its own clock and stays Ready")
        }
    }

    @Test func aLeaseWhoseRenewTimeDoesNotChangeIsSilenceWhateverItsValue() throws {
        var harness = NodeLifecycleHarness()
        harness.addNode(Fixture.node("frozen"), renewing: nil)
        harness.addNode(Fixture.node("other"))
        // A renew time an hour in the future that never moves: fresh-looking, but no renewal.
        harness.cluster.renewLease("frozen", renewMicros: (Fixture.wallStart + 3600) * 1_000_000)
        harness.run(until: 120)
        let unknownAt = try #require(harness.unknownWrites("frozen").first)
        // First seen at the 5 s tick: Unknown at the first tick past 5 + 50 s.
        #expect(unknownAt == 60)
        #expect(harness.unknownWrites("other").isEmpty)
    }

    @Test func nodeThatNeverPostedStatusGetsTheStartupGraceFromCreation() throws {
        var harness = NodeLifecycleHarness()
        harness.addNode(Fixture.node("newborn", ready: nil, created: Fixture.wallStart), renewing: nil)
        harness.addNode(Fixture.node("other"))
        harness.run(until: 120)
        let unknownAt = try #require(harness.unknownWrites("newborn").first)
        #expect(unknownAt == 65, "created at 0: the first tick past the 60 s startup grace")
        let ready = try #require(harness.cluster.nodes["newborn"]!.arrayMember("status", "conditions").first {
            $0.stringMember("type") == "Ready"
        })
        #expect(ready.stringMember("reason") == "NodeStatusNeverUpdated")
        #expect(ready.stringMember("message") == "Kubelet never posted node status.")
    }

    @Test func taintsFollowReadyUnknownThenFalseThenTrue() throws {
        var harness = NodeLifecycleHarness()
        for name in ["n1", "n2", "n3"] { harness.addNode(Fixture.node(name)) }
        harness.run(until: 20)
        harness.renewing["n1"] = nil
        harness.run(until: 90)
        #expect(harness.readyStatus("n1") == "Unknown")
        #expect(harness.noExecuteTaints("n1").map(\.key) == [Taint.unreachableKey])
        #expect(harness.taints("n1").filter { $0.effect == .noSchedule }.map(\.key) == [Taint.unreachableKey])
        let unreachable = try #require(harness.noExecuteTaints("n1").first)
        #expect(unreachable.timeAdded != nil)

        // The kubelet returns but reports NotReady: both taints swap to not-ready on the next pass.
        harness.renewing["n1"] = 0
        harness.kubeletPosts("n1", ready: "False")
        harness.run(until: 100)
        #expect(harness.noExecuteTaints("n1").map(\.key) == [Taint.notReadyKey])
        #expect(harness.taints("n1").filter { $0.effect == .noSchedule }.map(\.key) == [Taint.notReadyKey])

        harness.kubeletPosts("n1", ready: "True")
        harness.run(until: 110)
        #expect(harness.taints("n1").isEmpty, "Ready again: every controller taint lifted")
        for name in ["n2", "n3"] { #expect(harness.taints(name).isEmpty) }
        #expect(harness.cluster.conflicts == 0)
    }

    @Test func podsOfALostNodeAreMarkedNotReady() throws {
        var harness = NodeLifecycleHarness()
        for name in ["lost", "fine1", "fine2"] { harness.addNode(Fixture.node(name)) }
        harness.cluster.add(pod: Fixture.pod("web-1", node: "lost"))
        harness.cluster.add(pod: Fixture.pod("web-2", node: "lost", ready: "False"))
        harness.cluster.add(pod: Fixture.pod("web-3", node: "fine1"))
        harness.cluster.add(pod: Fixture.pod("pending", node: nil))
        harness.run(until: 10)
        harness.renewing["lost"] = nil
        harness.run(until: 80)
        let podWrites = harness.history.compactMap { entry -> String? in
            guard case .update(let reference, _, "status") = entry.action, reference.resource.plural == "pods" else { return nil }
            return reference.name
        }
        #expect(podWrites == ["web-1"], "only the Ready pod of the lost node is written")
        let web1 = try #require(harness.cluster.pods["default/web-1"])
        let ready = try #require(web1.arrayMember("status", "conditions").first { $0.stringMember("type") == "Ready" })
        #expect(ready.stringMember("status") == "False")
        #expect(harness.cluster.pods["default/web-3"]!.arrayMember("status", "conditions").first?.stringMember("status") == "True")
        let podEvents = harness.cluster.events.filter { $0.involved.hasPrefix("pods/") }
        #expect(podEvents.map { "\($0.involved) \($0.type) \($0.reason) \($0.message)" }
            == ["pods/default/web-1 Warning NodeNotReady Node is not ready"])
    }

    @Test func aStaleStatusWriteIsNotRepeatedWhileInFlight() {
        var controller = NodeLifecycleController()
        let node = Fixture.node("n1")
        let others = [Fixture.node("n2"), Fixture.node("n3")]
        var writes = 0
        // The cache never shows the controller's write: it must not resend before the retry interval.
        for second in stride(from: Int64(0), through: 70, by: 5) {
            let actions = controller.monitor(nodes: [node] + others, leases: [], pods: [], now: second * Time.second,
                wallNow: Fixture.wallStart + second)
            writes += actions.filter { if case .update(let reference, _, _) = $0 { reference.name == "n1" } else { false } }.count
        }
        // Without leases every node goes silent; n1's one write is at 55 s, a resend at 65 s.
        #expect(writes == 2)
    }

    @Test func aRestartedControllerLiftsAndReappliesNoExecuteTaints() throws {
        // As in Kubernetes, a controller that first sees a node lifts its NoExecute taints; one
        // still Unknown is tainted again as tokens allow, with a new timeAdded.
        let old = KubeTime.format(Fixture.wallStart - 200)
        var nodes: [JSONValue] = []
        for name in ["n1", "n2"] {
            nodes.append(Fixture.node(name, ready: "Unknown", taints: [
                Taint(key: Taint.unreachableKey, effect: .noSchedule, timeAdded: old),
                Taint(key: Taint.unreachableKey, effect: .noExecute, timeAdded: old),
            ]))
        }
        nodes.append(Fixture.node("n3"))
        var controller = NodeLifecycleController()
        let actions = controller.monitor(nodes: nodes, leases: [], pods: [], now: 0, wallNow: Fixture.wallStart)
        var patched: [String: [Taint]] = [:]
        for action in actions {
            if case .mergePatch(let reference, let patch, nil) = action {
                patched[reference.name] = patch.arrayMember("spec", "taints").compactMap(Taint.init(json:))
                #expect(patch.stringMember("metadata", "resourceVersion") == "1", "taint writes are guarded by the version read")
            }
        }
        #expect(patched.keys.sorted() == ["n1", "n2"])
        let n1 = try #require(patched["n1"]).first { $0.effect == .noExecute }
        #expect(n1?.timeAdded == KubeTime.format(Fixture.wallStart), "re-tainted at once, with the time now")
        #expect(try #require(patched["n2"]).allSatisfy { $0.effect == .noSchedule }, "no token left: lifted, queued")
        #expect(controller.nodeViews.map(\.queuedForTainting) == [false, true, false])
        #expect(controller.nextTaintingAttempt(now: 0) == 10 * Time.second)
    }

    @Test func nodeChangesReconcileNoScheduleTaintsAtOnce() throws {
        var controller = NodeLifecycleController()
        var node = Fixture.node("n1", ready: "False", taints: [Taint(key: Taint.unreachableKey, effect: .noSchedule)])
        node.set("spec.unschedulable", .bool(true))
        let actions = controller.nodeChanged(node, now: 0, wallNow: Fixture.wallStart)
        #expect(actions.count == 1)
        guard case .mergePatch(let reference, let patch, nil)? = actions.first else {
            Issue.record("expected one merge patch, got \(actions)")
            return
        }
        #expect(reference.path() == "/api/v1/nodes/n1")
        let keys = patch.arrayMember("spec", "taints").compactMap(Taint.init(json:)).map(\.key).sorted()
        #expect(keys == [Taint.notReadyKey, Taint.unschedulableKey])
        // A healthy node with nothing to change gets no write.
        #expect(controller.nodeChanged(Fixture.node("n2"), now: 0, wallNow: Fixture.wallStart).isEmpty)
    }

    @Test func viewsReportNodesAndZones() {
        var harness = NodeLifecycleHarness()
        harness.addNode(Fixture.node("x1", zone: "z1"))
        harness.addNode(Fixture.node("x2", zone: "z2"))
        harness.run(until: 30)
        let views = harness.controller.nodeViews
        #expect(views.map(\.name) == ["x1", "x2"])
        #expect(views.map(\.zone) == ["r/z1", "r/z2"])
        #expect(views.allSatisfy { $0.readyStatus == "True" && !$0.queuedForTainting })
        #expect(views.allSatisfy { $0.lastHeardFrom == 25 * Time.second }, "last renewal (23 s) seen at the 25 s tick")
        #expect(harness.controller.zoneViews.map(\.name) == ["r/z1", "r/z2"])
        #expect(harness.controller.zoneViews.allSatisfy { $0.state == .normal && $0.taintingRate == 0.1 && $0.nodes == 1 })
        #expect(!harness.controller.isInMasterDisruptionMode)
    }
}
