//! LaunchCommandTests: the command lines the testbed starts hosts with — built-in etcd, real etcd
//! with the same flags, and external programs with their templates filled in.

import Testing
import Topology

@Suite struct LaunchCommandTests {
    /// etcd-1..3 at 10.0.0.1..3, data under /data, host N's pods on 10.244.N.0/24 (as the
    /// testbed's network plan gives them in namespaces).
    func plan(for topology: Topology, listenIP: String? = nil) -> AddressPlan {
        var hosts: [String: HostAddress] = [:]
        for (index, host) in topology.hosts.enumerated() {
            hosts[host.name] = HostAddress(for: host, ip: "10.0.0.\(index + 1)", listenIP: listenIP, dataDirectory: "/data/\(host.name)",
                podCIDR: "10.244.\(index + 1).0/24")
        }
        return AddressPlan(clusterToken: "fl-test", hosts: hosts)
    }

    let cluster = "etcd-1=http://10.0.0.1:2380,etcd-2=http://10.0.0.2:2380,etcd-3=http://10.0.0.3:2380"

    @Test func builtinEtcdForThreeHosts() throws {
        let topology = try load(etcd3(hostExtra: "\n    flags: [--snapshot-count=1000]"), file: "etcd-3.yaml")
        let command = topology.launchCommand(for: topology.hosts[0], plan: plan(for: topology), etcd: .builtin(faultline: "/opt/fl/faultline"))
        #expect(command?.executable == "/opt/fl/faultline")
        #expect(command?.arguments == [
            "etcd",
            "--name", "etcd-1",
            "--data-dir", "/data/etcd-1",
            "--listen-client-urls", "http://10.0.0.1:2379",
            "--advertise-client-urls", "http://10.0.0.1:2379",
            "--listen-peer-urls", "http://10.0.0.1:2380",
            "--initial-advertise-peer-urls", "http://10.0.0.1:2380",
            "--initial-cluster", cluster,
            "--initial-cluster-token", "fl-test",
            "--initial-cluster-state", "new",
            "--heartbeat-interval", "100",
            "--election-timeout", "1000",
            "--snapshot-count=1000",
        ])
        let second = topology.launchCommand(for: topology.hosts[1], plan: plan(for: topology), etcd: .builtin(faultline: "faultline"))
        #expect(second?.arguments.prefix(3) == ["etcd", "--name", "etcd-2"])
        #expect(second?.arguments.last == "1000", "etcd-2 has no extra flags")
    }

    @Test func kubernetesComponentsDialEveryApiserverAndTakeTheHostsTiming() throws {
        let topology = try load("""
            defaults: {timing: fast}
            hosts:
              - {name: etcd-1, role: etcd}
              - {name: apiserver-1, role: apiserver}
              - {name: apiserver-2, role: apiserver}
              - {name: scheduler-1, role: scheduler}
              - {name: cm-1, role: controller-manager}
              - {name: worker-1, role: kubelet}
            """)
        let plan = plan(for: topology)
        let command = { (index: Int) in topology.launchCommand(for: topology.hosts[index], plan: plan, etcd: .builtin(faultline: "fl")) }
        let apiservers = "http://10.0.0.2:6443,http://10.0.0.3:6443"
        // The apiserver gives pods tolerations of fast's pod_eviction_timeout, 30s.
        #expect(command(2)?.arguments == ["apiserver", "--etcd-servers", "http://10.0.0.1:2379", "--listen", "http://10.0.0.3:6443",
            "--advertise-address", "http://10.0.0.3:6443",
            "--default-not-ready-toleration-seconds", "30", "--default-unreachable-toleration-seconds", "30"])
        #expect(command(3)?.arguments == ["scheduler", "--apiservers", apiservers, "--identity", "scheduler-1"])
        #expect(command(4)?.arguments == ["controller-manager", "--apiservers", apiservers, "--identity", "cm-1",
            "--node-monitor-period", "1000ms", "--node-monitor-grace-period", "8000ms"])
        #expect(command(5)?.arguments == ["kubelet", "--apiservers", apiservers, "--node-name", "worker-1", "--node-ip", "10.0.0.6",
            "--pod-cidr", "10.244.6.0/24", "--root-dir", plan.hosts["worker-1"]!.dataDirectory, "--node-lease-duration-seconds", "8", "--node-status-update-frequency", "2000ms"])
        #expect(command(5)?.executable == "fl")
    }

    /// `{{pod_cidr}}` is the host's pod range as the address plan gives it (the testbed takes it
    /// from its network plan, whose tests hold the figures), never guessed from the host's address.
    @Test func podCIDRIsTheAddressPlansPodRangeOfTheHost() throws {
        let topology = try load("""
            hosts:
              - {name: etcd-1, role: etcd}
              - {name: etcd-2, role: etcd}
            """)
        let plan = AddressPlan(clusterToken: "t", hosts: [
            "etcd-1": HostAddress(for: topology.hosts[0], ip: "127.203.255.1", dataDirectory: "/d", podCIDR: "127.103.1.0/24"),
            // Known bad for a guess from the address: a loopback address with a namespace range.
            "etcd-2": HostAddress(for: topology.hosts[1], ip: "127.203.255.2", dataDirectory: "/d", podCIDR: "10.244.2.0/24"),
        ])
        #expect(topology.render("{{pod_cidr}}", for: topology.hosts[0], plan: plan) == "127.103.1.0/24")
        #expect(topology.render("{{pod_cidr}}", for: topology.hosts[1], plan: plan) == "10.244.2.0/24")
    }

    /// A plan without a pod range for a host whose template uses `{{pod_cidr}}` is the caller's
    /// bug: rendering stops rather than inventing a range.
    @Test func podCIDRWithoutAPodRangeInThePlanStops() async {
        await #expect(processExitsWith: .failure) {
            let topology = try load("hosts:\n  - {name: etcd-1, role: etcd}")
            let plan = AddressPlan(clusterToken: "t", hosts: ["etcd-1": HostAddress(for: topology.hosts[0], ip: "10.0.0.1", dataDirectory: "/d")])
            _ = topology.render("{{pod_cidr}}", for: topology.hosts[0], plan: plan)
        }
    }

    @Test func podEvictionSecondsAreTheApiserverHostsProfileInWholeSeconds() throws {
        let topology = try load("""
            timing:
              quick: {pod_eviction_timeout: 1500ms}
              slow: {pod_eviction_timeout: 2m}
              tiny: {pod_eviction_timeout: 1ms}
            hosts:
              - {name: etcd-1, role: etcd}
              - {name: api-quick, role: apiserver, timing: quick}
              - {name: api-slow, role: apiserver, timing: slow}
              - {name: api-tiny, role: apiserver, timing: tiny}
              - {name: api-default, role: apiserver}
              - {name: tool, role: external, timing: slow, program: {path: /bin/t, args: ["--evict-after={{pod_eviction_seconds}}s"]}}
            """)
        let plan = plan(for: topology)
        func tolerationFlags(_ name: String) throws -> [String] {
            let host = try #require(topology.host(named: name))
            let arguments = try #require(topology.launchCommand(for: host, plan: plan, etcd: .builtin(faultline: "fl"))).arguments
            return arguments.enumerated().filter { $0.element.hasSuffix("-toleration-seconds") }
                .map { "\($0.element)=\(arguments[$0.offset + 1])" }
        }
        let flags = { (seconds: String) in
            ["--default-not-ready-toleration-seconds=\(seconds)", "--default-unreachable-toleration-seconds=\(seconds)"]
        }
        #expect(try tolerationFlags("api-quick") == flags("1"), "1.5s rounds down")
        #expect(try tolerationFlags("api-slow") == flags("120"))
        #expect(try tolerationFlags("api-tiny") == flags("0"), "below a second is 0, not 1")
        #expect(try tolerationFlags("api-default") == flags("300"), "the default profile is kube-apiserver's 300")
        let tool = try #require(topology.host(named: "tool"))
        #expect(topology.launchCommand(for: tool, plan: plan, etcd: .real())?.arguments == ["--evict-after=120s"])
        #expect(Template.parse("{{ pod_eviction_seconds }}") == .success([.variable(.podEvictionSeconds)]))
    }

    @Test func realEtcdTakesTheSameFlags() throws {
        let topology = try load(etcd3("defaults: {timing: fast}"))
        let plan = plan(for: topology, listenIP: "0.0.0.0")
        let builtin = topology.launchCommand(for: topology.hosts[2], plan: plan, etcd: .builtin(faultline: "faultline"))
        let real = topology.launchCommand(for: topology.hosts[2], plan: plan, etcd: .real())
        #expect(real?.executable == "/usr/bin/etcd")
        #expect(builtin.map { Array($0.arguments.dropFirst()) } == real?.arguments)
        #expect(real?.arguments.contains("http://0.0.0.0:2379") == true, "listens on the listen IP")
        #expect(real?.arguments.contains("http://10.0.0.3:2379") == true, "advertises the service IP")
        #expect(real?.arguments.suffix(4) == ["--heartbeat-interval", "50", "--election-timeout", "500"])
    }

    @Test func externalProgramsRenderTheirTemplates() throws {
        let topology = try load("""
            hosts:
              - name: db-1
                role: external
                implements: etcd
                timing: fast
                ports: {client: 12379, peer: 12380}
                program:
                  path: /usr/local/bin/my-etcd
                  args:
                    - --name={{ name }}
                    - "{{ip}}"
                    - "{{data_dir}}"
                    - "{{client_url}}"
                    - "{{peer_url}}"
                    - "{{listen_client_url}}"
                    - "{{listen_peer_url}}"
                    - "{{initial_cluster}}"
                    - "{{initial_cluster_token}}"
                    - "{{etcd_endpoints}}"
                    - hb={{heartbeat_ms}},el={{election_ms}}
                flags: ["--log={{data_dir}}/log"]
              - {name: etcd-2, role: etcd}
              - {name: watcher, role: external, program: {path: /bin/w, args: ["--endpoints={{etcd_endpoints}}"]}}
            """)
        let plan = plan(for: topology, listenIP: "0.0.0.0")
        let command = topology.launchCommand(for: topology.hosts[0], plan: plan, etcd: .real())
        #expect(command == LaunchCommand(executable: "/usr/local/bin/my-etcd", arguments: [
            "--name=db-1", "10.0.0.1", "/data/db-1", "http://10.0.0.1:12379", "http://10.0.0.1:12380",
            "http://0.0.0.0:12379", "http://0.0.0.0:12380", "db-1=http://10.0.0.1:12380,etcd-2=http://10.0.0.2:2380", "fl-test",
            "http://10.0.0.1:12379,http://10.0.0.2:2379", "hb=50,el=500", "--log=/data/db-1/log",
        ]))
        let watcher = topology.launchCommand(for: topology.hosts[2], plan: plan, etcd: .real())
        #expect(watcher?.arguments == ["--endpoints=http://10.0.0.1:12379,http://10.0.0.2:2379"])
    }

    @Test func theApiserverReachesEveryEtcdHostAndKubeProxyServesItsNode() throws {
        let topology = try load(etcd3() + "\n  - {name: api, role: apiserver}\n  - {name: proxy, role: kube-proxy}")
        let api = try #require(topology.host(named: "api"))
        let plan = plan(for: topology)
        let command = try #require(topology.launchCommand(for: api, plan: plan, etcd: .real(), faultline: "/opt/fl/faultline"))
        #expect(command.executable == "/opt/fl/faultline" && command.arguments.first == "apiserver")
        let servers = command.arguments[command.arguments.firstIndex(of: "--etcd-servers")! + 1]
        #expect(servers.split(separator: ",").count == 3, "\(servers)")
        // With real etcd and no faultline path there is nothing to run it from.
        #expect(topology.launchCommand(for: api, plan: plan, etcd: .real()) == nil)
        // kube-proxy serves the node named after its host, through every apiserver.
        let proxy = try #require(topology.host(named: "proxy"))
        let proxyCommand = try #require(topology.launchCommand(for: proxy, plan: plan, etcd: .builtin(faultline: "faultline")))
        #expect(proxyCommand.arguments == ["kube-proxy", "--apiservers", topology.render("{{apiserver_endpoints}}", for: proxy, plan: plan),
            "--node-name", "proxy"])
        #expect(topology.launchCommand(for: proxy, plan: plan, etcd: .real()) == nil)
    }

    @Test func ipv6AddressesAreBracketed() throws {
        let topology = try load("hosts:\n  - {name: a, role: etcd}")
        let plan = AddressPlan(clusterToken: "t", hosts: ["a": HostAddress(for: topology.hosts[0], ip: "fd00::1", dataDirectory: "/d")])
        #expect(topology.render("{{initial_cluster}} {{client_url}}", for: topology.hosts[0], plan: plan)
            == "a=http://[fd00::1]:2380 http://[fd00::1]:2379")
    }

    @Test func templateParsing() {
        #expect(Template.parse("a{{name}}b{{ ip }}") == .success([.literal("a"), .variable(.name), .literal("b"), .variable(.ip)]))
        #expect(Template.parse("no templates") == .success([.literal("no templates")]))
        #expect(Template.parse("}} alone") == .success([.literal("}} alone")]))
        guard case .failure(let error) = Template.parse("{{}}") else {
            Issue.record("an empty template name parsed")
            return
        }
        #expect(error.description.contains("unknown template '{{}}'"))
    }
}
