//! kube-proxy's pure core, part one: from Services and Endpoints to the listeners a node's proxy
//! wants. Each TCP port of a Service that has a ClusterIP (not headless, not ExternalName) is
//! one listener on ClusterIP:port; its backends are the ready addresses of the Service's
//! Endpoints with the port whose name matches the Service port's name, as kube-proxy pairs
//! `ServicePort.name` with `EndpointPort.name`. Everything comes out sorted, so the same objects
//! always give the same plan.

import KubeAPI
import Wire

/// Where a listener accepts: a ClusterIP and a port.
public struct ServiceAddress: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var ip: String
    public var port: Int

    public init(ip: String, port: Int) {
        self.ip = ip
        self.port = port
    }

    public var description: String { "\(ip):\(port)" }

    public static func < (left: ServiceAddress, right: ServiceAddress) -> Bool {
        (IPv4Range.parse(left.ip) ?? 0, left.port, left.ip) < (IPv4Range.parse(right.ip) ?? 0, right.port, right.ip)
    }
}

/// One ready endpoint a listener relays to.
public typealias ProxyBackend = ServiceAddress

/// How a Service spreads one client's connections (`spec.sessionAffinity`).
public enum SessionAffinity: Sendable, Equatable {
    case none
    /// The same client IP goes to the same backend while it keeps coming back within this long.
    case clientIP(timeoutSeconds: Int64)

    /// `sessionAffinityConfig.clientIP.timeoutSeconds` when nothing is given: three hours.
    public static let defaultTimeoutSeconds: Int64 = 10800
}

/// One Service port as the proxy serves it.
public struct ServiceListener: Sendable, Equatable {
    public var address: ServiceAddress
    /// `namespace/name`, for logs.
    public var service: String
    /// The Service port's name ("" for an unnamed single port): the Endpoints port it pairs with.
    public var portName: String
    /// Sorted, without repeats; empty means connections are refused.
    public var backends: [ProxyBackend]
    public var affinity: SessionAffinity

    public init(address: ServiceAddress, service: String, portName: String, backends: [ProxyBackend], affinity: SessionAffinity) {
        self.address = address
        self.service = service
        self.portName = portName
        self.backends = backends
        self.affinity = affinity
    }

    /// Whether a socket listens: with no ready backend nothing does, so a client's connect is
    /// refused by the kernel (an RST), as kube-proxy's REJECT rule refuses it.
    public var accepts: Bool { !backends.isEmpty }
}

/// Everything the proxy of one node should serve.
public struct ProxyPlan: Sendable, Equatable {
    /// Sorted by address; at most one per address.
    public var listeners: [ServiceListener]
    /// Why a Service port was left out although it looked servable (a second Service claiming
    /// an address already taken), sorted; for the log.
    public var conflicts: [String]

    public init(listeners: [ServiceListener] = [], conflicts: [String] = []) {
        self.listeners = listeners
        self.conflicts = conflicts
    }

    /// The ClusterIPs the node must hold (every listener's, accepting or not: a connect to an
    /// address the node does not hold would wander off instead of being refused), sorted.
    public var addresses: [String] {
        var seen = Set<String>()
        return listeners.map(\.address.ip).filter { seen.insert($0).inserted }
    }

    /// The addresses a socket listens on, sorted.
    public var sockets: [ServiceAddress] { listeners.filter(\.accepts).map(\.address) }

    public func listener(at address: ServiceAddress) -> ServiceListener? { listeners.first { $0.address == address } }
}

public enum ServiceListeners {
    /// The plan for `services` and `endpoints` (any order; objects that are not a Service or
    /// Endpoints of the usual shape contribute nothing).
    public static func plan(services: [JSONValue], endpoints: [JSONValue]) -> ProxyPlan {
        var endpointsByService: [String: JSONValue] = [:]
        for object in endpoints {
            guard let key = key(of: object) else { continue }
            endpointsByService[key] = object
        }
        var byAddress: [ServiceAddress: ServiceListener] = [:]
        var conflicts: [String] = []
        // Sorted by namespace/name: when two Services claim one address, the first keeps it.
        let keyed = services.compactMap { service in key(of: service).map { ($0, service) } }.sorted { $0.0 < $1.0 }
        for (serviceKey, service) in keyed {
            guard let clusterIP = clusterIP(of: service) else { continue }
            let affinity = sessionAffinity(of: service)
            for port in service.arrayMember("spec", "ports") {
                guard isTCP(port), let number = validPort(port.member("port")) else { continue }
                let address = ServiceAddress(ip: clusterIP, port: number)
                let portName = port.stringMember("name") ?? ""
                if let holder = byAddress[address] {
                    conflicts.append("\(serviceKey) port \(portName.isEmpty ? String(number) : portName): \(address) is already \(holder.service)'s")
                    continue
                }
                byAddress[address] = ServiceListener(address: address, service: serviceKey, portName: portName,
                    backends: backends(endpointsByService[serviceKey], portName: portName), affinity: affinity)
            }
        }
        return ProxyPlan(listeners: byAddress.keys.sorted().map { byAddress[$0]! }, conflicts: conflicts.sorted())
    }

    /// The ClusterIP a proxy serves: an IPv4 address, not "None" (headless) or empty, and not
    /// on an ExternalName Service (a DNS alias: nothing to proxy).
    static func clusterIP(of service: JSONValue) -> String? {
        guard (service.stringMember("spec", "type") ?? "ClusterIP") != "ExternalName",
            let ip = service.stringMember("spec", "clusterIP"), let value = IPv4Range.parse(ip), value != 0
        else { return nil }
        return IPv4Range.format(value)
    }

    static func sessionAffinity(of service: JSONValue) -> SessionAffinity {
        guard service.stringMember("spec", "sessionAffinity") == "ClientIP" else { return .none }
        let timeout = service.intMember("spec", "sessionAffinityConfig", "clientIP", "timeoutSeconds") ?? SessionAffinity.defaultTimeoutSeconds
        // Validation allows 1…86400; anything else (an object that skipped it) gets the default.
        return .clientIP(timeoutSeconds: (1...86400).contains(timeout) ? timeout : SessionAffinity.defaultTimeoutSeconds)
    }

    /// The ready addresses of `endpoints` that offer the port named `portName` over TCP.
    static func backends(_ endpoints: JSONValue?, portName: String) -> [ProxyBackend] {
        guard let endpoints else { return [] }
        var found = Set<ProxyBackend>()
        for subset in endpoints.arrayMember("subsets") {
            let ports = subset.arrayMember("ports").filter { ($0.stringMember("name") ?? "") == portName && isTCP($0) }
            for port in ports {
                guard let number = validPort(port.member("port")) else { continue }
                for address in subset.arrayMember("addresses") {
                    guard let ip = address.stringMember("ip"), let value = IPv4Range.parse(ip), value != 0 else { continue }
                    found.insert(ProxyBackend(ip: IPv4Range.format(value), port: number))
                }
            }
        }
        return found.sorted()
    }

    static func key(of object: JSONValue) -> String? {
        guard let name = object.stringMember("metadata", "name"), !name.isEmpty else { return nil }
        return "\(object.stringMember("metadata", "namespace") ?? "default")/\(name)"
    }

    static func isTCP(_ port: JSONValue) -> Bool { (port.stringMember("protocol") ?? "TCP") == "TCP" }

    static func validPort(_ value: JSONValue?) -> Int? {
        guard let number = value?.asInt64, (1...65535).contains(number) else { return nil }
        return Int(number)
    }
}
