//! ShippedScenariosTests: every file in Chaos/ loads against the topology it names (found
//! relative to this file, so the tests run from any directory), is named after its file, runs
//! with the fast profile, and its nemesis expands into actions for a plausible cluster.

import Foundation
import Scenario
import Testing
import Topology

enum ShippedScenarios {
    static let directory = Repository.root.appendingPathComponent("Chaos")

    static func fileNames() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".yaml") }.sorted()
    }

    static func load(_ fileName: String) throws -> Scenario {
        let path = "Chaos/\(fileName)"
        let file = try ScenarioFile.parse(try Repository.text(path), file: path)
        return try file.resolve(with: try Repository.topology(file.topologyPath))
    }
}

@Suite struct ShippedScenariosTests {
    @Test func everyShippedScenarioLoadsAgainstItsTopology() throws {
        let names = try ShippedScenarios.fileNames()
        #expect(names.count >= 13)
        for name in [
            "etcd-leader-isolation", "etcd-minority-partition", "etcd-majority-partition", "etcd-bridge-partition",
            "etcd-leader-oneway-cut", "etcd-leader-kill9", "etcd-rolling-restart", "etcd-leader-pause", "etcd-leader-latency",
            "etcd-clock-skew", "etcd-swizzle-clog", "etcd-wipe-rejoin", "etcd-random-mix",
        ] {
            #expect(names.contains(name + ".yaml"), "Chaos/\(name).yaml exists")
        }
        for name in names {
            do {
                let scenario = try ShippedScenarios.load(name)
                #expect(scenario.name == Topology.baseName(of: name), "\(name) names itself after its file")
                #expect(scenario.timingName == "fast", "\(name) runs with the fast profile")
                #expect(!scenario.nemesis.isEmpty && !scenario.checks.isEmpty, "\(name) breaks something and checks something")
                #expect(scenario.workload.duration <= 40 * second, "\(name) is short")
            } catch {
                Issue.record("\(error)")
            }
        }
    }

    @Test func everyShippedNemesisExpandsIntoActions() throws {
        for name in try ShippedScenarios.fileNames() {
            let scenario = try ShippedScenarios.load(name)
            var nemesis = NemesisPlanner(scenario: scenario, seed: scenario.seed ?? 1)
            let members = scenario.members
            var injected = 0
            let ticks = (0...(scenario.workload.duration / (100 * millisecond))).map { $0 * 100 * millisecond }
            for time in ticks {
                let leader = members[Int(time / (7 * second)) % members.count]
                let tick = nemesis.due(at: time, view: ClusterView(members: members, leader: leader))
                #expect(tick.skipped.isEmpty, "\(name): \(tick.skipped)")
                injected += tick.actions.filter { $0.purpose == .inject }.count
            }
            #expect(injected > 0, "\(name) injects something")
            #expect(nemesis.isDone && nemesis.active.isEmpty, "\(name) heals everything before the workload ends")
        }
    }

    @Test func theMajorityPartitionStrandsTheLeader() throws {
        let scenario = try ShippedScenarios.load("etcd-majority-partition.yaml")
        var nemesis = NemesisPlanner(scenario: scenario, seed: 1)
        let tick = nemesis.due(at: 5 * second, view: ClusterView(members: scenario.members, leader: "etcd-2"))
        #expect(tick.actions.map(\.action) == [.partition(groups: [["etcd-2"]], mode: .reject)])
    }
}
