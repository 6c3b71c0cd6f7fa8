//! What the proxy relays: routes to each host, the addresses each host dials from, each host's
//! pod network and the pod ports, and limits. Read from the daemon's JSON file (schema in
//! docs/proxy.md):
//!
//!     {"hosts": {"etcd-1": {"addresses": ["10.200.1.2"],
//!                           "routes": [{"listen": "10.200.255.1:2379", "target": "10.200.1.2:2379"}],
//!                           "pod_network": "10.244.1.0/24"}},
//!      "pods": {"ports": [80, 8080], "mark": 1},
//!      "limits": {"connections_max": 4096}, "seed": 1}

import Base
import Faults
import Net
import Wire

/// Something in the configuration or the environment keeps the proxy from starting.
public struct ProxyError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// One listening endpoint: connections accepted here are relayed to `target` on `host`.
public struct Route: Equatable, Sendable {
    /// The destination host (the link is caller -> host).
    public var host: HostName
    public var listen: Endpoint
    public var target: Endpoint
    /// The firewall mark (SO_MARK) of the socket that dials `target`; 0 dials unmarked. Pod
    /// traffic is marked so that the switch's policy routing sends it to the pod's host instead
    /// of back into the switch, where every pod address is local.
    public var mark: UInt32

    public init(host: HostName, listen: Endpoint, target: Endpoint, mark: UInt32 = 0) {
        self.host = host
        self.listen = listen
        self.target = target
        self.mark = mark
    }
}

/// Pod-to-pod traffic between hosts: the ports the proxy accepts it on (for any pod address),
/// each host's pod network, and the mark of the sockets that carry it.
public struct PodTraffic: Equatable, Sendable {
    /// Ports a pod listener accepts on, for every local address (0: a port the kernel picks, for
    /// tests). Invariant: no route listens on one of them.
    public var ports: [UInt16]
    public var networks: PodNetworks
    /// The firewall mark of upstream dials and of every listener (0: none). Listeners are marked
    /// too because a connection accepted from a pod address must answer through the pod's host,
    /// and the kernel routes a listener's SYN-ACK and its accepted sockets by the listener's mark.
    public var mark: UInt32

    public static let portsDefault: [UInt16] = [80, 8080]
    public static let markDefault: UInt32 = 1

    public init(ports: [UInt16] = portsDefault, networks: PodNetworks, mark: UInt32 = markDefault) {
        self.ports = ports
        self.networks = networks
        self.mark = mark
    }
}

/// Bounds on what the relay holds (everything is bounded).
public struct ProxyLimits: Equatable, Sendable {
    /// Open relayed connections at once; more are reset on accept (and counted).
    public var connectionsMax = 4096
    /// Bytes read at once per direction (the relay's buffer); bigger chunks mean fewer calls.
    public var chunkBytes = 256 << 10
    /// Bytes a direction holds while a latency rule delays them; reading stops when it is full.
    public var queuedBytesMax = 4 << 20
    /// Dialling the target gives up after this long (the caller is then reset).
    public var dialTimeout: Nanoseconds = 2 * Time.second
    /// Move bytes with splice(2) (no copy through user space) while no rule applies.
    public var splice = true
    /// How long a recently active direction polls before it blocks (0: never). Spinning takes
    /// the wake-up of a blocked thread off each hop of a request/response exchange (on this
    /// project's machine: +15–20 µs added at p50 instead of +130–150 µs when the machine is
    /// otherwise idle), but it burns CPU that the cluster under test needs: on 2 cores, 8 etcd
    /// clients lost 10–25% of their rate. Off by default; `bench proxy` shows both.
    public var spin: Nanoseconds = 0
    public init() {}

    public func validate() throws(ProxyError) {
        guard connectionsMax >= 1 else { throw ProxyError("connections_max must be at least 1") }
        guard chunkBytes >= 1024, chunkBytes <= 16 << 20 else { throw ProxyError("chunk_bytes must be 1KiB...16MiB") }
        guard queuedBytesMax >= chunkBytes else { throw ProxyError("queued_bytes_max (\(queuedBytesMax)) must be at least chunk_bytes (\(chunkBytes))") }
        guard dialTimeout > 0 else { throw ProxyError("dial_timeout must be positive") }
    }
}

public struct ProxyConfiguration: Equatable, Sendable {
    public var routes: [Route] = []
    /// Caller IPv4 address -> host name (a connection's source host is found by its address).
    public var sources: [String: HostName] = [:]
    /// Every host the topology names (rules may name only these).
    public var hosts: [HostName] = []
    public var limits = ProxyLimits()
    /// Seeds the draws of rules with a probability (each connection derives its own stream).
    public var seed: UInt64 = 1
    /// Pod traffic between hosts; nil relays none (loopback mode has no pod listeners: its pods
    /// share the one `lo` and reach each other directly).
    public var pods: PodTraffic?

    public init(routes: [Route] = [], sources: [String: HostName] = [:], hosts: [HostName]? = nil, limits: ProxyLimits = ProxyLimits(),
        seed: UInt64 = 1, pods: PodTraffic? = nil)
    {
        self.routes = routes
        self.sources = sources
        let podHosts: [HostName] = pods?.networks.entries.map(\.host) ?? []
        let named: Set<HostName> = Set(routes.map(\.host)).union(sources.values).union(podHosts)
        self.hosts = hosts ?? named.sorted()
        self.limits = limits
        self.seed = seed
        self.pods = pods
    }

    public func validate() throws(ProxyError) {
        try limits.validate()
        guard !routes.isEmpty else { throw ProxyError("no routes: give at least one host a route") }
        var listens: Set<Endpoint> = []
        for route in routes {
            guard listens.insert(route.listen).inserted || route.listen.port == 0 else {
                throw ProxyError("two routes listen on \(route.listen)")
            }
        }
        if let pods { try validate(pods) }
    }

    /// A pod listener accepts on 0.0.0.0, which the kernel will not bind next to a listener on a
    /// particular address with the same port: a pod port must be one no route uses.
    private func validate(_ pods: PodTraffic) throws(ProxyError) {
        guard !pods.networks.isEmpty else { throw ProxyError("pods: no host has a pod_network") }
        var seen: Set<UInt16> = []
        for port in pods.ports where port != 0 {
            guard seen.insert(port).inserted else { throw ProxyError("pods.ports: \(port) is listed twice") }
            if let route = routes.first(where: { $0.listen.port == port }) {
                throw ProxyError("pods.ports: \(port) is also the port of \(route.host)'s route on \(route.listen); a pod port must be one no route uses")
            }
        }
        for entry in pods.networks.entries where !hosts.contains(entry.host) {
            throw ProxyError("pod network \(entry.network) belongs to \(entry.host), which is not a host")
        }
    }

    /// Reads the daemon's configuration file.
    public static func parse(_ bytes: [UInt8]) throws(ProxyError) -> ProxyConfiguration {
        let value: JSONValue
        do {
            value = try bytes.withUnsafeBufferPointer { buffer throws(JSONParseError) in try JSON.parse(bytes: buffer) }
        } catch {
            throw ProxyError("not JSON: \(error)")
        }
        guard case .object(let root) = value else { throw ProxyError("the configuration must be a JSON object") }
        for key in root.keys where !["hosts", "pods", "limits", "seed"].contains(key) {
            throw ProxyError("unknown member \"\(key)\" (expected hosts, pods, limits, seed)")
        }
        guard case .object(let hosts)? = root["hosts"], hosts.count > 0 else {
            throw ProxyError("\"hosts\" must be an object naming each host, like {\"etcd-1\": {\"addresses\": [...], \"routes\": [...]}}")
        }
        var configuration = ProxyConfiguration()
        var podNetworks: [PodNetworks.Entry] = []
        for (host, entry) in hosts.members {
            try readHost(host, entry, into: &configuration)
            if let network = try readPodNetwork(host, entry) { podNetworks.append(PodNetworks.Entry(host: host, network: network)) }
        }
        configuration.hosts = hosts.keys.sorted()
        if let pods = root["pods"] {
            configuration.pods = try readPods(pods, networks: podNetworks)
        } else if let first = podNetworks.first {
            throw ProxyError("hosts.\(first.host).pod_network is set but \"pods\" is missing: name the pod ports, like \"pods\": {\"ports\": [80, 8080]}")
        }
        if let limits = root["limits"] { configuration.limits = try readLimits(limits) }
        if let seed = root["seed"] {
            guard case .integer(let number) = seed, number >= 0 else { throw ProxyError("\"seed\" must be a non-negative integer") }
            configuration.seed = UInt64(number)
        }
        try configuration.validate()
        return configuration
    }

    private static func readHost(_ host: String, _ entry: JSONValue, into configuration: inout ProxyConfiguration) throws(ProxyError) {
        guard !host.isEmpty, host != anyHost else { throw ProxyError("'\(host)' cannot name a host") }
        guard case .object(let object) = entry else { throw ProxyError("hosts.\(host) must be an object") }
        for key in object.keys where !["addresses", "routes", "pod_network"].contains(key) {
            throw ProxyError("hosts.\(host): unknown member \"\(key)\" (expected addresses, routes, pod_network)")
        }
        if let addresses = object["addresses"] {
            guard case .array(let items) = addresses else { throw ProxyError("hosts.\(host).addresses must be a list of IPv4 addresses") }
            for item in items {
                guard case .string(let address) = item, (try? Endpoint(parsing: "\(address):1")) != nil else {
                    throw ProxyError("hosts.\(host).addresses: \(JSON.serialize(item)) is not an IPv4 address")
                }
                if let other = configuration.sources[address], other != host {
                    throw ProxyError("address \(address) belongs to both \(other) and \(host)")
                }
                configuration.sources[address] = host
            }
        }
        guard let routes = object["routes"] else { return }
        guard case .array(let items) = routes else { throw ProxyError("hosts.\(host).routes must be a list") }
        for item in items {
            guard case .string(let listen)? = item["listen"], case .string(let target)? = item["target"] else {
                throw ProxyError("hosts.\(host).routes: each route needs \"listen\" and \"target\" (\"HOST:PORT\")")
            }
            do {
                configuration.routes.append(Route(host: host, listen: try Endpoint(parsing: listen), target: try Endpoint(parsing: target)))
            } catch {
                throw ProxyError("hosts.\(host).routes: \(error.message)")
            }
        }
    }

    private static func readPodNetwork(_ host: String, _ entry: JSONValue) throws(ProxyError) -> IPv4Network? {
        guard let value = entry["pod_network"] else { return nil }
        guard case .string(let text) = value, let network = IPv4Network(parsing: text) else {
            throw ProxyError("hosts.\(host).pod_network: \(JSON.serialize(value)) is not an IPv4 network like \"10.244.1.0/24\" (host bits zero)")
        }
        return network
    }

    private static func readPods(_ value: JSONValue, networks: [PodNetworks.Entry]) throws(ProxyError) -> PodTraffic {
        guard case .object(let object) = value else { throw ProxyError("\"pods\" must be an object like {\"ports\": [80, 8080], \"mark\": 1}") }
        var ports = PodTraffic.portsDefault
        var mark = PodTraffic.markDefault
        for (key, member) in object.members {
            switch (key, member) {
            case ("ports", .array(let items)):
                ports = []
                for item in items {
                    guard case .integer(let number) = item, (0...65535).contains(number) else {
                        throw ProxyError("pods.ports: \(JSON.serialize(item)) is not a port (0...65535)")
                    }
                    ports.append(UInt16(number))
                }
            case ("mark", .integer(let number)):
                guard (0...Int64(UInt32.max)).contains(number) else { throw ProxyError("pods.mark: \(number) is not a 32-bit mark") }
                mark = UInt32(number)
            default:
                throw ProxyError("pods: unknown or mistyped member \"\(key)\" (ports: a list of ports; mark: an integer)")
            }
        }
        do {
            return PodTraffic(ports: ports, networks: try PodNetworks(networks), mark: mark)
        } catch {
            throw ProxyError(error.message)
        }
    }

    private static func readLimits(_ value: JSONValue) throws(ProxyError) -> ProxyLimits {
        guard case .object(let object) = value else { throw ProxyError("\"limits\" must be an object") }
        var limits = ProxyLimits()
        for (key, member) in object.members {
            switch (key, member) {
            case ("connections_max", .integer(let number)): limits.connectionsMax = Int(clamping: number)
            case ("chunk_bytes", .integer(let number)): limits.chunkBytes = Int(clamping: number)
            case ("queued_bytes_max", .integer(let number)): limits.queuedBytesMax = Int(clamping: number)
            case ("splice", .bool(let flag)): limits.splice = flag
            case ("spin", .string(let text)):
                guard let spin = Time.parse(text), spin <= Time.millisecond else { throw ProxyError("limits.spin must be a duration up to 1ms like 200us") }
                limits.spin = spin
            case ("dial_timeout", .string(let text)):
                guard let timeout = Time.parse(text) else { throw ProxyError("limits.dial_timeout must be a duration like 2s") }
                limits.dialTimeout = timeout
            default:
                throw ProxyError("limits: unknown or mistyped member \"\(key)\" (connections_max, chunk_bytes, queued_bytes_max: integers; dial_timeout, spin: durations; splice: a boolean)")
            }
        }
        return limits
    }
}
