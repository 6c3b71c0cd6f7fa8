//! The testbed verbs: `up`, `down`, `status`, `logs`, `fault`, and the hidden `supervise` daemon.
//!
//!     faultline up Topologies/etcd-3.yaml [--name C] [--impl builtin|etcd] [--timeout 60s]
//!     faultline status [C] [-o json]
//!     faultline fault kill|terminate|pause|resume|restart HOST [--wipe] [-c C]
//!     faultline fault partition --groups a,b/c | isolate HOST | cut --from A --to B | heal [RULE|--all] | list [-c C]
//!     faultline logs C HOST
//!     faultline down [C] | --all

import Base
import Faults
import Foundation
import Glibc
import Net
import Testbed
import Topology

enum TestbedCommand {
    static func fail(_ message: String, code: Int32 = 2) -> Int32 {
        FileHandle.standardError.write(Data("faultline: \(message)\n".utf8))
        return code
    }

    static func log(_ line: String) { FileHandle.standardError.write(Data("\(line)\n".utf8)) }

    // MARK: - up

    static let upHelp = """
        usage: faultline up TOPOLOGY [--name C] [--impl builtin|etcd] [--timing PROFILE] [--loopback] [--timeout 60s]
                                     [--merge-kubeconfig]

        Brings a cluster up: one network namespace per host behind the fault proxy, each host's
        program started and supervised. Prints the hosts and their service addresses once every
        etcd member answers /health through the proxy. Network namespaces need root; without
        root, or with --loopback, hosts get distinct 127.x addresses behind the same proxy
        (weaker isolation: see docs/testbed.md). --timing puts every host on one timing profile
        (default, fast, or one the topology defines).

        A topology with apiservers also gets a kubeconfig (context faultline-<cluster>; see
        'faultline kubeconfig'); --merge-kubeconfig adds its contexts to $KUBECONFIG or
        ~/.kube/config and switches to it, as minikube does ('down' takes them out again).
        """

    static func up(_ arguments: [String]) -> Int32 {
        var path: String?
        var name: String?
        var impl = "builtin"
        var loopback = false
        var mergeKubeconfig = false
        var timing: String?
        var timeout: Nanoseconds = 60 * Time.second
        var remaining = arguments[...]
        while let argument = remaining.popFirst() {
            switch argument {
            case "-h", "--help":
                print(upHelp)
                return 0
            case "--name":
                guard let value = remaining.popFirst() else { return fail("--name needs a value") }
                name = value
            case "--impl":
                guard let value = remaining.popFirst(), ["builtin", "etcd"].contains(value) else { return fail("--impl takes builtin or etcd") }
                impl = value
            case "--timeout":
                guard let value = remaining.popFirst(), let parsed = Time.parse(value), parsed > 0 else { return fail("--timeout takes a duration like 60s") }
                timeout = parsed
            case "--loopback":
                loopback = true
            case "--merge-kubeconfig":
                mergeKubeconfig = true
            case "--timing":
                guard let value = remaining.popFirst() else { return fail("--timing needs a profile name like fast") }
                timing = value
            case _ where argument.hasPrefix("-"):
                return fail("up: unknown option \(argument)\n\n\(upHelp)")
            default:
                guard path == nil else { return fail("up: one topology at a time (got \(path!) and \(argument))") }
                path = argument
            }
        }
        guard let path else { return fail("up: missing TOPOLOGY (for example Topologies/etcd-3.yaml)\n\n\(upHelp)") }
        let notRoot = getuid() != 0
        if notRoot { loopback = true }
        var topology: Topology
        do {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            topology = try Topology.load(text, file: path, defaultName: Topology.baseName(of: path))
        } catch let error as DocumentError {
            return fail("\(error)")
        } catch {
            return fail("cannot read \(path): \(error)")
        }
        if let timing {
            guard let retimed = topology.withTiming(timing) else {
                return fail("up: --timing \(timing): no such timing profile in \(path) (profiles: \(topology.timingProfiles.keys.sorted().joined(separator: ", ")))")
            }
            topology = retimed
        }
        let cluster = name ?? topology.name
        guard cluster.range(of: #"^[a-z][a-z0-9-]{0,19}$"#, options: .regularExpression) != nil else {
            return fail("cluster name '\(cluster)': use 1–20 lowercase letters, digits or '-', starting with a letter (--name)")
        }
        let directory = ClusterDirectory(cluster: cluster)
        if FileManager.default.fileExists(atPath: directory.path) {
            return fail("cluster '\(cluster)' already exists; 'faultline down \(cluster)' removes it, or pick another --name")
        }
        // The directory first: a slot claim whose cluster directory is missing counts as stale.
        do {
            try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
        } catch {
            return fail("cannot create \(directory.path): \(error)", code: 1)
        }
        // Any failure below removes both again (a started cluster does so on down).
        var started = false
        defer {
            if !started {
                try? FileManager.default.removeItem(atPath: directory.path)
                SlotClaims.release(of: cluster)
            }
        }
        guard let slot = claimSlot(for: cluster) else { return fail("all \(NetworkPlan.slotsMax) cluster slots are in use; take one down first") }
        precondition(Topology.proxyControlPort == Supervisor.proxyControlPort,
            "the topology keeps pod ports off port \(Topology.proxyControlPort), but the proxy's control API is on \(Supervisor.proxyControlPort)")
        let plan = NetworkPlan(cluster: cluster, slot: slot, hosts: topology.hosts.map(\.name), loopback: loopback,
            podPorts: topology.podPorts)
        if loopback {
            let external = topology.hosts.filter { impl == "etcd" || $0.role == .external }.map(\.name)
            let caveat = external.isEmpty ? "" : "; \(external.joined(separator: ", ")) run external programs, which dial from 127.0.0.1 and so count as 'client': faults between them are not applied"
            let why = notRoot ? "not root, so loopback mode" : "loopback mode"
            FileHandle.standardError.write(Data("warning: \(why): hosts share one network stack and could dial each other's real addresses (root gives each its own namespace)\(caveat)\n".utf8))
        }
        let faultline = executablePath()
        var addresses: [String: HostAddress] = [:]
        for host in topology.hosts {
            // In namespaces each host owns its stack; on loopback it must listen on its own address only.
            // The pod range ({{pod_cidr}}) comes from the plan, which also routes it in the switch.
            addresses[host.name] = HostAddress(for: host, ip: plan.serviceAddress(host.name), listenIP: loopback ? plan.realAddress(host.name) : "0.0.0.0",
                dataDirectory: directory.dataPath + "/" + host.name, podCIDR: plan.podCIDR(host.name))
        }
        let addressPlan = AddressPlan(clusterToken: "fl-\(cluster)", hosts: addresses)
        var launches: [HostLaunch] = []
        for host in topology.hosts {
            guard let command = topology.launchCommand(for: host, plan: addressPlan,
                etcd: impl == "etcd" ? .real() : .builtin(faultline: faultline), faultline: faultline)
            else {
                return fail("host '\(host.name)' has role \(host.role.rawValue), which has no built-in daemon yet; give it a program or use a topology without it")
            }
            let ports = [host.clientPort, host.peerPort].compactMap { $0 }
            launches.append(HostLaunch(name: host.name, role: host.plays.rawValue, executable: command.executable,
                arguments: command.arguments, ports: ports, dataDirectory: addresses[host.name]!.dataDirectory,
                healthPort: host.playsEtcd || host.plays == .apiserver ? host.clientPort : nil,
                healthPath: host.plays == .apiserver ? "/readyz" : "/health"))
        }
        // Hand the plan to a detached supervisor, then wait for it to report the cluster ready.
        let began = MonotonicClock.now()
        let supervisor = Process()
        do {
            let spec = LaunchSpec(cluster: cluster, topology: path, plan: plan, launches: launches, faultline: faultline)
            try JSONEncoder().encode(spec).write(to: URL(fileURLWithPath: LaunchSpec.path(in: directory)))
            supervisor.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
            supervisor.arguments = [faultline, "supervise", directory.path]
            _ = FileManager.default.createFile(atPath: directory.path + "/supervisor.log", contents: nil)
            let output = FileHandle(forWritingAtPath: directory.path + "/supervisor.log")
            supervisor.standardOutput = output
            supervisor.standardError = output
            supervisor.standardInput = FileHandle.nullDevice
            try supervisor.run()
        } catch {
            return fail("cannot start the supervisor: \(error)", code: 1)
        }
        started = true
        // Interrupted while waiting: take down what was started.
        let interrupted = DispatchSemaphore(value: 0)
        let signals = TerminationSignals.signal(interrupted)
        defer { _ = signals }
        let deadline = MonotonicClock.now() + timeout
        while MonotonicClock.now() < deadline {
            if interrupted.wait(timeout: .now()) == .success {
                Cleanup.down(directory, log: log)
                return fail("up interrupted; cluster '\(cluster)' taken down", code: 130)
            }
            if let record = try? directory.load(), record.state == "ready" || record.state == "unready" {
                let elapsed = Double(MonotonicClock.now() - began) / 1e9
                printStatus(record)
                print(String(format: "cluster '%@' %@ in %.2f s", cluster, record.state == "ready" ? "ready" : "up but not ready", elapsed))
                if let problem = writeKubeconfig(record, directory: directory, merge: mergeKubeconfig) {
                    FileHandle.standardError.write(Data("warning: \(problem)\n".utf8))
                }
                return record.state == "ready" ? 0 : 1
            }
            if !supervisor.isRunning {
                let supervisorLog = (try? String(contentsOfFile: directory.path + "/supervisor.log", encoding: .utf8)) ?? ""
                let logs = (try? FileManager.default.contentsOfDirectory(atPath: directory.logsPath)) ?? []
                var detail = ""
                for name in logs.sorted() {
                    let text = (try? String(contentsOfFile: directory.logsPath + "/" + name, encoding: .utf8)) ?? ""
                    let tail = text.split(separator: "\n").suffix(5).joined(separator: "\n    ")
                    if !tail.isEmpty { detail += "\n  \(name):\n    \(tail)" }
                }
                Cleanup.down(directory, log: { _ in })
                return fail("up failed: \(supervisorLog.trimmingCharacters(in: .whitespacesAndNewlines))\(detail)", code: 1)
            }
            usleep(20_000)
        }
        return fail("cluster '\(cluster)' was not ready within \(timeout / Time.second) s; see \(directory.path)/logs (faultline down \(cluster) removes it)", code: 1)
    }

    /// The cluster's kubeconfig, when it has apiservers; merged into the user's with `merge`.
    static func writeKubeconfig(_ record: ClusterRecord, directory: ClusterDirectory, merge: Bool) -> String? {
        let servers = record.apiservers
        guard !servers.isEmpty else { return merge ? "--merge-kubeconfig: the topology has no apiserver" : nil }
        do {
            try Kubeconfig.render(cluster: record.name, servers: servers).write(toFile: directory.kubeconfigPath, atomically: true, encoding: .utf8)
        } catch {
            return "cannot write \(directory.kubeconfigPath): \(error)"
        }
        print("kubeconfig: \(directory.kubeconfigPath) (kubectl --kubeconfig \(directory.kubeconfigPath) get ns)")
        guard merge else { return nil }
        let target = Kubeconfig.userPath
        if let problem = Kubeconfig.merge(cluster: record.name, servers: servers, into: target) { return problem }
        try? target.write(toFile: directory.mergedKubeconfigMarker, atomically: true, encoding: .utf8)
        print("merged into \(target); current context faultline-\(record.name)")
        return nil
    }

    static func kubeconfig(_ arguments: [String]) -> Int32 {
        var clusterName: String?
        var remaining = arguments[...]
        while let argument = remaining.popFirst() {
            switch argument {
            case "-c", "--cluster":
                guard let value = remaining.popFirst() else { return fail("kubeconfig: \(argument) needs a cluster name") }
                clusterName = value
            case "-h", "--help":
                print("usage: faultline kubeconfig [-c CLUSTER]\n\nPrints the path of the cluster's kubeconfig (written by 'up' for topologies with apiservers).")
                return 0
            default: return fail("kubeconfig: unknown argument '\(argument)' (usage: faultline kubeconfig [-c CLUSTER])")
            }
        }
        switch cluster(clusterName) {
        case .success(let directory):
            guard FileManager.default.fileExists(atPath: directory.kubeconfigPath) else {
                return fail("cluster '\(directory.name)' has no kubeconfig: its topology has no apiserver")
            }
            print(directory.kubeconfigPath)
            return 0
        case .failure(let code):
            return code.code
        }
    }

    /// Claims the lowest cluster slot no recorded cluster, no claim and no leftover link uses.
    static func claimSlot(for cluster: String) -> Int? {
        let used = Set(ClusterDirectory.all().compactMap { (try? $0.load())?.plan.slot })
        let links = (try? String(contentsOfFile: "/proc/net/dev", encoding: .utf8)) ?? ""
        return SlotClaims.claim(for: cluster) { slot in !used.contains(slot) && !links.contains("fl\(slot)h0:") }
    }

    static func executablePath() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    // MARK: - status, logs, down

    static func cluster(_ name: String?) -> Result<ClusterDirectory, ExitCode> {
        if let name {
            let directory = ClusterDirectory(cluster: name)
            guard FileManager.default.fileExists(atPath: directory.recordPath) else {
                return .failure(ExitCode(fail("no cluster '\(name)' (running: \(ClusterDirectory.all().map(\.name).joined(separator: ", ")))")))
            }
            return .success(directory)
        }
        let all = ClusterDirectory.all()
        guard all.count == 1 else {
            return .failure(ExitCode(fail(all.isEmpty ? "no cluster is up ('faultline up TOPOLOGY' starts one)"
                : "several clusters are up (\(all.map(\.name).joined(separator: ", "))); name one with -c")))
        }
        return .success(all[0])
    }

    static func status(_ arguments: [String]) -> Int32 {
        var name: String?
        var json = false
        var remaining = arguments[...]
        while let argument = remaining.popFirst() {
            switch argument {
            case "-o":
                guard remaining.popFirst() == "json" else { return fail("status: -o takes json") }
                json = true
            case "-o=json", "--output=json": json = true
            case "-c", "--cluster": name = remaining.popFirst()
            case _ where argument.hasPrefix("-"): return fail("status: unknown option \(argument)")
            default: name = argument
            }
        }
        let directory: ClusterDirectory
        switch cluster(name) {
        case .success(let found): directory = found
        case .failure(let code): return code.code
        }
        guard let record = try? directory.load() else { return fail("cannot read \(directory.recordPath)", code: 1) }
        if json {
            guard let data = try? Data(contentsOf: URL(fileURLWithPath: directory.recordPath)) else { return 1 }
            print(String(decoding: data, as: UTF8.self))
        } else {
            printStatus(record)
        }
        return 0
    }

    static func printStatus(_ record: ClusterRecord) {
        print("cluster \(record.name) (\(record.topology)): \(record.state)")
        let header = ["HOST", "ROLE", "NAMESPACE", "SERVICE ADDRESS", "PID", "STATE"]
        let rows = record.hosts.map { host in
            [host.name, host.role, host.namespace.isEmpty ? "-" : host.namespace, host.ports.map { "\(host.serviceAddress):\($0)" }.joined(separator: ","),
                host.pid.map(String.init) ?? "-", host.state.rawValue + (host.lastExit.map { " (\($0))" } ?? "")]
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        for row in [header] + rows {
            print(row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: "  "))
        }
    }

    static func logs(_ arguments: [String]) -> Int32 {
        guard arguments.count == 2 else { return fail("usage: faultline logs CLUSTER HOST (HOST may be 'proxy')") }
        let directory = ClusterDirectory(cluster: arguments[0])
        guard let text = try? String(contentsOfFile: directory.logPath(arguments[1]), encoding: .utf8) else {
            return fail("no log for host '\(arguments[1])' in cluster '\(arguments[0])' (\(directory.logPath(arguments[1])))")
        }
        print(text, terminator: "")
        return 0
    }

    static func down(_ arguments: [String]) -> Int32 {
        if arguments == ["--all"] {
            Cleanup.downAll(log: log)
            return 0
        }
        guard arguments.count <= 1, !(arguments.first?.hasPrefix("-") ?? false) else { return fail("usage: faultline down [CLUSTER] | --all") }
        switch cluster(arguments.first) {
        case .success(let directory):
            Cleanup.down(directory, log: log)
            return 0
        case .failure(let code):
            return code.code
        }
    }

    // MARK: - fault

    static let faultHelp = """
        usage: faultline fault VERB ... [-c CLUSTER]

          kill|terminate|pause|resume HOST       SIGKILL, SIGTERM, SIGSTOP, SIGCONT
          restart HOST [--wipe]                  stop and start again (--wipe: empty data; etcd rejoins as a new member)
          skew HOST +30s [--rate 1.5]            move the host's wall clock; --rate makes its monotonic
                                                 clock run fast or slow (our own components only;
                                                 'skew HOST 0' undoes it)
          partition --groups a,b/c [--rest-with HOST] [--mode blackhole|reject]
                                                 hosts in different groups cannot talk; hosts not
                                                 named form one more group, unless --rest-with
                                                 puts them in HOST's group
          isolate HOST [--mode blackhole|reject] [--include-client]
                                                 cut HOST off from every other host (and, with
                                                 --include-client, from the root namespace too)
          cut --from A --to B [--mode blackhole|reject]
          bridge HOST [--groups a,b/c,d]         two halves that cannot talk, both still reaching HOST
                                                 (default groups: the other hosts split in two, in order)
          majorities-ring [--hosts a,b,c,d,e]    every host sees a majority, each a different one
                                                 (default: every host of the cluster)
          latency --from A --to B --delay 200ms [--jitter 50ms]
          bandwidth --from A --to B --rate 1MB/s
          reset --from A --to B                  reset (RST) the open connections A dialled to B, once
          (every network fault takes --ttl DURATION: it heals itself after that long, and
           --probability P: it applies to that share of connections, or for latency of chunks)
          heal RULE | --all
          list [-o json]
        """

    static func fault(_ arguments: [String]) -> Int32 {
        var words: [String] = []
        var options: [String: String] = [:]
        var name: String?
        var remaining = arguments[...]
        while let argument = remaining.popFirst() {
            switch argument {
            case "-h", "--help":
                print(faultHelp)
                return 0
            case "-c", "--cluster": name = remaining.popFirst()
            case "--wipe", "--all", "--include-client": options[argument] = "true"
            case _ where argument.hasPrefix("--"):
                guard let value = remaining.popFirst() else { return fail("fault: \(argument) needs a value") }
                options[argument] = value
            case "-o":
                options["-o"] = remaining.popFirst()
            default: words.append(argument)
            }
        }
        guard let verb = words.first else { return fail("fault: missing VERB\n\n\(faultHelp)") }
        let directory: ClusterDirectory
        switch cluster(name) {
        case .success(let found): directory = found
        case .failure(let code): return code.code
        }
        guard let record = try? directory.load(), let control = record.supervisorControl,
            let endpoint = try? Endpoint(parsing: control)
        else { return fail("cluster '\(directory.name)' has no running supervisor; 'faultline down' and 'up' again", code: 1) }
        let client = HTTPClient(endpoint: endpoint)
        func call(_ method: String, _ path: String, _ body: Any?) -> Int32 {
            let bytes = body.flatMap { try? JSONSerialization.data(withJSONObject: $0) }.map { Array($0) }
            do {
                let response = try client.request(method, path, body: bytes, timeout: 30 * Time.second)
                guard response.status == 200 else { return fail("fault \(verb): \(response.text)", code: 1) }
                if !response.text.isEmpty && response.text != "{\"ok\":true}" { print(response.text) }
                return 0
            } catch {
                return fail("fault \(verb): the supervisor did not answer: \(error)", code: 1)
            }
        }
        switch verb {
        case "kill", "terminate", "pause", "resume", "restart":
            guard words.count == 2 else { return fail("fault \(verb) takes one HOST") }
            return call("POST", "/process", ["verb": verb, "host": words[1], "wipe": options["--wipe"] != nil])
        case "skew":
            guard words.count == 3 else { return fail("fault skew takes HOST and an offset like +30s, -2s or 0") }
            let text = words[2]
            let negative = text.hasPrefix("-")
            let magnitude = text.hasPrefix("+") || negative ? String(text.dropFirst()) : text
            guard let offset = magnitude == "0" ? 0 : Time.parse(magnitude) else { return fail("fault skew: '\(text)' is not an offset like +30s, -500ms or 0") }
            let rate = options["--rate"].flatMap(Double.init) ?? 1
            guard options["--rate"] == nil || Double(options["--rate"]!) != nil else { return fail("fault skew: --rate takes a number like 1.5") }
            return call("POST", "/process", ["verb": "skew", "host": words[1], "offset_ns": Int(negative ? -offset : offset), "rate": rate])
        case "list":
            return list(client, json: options["-o"] == "json")
        case "heal":
            if options["--all"] != nil { return call("DELETE", "/faults", nil) }
            guard words.count == 2 else { return fail("fault heal takes a RULE id or --all") }
            return call("DELETE", "/faults/\(words[1])", nil)
        case "partition", "isolate", "cut", "latency", "bandwidth", "bridge", "majorities-ring":
            var rule: [String: Any] = ["kind": verb]
            if let text = options["--probability"] {
                guard let probability = Double(text), probability > 0, probability <= 1 else {
                    return fail("fault \(verb): --probability takes a number in (0, 1] like 0.5")
                }
                rule["probability"] = probability
            }
            if let text = options["--ttl"] {
                guard let ttl = Time.parse(text), ttl > 0 else { return fail("fault \(verb): --ttl takes a duration like 30s") }
                rule["ttl_ns"] = Int(ttl)
            }
            if let mode = options["--mode"] {
                guard ["blackhole", "reject"].contains(mode) else { return fail("fault \(verb): --mode takes blackhole or reject") }
                rule["mode"] = mode
            }
            switch verb {
            case "partition":
                guard let text = options["--groups"] else { return fail("fault partition needs --groups like etcd-1,etcd-2/etcd-3") }
                let named = text.split(separator: "/").map { $0.split(separator: ",").map(String.init) }
                let hosts = record.hosts.map(\.name)
                let groups: [[String]]
                do throws(FaultError) {
                    groups = try PartitionGroups.resolve(named, restWith: options["--rest-with"], hosts: hosts)
                } catch {
                    return fail("fault \(error.message)")
                }
                rule["groups"] = groups
                // Say what the split is: hosts nobody named end up alone, which is easy to miss.
                let rest = PartitionGroups.unnamed(groups, hosts: hosts)
                let note = rest.isEmpty ? "" : " (the last group is the hosts not named; --rest-with HOST puts them in HOST's group)"
                FileHandle.standardError.write(Data("partition: \(PartitionGroups.describe(groups, hosts: hosts))\(note)\n".utf8))
            case "isolate":
                guard words.count == 2 else { return fail("fault isolate takes one HOST") }
                rule["host"] = words[1]
                if options["--include-client"] != nil { rule["include_client"] = true }
            case "bridge":
                guard words.count == 2 else { return fail("fault bridge takes the bridge HOST (and optionally --groups a,b/c,d)") }
                rule["bridge"] = words[1]
                if let groups = options["--groups"] {
                    rule["groups"] = groups.split(separator: "/").map { $0.split(separator: ",").map(String.init) }
                } else {
                    let others = record.hosts.map(\.name).filter { $0 != words[1] }
                    guard others.count >= 2 else { return fail("fault bridge needs at least two other hosts to split") }
                    rule["groups"] = [Array(others[..<(others.count / 2)]), Array(others[(others.count / 2)...])]
                }
            case "majorities-ring":
                guard words.count == 1 else { return fail("fault majorities-ring takes no HOST; name them with --hosts a,b,c") }
                rule["hosts"] = options["--hosts"].map { $0.split(separator: ",").map(String.init) } ?? record.hosts.map(\.name)
            default:
                guard let from = options["--from"], let to = options["--to"] else { return fail("fault \(verb) needs --from HOST --to HOST") }
                rule["from"] = from
                rule["to"] = to
                if verb == "bandwidth" {
                    guard let text = options["--rate"], let rate = parseRate(text) else {
                        return fail("fault bandwidth needs --rate like 1MB/s, 500KB/s or 10000B/s")
                    }
                    rule["bytes_per_second"] = Int(rate)
                }
                if verb == "latency" {
                    guard let delay = options["--delay"].flatMap(Time.parse), delay > 0 else { return fail("fault latency needs --delay like 200ms") }
                    rule["delay_ns"] = Int(delay)
                    if let text = options["--jitter"] {
                        guard let jitter = Time.parse(text) else { return fail("fault latency: --jitter takes a duration like 50ms") }
                        rule["jitter_ns"] = Int(jitter)
                    }
                }
            }
            return call("POST", "/faults", [rule])
        case "reset":
            guard let from = options["--from"], let to = options["--to"] else { return fail("fault reset needs --from HOST --to HOST") }
            var action: [String: Any] = ["from": from, "to": to]
            if let text = options["--probability"] {
                guard let probability = Double(text), probability > 0, probability <= 1 else {
                    return fail("fault reset: --probability takes a number in (0, 1] like 0.5")
                }
                action["probability"] = probability
            }
            return call("POST", "/reset", action)
        default:
            return fail("fault: unknown verb '\(verb)'\n\n\(faultHelp)")
        }
    }

    /// "1MB/s", "500KB/s", "2GB/s", "1000B/s" (powers of 1000, as network rates are quoted).
    static func parseRate(_ text: String) -> Int64? {
        guard text.hasSuffix("/s") else { return nil }
        let amount = text.dropLast(2)
        for (unit, factor) in [("GB", 1_000_000_000.0), ("MB", 1_000_000.0), ("KB", 1_000.0), ("B", 1.0)] where amount.hasSuffix(unit) {
            guard let number = Double(amount.dropLast(unit.count)), number > 0 else { return nil }
            let rate = Int64(number * factor)
            return rate >= 1 ? rate : nil
        }
        return nil
    }

    /// Active rules, then every link's counters: what each fault did.
    static func list(_ client: HTTPClient, json: Bool) -> Int32 {
        guard let rules = try? client.get("/faults", timeout: 5 * Time.second), rules.status == 200,
            let links = try? client.get("/links", timeout: 5 * Time.second), links.status == 200
        else { return fail("fault list: the supervisor or the proxy did not answer", code: 1) }
        guard let ruleList = ProxyAnswer.list("rules", in: rules.text), let linkList = ProxyAnswer.list("links", in: links.text) else {
            return fail("fault list: the proxy's answer is not a rule and link list: \(rules.text.prefix(200)) \(links.text.prefix(200))", code: 1)
        }
        if json {
            let combined: [String: Any] = ["rules": ruleList, "links": linkList]
            let data = (try? JSONSerialization.data(withJSONObject: combined, options: [.sortedKeys])) ?? Data("{}".utf8)
            print(String(decoding: data, as: UTF8.self))
            return 0
        }
        print(ruleList.isEmpty ? "no active rules" : "RULE  KIND       DETAIL")
        for rule in ruleList {
            let detail = rule.filter { !["id", "kind"].contains($0.key) }.sorted { $0.key < $1.key }
                .map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            print("\((rule["id"] as? String ?? "?").padding(toLength: 4, withPad: " ", startingAt: 0))  \((rule["kind"] as? String ?? "?").padding(toLength: 9, withPad: " ", startingAt: 0))  \(detail)")
        }
        print("\nLINK                         CONNS  OPEN  HELD  REFUSED  RESETS        BYTES  DELAYED  STALLED  DROPPED")
        for link in linkList {
            let name = "\(link["from"] ?? "?") -> \(link["to"] ?? "?")"
            // Held counts connections a blackhole keeps from being dialled; delayed counts chunks
            // held by latency rules; stalled and dropped count bytes held by a blackhole and bytes
            // lost to a reset or refusal.
            let numbers = ["connections_accepted", "connections_open", "connections_held", "connections_refused", "connections_reset", "bytes_forwarded",
                           "chunks_delayed", "bytes_stalled", "bytes_dropped"].map { "\(link[$0] ?? 0)" }
            let widths = [5, 4, 4, 7, 6, 11, 7, 7, 7]
            let columns = zip(numbers, widths).map { String(repeating: " ", count: max(0, $1 - $0.count)) + $0 }
            print(name.padding(toLength: 28, withPad: " ", startingAt: 0) + " " + columns.joined(separator: "  "))
        }
        return 0
    }


    // MARK: - supervise (the daemon `up` starts)

    static func supervise(_ arguments: [String]) -> Int32 {
        guard arguments.count == 1 else { return fail("usage: faultline supervise CLUSTER_DIRECTORY (started by 'faultline up')") }
        return SupervisorService.run(directory: ClusterDirectory(path: arguments[0])) { line in
            let stamp = ISO8601DateFormatter().string(from: Date())
            FileHandle.standardError.write(Data("\(stamp) \(line)\n".utf8))
        }
    }
}
