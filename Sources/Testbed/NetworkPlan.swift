//! The addresses and names of one cluster's network, as a pure plan the shell turns into `ip`
//! commands. Cluster slot `s` (0..<32) owns 10.(200+s).0.0/16, which nothing else on the
//! machine uses:
//!
//!   host i (1...254): namespace `fl-<cluster>-<host>`, real address 10.(200+s).i.2 on its end of
//!       a veth pair whose other end (10.(200+s).i.1) sits in the switch namespace;
//!   service address of host i: 10.(200+s).255.i, owned by the switch namespace, where the fault
//!       proxy listens — every host (and the user's shell) dials this address, never the real one;
//!   the root namespace joins as host `client`: 10.(200+s).0.2, switch side 10.(200+s).0.1, with a
//!       route to the service addresses through the switch.
//!
//! The switch namespace does not forward packets, so the only way between hosts is the proxy.
//!
//! Pods: host i's pods get addresses from 10.244.i.0/24 (the kubelet's `--pod-cidr`, the
//! topology's `{{pod_cidr}}`), each a /32 on `lo` inside host i's namespace, so pods on one host
//! reach each other there, never leaving it, as in Kubernetes. Another host sends to a pod address
//! by its default route, into the switch namespace, where:
//!
//!   - `local 10.244.0.0/16 dev lo` makes every pod address local (AnyIP), so the connection
//!     ends in the proxy's pod listener, which dials the same address and port, marked;
//!   - `fwmark 0x1 lookup 100` (priority 100, ahead of the `local` table, whose rule moves from
//!     priority 0 to 32765 in this namespace only) sends marked sockets by table 100, which holds
//!     `10.244.i.0/24 via <host i's real address>`: host i answers for its `lo` addresses;
//!   - `accept_local` lets in the pods' answers, whose source addresses are local here (the
//!     kernel drops such packets as martians otherwise; checked by hand, see `switchSettings`).
//!
//! The root namespace (host `client`) gets no route to pods: every cluster uses 10.244.0.0/16,
//! and the machine's own networks may too. Loopback mode has no pod routing: host i's pods get
//! 127.(100+s).i.0/24 on the one shared `lo` and reach each other directly, not through the proxy.
//!
//! Loopback mode (no root, or `up --loopback`) keeps the same layout on 127.(200+s).0.0/16,
//! which Linux routes to `lo` without any setup: no namespaces, no veth pairs. Hosts listen on
//! their real address, the proxy on the service addresses. The proxy still tells hosts apart by
//! source address, so our own daemons bind their outgoing connections to their real address
//! (`FAULTLINE_SOURCE_ADDRESS`, read by `Net.Socket.connect`). Isolation is weaker: nothing stops
//! a process from dialling another host's real address, and an external program dials from
//! 127.0.0.1, which the proxy counts as `client`.

public struct NetworkPlan: Sendable, Equatable, Codable {
    public static let slotsMax = 32
    public static let hostsMax = 254
    public static let clientHost = "client"

    public let cluster: String
    public let slot: Int
    /// Host names in order; host i (1-based) is `hosts[i - 1]`.
    public let hosts: [String]
    /// True for loopback mode: addresses on 127.0.0.0/8, no namespaces.
    public let loopback: Bool
    /// The ports on which the proxy relays pod traffic between hosts (the topology's `pod_ports`).
    /// Invariant: each in 1...65535, no duplicates.
    public let podPorts: [Int]

    public init(cluster: String, slot: Int, hosts: [String], loopback: Bool = false, podPorts: [Int] = []) {
        precondition((0..<Self.slotsMax).contains(slot), "cluster slot \(slot) outside 0..<\(Self.slotsMax)")
        precondition(!hosts.isEmpty && hosts.count <= Self.hostsMax, "\(hosts.count) hosts; 1...\(Self.hostsMax) allowed")
        precondition(Set(hosts).count == hosts.count, "duplicate host names in \(hosts)")
        precondition(!hosts.contains(Self.clientHost), "'\(Self.clientHost)' names the root namespace; pick another host name")
        precondition(podPorts.allSatisfy { (1...65535).contains($0) }, "pod ports \(podPorts) outside 1...65535")
        precondition(Set(podPorts).count == podPorts.count, "duplicate pod ports in \(podPorts)")
        self.cluster = cluster
        self.slot = slot
        self.hosts = hosts
        self.loopback = loopback
        self.podPorts = podPorts
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(cluster: try container.decode(String.self, forKey: .cluster), slot: try container.decode(Int.self, forKey: .slot),
            hosts: try container.decode([String].self, forKey: .hosts),
            loopback: try container.decodeIfPresent(Bool.self, forKey: .loopback) ?? false,
            podPorts: try container.decodeIfPresent([Int].self, forKey: .podPorts) ?? [])
    }

    var octet: Int { 200 + slot }
    /// The first two octets of every address of the cluster.
    var network: String { loopback ? "127.\(octet)" : "10.\(octet)" }
    public var prefix: String { "fl-\(cluster)-" }
    public var switchNamespace: String { "fl-\(cluster)-sw" }
    public func namespace(_ host: String) -> String { "fl-\(cluster)-\(host)" }
    /// The namespace a host's process runs in; nil in loopback mode (the root namespace).
    public func processNamespace(_ host: String) -> String? { loopback ? nil : namespace(host) }

    public func index(of host: String) -> Int? { hosts.firstIndex(of: host).map { $0 + 1 } }

    public func realAddress(_ host: String) -> String {
        host == Self.clientHost ? "\(network).0.2" : "\(network).\(index(of: host)!).2"
    }

    public func switchSideAddress(_ host: String) -> String {
        host == Self.clientHost ? "\(network).0.1" : "\(network).\(index(of: host)!).1"
    }

    public func serviceAddress(_ host: String) -> String { "\(network).255.\(index(of: host)!)" }
    public var serviceNetwork: String { "\(network).255.0/24" }
    /// The source addresses the proxy knows as `client`: in loopback mode also 127.0.0.1, which
    /// is where an unbound socket dials 127.x addresses from.
    public var clientAddresses: [String] { loopback ? [realAddress(Self.clientHost), "127.0.0.1"] : [realAddress(Self.clientHost)] }
    /// Where the proxy's control API listens: the switch's address on the client link.
    public var controlAddress: String { switchSideAddress(Self.clientHost) }

    // MARK: - Pods

    /// Every pod address of the cluster (namespace mode); the switch treats all of it as local.
    public static let podSupernet = "10.244.0.0/16"
    /// The firewall mark of the proxy's sockets to pods, and the routing table such sockets use.
    public static let podMark = 1
    public static let podRoutingTable = 100
    /// The rule that sends marked sockets to the pod table; it must come before the `local`
    /// table's rule, which is why that one moves (see the file's doc).
    static let podRulePriority = 100
    static let localRulePriority = 32765

    /// Host i's pod addresses, its kubelet's `--pod-cidr` (the topology's `{{pod_cidr}}`, which
    /// the testbed fills from here): `10.244.i.0/24` in namespaces; on loopback, where every
    /// cluster shares one `lo`, `127.(100+s).i.0/24`, so clusters side by side never collide
    /// (their hosts are on 127.(200+s)). Nil for a host not in the plan.
    public func podCIDR(_ host: String) -> String? {
        guard let index = index(of: host) else { return nil }
        return loopback ? "127.\(100 + slot).\(index).0/24" : "10.244.\(index).0/24"
    }

    /// The pod range the switch routes to host i: its `podCIDR`, in namespace mode only; nil in
    /// loopback mode, where pod traffic does not cross the proxy.
    public func podNetwork(_ host: String) -> String? {
        loopback ? nil : podCIDR(host)
    }

    /// Veth names are at most 15 characters: `fl<slot>h<index>` inside a host, `fl<slot>s<index>`
    /// in the switch; index 0 is the client link.
    func hostSideLink(_ index: Int) -> String { "fl\(slot)h\(index)" }
    func switchSideLink(_ index: Int) -> String { "fl\(slot)s\(index)" }

    /// `ip -batch` lines for the root namespace: namespaces, veth pairs moved into place, the
    /// client link's root end and its route.
    public func rootCommands() -> [String] {
        var lines = ["netns add \(switchNamespace)"]
        for (offset, host) in hosts.enumerated() {
            let index = offset + 1
            lines.append("netns add \(namespace(host))")
            lines.append("link add \(hostSideLink(index)) type veth peer name \(switchSideLink(index))")
            lines.append("link set \(hostSideLink(index)) netns \(namespace(host))")
            lines.append("link set \(switchSideLink(index)) netns \(switchNamespace)")
        }
        lines.append("link add \(hostSideLink(0)) type veth peer name \(switchSideLink(0))")
        lines.append("link set \(switchSideLink(0)) netns \(switchNamespace)")
        lines.append("addr add \(realAddress(Self.clientHost))/24 dev \(hostSideLink(0))")
        lines.append("link set \(hostSideLink(0)) up")
        lines.append("route add \(serviceNetwork) via \(switchSideAddress(Self.clientHost))")
        return lines
    }

    /// `ip -n <host namespace> -batch` lines: loopback, the host's real address, the default route.
    public func hostCommands(_ host: String) -> [String] {
        let link = hostSideLink(index(of: host)!)
        return ["link set lo up", "addr add \(realAddress(host))/24 dev \(link)", "link set \(link) up",
            "route add default via \(switchSideAddress(host))"]
    }

    /// `ip -n <switch namespace> -batch` lines: every link's switch end, every service address,
    /// and the pod routing (see the file's doc).
    public func switchCommands() -> [String] {
        var lines = ["link set lo up"]
        for index in 0...hosts.count {
            let host = index == 0 ? Self.clientHost : hosts[index - 1]
            lines.append("addr add \(switchSideAddress(host))/24 dev \(switchSideLink(index))")
            lines.append("link set \(switchSideLink(index)) up")
        }
        for host in hosts { lines.append("addr add \(serviceAddress(host))/32 dev lo") }
        return lines + switchPodCommands()
    }

    /// The switch's pod routing. The new `local` rule goes in before the old one goes out, so the
    /// namespace is never without its local table.
    func switchPodCommands() -> [String] {
        guard !loopback else { return [] }
        var lines = [
            "route add local \(Self.podSupernet) dev lo",
            "rule add priority \(Self.podRulePriority) fwmark \(Self.podMarkText) lookup \(Self.podRoutingTable)",
            "rule add priority \(Self.localRulePriority) lookup local",
            "rule del priority 0 lookup local",
        ]
        for (offset, host) in hosts.enumerated() {
            let index = offset + 1
            lines.append("route add \(podNetwork(host)!) via \(realAddress(host)) dev \(switchSideLink(index)) table \(Self.podRoutingTable)")
        }
        return lines
    }

    static var podMarkText: String { "0x" + String(podMark, radix: 16) }

    /// A kernel setting under /proc/sys for one namespace.
    public struct KernelSetting: Sendable, Equatable {
        /// Relative to /proc/sys, like `net/ipv4/conf/all/accept_local`.
        public var key: String
        public var value: String

        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }
    }

    /// Settings for the switch namespace, applied after `switchCommands`. `accept_local`: a pod's
    /// answer comes from its pod address, which is local in the switch, and the kernel drops a
    /// packet from a local source as a martian unless the interface accepts them ('all' counts
    /// for every interface). Without it the proxy's dial to a pod times out (tried by hand).
    public func switchSettings() -> [KernelSetting] {
        loopback ? [] : [KernelSetting(key: "net/ipv4/conf/all/accept_local", value: "1")]
    }

    /// Veth names are at most 15 characters:
    /// What `down` removes: the namespaces (their veth ends go with them) and the client link.
    public func teardownCommands() -> [String] {
        ["link del \(hostSideLink(0))", "netns del \(switchNamespace)"] + hosts.map { "netns del \(namespace($0))" }
    }
}
