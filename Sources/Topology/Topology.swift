//! Topology: a validated cluster layout — which hosts exist, what each runs, on which ports, with
//! which timeouts. Load one with `Topology.load(_:file:)`; the caller reads the file, so this
//! target stays free of I/O.

/// A cluster layout, after every check in docs/topology.md has passed.
public struct Topology: Sendable, Equatable, Encodable {
    public var name: String
    public var description: String?
    /// In file order, which is also the order of `{{initial_cluster}}` and `{{etcd_endpoints}}`.
    public var hosts: [Host]
    /// Every profile a host can name: the built-in `default` and `fast`, and the file's own.
    public var timingProfiles: [String: TimingProfile]
    /// The profile of hosts that name none.
    public var defaultTimingName: String
    /// The ports on which the fault proxy relays pod-to-pod traffic between hosts (namespace
    /// mode), ascending. Invariant: each in 1...65535, and none is a host's client or peer port
    /// or the proxy's control port (`TopologyResolver.resolvePodPorts`).
    public var podPorts: [Int] = Topology.podPortsDefault

    /// Used when the file gives no `pod_ports`, minus any port a host serves on.
    public static let podPortsDefault = [80, 8080]
    /// Where the fault proxy's control API listens in the switch namespace (the testbed's
    /// `Supervisor.proxyControlPort`; `up` checks that they agree): no pod port may take it.
    public static let proxyControlPort = 7070

    enum CodingKeys: String, CodingKey {
        case name, description, hosts
        case timingProfiles = "timing"
        case defaultTimingName = "default_timing"
        case podPorts = "pod_ports"
    }

    /// Parses, decodes and validates a topology file. `file` names it in errors and chooses the
    /// format (`.json` is JSON, anything else the YAML subset); `defaultName` is the topology's
    /// name when the file gives none, the file's base name unless the caller says otherwise.
    public static func load(_ text: String, file: String, defaultName: String? = nil) throws(DocumentError) -> Topology {
        let root = try Document.parse(text, file: file)
        let spec = try DocumentDecoder.decode(TopologySpec.self, from: root, file: file)
        let resolver = TopologyResolver(file: file, root: root)
        return try resolver.resolve(spec, defaultName: defaultName ?? baseName(of: file))
    }

    /// `Topologies/etcd-3.yaml` -> `etcd-3`.
    public static func baseName(of path: String) -> String {
        let last = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = last.lastIndex(of: "."), dot != last.startIndex else { return last }
        return String(last[..<dot])
    }

    /// The hosts that play etcd (role etcd, or external with `implements: etcd`), in file order.
    public var etcdHosts: [Host] { hosts.filter(\.playsEtcd) }

    public func host(named name: String) -> Host? { hosts.first { $0.name == name } }

    /// The same layout with every host on the named timing profile (`up --timing fast`, a
    /// scenario's `timing:`); nil when the topology has no such profile.
    public func withTiming(_ name: String) -> Topology? {
        guard let profile = timingProfiles[name] else { return nil }
        var copy = self
        copy.defaultTimingName = name
        for index in copy.hosts.indices {
            copy.hosts[index].timingName = name
            copy.hosts[index].timing = profile
        }
        return copy
    }

    /// One line for `faultline topology check`: `etcd-3: 3 hosts (3 etcd), timing default`.
    public var summary: String {
        let counts = Role.allCases.compactMap { role -> String? in
            let count = hosts.filter { $0.plays == role }.count
            return count == 0 ? nil : "\(count) \(role)"
        }
        let profiles = Set(hosts.map(\.timingName)).sorted().joined(separator: ", ")
        let hostWord = hosts.count == 1 ? "host" : "hosts"
        return "\(name): \(hosts.count) \(hostWord) (\(counts.joined(separator: ", "))), timing \(profiles)"
    }
}

/// One host: one process in one network namespace.
public struct Host: Sendable, Equatable, Encodable {
    public var name: String
    public var role: Role
    /// For role external, the role its program plays; nil otherwise.
    public var implements: Role?
    /// Extra arguments appended to the command line (templates allowed).
    public var flags: [String]
    public var timingName: String
    public var timing: TimingProfile
    /// For role external, what to run; nil for built-in daemons.
    public var program: Program?
    /// The port clients dial: the role's default unless the file overrides it.
    public var clientPort: Int?
    /// The port Raft peers dial (hosts that play etcd).
    public var peerPort: Int?

    enum CodingKeys: String, CodingKey {
        case name, role, implements, flags, program
        case timingName = "timing"
        case clientPort = "client_port"
        case peerPort = "peer_port"
    }

    /// The role this host fills in the cluster: `implements` for external programs.
    public var plays: Role { implements ?? role }
    public var playsEtcd: Bool { plays == .etcd }
}

/// A program and its arguments, which may contain templates.
public struct Program: Sendable, Equatable, Encodable {
    public var path: String
    public var arguments: [String]

    public init(path: String, arguments: [String]) {
        self.path = path
        self.arguments = arguments
    }

    enum CodingKeys: String, CodingKey {
        case path
        case arguments = "args"
    }
}
