//! LaunchCommand: the command line that starts a host's process, rendered from the topology and
//! the addresses the testbed assigned. Built-in etcd hosts get etcd's standard flags (the same
//! for `faultline etcd` and Debian's /usr/bin/etcd, so `--impl etcd` swaps one for the other);
//! external hosts get their program's arguments with templates filled in.

/// Where one host can be reached, as the testbed assigned it.
public struct HostAddress: Sendable, Equatable {
    /// The service IP other hosts dial.
    public var ip: String
    /// Where the process listens: `ip` in loopback mode, or `0.0.0.0` inside a namespace.
    public var listenIP: String
    public var clientPort: Int?
    public var peerPort: Int?
    public var dataDirectory: String
    /// The block the host's pods get their addresses from (`{{pod_cidr}}`, the kubelet's
    /// `--pod-cidr`); nil when the plan gives none. The testbed takes it from its network plan,
    /// the same place the switch's pod routes come from, so the two cannot disagree.
    public var podCIDR: String?

    public init(ip: String, listenIP: String? = nil, clientPort: Int?, peerPort: Int?, dataDirectory: String, podCIDR: String? = nil) {
        self.ip = ip
        self.listenIP = listenIP ?? ip
        self.clientPort = clientPort
        self.peerPort = peerPort
        self.dataDirectory = dataDirectory
        self.podCIDR = podCIDR
    }

    /// The host's address with the ports its topology gives it.
    public init(for host: Host, ip: String, listenIP: String? = nil, dataDirectory: String, podCIDR: String? = nil) {
        self.init(ip: ip, listenIP: listenIP, clientPort: host.clientPort, peerPort: host.peerPort, dataDirectory: dataDirectory,
            podCIDR: podCIDR)
    }
}

/// Every host's address, and what is shared by the whole cluster.
public struct AddressPlan: Sendable, Equatable {
    /// etcd's --initial-cluster-token: keeps members of different clusters from joining each other.
    public var clusterToken: String
    /// By host name. Invariant (checked when rendering): every host of the topology has one.
    public var hosts: [String: HostAddress]

    public init(clusterToken: String, hosts: [String: HostAddress]) {
        self.clusterToken = clusterToken
        self.hosts = hosts
    }
}

/// Which etcd runs on hosts with the built-in role etcd.
public enum EtcdImplementation: Sendable, Equatable {
    /// `faultline etcd`, from the given faultline executable.
    case builtin(faultline: String)
    /// Real etcd with the same flags, Debian's /usr/bin/etcd unless given.
    case real(etcd: String = Program.debianEtcdPath)
}

/// A process to start: the executable and its arguments (argv[1...]).
public struct LaunchCommand: Sendable, Equatable, CustomStringConvertible {
    public var executable: String
    public var arguments: [String]

    public init(executable: String, arguments: [String]) {
        self.executable = executable
        self.arguments = arguments
    }

    /// For logs: the words joined by spaces (not quoted for a shell).
    public var description: String { ([executable] + arguments).joined(separator: " ") }
}

extension Program {
    public static let debianEtcdPath = "/usr/bin/etcd"

    /// etcd's flags for a founding member, as templates. `faultline etcd` takes the same flags
    /// as etcd 3.4, so one list serves both implementations.
    public static let etcdArgumentTemplates: [String] = [
        "--name", "{{name}}",
        "--data-dir", "{{data_dir}}",
        "--listen-client-urls", "{{listen_client_url}}",
        "--advertise-client-urls", "{{client_url}}",
        "--listen-peer-urls", "{{listen_peer_url}}",
        "--initial-advertise-peer-urls", "{{peer_url}}",
        "--initial-cluster", "{{initial_cluster}}",
        "--initial-cluster-token", "{{initial_cluster_token}}",
        "--initial-cluster-state", "new",
        "--heartbeat-interval", "{{heartbeat_ms}}",
        "--election-timeout", "{{election_ms}}",
    ]

    /// Real etcd, as an external host's program would spell it.
    public static let realEtcd = Program(path: debianEtcdPath, arguments: etcdArgumentTemplates)

    /// The apiserver's flags, as templates: the store through every etcd host's service address,
    /// and the host's timing profile's pod eviction timeout as the tolerations it gives pods
    /// (since --pod-eviction-timeout went away, that is how long pods stay on a failing node).
    public static let apiserverArgumentTemplates: [String] = [
        "--etcd-servers", "{{etcd_endpoints}}",
        "--listen", "{{listen_client_url}}",
        "--advertise-address", "{{client_url}}",
        "--default-not-ready-toleration-seconds", "{{pod_eviction_seconds}}",
        "--default-unreachable-toleration-seconds", "{{pod_eviction_seconds}}",
    ]

    /// The components' flags: every apiserver (they fail over between them) and the host's
    /// name as their identity in leader election.
    public static let schedulerArgumentTemplates = ["--apiservers", "{{apiserver_endpoints}}", "--identity", "{{name}}"]
    /// The controller-manager also takes the host's timing profile's node monitor timings.
    public static let controllerManagerArgumentTemplates = schedulerArgumentTemplates + [
        "--node-monitor-period", "{{node_monitor_period}}", "--node-monitor-grace-period", "{{node_monitor_grace_period}}",
    ]
    /// A kubelet names its node after its host, reports the host's service address, gives its
    /// pods addresses from the host's pod range, and takes the host's timing profile's lease
    /// duration and status frequency.
    public static let kubeletArgumentTemplates = [
        "--apiservers", "{{apiserver_endpoints}}", "--node-name", "{{name}}", "--node-ip", "{{ip}}", "--pod-cidr", "{{pod_cidr}}",
        "--root-dir", "{{data_dir}}",
        "--node-lease-duration-seconds", "{{node_lease_seconds}}", "--node-status-update-frequency", "{{node_status_update_frequency}}",
    ]
    /// kube-proxy serves the node named after its host. (A kubelet host runs one with
    /// `flags: [--kube-proxy]`, since a host has one role and the proxy belongs beside the pods.)
    public static let kubeProxyArgumentTemplates = ["--apiservers", "{{apiserver_endpoints}}", "--node-name", "{{name}}"]

    /// The built-in store: `faultline etcd` with etcd's flags.
    public static func builtinEtcd(faultline: String) -> Program {
        Program(path: faultline, arguments: ["etcd"] + etcdArgumentTemplates)
    }
}

extension Topology {
    /// The command that starts `host`: its program for external hosts, etcd for role etcd (the
    /// implementation `etcd` chooses), with the host's flags appended. The apiserver, scheduler,
    /// controller-manager, kubelet and kube-proxy are `faultline <role>` from `faultline` (nil: none).
    public func launchCommand(for host: Host, plan: AddressPlan, etcd: EtcdImplementation, faultline: String? = nil) -> LaunchCommand? {
        let program: Program
        switch host.role {
        case .external:
            guard let external = host.program else {
                preconditionFailure("external host '\(host.name)' has no program; loading should have refused it")
            }
            program = external
        case .etcd:
            switch etcd {
            case .builtin(let faultline): program = .builtinEtcd(faultline: faultline)
            case .real(let path): program = Program(path: path, arguments: Program.etcdArgumentTemplates)
            }
        case .apiserver:
            guard let faultline = faultline ?? { if case .builtin(let path) = etcd { path } else { nil } }() else { return nil }
            program = Program(path: faultline, arguments: ["apiserver"] + Program.apiserverArgumentTemplates)
        case .scheduler, .controllerManager, .kubelet, .kubeProxy:
            guard let faultline = faultline ?? { if case .builtin(let path) = etcd { path } else { nil } }() else { return nil }
            let templates: [String] = switch host.role {
            case .scheduler: ["scheduler"] + Program.schedulerArgumentTemplates
            case .controllerManager: ["controller-manager"] + Program.controllerManagerArgumentTemplates
            case .kubeProxy: ["kube-proxy"] + Program.kubeProxyArgumentTemplates
            default: ["kubelet"] + Program.kubeletArgumentTemplates
            }
            program = Program(path: faultline, arguments: templates)
        }
        let arguments = (program.arguments + host.flags).map { render($0, for: host, plan: plan) }
        return LaunchCommand(executable: program.path, arguments: arguments)
    }

    /// `template` with every `{{variable}}` replaced by its value for `host`.
    public func render(_ template: String, for host: Host, plan: AddressPlan) -> String {
        switch Template.parse(template) {
        case .failure(let problem):
            preconditionFailure("template of host '\(host.name)' was checked at load time but is invalid: \(problem)")
        case .success(let pieces):
            return pieces.map { piece in
                switch piece {
                case .literal(let text): return text
                case .variable(let variable): return value(of: variable, for: host, plan: plan)
                }
            }.joined()
        }
    }

    /// One variable's value. Missing addresses or ports are the caller's bug, not the file's:
    /// loading already refused templates a host cannot fill.
    public func value(of variable: TemplateVariable, for host: Host, plan: AddressPlan) -> String {
        let address = Self.address(of: host, in: plan)
        switch variable {
        case .name: return host.name
        case .ip: return address.ip
        case .dataDirectory: return address.dataDirectory
        case .clientURL: return Self.url(address.ip, Self.port(address.clientPort, "client", host))
        case .peerURL: return Self.url(address.ip, Self.port(address.peerPort, "peer", host))
        case .listenClientURL: return Self.url(address.listenIP, Self.port(address.clientPort, "client", host))
        case .listenPeerURL: return Self.url(address.listenIP, Self.port(address.peerPort, "peer", host))
        case .initialCluster:
            return etcdHosts.map { member in
                let memberAddress = Self.address(of: member, in: plan)
                return "\(member.name)=" + Self.url(memberAddress.ip, Self.port(memberAddress.peerPort, "peer", member))
            }.joined(separator: ",")
        case .initialClusterToken: return plan.clusterToken
        case .etcdEndpoints:
            return etcdHosts.map { member in
                let memberAddress = Self.address(of: member, in: plan)
                return Self.url(memberAddress.ip, Self.port(memberAddress.clientPort, "client", member))
            }.joined(separator: ",")
        case .apiserverEndpoints:
            return hosts.filter { $0.plays == .apiserver }.map { server in
                let serverAddress = Self.address(of: server, in: plan)
                return Self.url(serverAddress.ip, Self.port(serverAddress.clientPort, "client", server))
            }.joined(separator: ",")
        case .nodeMonitorPeriod: return Self.milliseconds(host.timing.nodeMonitorPeriod, "node_monitor_period", host) + "ms"
        case .nodeMonitorGracePeriod: return Self.milliseconds(host.timing.nodeMonitorGracePeriod, "node_monitor_grace_period", host) + "ms"
        case .nodeStatusUpdateFrequency: return Self.milliseconds(host.timing.nodeStatusUpdateFrequency, "node_status_update_frequency", host) + "ms"
        case .nodeLeaseSeconds: return String(max(1, (Int(Self.milliseconds(host.timing.nodeLeaseDuration, "node_lease_duration", host)) ?? 0) / 1000))
        case .podEvictionSeconds: return String(max(0, host.timing.podEvictionTimeout.nanoseconds / GoDuration.seconds(1).nanoseconds))
        case .podCIDR:
            guard let podCIDR = address.podCIDR else {
                preconditionFailure("host '\(host.name)' uses {{pod_cidr}} but the address plan gives it no pod range (its address: \(address))")
            }
            return podCIDR
        case .heartbeatMilliseconds: return Self.milliseconds(host.timing.heartbeat, "heartbeat", host)
        case .electionMilliseconds: return Self.milliseconds(host.timing.election, "election", host)
        }
    }

    static func address(of host: Host, in plan: AddressPlan) -> HostAddress {
        guard let address = plan.hosts[host.name] else {
            preconditionFailure("the address plan has no address for host '\(host.name)' (it has: \(plan.hosts.keys.sorted()))")
        }
        return address
    }

    static func port(_ port: Int?, _ kind: String, _ host: Host) -> Int {
        guard let port else { preconditionFailure("host '\(host.name)' has no \(kind) port in the address plan") }
        return port
    }

    static func url(_ ip: String, _ port: Int) -> String {
        // An IPv6 address needs brackets in a URL.
        ip.contains(":") ? "http://[\(ip)]:\(port)" : "http://\(ip):\(port)"
    }

    static func milliseconds(_ duration: GoDuration, _ field: String, _ host: Host) -> String {
        guard let milliseconds = duration.wholeMilliseconds else {
            preconditionFailure("\(field) \(duration) of host '\(host.name)' is not whole milliseconds; validation should have refused it")
        }
        return "\(milliseconds)"
    }
}
