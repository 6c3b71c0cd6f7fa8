import Base
import KubeAPI
import KubeControllers
import Testing
import Wire

/// Zone disruption, master disruption mode and the rate limit on NoExecute taints.
@Suite struct NodeLifecycleZoneTests {
    /// Nodes `prefix1...prefixN` in `zone`, renewing.
    static func addNodes(_ harness: inout NodeLifecycleHarness, _ prefix: String, count: Int, zone: String) {
        for index in 1...count { harness.addNode(Fixture.node("\(prefix)\(index)", zone: zone)) }
    }

    /// Zones of renewing nodes (nodes `zone1...zoneN` in zone `zone`); after 20 s the
    /// first `lost` nodes of zone `losing` stop renewing, and the run goes on to `end` with the
    /// tainting pass every second.
    static func partition(
        zones: [(name: String, nodes: Int)], losing: String, lost: Int, until end: Int64,
        parameters: NodeLifecycleParameters = NodeLifecycleParameters()
    ) -> NodeLifecycleHarness {
        var harness = NodeLifecycleHarness(parameters: parameters)
        for zone in zones { addNodes(&harness, zone.name, count: zone.nodes, zone: zone.name) }
        harness.run(until: 20)
        for index in 1...lost { harness.renewing["\(losing)\(index)"] = nil }
        harness.run(until: end, taintEverySecond: true)
        return harness
    }

    static func noExecutePatchesAfter(_ harness: NodeLifecycleHarness, second: Int64) -> [String] {
        harness.history.compactMap { entry in
            guard entry.at >= second * Time.second, case .mergePatch(let reference, let patch, nil) = entry.action,
                patch.arrayMember("spec", "taints").compactMap(Taint.init(json:)).contains(where: { $0.effect == .noExecute })
            else { return nil }
            return reference.name
        }
    }

    @Test func rateLimitSpacesTaintsTenSecondsApart() {
        let harness = Self.partition(zones: [("n", 20)], losing: "n", lost: 5, until: 200)
        let times = harness.noExecuteTaintTimes().values.sorted()
        #expect(times.count == 5, "five lost nodes tainted: \(harness.noExecuteTaintTimes())")
        #expect(zip(times.dropFirst(), times).map { $0 - $1 } == [10, 10, 10, 10], "one taint per 10 s: \(times)")
        for index in 6...20 { #expect(harness.taints("n\(index)").isEmpty, "healthy n\(index) must not be tainted") }
        #expect(harness.controller.zoneViews.map(\.state) == [.normal], "5 of 20 not Ready is under the 55 % threshold")
    }

    @Test func everyZoneFullyDisruptedLiftsNoExecuteTaintsAndStopsTainting() {
        var harness = NodeLifecycleHarness()
        Self.addNodes(&harness, "n", count: 3, zone: "a")
        harness.run(until: 20)
        harness.renewing["n1"] = nil
        harness.run(until: 80)
        #expect(harness.noExecuteTaints("n1").map(\.key) == [Taint.unreachableKey], "one lost node is tainted")

        harness.renewing["n2"] = nil
        harness.renewing["n3"] = nil
        harness.run(until: 130)
        #expect(harness.controller.isInMasterDisruptionMode)
        harness.run(until: 400, taintEverySecond: true)
        for name in ["n1", "n2", "n3"] {
            #expect(harness.noExecuteTaints(name).isEmpty, "no NoExecute taint on \(name) in master disruption mode")
            #expect(harness.readyStatus(name) == "Unknown")
        }
        #expect(Self.noExecutePatchesAfter(harness, second: 131).isEmpty)
        #expect(harness.controller.zoneViews.map(\.state) == [.fullDisruption])
        #expect(harness.controller.zoneViews.map(\.taintingRate) == [0])

        // One kubelet comes back: the mode ends, every node gets a fresh grace period from now,
        // and the zone (2 of 3 not Ready: not over two) is Normal again and taints at the normal rate.
        harness.renewing["n2"] = 0
        harness.kubeletPosts("n2", ready: "True")
        harness.run(until: 405)
        #expect(!harness.controller.isInMasterDisruptionMode)
        #expect(harness.controller.nodeViews.allSatisfy { $0.lastHeardFrom == 405 * Time.second })
        harness.run(until: 460, taintEverySecond: true)
        let times = harness.noExecuteTaintTimes(since: 405)
        #expect(times.keys.sorted() == ["n1", "n3"], "\(times)")
        if let first = times["n1"], let second = times["n3"] { #expect(abs(first - second) == 10) }
        #expect(harness.noExecuteTaints("n2").isEmpty)
    }

    @Test func aFullyDisruptedZoneBesideAHealthyOneIsTaintedAtTheNormalRate() {
        let harness = Self.partition(zones: [("a", 3), ("b", 3)], losing: "a", lost: 3, until: 200)
        #expect(!harness.controller.isInMasterDisruptionMode)
        #expect(harness.controller.zoneViews.map(\.state) == [.fullDisruption, .normal])
        let times = harness.noExecuteTaintTimes()
        #expect(times.keys.sorted() == ["a1", "a2", "a3"])
        let sorted = times.values.sorted()
        #expect(zip(sorted.dropFirst(), sorted).map { $0 - $1 } == [10, 10])
        for index in 1...3 { #expect(harness.taints("b\(index)").isEmpty) }
    }

    @Test func aPartiallyDisruptedSmallZoneStopsTainting() {
        let harness = Self.partition(zones: [("a", 5), ("b", 2)], losing: "a", lost: 4, until: 400)
        #expect(harness.controller.zoneViews.map(\.state) == [.partialDisruption, .normal])
        #expect(harness.controller.zoneViews.map(\.taintingRate) == [0, 0.1])
        #expect(harness.noExecuteTaintTimes().isEmpty, "a small partially disrupted zone is not tainted")
        for index in 1...4 {
            #expect(harness.readyStatus("a\(index)") == "Unknown")
            #expect(harness.taints("a\(index)").map(\.effect) == [.noSchedule], "NoSchedule is not rate limited")
        }
    }

    @Test func aPartiallyDisruptedLargeZoneTaintsAtTheSecondaryRate() {
        var parameters = NodeLifecycleParameters()
        parameters.largeClusterSizeThreshold = 4
        let harness = Self.partition(zones: [("a", 5)], losing: "a", lost: 4, until: 500, parameters: parameters)
        #expect(harness.controller.zoneViews.map(\.state) == [.partialDisruption])
        #expect(harness.controller.zoneViews.map(\.taintingRate) == [0.01])
        let times = harness.noExecuteTaintTimes().values.sorted()
        #expect(times.count == 4)
        #expect(zip(times.dropFirst(), times).map { $0 - $1 } == [100, 100, 100], "one taint per 100 s: \(times)")
        #expect(harness.taints("a5").isEmpty)
    }

    @Test func nodesExcludedFromDisruptionAreNotCounted() {
        var harness = NodeLifecycleHarness()
        harness.addNode(Fixture.node("worker", zone: "a"))
        harness.addNode(Fixture.node("edge", zone: "a", labels: ["node.kubernetes.io/exclude-disruption": ""]))
        harness.run(until: 20)
        harness.renewing["worker"] = nil
        harness.run(until: 100)
        // Only "worker" counts, and it is down: the only zone is fully disrupted.
        #expect(harness.controller.isInMasterDisruptionMode)
        #expect(harness.controller.zoneViews.map(\.nodes) == [1])
    }
}
