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
            "k8s-worker-partition", "k8s-kubelet-kill", "k8s-controller-failover", "k8s-process-worker-partition",
        ] {
            #expect(names.contains(name + ".yaml"), "Chaos/\(name).yaml exists")
        }
        for name in names {
            do {
                let scenario = try ShippedScenarios.load(name)
                #expect(scenario.name == Topology.baseName(of: name), "\(name) names itself after its file")
                #expect(!scenario.nemesis.isEmpty && !scenario.checks.isEmpty, "\(name) breaks something and checks something")
                if name.hasSuffix("-real.yaml") {
                    #expect(scenario.timingName == "default", "\(name) runs with the real defaults")
                    continue
                }
                let profile = scenario.kubernetes == nil ? "fast" : "scaled"
                #expect(scenario.timingName == profile, "\(name) runs with the \(profile) profile")
                #expect(scenario.duration <= (scenario.kubernetes == nil ? 40 : 60) * second, "\(name) is short")
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
            let ticks = (0...(scenario.duration / (100 * millisecond))).map { $0 * 100 * millisecond }
            let holders = ["kube-scheduler": "scheduler-1", "kube-controller-manager": "controller-manager-2"]
            for time in ticks {
                let leader = members[Int(time / (7 * second)) % members.count]
                let tick = nemesis.due(at: time, view: ClusterView(members: members, leader: leader, leaseHolders: holders))
                #expect(tick.skipped.isEmpty, "\(name): \(tick.skipped)")
                injected += tick.actions.filter { $0.purpose == .inject }.count
            }
            #expect(injected > 0, "\(name) injects something")
            #expect(nemesis.isDone && nemesis.active.isEmpty, "\(name) heals everything before the workload ends")
        }
    }

    @Test func theControllerFailoverKillsTheLeaseHolders() throws {
        let scenario = try ShippedScenarios.load("k8s-controller-failover.yaml")
        var nemesis = NemesisPlanner(scenario: scenario, seed: 1)
        let view = { (holders: [String: String]) in
            ClusterView(members: scenario.members, leader: "etcd-1", leaseHolders: holders)
        }
        // No holder known yet: the kills wait rather than pick someone.
        #expect(nemesis.due(at: 5_600 * millisecond, view: view([:])).actions.isEmpty)
        let tick = nemesis.due(at: 5_700 * millisecond,
            view: view(["kube-controller-manager": "controller-manager-2", "kube-scheduler": "scheduler-1"]))
        #expect(tick.actions.map(\.action) == [.kill(host: "controller-manager-2"), .kill(host: "scheduler-1")])
    }

    @Test func theMajorityPartitionStrandsTheLeader() throws {
        let scenario = try ShippedScenarios.load("etcd-majority-partition.yaml")
        var nemesis = NemesisPlanner(scenario: scenario, seed: 1)
        let tick = nemesis.due(at: 5 * second, view: ClusterView(members: scenario.members, leader: "etcd-2"))
        #expect(tick.actions.map(\.action) == [.partition(groups: [["etcd-2"]], mode: .reject)])
    }
}
