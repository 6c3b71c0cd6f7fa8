//! TopologyResolver: the checks a decoded topology file must pass, and the resolution of its
//! defaults (names, ports, timing profiles). Every error says what is wrong, where
//! (file:line:column) and how to fix it; the first one found is reported.

struct TopologyResolver {
    let file: String
    /// The parsed document, for positions the decoded values do not carry (mapping keys).
    let root: DocumentNode

    static let hostNameLengthMax = 20
    static let topologyNameLengthMax = 40

    /// Flags the testbed sets on a built-in etcd host itself; giving them again in `flags` would
    /// make the daemon refuse to start ("given twice"), so the file is refused instead.
    static let managedEtcdFlags: [String: String] = [
        "--name": "the host's name", "--data-dir": "the testbed's data directory",
        "--listen-client-urls": "the host's address and ports", "--advertise-client-urls": "the host's address and ports",
        "--listen-peer-urls": "the host's address and ports", "--initial-advertise-peer-urls": "the host's address and ports",
        "--initial-cluster": "the topology's etcd hosts", "--initial-cluster-token": "the testbed",
        "--initial-cluster-state": "the testbed", "--heartbeat-interval": "the timing profile's heartbeat",
        "--election-timeout": "the timing profile's election",
    ]

    func error(_ position: SourcePosition?, _ message: String) -> DocumentError {
        DocumentError(file: file, position: position ?? root.position, message: message)
    }

    func resolve(_ spec: TopologySpec, defaultName: String) throws(DocumentError) -> Topology {
        let name = try resolveName(spec.name, defaultName: defaultName)
        let profiles = try resolveProfiles(spec.timing ?? [:])
        let defaultTiming = spec.defaults?.timing
        if let defaultTiming { try checkProfileExists(defaultTiming, profiles) }
        var hosts: [Host] = []
        var firstSeen: [String: SourcePosition?] = [:]
        for hostSpec in spec.hosts.value {
            let host = try resolveHost(hostSpec.value, profiles: profiles, defaultTiming: defaultTiming?.value ?? "default")
            if let first = firstSeen[host.name] {
                let firstLine = first.map { " (first at line \($0.line))" } ?? ""
                throw error(hostSpec.value.name.position, "duplicate host name '\(host.name)'\(firstLine); host names must be unique")
            }
            firstSeen[host.name] = hostSpec.value.name.position
            hosts.append(host)
        }
        try checkRoles(hosts, spec)
        let podPorts = try resolvePodPorts(spec.podPorts, hosts: hosts)
        return Topology(name: name, description: spec.description, hosts: hosts, timingProfiles: profiles,
            defaultTimingName: defaultTiming?.value ?? "default", podPorts: podPorts)
    }

    // MARK: - Pod ports

    /// The proxy accepts pod traffic on 0.0.0.0:PORT in the switch namespace, which the kernel
    /// will not bind next to a service listener (HOST-ADDRESS:PORT) or the control API on the
    /// same port; so a pod port must be one no host serves on. The defaults leave such ports out
    /// rather than refuse a file that never asked for them.
    func resolvePodPorts(_ spec: Located<[Located<Int>]>?, hosts: [Host]) throws(DocumentError) -> [Int] {
        var users: [Int: String] = [Topology.proxyControlPort: "the fault proxy's control API"]
        for host in hosts {
            // The first host in the file names a port that several hosts serve on.
            if let port = host.clientPort, users[port] == nil { users[port] = "the client port of '\(host.name)'" }
            if let port = host.peerPort, users[port] == nil { users[port] = "the peer port of '\(host.name)'" }
        }
        guard let spec else { return Topology.podPortsDefault.filter { users[$0] == nil } }
        var seen: [Int: SourcePosition?] = [:]
        for port in spec.value {
            guard (1...65535).contains(port.value) else {
                throw error(port.position, "pod port \(port.value) is not between 1 and 65535")
            }
            if let first = seen[port.value] {
                let firstPlace = first.map { " (first at \($0.line):\($0.column))" } ?? ""
                throw error(port.position, "pod port \(port.value) is listed twice\(firstPlace); remove one")
            }
            seen[port.value] = port.position
            if let user = users[port.value] {
                throw error(port.position,
                    "pod port \(port.value) is also \(user); the proxy cannot accept pod traffic on a port a service uses, so pick another")
            }
        }
        return spec.value.map(\.value).sorted()
    }

    // MARK: - Names

    func resolveName(_ name: Located<String>?, defaultName: String) throws(DocumentError) -> String {
        if let name {
            if let problem = Self.labelProblem(name.value, lengthMax: Self.topologyNameLengthMax) {
                throw error(name.position, "topology name '\(name.value)' \(problem)")
            }
            return name.value
        }
        if let problem = Self.labelProblem(defaultName, lengthMax: Self.topologyNameLengthMax) {
            throw error(SourcePosition(line: 1, column: 1),
                "the topology's name defaults to the file name '\(defaultName)', which \(problem); add a 'name:' line")
        }
        return defaultName
    }

    /// Why `name` is not a DNS label as the testbed uses them (it names network namespaces and
    /// appears in URLs), or nil if it is one.
    static func labelProblem(_ name: String, lengthMax: Int) -> String? {
        let rule = "use 1 to \(lengthMax) lowercase letters, digits and '-', starting with a letter and not ending with '-'"
        guard let first = name.unicodeScalars.first else { return "is empty; \(rule)" }
        guard name.unicodeScalars.count <= lengthMax else { return "is longer than \(lengthMax) characters; \(rule)" }
        guard ("a"..."z").contains(first) else { return "does not start with a lowercase letter; \(rule)" }
        if let bad = name.unicodeScalars.first(where: { !(("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-") }) {
            return "contains '\(bad)'; \(rule)"
        }
        if name.hasSuffix("-") { return "ends with '-'; \(rule)" }
        return nil
    }

    // MARK: - Timing profiles

    func resolveProfiles(_ specs: [String: Located<TimingSpec>]) throws(DocumentError) -> [String: TimingProfile] {
        let keyPositions = Dictionary(uniqueKeysWithValues: mappingEntries(root["timing"]).map { ($0.key, $0.keyPosition) })
        // File order, so the first error reported is the first in the file.
        let unplaced = SourcePosition(line: Int.max, column: 1)
        let names = specs.keys.sorted { (keyPositions[$0] ?? unplaced, $0) < (keyPositions[$1] ?? unplaced, $1) }
        for name in names where TimingProfile.builtIn[name] != nil {
            throw error(keyPositions[name],
                "timing profile '\(name)' is built in; give yours another name (use 'extends: \(name)' to start from it)")
        }
        var resolution = ProfileResolution(specs: specs, resolver: self)
        for name in names { _ = try resolution.resolve(name, chain: []) }
        return resolution.profiles
    }

    func checkProfileExists(_ name: Located<String>, _ profiles: [String: TimingProfile]) throws(DocumentError) {
        guard profiles[name.value] == nil else { return }
        throw error(name.position,
            "unknown timing profile '\(name.value)' (profiles: \(profiles.keys.sorted().joined(separator: ", "))); define it under 'timing:' or use one of these")
    }

    func mappingEntries(_ node: DocumentNode?) -> [DocumentNode.Entry] {
        guard let node, case .mapping(let entries) = node.content else { return [] }
        return entries
    }

    // MARK: - Hosts

    func resolveHost(_ spec: HostSpec, profiles: [String: TimingProfile], defaultTiming: String) throws(DocumentError) -> Host
    {
        let name = spec.name.value
        if let problem = Self.labelProblem(name, lengthMax: Self.hostNameLengthMax) {
            throw error(spec.name.position, "host name '\(name)' \(problem)")
        }
        let role = spec.role.value
        let implements = try resolveImplements(spec)
        let plays = implements ?? role
        let program = try resolveProgram(spec)
        let timingName = spec.timing?.value ?? defaultTiming
        if let timing = spec.timing { try checkProfileExists(timing, profiles) }
        guard let timing = profiles[timingName] else {
            preconditionFailure("profile '\(timingName)' of host '\(name)' was checked but is missing from \(profiles.keys.sorted())")
        }
        let (clientPort, peerPort) = try resolvePorts(spec, plays: plays)
        let flags = spec.flags ?? []
        if role == .etcd { try checkManagedFlags(flags) }
        var templated = flags
        if let arguments = spec.program?.value.args { templated = arguments + flags }
        for argument in templated {
            try checkTemplate(argument, host: name, plays: plays, hasClientPort: clientPort != nil)
        }
        return Host(name: name, role: role, implements: implements, flags: flags.map(\.value), timingName: timingName,
            timing: timing, program: program, clientPort: clientPort, peerPort: peerPort)
    }

    func resolveImplements(_ spec: HostSpec) throws(DocumentError) -> Role? {
        guard let implements = spec.implements else { return nil }
        guard spec.role.value == .external else {
            throw error(implements.position,
                "'implements' is only for role external (this host's role is already \(spec.role.value)); remove it")
        }
        guard implements.value != .external else {
            throw error(implements.position,
                "'implements' names the role the program plays: one of \(Role.allCases.filter { $0 != .external }.map(\.rawValue).joined(separator: ", "))")
        }
        return implements.value
    }

    func resolveProgram(_ spec: HostSpec) throws(DocumentError) -> Program? {
        guard spec.role.value == .external else {
            if let program = spec.program {
                throw error(program.position,
                    "'program' is only for role external; to run your own binary as \(spec.role.value), write 'role: external' and 'implements: \(spec.role.value)'")
            }
            return nil
        }
        guard let program = spec.program else {
            throw error(spec.role.position,
                "role external needs a 'program' with the 'path' to run and its 'args' (and 'implements: etcd' if it plays etcd)")
        }
        let path = program.value.path
        guard !path.value.isEmpty else { throw error(path.position, "'path' is empty; give the program to run, e.g. /usr/bin/etcd") }
        return Program(path: path.value, arguments: (program.value.args ?? []).map(\.value))
    }

    func resolvePorts(_ spec: HostSpec, plays: Role) throws(DocumentError) -> (client: Int?, peer: Int?) {
        let ports = spec.ports?.value
        if let peer = ports?.peer, !(plays == .etcd) {
            throw error(peer.position, "a 'peer' port is only for hosts that play etcd; remove it")
        }
        for port in [ports?.client, ports?.peer].compactMap({ $0 }) where !(1...65535).contains(port.value) {
            throw error(port.position, "port \(port.value) is not between 1 and 65535")
        }
        let client = ports?.client?.value ?? plays.defaultClientPort
        let peer = ports?.peer?.value ?? plays.defaultPeerPort
        if let client, client == peer {
            throw error(ports?.peer?.position ?? ports?.client?.position ?? spec.ports?.position,
                "the client and peer ports are both \(client); give them different ports")
        }
        return (client, peer)
    }

    func checkManagedFlags(_ flags: [Located<String>]) throws(DocumentError) {
        for flag in flags {
            let flagName = String(flag.value.prefix { $0 != "=" })
            guard let source = Self.managedEtcdFlags[flagName] else { continue }
            throw error(flag.position,
                "\(flagName) is set by the testbed from \(source); remove it from 'flags'"
                    + (flagName == "--heartbeat-interval" || flagName == "--election-timeout"
                        ? " and set it in a timing profile" : ""))
        }
    }

    /// Template variables are checked here, at load time, so a typo fails `topology check`
    /// rather than a process start. `{{initial_cluster}}` and `{{etcd_endpoints}}` are always
    /// defined: checkRoles requires an etcd host.
    func checkTemplate(_ argument: Located<String>, host: String, plays: Role, hasClientPort: Bool) throws(DocumentError) {
        let variables: [TemplateVariable]
        switch Template.variables(in: argument.value) {
        case .success(let found): variables = found
        case .failure(let problem): throw error(argument.position, problem.description)
        }
        for variable in variables {
            if variable.needsPeerPort && plays != .etcd {
                throw error(argument.position,
                    "{{\(variable.rawValue)}} is only defined for hosts that play etcd, and '\(host)' plays \(plays)")
            }
            if variable.needsClientPort && !hasClientPort {
                throw error(argument.position,
                    "{{\(variable.rawValue)}} needs a client port, and '\(host)' has none; add 'ports: {client: PORT}' to the host")
            }
        }
    }

    // MARK: - Roles across hosts

    func checkRoles(_ hosts: [Host], _ spec: TopologySpec) throws(DocumentError) {
        guard hosts.contains(where: \.playsEtcd) else {
            throw error(spec.hosts.position ?? root["hosts"]?.position,
                "the topology has no etcd host; add a host with 'role: etcd' (or 'role: external' with 'implements: etcd')")
        }
        guard !hosts.contains(where: { $0.plays == .apiserver }) else { return }
        for (host, hostSpec) in zip(hosts, spec.hosts.value) where host.plays.needsAPIServer {
            throw error(hostSpec.value.role.position,
                "host '\(host.name)' (\(host.plays)) talks to the Kubernetes API, but the topology has no apiserver; add a host with 'role: apiserver'")
        }
    }
}

/// Resolves timing profiles through their `extends` chains, remembering where each field was
/// set, so a broken relation is reported at the line that broke it.
struct ProfileResolution {
    let specs: [String: Located<TimingSpec>]
    let resolver: TopologyResolver
    var profiles: [String: TimingProfile] = TimingProfile.builtIn
    /// For each resolved profile, where each field was set in the file (absent: built in).
    var origins: [String: [TimingField: SourcePosition]] = [:]

    init(specs: [String: Located<TimingSpec>], resolver: TopologyResolver) {
        self.specs = specs
        self.resolver = resolver
    }

    mutating func resolve(_ name: String, chain: [String]) throws(DocumentError) -> TimingProfile {
        if let done = profiles[name] { return done }
        guard let spec = specs[name] else {
            preconditionFailure("profile '\(name)' is neither resolved nor declared (declared: \(specs.keys.sorted()))")
        }
        let parentName = spec.value.extends?.value ?? "default"
        if chain.contains(name) {
            throw resolver.error(spec.value.extends?.position ?? spec.position,
                "timing profiles extend each other in a circle (\((chain + [name]).joined(separator: " -> "))); remove one 'extends'")
        }
        guard profiles[parentName] != nil || specs[parentName] != nil else {
            let known = Set(profiles.keys).union(specs.keys).sorted().joined(separator: ", ")
            throw resolver.error(spec.value.extends?.position, "unknown timing profile '\(parentName)' (profiles: \(known))")
        }
        var profile = try resolve(parentName, chain: chain + [name])
        var origin = origins[parentName] ?? [:]
        for (field, value) in spec.value.values {
            profile[field] = value.value
            origin[field] = value.position
        }
        if let violation = profile.violations().first {
            // Blame the first involved field set in this profile, else wherever it was set.
            let own = violation.fields.first { spec.value.values[$0] != nil }.flatMap { spec.value.values[$0]?.position }
            let inherited = violation.fields.lazy.compactMap { origin[$0] }.first
            throw resolver.error(own ?? inherited ?? spec.position, "timing profile '\(name)': \(violation.message)")
        }
        profiles[name] = profile
        origins[name] = origin
        return profile
    }
}
