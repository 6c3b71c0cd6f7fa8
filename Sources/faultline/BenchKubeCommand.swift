//! `faultline bench kube`: the control plane at scale on one machine. Against a running
//! apiserver it starts N hollow kubelets and a scheduler in this process, then measures:
//! how fast the nodes register and turn Ready (nodes/s), how fast P pods are created, bound
//! (pods/s) and reported Running, and how long each scheduling decision took (p50, p99). The
//! reference figures are kwok's (about 83 nodes/s and 167 pods/s, as the issue quotes them).
//!
//!     faultline bench kube --apiserver http://127.0.0.1:6443 --nodes 1000 --pods 10000

import Base
import Foundation
import KubeAPI
import KubeClient
import KubeComponents
import KubeNode
import KubeScheduling
import Net
import Synchronization
import Wire

enum BenchKubeCommand {
    static let help = """
        usage: faultline bench kube --apiserver URL [--nodes N] [--pods P] [--clients C]

          --apiserver URL   the apiserver (http://HOST:PORT); no scheduler or kubelets of its own may run
          --nodes N         hollow nodes to register (default 1000)
          --pods P          pods to create and schedule (default 10000)
          --clients C       concurrent pod creators (default 8)

        Registers nodes bench-<pid>-0 … and creates pods in namespace bench-<pid>; deletes both at the end.
        """

    struct Settings {
        var apiserver = "http://127.0.0.1:6443"
        var nodes = 1000
        var pods = 10_000
        var clients = 8
    }

    static func parse(_ arguments: [String]) throws(CommandError) -> Settings {
        var settings = Settings()
        var flags = FlagReader(arguments)
        while let flag = flags.next() {
            switch flag {
            case "--apiserver": settings.apiserver = try flags.httpURLs(flag, example: "http://127.0.0.1:6443")[0]
            case "--nodes": settings.nodes = try flags.integer(flag, 1...5000)
            case "--pods": settings.pods = try flags.integer(flag, 1...100_000)
            case "--clients": settings.clients = try flags.integer(flag, 1...64)
            case "-h", "--help": throw CommandError("")
            default: throw CommandError("unknown option '\(flag)'")
            }
        }
        return settings
    }

    static func run(_ arguments: [String]) -> Int32 {
        let settings: Settings
        switch parsedOrExitCode({ () throws(CommandError) in try parse(arguments) }, command: "bench kube", help: help) {
        case .success(let parsed): settings = parsed
        case .failure(let exit): return exit.code
        }
        do { return try measure(settings) } catch {
            FileHandle.standardError.write(Data("faultline bench kube: \(error)\n".utf8))
            return 1
        }
    }

    static func measure(_ settings: Settings) throws -> Int32 {
        let prefix = "bench-\(getpid())"
        let client = try APIClient(APIClientConfiguration(servers: [settings.apiserver], component: "bench"))
        let log: @Sendable (String) -> Void = { _ in }
        // The nodes: one /24 of pod addresses each, from 10.64.0.0/10 (room for 16,384 nodes).
        let nodes = (0..<settings.nodes).map { index in
            NodeIdentity(name: "\(prefix)-\(index)", capacity: ["cpu": "32", "memory": "128Gi", "pods": "110", "ephemeral-storage": "100Gi"],
                internalIP: "10.0.\(index / 256).\(index % 256)", podCIDR: IPv4Range.format(IPv4Range.parse("10.64.0.0")! &+ UInt32(index) * 256) + "/24")
        }
        let kubelets = KubeletDaemon(settings: ComponentSettings(apiservers: [settings.apiserver], identity: prefix, log: log),
            configuration: KubeletConfiguration(nodes: nodes))
        var schedulerSettings = ComponentSettings(apiservers: [settings.apiserver], identity: prefix, log: log)
        schedulerSettings.leaderElect = false
        let scheduler = SchedulerDaemon(settings: schedulerSettings, seed: 1)
        defer {
            scheduler.stop()
            kubelets.stop()
            cleanUp(client, prefix: prefix, nodes: settings.nodes)
        }
        say("apiserver \(settings.apiserver): \(settings.nodes) hollow nodes and \(settings.pods) pods, \(settings.clients) creators")

        // Nodes: registered and Ready.
        let nodesStart = MonotonicClock.now()
        try kubelets.start()
        let ready = try waitFor(120, "\(settings.nodes) Ready nodes") {
            try client.list(.standard("nodes")).items.filter {
                ($0.stringMember("metadata", "name") ?? "").hasPrefix(prefix + "-") && NodeConditions.isReady($0)
            }.count
        } until: { $0 >= settings.nodes }
        let nodesTook = MonotonicClock.now() - nodesStart
        let rate = { (count: Int, took: Nanoseconds) in Double(count) / max(1e-9, Double(took) / 1e9) }
        say(String(format: "nodes registered and Ready: %d in %@ = %.0f nodes/s (kwok: ~83 nodes/s)", ready, Time.describe(nodesTook), rate(ready, nodesTook)))
        try scheduler.start()

        // Pods: created, bound, Running.
        _ = try client.create(.standard("namespaces"), namespace: nil, object: .object(["metadata": .object(["name": .string(prefix)])]))
        let podsStart = MonotonicClock.now()
        let created = Atomic<Int>(0), failed = Atomic<Int>(0)
        let group = DispatchGroup()
        for worker in 0..<settings.clients {
            group.enter()
            Thread {
                defer { group.leave() }
                var index = worker
                while index < settings.pods {
                    let pod: JSONValue = .object([
                        "metadata": .object(["name": .string("p-\(index)")]),
                        "spec": .object(["containers": .array([.object([
                            "name": .string("c"), "image": .string("pause"),
                            "resources": .object(["requests": .object(["cpu": .string("10m"), "memory": .string("16Mi")])]),
                        ])])]),
                    ])
                    if (try? client.create(.standard("pods"), namespace: prefix, object: pod)) != nil {
                        created.add(1, ordering: .relaxed)
                    } else {
                        failed.add(1, ordering: .relaxed)
                    }
                    index += settings.clients
                }
            }.start()
        }
        group.wait()
        let createTook = MonotonicClock.now() - podsStart
        say(String(format: "pods created: %d in %@ = %.0f pods/s (%d failed)", created.load(ordering: .relaxed), Time.describe(createTook),
            rate(created.load(ordering: .relaxed), createTook), failed.load(ordering: .relaxed)))
        let listPods = { () throws -> [JSONValue] in try client.list(.standard("pods"), namespace: prefix).items }
        _ = try waitFor(300, "\(settings.pods) pods bound") {
            try listPods().filter { $0.stringMember("spec", "nodeName") != nil }.count
        } until: { $0 >= created.load(ordering: .relaxed) }
        let boundTook = MonotonicClock.now() - podsStart
        let decisions = scheduler.decisions
        say(String(format: "pods bound: %d by %@ from the first create = %.0f pods/s (kwok: ~167 pods/s)", created.load(ordering: .relaxed),
            Time.describe(boundTook), rate(created.load(ordering: .relaxed), boundTook)))
        say("scheduler: \(decisions.bound) bound, \(decisions.unschedulable) unschedulable; decision time p50 \(Time.describe(decisions.percentile(0.5))), p99 \(Time.describe(decisions.percentile(0.99))), max \(Time.describe(decisions.percentile(1.0)))")
        _ = try waitFor(300, "\(settings.pods) pods Running") {
            try listPods().filter { $0.stringMember("status", "phase") == "Running" }.count
        } until: { $0 >= created.load(ordering: .relaxed) }
        let runningTook = MonotonicClock.now() - podsStart
        say(String(format: "pods Running: %d by %@ from the first create = %.0f pods/s", created.load(ordering: .relaxed),
            Time.describe(runningTook), rate(created.load(ordering: .relaxed), runningTook)))
        return failed.load(ordering: .relaxed) == 0 && decisions.unschedulable == 0 ? 0 : 1
    }

    /// Polls `probe` every 200 ms until `until` holds for its value; the last value.
    static func waitFor(_ seconds: Double, _ what: String, _ probe: () throws -> Int, until: (Int) -> Bool) throws -> Int {
        let deadline = Date().addingTimeInterval(seconds)
        var last = 0
        while Date() < deadline {
            if let value = try? probe() {
                last = value
                if until(value) { return value }
            }
            usleep(200_000)
        }
        throw CommandError("\(what): only \(last) after \(Int(seconds)) s")
    }

    /// Removes the bench's pods, namespace and nodes. The pods go first and at once: their hollow
    /// kubelets are stopped, so a graceful deletion would never finish. The namespace is then
    /// empty and finalized here, so that it goes without a controller-manager too.
    static func cleanUp(_ client: APIClient, prefix: String, nodes: Int) {
        for pod in (try? client.list(.standard("pods"), namespace: prefix).items) ?? [] {
            guard let name = pod.stringMember("metadata", "name") else { continue }
            _ = try? client.delete(ObjectReference(.standard("pods"), namespace: prefix, name: name), options: DeleteOptions(gracePeriodSeconds: 0))
        }
        let namespace = ObjectReference(.standard("namespaces"), namespace: nil, name: prefix)
        if var marked = try? client.delete(namespace) {
            marked.set("spec.finalizers", .array([]))
            _ = try? client.update(namespace, object: marked, subresource: "finalize")
        }
        for index in 0..<nodes {
            _ = try? client.delete(ObjectReference(.standard("nodes"), namespace: nil, name: "\(prefix)-\(index)"))
            _ = try? client.delete(NodeLease.reference(node: "\(prefix)-\(index)"))
        }
    }

    /// One line to standard output at once (print's buffer would hold it back in a pipe).
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
