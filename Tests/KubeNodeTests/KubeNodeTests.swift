import KubeAPI
import KubeNode
import Testing
import Wire

@Suite struct NodeIdentityTests {
    @Test func theNodeObjectIsReadyWithItsCapacityLabelsAndTaints() {
        let identity = NodeIdentity(name: "worker-1", labels: ["topology.kubernetes.io/zone": "a"],
            taints: [Taint(key: "dedicated", value: "db", effect: .noSchedule)], internalIP: "10.0.0.5", podCIDR: "10.244.1.0/24")
        let node = identity.nodeObject(wallNow: 1_800_000_000)
        #expect(NodeConditions.isReady(node))
        #expect(node.stringMember("metadata", "labels", "kubernetes.io/hostname") == "worker-1")
        #expect(node.stringMember("metadata", "labels", "topology.kubernetes.io/zone") == "a")
        #expect(node.stringMember("status", "allocatable", "pods") == "110")
        #expect(node.stringMember("spec", "podCIDR") == "10.244.1.0/24")
        #expect(Taint.of(node: node) == identity.taints)
        #expect(node.arrayMember("status", "addresses").first?.stringMember("address") == "10.0.0.5")
    }

    @Test func aHeartbeatKeepsTransitionTimesOfConditionsThatDidNotChange() throws {
        let node = NodeIdentity(name: "w", internalIP: "10.0.0.5").nodeObject(wallNow: 100)
        let patch = NodeConditions.heartbeatPatch(current: node, wallNow: 200)
        let ready = try #require(patch.arrayMember("status", "conditions").first { $0.stringMember("type") == "Ready" })
        #expect(ready.stringMember("lastTransitionTime") == KubeTime.format(100))
        #expect(ready.stringMember("lastHeartbeatTime") == KubeTime.format(200))
    }

    @Test func aHeartbeatAfterUnknownIsANewTransition() throws {
        var node = NodeIdentity(name: "w", internalIP: "10.0.0.5").nodeObject(wallNow: 100)
        node.set("status.conditions", .array([.object(["type": .string("Ready"), "status": .string("Unknown"),
            "lastTransitionTime": .string(KubeTime.format(150))])]))
        #expect(!NodeConditions.isReady(node))
        let patch = NodeConditions.heartbeatPatch(current: node, wallNow: 200)
        let ready = try #require(patch.arrayMember("status", "conditions").first { $0.stringMember("type") == "Ready" })
        #expect(ready.stringMember("status") == "True")
        #expect(ready.stringMember("lastTransitionTime") == KubeTime.format(200))
    }
}

@Suite struct NodeLeaseTests {
    @Test func microTimeHasSixDigitsAndRoundTrips() {
        #expect(MicroTime.format(microseconds: 1_800_000_000_000_123) == "2027-01-15T08:00:00.000123Z")
        #expect(MicroTime.parse("2027-01-15T08:00:00.000123Z") == 1_800_000_000_000_123)
        #expect(MicroTime.parse("2027-01-15T08:00:00Z") == 1_800_000_000_000_000)
        #expect(MicroTime.parse("2027-01-15T08:00:00.5Z") == 1_800_000_000_500_000)
        #expect(MicroTime.parse("2027-01-15T08:00:00.abcZ") == nil)
        #expect(MicroTime.parse("yesterday") == nil)
    }

    @Test func aRenewalMovesRenewTimeAndKeepsTheResourceVersion() {
        let settings = NodeLeaseSettings()
        #expect(settings.renewInterval == 10)
        var lease = NodeLease.object(node: "w", nodeUID: "u-1", settings: settings, wallMicros: 1_000_000)
        lease.set("metadata.resourceVersion", .string("42"))
        let renewed = NodeLease.renewed(lease, node: "w", settings: settings, wallMicros: 11_000_000)
        #expect(renewed.stringMember("metadata", "resourceVersion") == "42")
        #expect(renewed.stringMember("spec", "renewTime") == MicroTime.format(microseconds: 11_000_000))
        #expect(renewed.intMember("spec", "leaseDurationSeconds") == 40)
        #expect(lease.arrayMember("metadata", "ownerReferences").first?.stringMember("uid") == "u-1")
        #expect(NodeLease.reference(node: "w").path() == "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/w")
    }
}

@Suite struct HollowPodsTests {
    func pod(_ name: String, uid: String, node: String = "w1", deleting: Bool = false, status: JSONObject? = nil) -> JSONValue {
        var metadata: JSONObject = ["name": .string(name), "namespace": .string("default"), "uid": .string(uid)]
        if deleting { metadata["deletionTimestamp"] = .string(KubeTime.format(1_000)) }
        var object: JSONObject = [
            "metadata": .object(metadata),
            "spec": .object(["nodeName": .string(node), "containers": .array([.object(["name": .string("c"), "image": .string("web")])])]),
        ]
        if let status { object["status"] = .object(status) }
        return .object(object)
    }

    /// The status the apiserver shows once a report took: Running, Ready, with the address.
    func runningStatus(_ ip: String, ready: Bool = true) -> JSONObject {
        ["phase": .string("Running"), "podIP": .string(ip),
         "conditions": .array([.object(["type": .string("Ready"), "status": .string(ready ? "True" : "False")])])]
    }

    func statusPatch(_ action: ObjectAction) -> JSONValue? {
        if case .mergePatch(_, let patch, "status") = action { return patch }
        return nil
    }

    @Test func aBoundPodIsReportedRunningOnceWithAnAddressFromTheRange() throws {
        var pods = HollowPods(node: "w1", hostIP: "10.0.0.5", podCIDR: "10.244.1.0/24")
        let first = pods.sync(pods: [pod("a", uid: "1"), pod("elsewhere", uid: "2", node: "w2")], wallNow: 1_000)
        #expect(first.count == 1)
        let patch = try #require(first.first.flatMap(statusPatch))
        #expect(patch.stringMember("status", "phase") == "Running")
        #expect(patch.stringMember("status", "podIP") == "10.244.1.2", "the .1 address is the bridge's")
        #expect(patch.stringMember("status", "hostIP") == "10.0.0.5")
        #expect(patch.arrayMember("status", "containerStatuses").first?.boolMember("ready") == true)
        #expect(pods.sync(pods: [pod("a", uid: "1")], wallNow: 1_001).isEmpty, "reported twice")
        // The report was lost: the apiserver still shows the pod Pending after the retry interval.
        #expect(pods.sync(pods: [pod("a", uid: "1")], wallNow: 1_005).count == 1, "a lost report was not sent again")
        // Once the apiserver shows it Running, nothing more is sent.
        let shown = pod("a", uid: "1", status: runningStatus("10.244.1.2"))
        #expect(pods.sync(pods: [shown], wallNow: 1_020).isEmpty)
    }

    @Test func aPodTheNodeControllerMarkedNotReadyIsReportedReadyAgain() throws {
        var pods = HollowPods(node: "w1", hostIP: "10.0.0.5", podCIDR: "10.244.1.0/24")
        _ = pods.sync(pods: [pod("a", uid: "1")], wallNow: 1_000)
        #expect(pods.sync(pods: [pod("a", uid: "1", status: runningStatus("10.244.1.2"))], wallNow: 1_001).isEmpty)
        // The node was silent; the node lifecycle controller set Ready=False on its pods.
        let marked = pod("a", uid: "1", status: runningStatus("10.244.1.2", ready: false))
        let patch = try #require(pods.sync(pods: [marked], wallNow: 1_010).first.flatMap(statusPatch))
        #expect(patch.arrayMember("status", "conditions").contains {
            $0.stringMember("type") == "Ready" && $0.stringMember("status") == "True"
        })
        #expect(patch.stringMember("status", "podIP") == "10.244.1.2", "the pod keeps its address")
        // A kubelet that restarted finds the pod marked too, and reports it at once.
        var restarted = HollowPods(node: "w1", hostIP: "10.0.0.5", podCIDR: "10.244.1.0/24")
        #expect(restarted.sync(pods: [marked], wallNow: 1_011).count == 1)
    }

    @Test func deletionIsFinishedWithGraceZeroAndTheUidAndRetriedLater() {
        var pods = HollowPods(node: "w1", hostIP: "10.0.0.5", podCIDR: "10.244.1.0/24")
        _ = pods.sync(pods: [pod("a", uid: "1")], wallNow: 1_000)
        let reference = ObjectReference(.standard("pods"), namespace: "default", name: "a")
        #expect(pods.sync(pods: [pod("a", uid: "1", deleting: true)], wallNow: 1_010) == [.delete(reference, uid: "1", gracePeriodSeconds: 0)])
        #expect(pods.sync(pods: [pod("a", uid: "1", deleting: true)], wallNow: 1_012).isEmpty)
        #expect(pods.sync(pods: [pod("a", uid: "1", deleting: true)], wallNow: 1_016).count == 1)
    }

    @Test func addressesOfGonePodsAreReused() throws {
        var pods = HollowPods(node: "w1", hostIP: "10.0.0.5", podCIDR: "10.244.1.0/24")
        _ = pods.sync(pods: [pod("a", uid: "1"), pod("b", uid: "2")], wallNow: 1_000)
        #expect(pods.addressesInUse == 2)
        _ = pods.sync(pods: [pod("b", uid: "2")], wallNow: 1_001)
        #expect(pods.addressesInUse == 1)
        let patch = try #require(pods.sync(pods: [pod("b", uid: "2"), pod("c", uid: "3")], wallNow: 1_002).first.flatMap(statusPatch))
        #expect(patch.stringMember("status", "podIP") == "10.244.1.2")
    }

    @Test func aPodAlreadyRunningKeepsItsAddressAfterARestart() throws {
        var pods = HollowPods(node: "w1", hostIP: "10.0.0.5", podCIDR: "10.244.1.0/24")
        let running = pod("a", uid: "1", status: runningStatus("10.244.1.2"))
        #expect(pods.sync(pods: [running], wallNow: 1_000).isEmpty)
        let patch = try #require(pods.sync(pods: [running, pod("b", uid: "2")], wallNow: 1_001).first.flatMap(statusPatch))
        #expect(patch.stringMember("status", "podIP") == "10.244.1.3", "gave out an address in use")
    }

    @Test func aFullRangeFailsThePod() throws {
        var pods = HollowPods(node: "w1", hostIP: "10.0.0.5", podCIDR: "10.244.1.0/30")
        let actions = pods.sync(pods: [pod("a", uid: "1"), pod("b", uid: "2")], wallNow: 1_000)
        #expect(actions.compactMap(statusPatch).map { $0.stringMember("status", "phase") } == ["Running", "Failed"])
    }

    @Test func qosClasses() throws {
        let guaranteed = try JSON.parse(#"{"spec":{"containers":[{"resources":{"limits":{"cpu":"1","memory":"1Gi"},"requests":{"cpu":"1","memory":"1Gi"}}}]}}"#)
        let burstable = try JSON.parse(#"{"spec":{"containers":[{"resources":{"requests":{"cpu":"100m"}}}]}}"#)
        let bestEffort = try JSON.parse(#"{"spec":{"containers":[{"name":"c"}]}}"#)
        #expect(HollowPods.qosClass(guaranteed) == "Guaranteed")
        #expect(HollowPods.qosClass(burstable) == "Burstable")
        #expect(HollowPods.qosClass(bestEffort) == "BestEffort")
    }
}
