//! QuorumWindowsTests: when the cluster, or one member, had no quorum, from the fault bands.

import Base
import Runner
import Scenario
import Testing

private let members = ["etcd-1", "etcd-2", "etcd-3", "etcd-4", "etcd-5"]
private func band(_ kind: String, _ hosts: [String], _ start: Int64, _ end: Int64?, groups: [[String]] = []) -> FaultBand {
    FaultBand(tag: "\(kind)-\(start)", label: kind, kind: kind, hosts: hosts, start: start * Time.second, end: end.map { $0 * Time.second },
        groups: groups)
}
private func window(_ start: Int64, _ end: Int64) -> TimeWindow { TimeWindow(start: start * Time.second, end: end * Time.second) }

@Suite struct QuorumWindowsTests {
    @Test func minoritySideOfAPartitionLacksQuorumAndTheClusterDoesNot() {
        let windows = QuorumWindows.compute(members: members,
            faults: [band("partition", members, 5, 10, groups: [["etcd-1", "etcd-2"], ["etcd-3", "etcd-4", "etcd-5"]])], end: 30 * Time.second)
        #expect(windows.cluster.isEmpty)
        #expect(windows.byHost == ["etcd-1": [window(5, 10)], "etcd-2": [window(5, 10)]])
    }

    @Test func killingAMajorityTakesTheWholeClusterOut() {
        let faults = [band("kill", ["etcd-1"], 2, 8), band("kill", ["etcd-2"], 3, 8), band("pause", ["etcd-3"], 4, 6)]
        let windows = QuorumWindows.compute(members: members, faults: faults, end: 30 * Time.second)
        #expect(windows.cluster == [window(4, 6)])
        #expect(windows.byHost["etcd-4"] == [window(4, 6)])
        #expect(windows.byHost["etcd-1"] == nil, "a killed member serves nothing, so it has no window of its own")
    }

    @Test func isolationAndOneWayCutsRemoveLinks() {
        // etcd-1 isolated and etcd-2 → etcd-3 cut one way: etcd-2 still talks to etcd-4 and etcd-5.
        let faults = [band("isolate", ["etcd-1"], 0, 10), band("cut", ["etcd-2", "etcd-3"], 0, nil)]
        let windows = QuorumWindows.compute(members: members, faults: faults, end: 20 * Time.second)
        #expect(windows.byHost == ["etcd-1": [window(0, 10)]])
        // Cutting etcd-2 from 4 and 5 as well leaves it alone — until etcd-1's isolation ends at 10 s
        // and etcd-1, which reaches everyone, links it to the majority again (the model is about
        // components, not direct links: conservative, so every window it names is real).
        let more = faults + [band("cut", ["etcd-4", "etcd-2"], 0, 15), band("cut", ["etcd-2", "etcd-5"], 0, 15)]
        #expect(QuorumWindows.compute(members: members, faults: more, end: 20 * Time.second).byHost["etcd-2"] == [window(0, 10)])
    }

    @Test func aBridgeKeepsEveryoneConnectedAndLatencyChangesNothing() {
        let cuts = [("etcd-1", "etcd-4"), ("etcd-1", "etcd-5"), ("etcd-2", "etcd-4"), ("etcd-2", "etcd-5")].flatMap {
            [band("cut", [$0.0, $0.1], 1, 9), band("cut", [$0.1, $0.0], 1, 9)]
        }
        let windows = QuorumWindows.compute(members: members, faults: cuts + [band("latency", ["etcd-3", "etcd-1"], 0, 20)], end: 20 * Time.second)
        #expect(windows == QuorumWindows())
    }

    @Test func hostsInNoGroupFormOneMoreGroup() {
        let windows = QuorumWindows.compute(members: members, faults: [band("partition", members, 0, 4, groups: [["etcd-1"], ["etcd-2"]])],
            end: 10 * Time.second)
        #expect(windows.cluster.isEmpty)
        #expect(Set(windows.byHost.keys) == ["etcd-1", "etcd-2"])
    }
}
