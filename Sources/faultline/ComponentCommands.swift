//! `faultline scheduler`, `faultline controller-manager`, `faultline kubelet` and
//! `faultline kube-proxy`: the Kubernetes components as daemons against one or more apiservers. Flags keep the real components' names
//! and defaults where they have them (`--node-monitor-grace-period`, `--leader-elect-…`,
//! `--node-lease-duration-seconds`, `--register-with-taints`).
//!
//!     faultline scheduler --apiservers http://10.0.0.1:6443,http://10.0.0.2:6443
//!     faultline controller-manager --apiservers http://127.0.0.1:6443 --node-monitor-grace-period 4s
//!     faultline kubelet --apiservers http://127.0.0.1:6443 --hollow 100
//!     faultline kube-proxy --apiservers http://127.0.0.1:6443 --node-name worker-1

import Base
import Dispatch
import Foundation
import KubeAPI
import KubeComponents
import KubeControllers
import KubeNode
import KubeScheduling
import Net

enum ComponentCommands {
    static let commonHelp = """
          --apiservers URLS                   apiserver URLs, comma-separated (default http://127.0.0.1:6443);
                                              requests fail over between them
          --identity NAME                     this process in leader election (default HOST_PID)
          --leader-elect BOOL                 campaign for the component's Lease before acting (default true)
          --leader-elect-lease-duration D     (default 15s)
          --leader-elect-renew-deadline D     (default 10s)
          --leader-elect-retry-period D       (default 2s)
        """

    /// Reads a flag every component takes; false when `flag` is not one of them.
    static func common(_ flag: String, _ flags: inout FlagReader, _ settings: inout ComponentSettings) throws(CommandError) -> Bool {
        switch flag {
        case "--apiservers":
            settings.apiservers = try flags.httpURLs(flag, example: "http://127.0.0.1:6443")
        case "--identity": settings.identity = try flags.value(flag)
        case "--leader-elect":
            let text = try flags.value(flag)
            guard let value = Bool(text) else { throw CommandError("--leader-elect takes true or false (got '\(text)')") }
            settings.leaderElect = value
        case "--leader-elect-lease-duration": settings.leaderElection.leaseDuration = try duration(flag, &flags)
        case "--leader-elect-renew-deadline": settings.leaderElection.renewDeadline = try duration(flag, &flags)
        case "--leader-elect-retry-period": settings.leaderElection.retryPeriod = try duration(flag, &flags)
        default: return false
        }
        return true
    }

    static func duration(_ flag: String, _ flags: inout FlagReader) throws(CommandError) -> Nanoseconds {
        let text = try flags.value(flag)
        guard let value = Time.parse(text), value > 0 else { throw CommandError("\(flag) takes a duration like 5s or 500ms (got '\(text)')") }
        return value
    }

    static func number(_ flag: String, _ flags: inout FlagReader, _ range: ClosedRange<Double>) throws(CommandError) -> Double {
        let text = try flags.value(flag)
        guard let value = Double(text), range.contains(value) else {
            throw CommandError("\(flag) takes a number from \(range.lowerBound) to \(range.upperBound) (got '\(text)')")
        }
        return value
    }

    static func defaultSettings(_ component: String) -> ComponentSettings {
        let host = ProcessInfo.processInfo.hostName
        return ComponentSettings(apiservers: ["http://127.0.0.1:6443"], identity: "\(host)_\(getpid())") { line in
            let stamp = ISO8601DateFormatter.string(from: Date(), timeZone: .gmt, formatOptions: [.withInternetDateTime, .withFractionalSeconds])
            FileHandle.standardError.write(Data("\(stamp) \(component): \(line)\n".utf8))
        }
    }

    /// Leader-election timings must keep client-go's order, or two leaders could act at once.
    static func checkTimings(_ settings: ComponentSettings) throws(CommandError) {
        let timing = settings.leaderElection
        guard timing.leaseDuration > timing.renewDeadline, timing.renewDeadline * 10 > timing.retryPeriod * 12 else {
            throw CommandError("--leader-elect-lease-duration must exceed --leader-elect-renew-deadline, which must exceed 1.2 × --leader-elect-retry-period")
        }
    }

    /// Runs a started daemon until SIGTERM or SIGINT.
    static func serve(_ name: String, start: () throws -> Void, stop: () -> Void) -> Int32 {
        let stopped = DispatchSemaphore(value: 0)
        let signals = TerminationSignals.signal(stopped)
        do { try start() } catch {
            FileHandle.standardError.write(Data("faultline \(name): \(error)\n".utf8))
            return 1
        }
        FileHandle.standardOutput.write(Data("\(name) started\n".utf8))
        stopped.wait()
        _ = signals
        stop()
        return 0
    }

    // MARK: - scheduler

    static let schedulerHelp = """
        usage: faultline scheduler [--apiservers URLS] [options]

        \(commonHelp)
          --scoring STRATEGY                  least-allocated (spread, the default) or most-allocated (bin packing)
          --seed N                            seed of the tie-breaking among equally scored nodes (default: the pid)

        Binds pods whose schedulerName is default-scheduler; FailedScheduling events say why a pod fits nowhere.
        """

    static func scheduler(_ arguments: [String]) -> Int32 {
        var settings = defaultSettings("scheduler")
        var configuration = SchedulerConfiguration()
        var seed = UInt64(getpid())
        let parsed = parsedOrExitCode({ () throws(CommandError) in
            var flags = FlagReader(arguments)
            while let flag = flags.next() {
                if try common(flag, &flags, &settings) { continue }
                switch flag {
                case "--scoring":
                    let text = try flags.value(flag)
                    switch text {
                    case "least-allocated": configuration.scoringStrategy = .leastAllocated
                    case "most-allocated": configuration.scoringStrategy = .mostAllocated
                    default: throw CommandError("--scoring takes least-allocated or most-allocated (got '\(text)')")
                    }
                case "--seed":
                    let text = try flags.value(flag)
                    guard let value = UInt64(text) else { throw CommandError("--seed takes a whole number (got '\(text)')") }
                    seed = value
                case "-h", "--help": throw CommandError("")
                default: throw CommandError("unknown option '\(flag)'")
                }
            }
            try checkTimings(settings)
        }, command: "scheduler", help: schedulerHelp)
        if case .failure(let exit) = parsed { return exit.code }
        let daemon = SchedulerDaemon(settings: settings, configuration: configuration, seed: seed)
        return serve("scheduler", start: { try daemon.start() }, stop: daemon.stop)
    }

    // MARK: - controller-manager

    static let controllerManagerHelp = """
        usage: faultline controller-manager [--apiservers URLS] [options]

        \(commonHelp)
          --node-monitor-period D             how often node health is checked (default 5s)
          --node-monitor-grace-period D       silence before a node is marked Unknown (default 50s, v1.32's)
          --node-startup-grace-period D       the same for a node that never reported Ready (default 60s)
          --node-eviction-rate R              nodes tainted per second in a healthy zone (default 0.1)
          --secondary-node-eviction-rate R    the same in a partially disrupted large zone (default 0.01)
          --large-cluster-size-threshold N    zones larger than this use the secondary rate (default 50)
          --unhealthy-zone-threshold F        share of not-Ready nodes that makes a zone disrupted (default 0.55)

        Runs node lifecycle (Unknown, NoExecute taints, evictions when tolerations run out),
        ReplicaSet, Deployment and Endpoints controllers, the garbage collector (ownerReferences,
        foreground and orphan deletion) and the namespace controller (empties a namespace being
        deleted, then finalizes it).
        """

    static func controllerManager(_ arguments: [String]) -> Int32 {
        var settings = defaultSettings("controller-manager")
        var configuration = ControllerManagerConfiguration()
        let parsed = parsedOrExitCode({ () throws(CommandError) in
            var flags = FlagReader(arguments)
            while let flag = flags.next() {
                if try common(flag, &flags, &settings) { continue }
                switch flag {
                case "--node-monitor-period": configuration.nodeLifecycle.nodeMonitorPeriod = try duration(flag, &flags)
                case "--node-monitor-grace-period": configuration.nodeLifecycle.nodeMonitorGracePeriod = try duration(flag, &flags)
                case "--node-startup-grace-period": configuration.nodeLifecycle.nodeStartupGracePeriod = try duration(flag, &flags)
                case "--node-eviction-rate": configuration.nodeLifecycle.nodeEvictionRate = try number(flag, &flags, 0...1000)
                case "--secondary-node-eviction-rate": configuration.nodeLifecycle.secondaryNodeEvictionRate = try number(flag, &flags, 0...1000)
                case "--large-cluster-size-threshold":
                    configuration.nodeLifecycle.largeClusterSizeThreshold = try flags.integer(flag, 0...1_000_000)
                case "--unhealthy-zone-threshold": configuration.nodeLifecycle.unhealthyZoneThreshold = try number(flag, &flags, 0...1)
                case "-h", "--help": throw CommandError("")
                default: throw CommandError("unknown option '\(flag)'")
                }
            }
            try checkTimings(settings)
            let lifecycle = configuration.nodeLifecycle
            guard lifecycle.nodeMonitorGracePeriod > lifecycle.nodeMonitorPeriod else {
                throw CommandError("--node-monitor-grace-period must be longer than --node-monitor-period")
            }
        }, command: "controller-manager", help: controllerManagerHelp)
        if case .failure(let exit) = parsed { return exit.code }
        let daemon = ControllerManagerDaemon(settings: settings, configuration: configuration)
        return serve("controller-manager", start: { try daemon.start() }, stop: daemon.stop)
    }

    // MARK: - kubelet

    static let kubeletHelp = """
        usage: faultline kubelet [--apiservers URLS] (--node-name NAME [--runtime process] | --hollow N) [options]

          --apiservers URLS                   apiserver URLs, comma-separated (default http://127.0.0.1:6443)
          --node-name NAME                    this node's name (default: the host name)
          --hollow N                          N hollow nodes in this process, named PREFIX-0 … PREFIX-(N-1)
          --node-prefix PREFIX                (default hollow)
          --node-ip A.B.C.D                   the node's InternalIP (default 127.0.0.1)
          --pod-cidr CIDR                     pod addresses come from here; with --hollow, a /16 split
                                              into one /24 per node (default 10.244.0.0/16 for hollow)
          --capacity cpu=4,memory=8Gi,pods=110  the node's capacity (and allocatable)
          --node-labels K=V,...               labels on the node
          --register-with-taints K=V:EFFECT,...  taints on the node
          --node-lease-duration-seconds N     the Lease's duration; renewed every quarter of it (default 40)
          --node-status-update-frequency D    how often status is checked (default 10s)
          --node-status-report-frequency D    how often status is reported unchanged (default 5m)
          --runtime hollow|process            hollow (default): pods are reported Running and nothing runs;
                                              process: each container runs as a process (one node only)
          --root-dir DIR                      container logs and exit files (process runtime; default
                                              /tmp/faultline-kubelet-NODE)
          --kube-proxy                        also run kube-proxy for this node in this process (one
                                              node only): a testbed host has one role, and ClusterIPs
                                              must be answered where the pods' clients are

        Hollow: pods bound to the node are reported Running with an address from its pod CIDR and
        deleted when their graceful deletion starts. Process: the built-in images run (faultline/echo,
        nginx: an HTTP server answering with the pod's name; busybox, pause: the command, or sleep;
        faultline/crasher: exits 1 after a second), with restart policies, CrashLoopBackOff, probes
        and graceful termination; other images get ErrImagePull. Pod IPs come from --pod-cidr
        (a 127.x range needs no root; any other range is added to lo as /32s).
        """

    static func kubelet(_ arguments: [String]) -> Int32 {
        var settings = defaultSettings("kubelet")
        var name = ProcessInfo.processInfo.hostName
        var hollow: Int?
        var prefix = "hollow"
        var nodeIP = "127.0.0.1"
        var podCIDR: String?
        var capacity = NodeIdentity.defaultCapacity
        var labels: [String: String] = [:]
        var taints: [Taint] = []
        var lease = NodeLeaseSettings()
        var updateFrequency: Nanoseconds = 10 * Time.second
        var reportFrequency: Nanoseconds = 5 * 60 * Time.second
        var processRuntime = false
        var rootDirectory: String?
        var withKubeProxy = false
        let parsed = parsedOrExitCode({ () throws(CommandError) in
            var flags = FlagReader(arguments)
            while let flag = flags.next() {
                switch flag {
                case "--apiservers", "--identity":
                    _ = try common(flag, &flags, &settings)
                case "--node-name": name = try flags.value(flag)
                case "--hollow": hollow = try flags.integer(flag, 1...10_000)
                case "--node-prefix": prefix = try flags.value(flag)
                case "--node-ip":
                    let text = try flags.value(flag)
                    guard IPv4Range.parse(text) != nil else { throw CommandError("--node-ip takes an IPv4 address (got '\(text)')") }
                    nodeIP = text
                case "--pod-cidr":
                    let text = try flags.value(flag)
                    guard IPv4Range(cidr: text) != nil else { throw CommandError("--pod-cidr takes an IPv4 CIDR like 10.244.1.0/24 (got '\(text)')") }
                    podCIDR = text
                case "--capacity":
                    for pair in try pairs(flag, &flags) {
                        guard ["cpu", "memory", "pods", "ephemeral-storage"].contains(pair.key), ResourceQuantity(pair.value) != nil else {
                            throw CommandError("--capacity takes cpu, memory, pods or ephemeral-storage = a quantity (got '\(pair.key)=\(pair.value)')")
                        }
                        capacity[pair.key] = pair.value
                    }
                case "--node-labels": for pair in try pairs(flag, &flags) { labels[pair.key] = pair.value }
                case "--register-with-taints":
                    for item in try flags.value(flag).split(separator: ",") {
                        let parts = item.split(separator: ":", maxSplits: 1)
                        let keyValue = parts.first.map { $0.split(separator: "=", maxSplits: 1) } ?? []
                        guard parts.count == 2, let effect = TaintEffect(rawValue: String(parts[1])), let key = keyValue.first else {
                            throw CommandError("--register-with-taints takes KEY[=VALUE]:EFFECT with NoSchedule, PreferNoSchedule or NoExecute (got '\(item)')")
                        }
                        taints.append(Taint(key: String(key), value: keyValue.count > 1 ? String(keyValue[1]) : "", effect: effect))
                    }
                case "--node-lease-duration-seconds": lease = NodeLeaseSettings(durationSeconds: Int64(try flags.integer(flag, 4...3600)))
                case "--node-status-update-frequency": updateFrequency = try duration(flag, &flags)
                case "--node-status-report-frequency": reportFrequency = try duration(flag, &flags)
                case "--runtime":
                    let text = try flags.value(flag)
                    guard ["hollow", "process"].contains(text) else { throw CommandError("--runtime takes hollow or process (got '\(text)')") }
                    processRuntime = text == "process"
                case "--root-dir": rootDirectory = try flags.value(flag)
                case "--kube-proxy": withKubeProxy = true
                case "-h", "--help": throw CommandError("")
                default: throw CommandError("unknown option '\(flag)'")
                }
            }
            if processRuntime && hollow != nil { throw CommandError("--runtime process runs one node's pods; it does not go with --hollow") }
            if withKubeProxy && hollow != nil { throw CommandError("--kube-proxy serves one node; it does not go with --hollow") }
        }, command: "kubelet", help: kubeletHelp)
        if case .failure(let exit) = parsed { return exit.code }
        var nodes: [NodeIdentity] = []
        if let hollow {
            // One /24 per node from a /16: 10.244.0.0/16 gives 10.244.0.0/24, 10.244.1.0/24, …
            let base = IPv4Range(cidr: podCIDR ?? "10.244.0.0/16")!
            guard hollow <= 256 || base.size >= UInt32(hollow) * 256 else {
                FileHandle.standardError.write(Data("faultline kubelet: --pod-cidr \(podCIDR ?? "") has no room for \(hollow) /24s\n".utf8))
                return 2
            }
            for index in 0..<hollow {
                let cidr = IPv4Range.format(base.network &+ UInt32(index) * 256) + "/24"
                nodes.append(NodeIdentity(name: "\(prefix)-\(index)", capacity: capacity, labels: labels, taints: taints, internalIP: nodeIP, podCIDR: cidr))
            }
        } else {
            nodes.append(NodeIdentity(name: name, capacity: capacity, labels: labels, taints: taints, internalIP: nodeIP, podCIDR: podCIDR))
        }
        var configuration = KubeletConfiguration(nodes: nodes)
        configuration.lease = lease
        configuration.nodeStatusUpdateFrequency = updateFrequency
        configuration.nodeStatusReportFrequency = reportFrequency
        if processRuntime {
            configuration.processRuntime = ProcessRuntimeSettings(rootDirectory: rootDirectory ?? "/tmp/faultline-kubelet-\(name)")
        }
        let daemon = KubeletDaemon(settings: settings, configuration: configuration)
        guard withKubeProxy else { return serve("kubelet", start: { try daemon.start() }, stop: daemon.stop) }
        var proxySettings = defaultSettings("kube-proxy")
        proxySettings.apiservers = settings.apiservers
        let proxy = KubeProxyDaemon(settings: proxySettings, configuration: KubeProxyConfiguration(nodeName: name))
        return serve("kubelet", start: {
            try daemon.start()
            try proxy.start()
        }, stop: {
            proxy.stop()
            daemon.stop()
        })
    }

    // MARK: - kube-proxy

    static let kubeProxyHelp = """
        usage: faultline kube-proxy [--apiservers URLS] [--node-name NAME] [options]

          --apiservers URLS                   apiserver URLs, comma-separated (default http://127.0.0.1:6443);
                                              requests fail over between them
          --node-name NAME                    the node this proxy serves (default: the host name)
          --connections-max N                 connections relayed at once; more are reset (default 1024)

        Userspace mode: every TCP port of a Service with a ClusterIP gets a listener on
        ClusterIP:port that relays each connection to a ready endpoint of the port of the same
        name, in turn (round robin), or with sessionAffinity ClientIP to the one the client last
        had, within sessionAffinityConfig.clientIP.timeoutSeconds (default 10800). A Service port
        without a ready endpoint refuses connections. ClusterIPs are added to lo as /32s (root in
        the node's network namespace; 127.x addresses need nothing) and removed when their Service
        goes. 'faultline kubelet --kube-proxy' runs the same in the kubelet's process.
        """

    static func kubeProxy(_ arguments: [String]) -> Int32 {
        var settings = defaultSettings("kube-proxy")
        var configuration = KubeProxyConfiguration(nodeName: ProcessInfo.processInfo.hostName)
        let parsed = parsedOrExitCode({ () throws(CommandError) in
            var flags = FlagReader(arguments)
            while let flag = flags.next() {
                switch flag {
                case "--apiservers", "--identity": _ = try common(flag, &flags, &settings)
                case "--node-name": configuration.nodeName = try flags.value(flag)
                case "--connections-max": configuration.relay.connectionsMax = try flags.integer(flag, 1...100_000)
                case "-h", "--help": throw CommandError("")
                default: throw CommandError("unknown option '\(flag)'")
                }
            }
        }, command: "kube-proxy", help: kubeProxyHelp)
        if case .failure(let exit) = parsed { return exit.code }
        let daemon = KubeProxyDaemon(settings: settings, configuration: configuration)
        return serve("kube-proxy", start: { try daemon.start() }, stop: daemon.stop)
    }

    static func pairs(_ flag: String, _ flags: inout FlagReader) throws(CommandError) -> [(key: String, value: String)] {
        try flags.value(flag).split(separator: ",").map { item throws(CommandError) in
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, !parts[0].isEmpty else { throw CommandError("\(flag) takes KEY=VALUE pairs, comma-separated (got '\(item)')") }
            return (String(parts[0]), String(parts[1]))
        }
    }
}
