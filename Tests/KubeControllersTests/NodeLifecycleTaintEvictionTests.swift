import Base
import KubeAPI
import KubeControllers
import Testing
import Wire

/// The NoExecute taint-eviction controller: who is deleted, when, and what is announced.
@Suite struct NodeLifecycleTaintEvictionTests {
    static let tainted: Int64 = Fixture.wallStart + 1000

    static func taintedNode(_ name: String = "lost", key: String = Taint.unreachableKey, at added: Int64 = tainted) -> JSONValue {
        Fixture.node(name, ready: "Unknown", taints: [
            Taint(key: key, effect: .noSchedule, timeAdded: KubeTime.format(added)),
            Taint(key: key, effect: .noExecute, timeAdded: KubeTime.format(added)),
        ])
    }

    static func deletes(_ actions: [ObjectAction]) -> [String] {
        actions.compactMap { if case .delete(let reference, _, _, _) = $0 { reference.description } else { nil } }
    }

    static func messages(_ actions: [ObjectAction]) -> [String] {
        actions.compactMap { if case .event(_, _, "TaintManagerEviction", let message) = $0 { message } else { nil } }
    }

    @Test func defaultTolerationEvictsAtTimeAddedPlus300AndNotASecondEarlier() {
        var controller = TaintEvictionController()
        let nodes = [Self.taintedNode()]
        let pods = [Fixture.pod("web-1", node: "lost")]
        for second in [Int64(0), 1, 150, 299] {
            let actions = controller.reconcile(nodes: nodes, pods: pods, wallNow: Self.tainted + second)
            #expect(actions.isEmpty, "nothing before 300 s; at +\(second): \(actions)")
        }
        #expect(controller.nextEvictionAt == Self.tainted + 300)
        let actions = controller.reconcile(nodes: nodes, pods: pods, wallNow: Self.tainted + 300)
        #expect(Self.deletes(actions) == ["pods/default/web-1"])
        #expect(Self.messages(actions) == ["Marking for deletion Pod default/web-1"])
        #expect(actions.contains { if case .delete(_, "uid-web-1", nil, nil) = $0 { true } else { false } }, "the delete is guarded by UID")
        let condition = actions.compactMap { action -> JSONValue? in
            guard case .mergePatch(_, let patch, "status") = action else { return nil }
            return patch.arrayMember("status", "conditions").first { $0.stringMember("type") == "DisruptionTarget" }
        }.first
        #expect(condition?.stringMember("reason") == "DeletionByTaintManager")
        #expect(condition?.stringMember("message") == "Taint manager: deleting due to NoExecute taint")
        #expect(controller.nextEvictionAt == nil)
    }

    @Test func theClockStartsAtTheTaintNotAtFirstSight() {
        // A controller that first looks 250 s after the taint (a restart, say) still evicts at +300.
        var controller = TaintEvictionController()
        let nodes = [Self.taintedNode()]
        let pods = [Fixture.pod("web-1", node: "lost")]
        #expect(controller.reconcile(nodes: nodes, pods: pods, wallNow: Self.tainted + 250).isEmpty)
        #expect(Self.deletes(controller.reconcile(nodes: nodes, pods: pods, wallNow: Self.tainted + 300)) == ["pods/default/web-1"])
    }

    @Test func untoleratingPodIsDeletedAtOnce() {
        var controller = TaintEvictionController()
        let pods = [Fixture.pod("bare", node: "lost", tolerations: []), Fixture.pod("patient", node: "lost")]
        let actions = controller.reconcile(nodes: [Self.taintedNode()], pods: pods, wallNow: Self.tainted)
        #expect(Self.deletes(actions) == ["pods/default/bare"])
        #expect(controller.scheduled.keys.sorted() == ["default/patient"])
    }

    @Test func toleratingForeverKeepsThePod() {
        var controller = TaintEvictionController()
        let forever: [JSONValue] = [.object(["operator": .string("Exists")])]
        let pods = [Fixture.pod("daemon", node: "lost", tolerations: forever)]
        #expect(controller.reconcile(nodes: [Self.taintedNode()], pods: pods, wallNow: Self.tainted + 100_000).isEmpty)
        #expect(controller.scheduled.isEmpty)
    }

    @Test func theShortestMatchingTolerationWins() {
        var controller = TaintEvictionController()
        let tolerations: [JSONValue] = [
            .object(["key": .string(Taint.unreachableKey), "operator": .string("Exists"), "effect": .string("NoExecute"),
                "tolerationSeconds": .integer(30)]),
            .object(["operator": .string("Exists")]),
        ]
        let pods = [Fixture.pod("quick", node: "lost", tolerations: tolerations)]
        #expect(controller.reconcile(nodes: [Self.taintedNode()], pods: pods, wallNow: Self.tainted + 29).isEmpty)
        #expect(Self.deletes(controller.reconcile(nodes: [Self.taintedNode()], pods: pods, wallNow: Self.tainted + 30)) == ["pods/default/quick"])
    }

    @Test func liftingTheTaintCancelsWithAnEvent() {
        var controller = TaintEvictionController()
        let pods = [Fixture.pod("web-1", node: "lost"), Fixture.pod("web-2", node: "fine")]
        _ = controller.reconcile(nodes: [Self.taintedNode(), Fixture.node("fine")], pods: pods, wallNow: Self.tainted + 10)
        #expect(controller.scheduled.keys.sorted() == ["default/web-1"])
        let healed = Fixture.node("lost")
        let actions = controller.reconcile(nodes: [healed, Fixture.node("fine")], pods: pods, wallNow: Self.tainted + 20)
        #expect(Self.messages(actions) == ["Cancelling deletion of Pod default/web-1"])
        #expect(Self.deletes(controller.reconcile(nodes: [healed], pods: pods, wallNow: Self.tainted + 400)).isEmpty)
    }

    @Test func aPodThatGoesAwayIsCancelled() {
        var controller = TaintEvictionController()
        _ = controller.reconcile(nodes: [Self.taintedNode()], pods: [Fixture.pod("web-1", node: "lost")], wallNow: Self.tainted)
        let actions = controller.reconcile(nodes: [Self.taintedNode()], pods: [], wallNow: Self.tainted + 5)
        #expect(Self.messages(actions) == ["Cancelling deletion of Pod default/web-1"])
        #expect(controller.scheduled.isEmpty)
    }

    @Test func terminatingPodsAreSkipped() {
        var controller = TaintEvictionController()
        var pod = Fixture.pod("leaving", node: "lost", tolerations: [])
        pod.set("metadata.deletionTimestamp", .string(KubeTime.format(Self.tainted)))
        #expect(controller.reconcile(nodes: [Self.taintedNode()], pods: [pod], wallNow: Self.tainted + 1000).isEmpty)
    }

    @Test func aDeleteIsSentOnceUntilTheRetryInterval() {
        var controller = TaintEvictionController()
        let pods = [Fixture.pod("bare", node: "lost", tolerations: [])]
        let nodes = [Self.taintedNode()]
        #expect(Self.deletes(controller.reconcile(nodes: nodes, pods: pods, wallNow: Self.tainted)).count == 1)
        #expect(Self.deletes(controller.reconcile(nodes: nodes, pods: pods, wallNow: Self.tainted + 9)).isEmpty)
        #expect(Self.deletes(controller.reconcile(nodes: nodes, pods: pods, wallNow: Self.tainted + 10)).count == 1, "resent: the pod is still there")
    }

    @Test func withTheLifecycleControllerAPodOutlivesItsNodeByGracePlus300Seconds() throws {
        var harness = NodeLifecycleHarness()
        for name in ["lost", "fine1", "fine2"] { harness.addNode(Fixture.node(name)) }
        harness.cluster.add(pod: Fixture.pod("web-1", node: "lost"))
        harness.cluster.add(pod: Fixture.pod("web-2", node: "fine1"))
        var evictor = TaintEvictionController()
        harness.run(until: 10)
        harness.renewing["lost"] = nil
        var deletedAt: Int64?
        while harness.now < 500 * Time.second && deletedAt == nil {
            harness.run(until: harness.now / Time.second + 1)
            let actions = evictor.reconcile(nodes: harness.cluster.nodeList, pods: harness.cluster.podList, wallNow: harness.wallNow)
            harness.cluster.apply(actions)
            if !Self.deletes(actions).isEmpty { deletedAt = harness.now / Time.second }
        }
        let taint = try #require(harness.noExecuteTaints("lost").first)
        let added = try #require(taint.timeAdded.flatMap(KubeTime.parse)) - Fixture.wallStart
        #expect(deletedAt == added + 300)
        // Last renewal at 3 s, seen at 5 s: Unknown at 60 s, tainted at 65 s, evicted at 365 s.
        #expect(added == 65)
        #expect(harness.cluster.pods["default/web-2"] != nil)
    }
}
