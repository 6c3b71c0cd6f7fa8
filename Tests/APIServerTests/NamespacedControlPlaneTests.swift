//! The whole control plane in network namespaces (root only; CI runs as root): `faultline up
//! Topologies/k8s-ha.yaml` — three etcd members, two apiservers, two schedulers, two
//! controller-managers and three hollow kubelets, every byte through the fault proxy — then a
//! worker partition: the isolated node must turn Unknown no earlier than the topology's grace
//! period (8 s) and within a monitor period and some slack after it, its pod must be evicted
//! when the toleration (10 s) runs out and replaced on another node, and after the heal the
//! node is Ready again with no more pods than desired. Then the controller-manager leader is
//! killed and the standby must carry out a scale-up. Last, with real kubectl: `set image` and
//! `rollout status`, `rollout undo` back to the first template, and `drain` of a worker whose
//! pods come back on the others.

import Foundation
import Testing

@Suite(.serialized, .enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: faultline),
    "needs root (network namespaces) and the release build"))
struct NamespacedControlPlaneTests {
    static let deployment = #"""
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
         "spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},
          "template":{"metadata":{"labels":{"app":"web"}},
           "spec":{"containers":[{"name":"web","image":"nginx","resources":{"requests":{"cpu":"100m"}}}],
            "tolerations":[
             {"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":10},
             {"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":10}]}}}}
        """#

    /// Polls until `condition` holds or `seconds` pass; the seconds it took.
    func wait(_ seconds: Double, _ what: String, _ condition: () throws -> Bool) throws -> Double {
        let start = Date()
        while Date().timeIntervalSince(start) < seconds {
            if (try? condition()) == true { return Date().timeIntervalSince(start) }
            usleep(250_000)
        }
        throw WaitTimedOut(description: "\(what): not within \(seconds) s")
    }

    @Test func workerPartitionAndControllerFailover() throws {
        let cluster = "kube-ha"
        cli(["down", cluster])
        let up = cli(["up", repository + "/Topologies/k8s-ha.yaml", "--name", cluster])
        defer { cli(["down", cluster]) }
        try #require(up.status == 0, "up failed: \(up.output)")
        let path = cli(["kubeconfig", "-c", cluster]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        let scratch = NSTemporaryDirectory() + "fl-kubectl-\(cluster)-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let kube = Kubectl(kubeconfig: path, home: scratch + "/home", cacheDirectory: scratch + "/cache")
        let readyNodes = { try kube.ok("get", "nodes", "--no-headers").split(separator: "\n").filter { $0.contains(" Ready ") }.count }
        _ = try wait(30, "3 Ready nodes") { try readyNodes() == 3 }
        #expect(try kube.ok("create", "-f", "-", input: Self.deployment) == "deployment.apps/web created\n")
        #expect(try kube.ok("rollout", "status", "deploy/web", "--timeout=60s").contains("successfully rolled out"))
        let placement = { () throws -> [(name: String, status: String, node: String)] in
            try kube.ok("get", "pods", "-o", "wide", "--no-headers").split(separator: "\n").map { line in
                let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
                return (fields[0], fields[2], fields[6])
            }
        }
        let before = try placement()
        #expect(Set(before.map(\.node)) == ["worker-1", "worker-2", "worker-3"], "3 pods should spread over 3 nodes: \(before)")

        // Partition worker-1 from everything.
        #expect(cli(["fault", "isolate", "worker-1", "-c", cluster]).status == 0)
        let readyStatus = { try kube.ok("get", "node", "worker-1", "-o", #"jsonpath={.status.conditions[?(@.type=="Ready")].status}"#) }
        let unknownAfter = try wait(30, "worker-1 Ready=Unknown") { try readyStatus() == "Unknown" }
        // The last renewal came up to 2 s (the renew interval) before the cut: grace 8 s − 2 s at
        // the earliest; grace + monitor period 1 s + 4 s of slack (polling, a loaded machine) at the latest.
        #expect(unknownAfter >= 5.5, "worker-1 went Unknown \(unknownAfter) s after the cut, before its grace period")
        #expect(unknownAfter <= 13, "worker-1 went Unknown only \(unknownAfter) s after the cut")
        // Its pod is evicted after the 10 s toleration and replaced elsewhere.
        _ = try wait(40, "3 running pods off worker-1") {
            let pods = try placement().filter { $0.status == "Running" }
            return pods.count == 3 && !pods.contains { $0.node == "worker-1" }
        }

        // Heal: worker-1 is Ready again, its evicted pod finishes, no more than 3 pods run.
        #expect(cli(["fault", "heal", "--all", "-c", cluster]).status == 0)
        _ = try wait(30, "worker-1 Ready again") { try readyStatus() == "True" }
        _ = try wait(30, "the evicted pod gone") { try placement().count == 3 }
        #expect(try placement().filter { $0.status == "Running" }.count == 3, "more pods than desired after the heal")

        // Kill the controller-manager that leads; the other takes the lease and scales up.
        let holder = try kube.ok("-n", "kube-system", "get", "lease", "kube-controller-manager", "-o", "jsonpath={.spec.holderIdentity}")
        try #require(holder.hasPrefix("controller-manager-"), "lease holder '\(holder)'")
        #expect(cli(["fault", "kill", holder, "-c", cluster]).status == 0)
        _ = try kube.ok("scale", "deploy/web", "--replicas=4")
        // The standby waits out the 15 s lease, then acts.
        _ = try wait(45, "4 running pods after the controller-manager failover") {
            try placement().filter { $0.status == "Running" }.count == 4
        }
        let newHolder = try kube.ok("-n", "kube-system", "get", "lease", "kube-controller-manager", "-o", "jsonpath={.spec.holderIdentity}")
        #expect(newHolder != holder && newHolder.hasPrefix("controller-manager-"), "the lease moved from \(holder) to '\(newHolder)'")

        // A rollout to a new image and back: `rollout status` waits for each, `rollout undo`
        // returns the Deployment to its first template.
        #expect(try kube.ok("set", "image", "deploy/web", "web=nginx:1.27") == "deployment.apps/web image updated\n")
        #expect(try kube.ok("rollout", "status", "deploy/web", "--timeout=90s").contains("successfully rolled out"))
        #expect(try kube.ok("rollout", "undo", "deploy/web") == "deployment.apps/web rolled back\n")
        #expect(try kube.ok("rollout", "status", "deploy/web", "--timeout=90s").contains("successfully rolled out"))
        let image = try kube.ok("get", "deploy/web", "-o", "jsonpath={.spec.template.spec.containers[0].image}")
        #expect(image == "nginx", "rollout undo left the image at '\(image)'")

        // Drain worker-2: cordoned, its pods evicted through the eviction API and recreated on the others.
        let drained = try kube.ok("drain", "worker-2", "--ignore-daemonsets", "--timeout=90s")
        #expect(drained.contains("node/worker-2 drained"), "drain said: \(drained)")
        _ = try wait(60, "4 running pods, none on worker-2") {
            let pods = try placement().filter { $0.status == "Running" }
            return pods.count == 4 && !pods.contains { $0.node == "worker-2" }
        }
        #expect(try kube.ok("get", "node", "worker-2", "--no-headers").contains("SchedulingDisabled"))
    }
}

struct WaitTimedOut: Error, CustomStringConvertible {
    var description: String
}
