//! KubeScenarioLoadingTests: the `kubernetes:` section of scenario files — defaults, the
//! Kubernetes checks and the `leader(kube-…)` selector — and the errors for everything that
//! cannot run as written, each at its line and column.

import Base
import Scenario
import Testing
import Topology

private let k8s = try! Repository.topology("Topologies/k8s-ha.yaml")

/// A Kubernetes scenario on k8s-ha whose deployment line and extra top-level text are given.
private func kubeText(_ deployment: String = "{replicas: 6}", _ extra: String = "") -> String {
    """
    name: test
    topology: Topologies/k8s-ha.yaml
    kubernetes:
      duration: 60s
      deployment: \(deployment)
    \(extra)
    """
}

@Suite struct KubeScenarioLoadingTests {
    @Test func defaultsAreKubernetes() throws {
        let scenario = try loadScenario(kubeText(), topology: k8s)
        let kube = try #require(scenario.kubernetes)
        #expect(scenario.workload == nil && scenario.duration == 60 * Time.second)
        // Kubernetes' own defaults: 25% surge rounded up, 25% unavailable rounded down.
        #expect(kube.deployment == DeploymentPlan(name: "web", replicas: 6, image: KubeWorkload.defaultImage,
            strategy: .rollingUpdate, maxSurge: 2, maxUnavailable: 1))
        #expect(kube.settle == KubeWorkload.settleDefault && kube.rollout == nil)
        #expect(scenario.checks.map(\.name) == [.nodeConditionTiming, .replicasRestored, .surgeBound, .noPodLost, .singleLeader])
    }

    @Test func checksAndRolloutResolve() throws {
        let scenario = try loadScenario(kubeText("{name: api, replicas: 3, max-surge: 1, max-unavailable: 0}", """
            checks:
              - node-condition-timing: {tolerance: 3s}
              - single-leader: {takeover-within: 20s}
              - no-eviction
              - election-safety
            """).replacingOccurrences(of: "  duration: 60s", with: "  duration: 60s\n  rollout: {at: 10s, image: faultline/http:v2}"),
            topology: k8s)
        #expect(scenario.kubernetes?.rollout == RolloutPlan(at: 10 * Time.second, image: "faultline/http:v2"))
        #expect(scenario.checks == [.nodeConditionTiming(tolerance: 3 * Time.second), .singleLeader(takeoverWithin: 20 * Time.second),
            .noEviction, .electionSafety])
    }

    @Test func leaseHolderSelectorsChooseTheHolder() throws {
        let scenario = try loadScenario(kubeText("{replicas: 2}", """
            nemesis:
              - at: 5s
                fault: pause
                target: leader(kube-scheduler)
                for: 5s
            """), topology: k8s)
        var planner = NemesisPlanner(scenario: scenario, seed: 1)
        let members = scenario.members
        #expect(planner.due(at: 5 * Time.second, view: ClusterView(members: members)).actions.isEmpty, "waits for a holder")
        let tick = planner.due(at: 6 * Time.second, view: ClusterView(members: members, leaseHolders: ["kube-scheduler": "scheduler-2"]))
        #expect(tick.actions.map(\.action) == [.pause(host: "scheduler-2")])
        // Nobody ever holds it: the firing is skipped when its window closes, and says why.
        var silent = NemesisPlanner(scenario: scenario, seed: 1)
        _ = silent.due(at: 5 * Time.second, view: ClusterView(members: members))
        let late = silent.due(at: 11 * Time.second, view: ClusterView(members: members))
        #expect(late.skipped.count == 1 && late.skipped[0].reason.contains("no leader was known"))
    }

    @Test func badKubernetesSectionsAreRefusedWhereTheyAre() {
        expectFailure(scenarioError(kubeText("{replicas: 0}"), topology: k8s), at: 5, 26, "replicas must be between 1 and 1000")
        expectFailure(scenarioError(kubeText("{replicas: 3, max-surge: 0, max-unavailable: 0}"), topology: k8s), at: 5, 40,
            "could never make progress")
        expectFailure(scenarioError(kubeText("{replicas: 3, strategy: Recreate, max-surge: 1}"), topology: k8s), at: 5, 60,
            "a Recreate Deployment takes neither")
        expectFailure(scenarioError(kubeText("{replicas: 3, strategy: Canary}"), topology: k8s), at: 5, 39, "unknown strategy 'Canary'")
        expectFailure(scenarioError(kubeText("{name: Web, replicas: 3}"), topology: k8s), at: 5, 22, "must be a DNS label")
        expectFailure(scenarioError(kubeText("{replicas: 3}").replacingOccurrences(of: "  duration: 60s",
            with: "  duration: 60s\n  rollout: {at: 60s, image: x:v2}"), topology: k8s), at: 5, 17, "not before the workload ends")
        expectFailure(scenarioError(kubeText("{replicas: 3}").replacingOccurrences(of: "  duration: 60s",
            with: "  duration: 60s\n  rollout: {at: 5s, image: faultline/http:v1}"), topology: k8s), at: 5, 28, "nothing would roll out")
    }

    @Test func workloadsAndChecksMustMatch() {
        expectFailure(scenarioError(kubeText("{replicas: 3}", "checks: [linearizable]"), topology: k8s), at: 6, 10,
            "judges the key-value clients' history")
        expectFailure(scenarioError(scenarioText("checks: [surge-bound]")), at: 7, 10, "judges a Kubernetes workload")
        expectFailure(scenarioError(kubeText("{replicas: 3}", "workload: {clients: 1, keys: 1, duration: 5s}"), topology: k8s),
            at: 4, 3, "a scenario has one workload")
        expectFailure(scenarioError("name: test\ntopology: Topologies/k8s-ha.yaml\n", topology: k8s), at: 1, 1, "the scenario has no workload")
        // The store's topology has no kubelets to run a Deployment on.
        expectFailure(scenarioError(kubeText("{replicas: 3}").replacingOccurrences(of: "k8s-ha", with: "etcd-3")), at: 4, 3,
            "needs apiserver and kubelet hosts")
        expectFailure(scenarioError(kubeText("{replicas: 3}", "checks: [{no-pod-lost: {tolerance: 1s}}]"), topology: k8s), at: 6, 36,
            "'tolerance' is not a parameter of the check 'no-pod-lost'; it takes only 'within'")
    }

    @Test func unknownLeasesAreRefused() {
        let text = kubeText("{replicas: 3}", """
            nemesis:
              - at: 5s
                fault: kill
                target: leader(kube-proxy)
                for: 5s
            """)
        expectFailure(scenarioError(text, topology: k8s), at: 9, 13,
            "'leader(kube-proxy)' names no component lease; write leader(kube-scheduler) or leader(kube-controller-manager)")
    }
}
