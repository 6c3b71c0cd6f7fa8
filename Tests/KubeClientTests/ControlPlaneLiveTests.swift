//! The control plane end to end in one process, on loopback: a store member, two apiservers, two
//! controller-managers and two schedulers (each pair electing a leader), and three hollow
//! kubelets, with scaled timings (grace 4 s, tolerations 5 s). A Deployment's pods run on the
//! three nodes; one kubelet goes silent; its node must turn Unknown within grace + period +
//! slack, its pod must be evicted once the toleration runs out, and the Deployment must be whole
//! again on the other two nodes. Then the controller-manager leader stops and the standby must
//! carry on (a scale-up is done).

import Base
import Foundation
import KubeAPI
import KubeClient
import KubeComponents
import KubeControllers
import KubeNode
import Net
import Testing
import Wire

@Suite(.serialized) struct ControlPlaneLiveTests {
    static let election = LeaderElectionTiming(leaseDuration: 3 * Time.second, renewDeadline: 2 * Time.second, retryPeriod: 500 * Time.millisecond)

    func settings(_ cluster: LiveCluster, _ identity: String) -> ComponentSettings {
        var settings = ComponentSettings(apiservers: cluster.urls, identity: identity, log: { _ in })
        settings.leaderElection = Self.election
        return settings
    }

    func kubelet(_ cluster: LiveCluster, _ index: Int) -> KubeletDaemon {
        let identity = NodeIdentity(name: "w\(index)", internalIP: "10.0.0.\(index)", podCIDR: "10.244.\(index).0/24")
        var configuration = KubeletConfiguration(nodes: [identity])
        configuration.lease = NodeLeaseSettings(durationSeconds: 4)
        configuration.nodeStatusUpdateFrequency = Time.second
        return KubeletDaemon(settings: settings(cluster, "w\(index)"), configuration: configuration)
    }

    static let deployment = #"""
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
         "spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},
          "template":{"metadata":{"labels":{"app":"web"}},
           "spec":{"containers":[{"name":"web","image":"web","resources":{"requests":{"cpu":"100m"}}}],
            "tolerations":[
             {"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":5},
             {"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":5}]}}}}
        """#

    func runningPods(_ client: APIClient) throws -> [JSONValue] {
        try client.list(.standard("pods"), namespace: "default", labelSelector: "app=web").items.filter {
            $0.stringMember("status", "phase") == "Running" && $0.member("metadata", "deletionTimestamp") == nil
        }
    }

    @Test func aSilentNodeIsMarkedItsPodsEvictedAndTheDeploymentHealsThroughAFailover() throws {
        let cluster = try LiveCluster(basePort: 23200, apiservers: 2)
        defer { cluster.stop() }
        let client = try cluster.client()
        var managerConfiguration = ControllerManagerConfiguration()
        managerConfiguration.nodeLifecycle.nodeMonitorPeriod = Time.second
        managerConfiguration.nodeLifecycle.nodeMonitorGracePeriod = 4 * Time.second
        managerConfiguration.nodeLifecycle.nodeStartupGracePeriod = 10 * Time.second
        managerConfiguration.nodeLifecycle.nodeEvictionRate = 10
        let managers = ["cm-a", "cm-b"].map { ControllerManagerDaemon(settings: settings(cluster, $0), configuration: managerConfiguration) }
        let schedulers = ["sched-a", "sched-b"].enumerated().map { SchedulerDaemon(settings: settings(cluster, $0.element), seed: UInt64($0.offset)) }
        let kubelets = (1...3).map { kubelet(cluster, $0) }
        defer {
            for daemon in kubelets { daemon.stop() }
            for daemon in schedulers { daemon.stop() }
            for daemon in managers { daemon.stop() }
        }
        for daemon in kubelets { try daemon.start() }
        for daemon in managers { try daemon.start() }
        for daemon in schedulers { try daemon.start() }
        _ = try waitUntil(20, "three Ready nodes") {
            try client.list(.standard("nodes")).items.filter(NodeConditions.isReady).count == 3
        }
        _ = try waitUntil(10, "one leader of each pair") {
            managers.filter(\.isLeading).count == 1 && schedulers.filter(\.isLeading).count == 1
        }

        _ = try client.create(.standard("deployments", group: "apps"), namespace: "default", object: try JSON.parse(Self.deployment))
        let deploymentReference = ObjectReference(.standard("deployments", group: "apps"), namespace: "default", name: "web")
        _ = try waitUntil(30, "3 pods running") { try runningPods(client).count == 3 }
        let spread = Set(try runningPods(client).compactMap { $0.stringMember("spec", "nodeName") })
        #expect(spread.count == 3, "least-allocated scoring should spread 3 pods over 3 nodes: \(spread)")
        _ = try waitUntil(10, "the Deployment reports 3 available") {
            try client.get(deploymentReference).intMember("status", "availableReplicas") == 3
        }

        // w1 goes silent: no more lease renewals or status.
        kubelets[0].stop()
        let node = ObjectReference(.standard("nodes"), namespace: nil, name: "w1")
        let unknownAfter = try waitUntil(15, "w1 Ready=Unknown") {
            try client.get(node).arrayMember("status", "conditions").contains {
                $0.stringMember("type") == "Ready" && $0.stringMember("status") == "Unknown"
            }
        }
        // The last renewal was up to 1 s before the stop; grace 4 s + monitor period 1 s + 2 s of slack.
        #expect(unknownAfter >= 2.9, "w1 was marked Unknown \(unknownAfter) s after its kubelet stopped, before the 4 s grace could pass")
        #expect(unknownAfter <= 7.5, "w1 was marked Unknown only \(unknownAfter) s after its kubelet stopped")
        // The NoExecute taint follows on the next monitor pass (the status write and the taint
        // write of one pass would carry the same resourceVersion).
        _ = try waitUntil(3, "w1 tainted unreachable:NoExecute") {
            Taint.of(node: try client.get(node)).contains { $0.key == Taint.unreachableKey && $0.effect == .noExecute }
        }

        // The pod on w1 is evicted when its 5 s toleration runs out; the Deployment is whole on w2 and w3.
        _ = try waitUntil(30, "3 running pods on w2 and w3") {
            let pods = try runningPods(client)
            return pods.count == 3 && pods.allSatisfy { $0.stringMember("spec", "nodeName") != "w1" }
        }
        let onW1 = try client.list(.standard("pods"), namespace: "default", fieldSelector: "spec.nodeName=w1").items
        #expect(onW1.allSatisfy { $0.member("metadata", "deletionTimestamp") != nil }, "a pod on the lost node was not evicted")

        // The controller-manager leader stops; the standby takes over within the lease duration and scales up.
        guard let leader = managers.first(where: { $0.isLeading }), let standby = managers.first(where: { $0 !== leader }) else {
            Issue.record("no controller-manager leads")
            return
        }
        leader.stop()
        _ = try waitUntil(10, "the standby controller-manager leads") { standby.isLeading }
        _ = try client.mergePatch(deploymentReference, patch: try JSON.parse(#"{"spec":{"replicas":4}}"#))
        _ = try waitUntil(30, "4 running pods after the failover") { try runningPods(client).count == 4 }
        let finalCount = try runningPods(client).count
        #expect(finalCount == 4, "more pods than desired")
    }
}
