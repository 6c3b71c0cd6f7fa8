//! What the proxy relays: routes to each host, the addresses each host dials from, and limits.
//! Read from the daemon's JSON file (schema in docs/proxy.md):
//!
//!     {"hosts": {"etcd-1": {"addresses": ["10.200.1.2"],
//!                           "routes": [{"listen": "10.200.255.1:2379", "target": "10.200.1.2:2379"}]}},
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

    public init(host: HostName, listen: Endpoint, target: Endpoint) {
        self.host = host
        self.listen = listen
        self.target = target
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

    public init(routes: [Route] = [], sources: [String: HostName] = [:], hosts: [HostName]? = nil, limits: ProxyLimits = ProxyLimits(), seed: UInt64 = 1) {
        self.routes = routes
        self.sources = sources
        self.hosts = hosts ?? Array(Set(routes.map(\.host) + sources.values)).sorted()
        self.limits = limits
        self.seed = seed
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
        for key in root.keys where !["hosts", "limits", "seed"].contains(key) {
            throw ProxyError("unknown member \"\(key)\" (expected hosts, limits, seed)")
        }
        guard case .object(let hosts)? = root["hosts"], hosts.count > 0 else {
            throw ProxyError("\"hosts\" must be an object naming each host, like {\"etcd-1\": {\"addresses\": [...], \"routes\": [...]}}")
        }
        var configuration = ProxyConfiguration()
        for (host, entry) in hosts.members {
            try readHost(host, entry, into: &configuration)
        }
        configuration.hosts = hosts.keys.sorted()
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
        for key in object.keys where !["addresses", "routes"].contains(key) {
            throw ProxyError("hosts.\(host): unknown member \"\(key)\" (expected addresses, routes)")
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
