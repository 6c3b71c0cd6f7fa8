//! Pod traffic in the proxy: the pure decisions (which host owns a pod address, what happens to a
//! connection on a pod port), the configuration's `pods` and `pod_network` with the mistakes it
//! refuses, and pod listeners over loopback. Loopback cannot route a relayed dial to a pod (every
//! 127.x address is the proxy's own), so these check everything up to the dial — link rules,
//! refusals, counters — and the namespace end-to-end test (TestbedTests) checks the dial.

import Base
import Faults
import Foundation
import Glibc
import Net
import Proxy
import Testing
import Wire

private func network(_ text: String) -> IPv4Network {
    guard let network = IPv4Network(parsing: text) else { preconditionFailure("test network '\(text)' does not parse") }
    return network
}

private func networks(_ pairs: [(String, String)]) throws -> PodNetworks {
    try PodNetworks(pairs.map { PodNetworks.Entry(host: $0.0, network: network($0.1)) })
}

@Suite struct PodNetworkTests {
    @Test func addressesAndNetworksParseStrictly() {
        #expect(IPv4.parse("10.244.1.2") == 0x0AF4_0102 && IPv4.text(0x0AF4_0102) == "10.244.1.2")
        for bad in ["10.244.1", "10.244.1.256", "10.244.1.-1", "10..1.2", "a.b.c.d", "10.244.1.0002", "10.244.1.2 "] {
            #expect(IPv4.parse(bad) == nil, "\(bad)")
        }
        #expect(IPv4Network(parsing: "10.244.1.0/24")?.description == "10.244.1.0/24")
        #expect(IPv4Network(parsing: "0.0.0.0/0")?.contains(0xFFFF_FFFF) == true)
        #expect(IPv4Network(parsing: "10.244.1.7/32")?.contains(0x0AF4_0107) == true)
        // Host bits set, a length out of range or missing: refused, never silently rounded.
        for bad in ["10.244.1.7/24", "10.244.1.0/33", "10.244.1.0", "10.244.1.0/", "10.244.1.0/2a", "10.244.1.0/24/1"] {
            #expect(IPv4Network(parsing: bad) == nil, "\(bad)")
        }
        let pods = network("10.244.0.0/16")
        #expect(pods.overlaps(network("10.244.3.0/24")) && network("10.244.3.0/24").overlaps(pods))
        #expect(!network("10.244.3.0/24").overlaps(network("10.244.4.0/24")))
    }

    @Test func theOwnerIsTheHostWhoseNetworkHoldsTheAddress() throws {
        let pods = try networks([("node-2", "10.244.2.0/24"), ("node-1", "10.244.1.0/24")])
        #expect(pods.entries.map(\.host) == ["node-1", "node-2"], "sorted by network")
        #expect(pods.owner(of: "10.244.1.2") == "node-1" && pods.owner(of: "10.244.2.254") == "node-2")
        #expect(pods.owner(of: "10.244.3.2") == nil && pods.owner(of: "10.201.255.1") == nil && pods.owner(of: "nope") == nil)
        #expect(throws: FaultError("pod networks 10.244.0.0/16 (a) and 10.244.1.0/24 (b) overlap")) {
            try networks([("a", "10.244.0.0/16"), ("b", "10.244.1.0/24")])
        }
        #expect(throws: FaultError("host a has two pod networks")) { try networks([("a", "10.244.1.0/24"), ("a", "10.244.2.0/24")]) }
    }

    @Test func aPodConnectionIsRelayedOnTheLinkBetweenTheTwoHosts() throws {
        let pods = try networks([("node-1", "10.244.1.0/24"), ("node-2", "10.244.2.0/24")])
        let sources = ["10.201.1.2": "node-1", "10.201.2.2": "node-2", "10.201.0.2": "client"]
        // From a host's real address, and from one of its pods' addresses.
        #expect(pods.decide(peer: "10.201.2.2", destination: "10.244.1.2", sources: sources) == .relay(source: "node-2", destination: "node-1"))
        #expect(pods.decide(peer: "10.244.2.5", destination: "10.244.1.2", sources: sources) == .relay(source: "node-2", destination: "node-1"))
        #expect(pods.decide(peer: "10.201.0.2", destination: "10.244.2.9", sources: sources) == .relay(source: "client", destination: "node-2"))
        // Sent to the switch's own address on a pod port, from nobody, or back to its own host.
        #expect(pods.decide(peer: "10.201.2.2", destination: "10.201.2.1", sources: sources) == .notAPodAddress)
        #expect(pods.decide(peer: "10.201.9.9", destination: "10.244.1.2", sources: sources) == .unknownSource)
        #expect(pods.decide(peer: "10.201.1.2", destination: "10.244.1.99", sources: sources) == .ownHost("node-1"))
        // A dial of the switch's own that missed its mark comes from the pod address itself.
        #expect(pods.decide(peer: "10.244.1.2", destination: "10.244.1.2", sources: sources) == .ownHost("node-1"))
        // A host's claimed address wins over a pod network that happens to hold it.
        #expect(pods.sourceHost(of: "10.244.2.7", sources: ["10.244.2.7": "odd"]) == "odd")
    }
}

@Suite struct PodConfigurationTests {
    static let good = """
        {"hosts": {"node-1": {"addresses": ["10.201.1.2"], "routes": [{"listen": "10.201.255.1:2379", "target": "10.201.1.2:2379"}],
                              "pod_network": "10.244.1.0/24"},
                   "node-2": {"addresses": ["10.201.2.2"], "routes": [], "pod_network": "10.244.2.0/24"},
                   "client": {"addresses": ["10.201.0.2"]}},
         "pods": {"ports": [80, 8080], "mark": 7}}
        """

    func message(_ text: String) -> String? {
        do {
            _ = try ProxyConfiguration.parse(Array(text.utf8))
            return nil
        } catch {
            return error.message
        }
    }

    /// The good configuration with `old` replaced by `new` (exactly once).
    func variant(_ old: String, _ new: String) -> String {
        precondition(Self.good.components(separatedBy: old).count == 2, "'\(old)' is not in the configuration exactly once")
        return Self.good.replacingOccurrences(of: old, with: new)
    }

    @Test func podsAndPodNetworksParse() throws {
        let configuration = try ProxyConfiguration.parse(Array(Self.good.utf8))
        let pods = try #require(configuration.pods)
        #expect(pods.ports == [80, 8080] && pods.mark == 7)
        #expect(pods.networks.entries == [PodNetworks.Entry(host: "node-1", network: network("10.244.1.0/24")),
            PodNetworks.Entry(host: "node-2", network: network("10.244.2.0/24"))])
        #expect(configuration.hosts == ["client", "node-1", "node-2"])
        // Defaults: ports 80 and 8080, mark 1; no "pods" at all: no pod traffic.
        let defaults = try ProxyConfiguration.parse(Array(variant(#""pods": {"ports": [80, 8080], "mark": 7}"#, #""pods": {}"#).utf8))
        #expect(defaults.pods?.ports == PodTraffic.portsDefault && defaults.pods?.mark == 1)
        let plain = #"{"hosts": {"node-1": {"routes": [{"listen": "10.201.255.1:2379", "target": "10.201.1.2:2379"}]}}}"#
        #expect(try ProxyConfiguration.parse(Array(plain.utf8)).pods == nil)
    }

    @Test func knownBadConfigurationsAreRefusedWithTheReason() {
        // A pod port that a route already listens on: the wildcard pod listener could not bind.
        #expect(message(variant("[80, 8080]", "[80, 2379]"))
            == "pods.ports: 2379 is also the port of node-1's route on 10.201.255.1:2379; a pod port must be one no route uses")
        #expect(message(variant(#""10.244.2.0/24""#, #""10.244.0.0/16""#))
            == "pod networks 10.244.0.0/16 (node-2) and 10.244.1.0/24 (node-1) overlap")
        #expect(message(variant(#""10.244.2.0/24""#, #""10.244.2.9/24""#))
            == #"hosts.node-2.pod_network: "10.244.2.9/24" is not an IPv4 network like "10.244.1.0/24" (host bits zero)"#)
        #expect(message(variant(#""10.244.2.0/24""#, "24")) == #"hosts.node-2.pod_network: 24 is not an IPv4 network like "10.244.1.0/24" (host bits zero)"#)
        #expect(message(variant("[80, 8080]", "[80, 80]")) == "pods.ports: 80 is listed twice")
        #expect(message(variant("[80, 8080]", "[80, 70000]")) == "pods.ports: 70000 is not a port (0...65535)")
        #expect(message(variant("[80, 8080]", #"["http"]"#)) == #"pods.ports: "http" is not a port (0...65535)"#)
        #expect(message(variant(#""mark": 7"#, #""mark": -1"#)) == "pods.mark: -1 is not a 32-bit mark")
        #expect(message(variant(#""mark": 7"#, #""marks": 7"#))
            == #"pods: unknown or mistyped member "marks" (ports: a list of ports; mark: an integer)"#)
        #expect(message(variant(#""pods": {"ports": [80, 8080], "mark": 7}"#, #""pods": [80]"#))
            == #""pods" must be an object like {"ports": [80, 8080], "mark": 1}"#)
        #expect(message(variant(#""pods": {"ports": [80, 8080], "mark": 7}"#, #""seed": 3"#))
            == #"hosts.node-1.pod_network is set but "pods" is missing: name the pod ports, like "pods": {"ports": [80, 8080]}"#)
        #expect(message(#"{"hosts": {"a": {"routes": [{"listen": "10.0.0.1:1", "target": "10.0.0.2:1"}]}}, "pods": {}}"#)
            == "pods: no host has a pod_network")
        #expect(message(variant(#""pod_network": "10.244.1.0/24""#, #""pod_net": "10.244.1.0/24""#))
            == #"hosts.node-1: unknown member "pod_net" (expected addresses, routes, pod_network)"#)
    }
}

// MARK: - Pod listeners over loopback

/// A proxy with one pod port (the kernel's choice) on 0.0.0.0, pod networks on 127.10.x, and no
/// mark (marks need CAP_NET_ADMIN, and loopback has no policy routing to use them).
private struct PodHarness {
    let backend: Backend
    let proxy: FaultProxy
    var port: UInt16 { proxy.podListening[0].port }

    init() throws {
        backend = try Backend()
        let pods = PodTraffic(ports: [0], networks: try networks([("alpha", "127.10.1.0/24"), ("server", "127.10.2.0/24")]), mark: 0)
        let configuration = ProxyConfiguration(
            routes: [Route(host: "server", listen: Endpoint(host: "127.0.0.1", port: 0), target: backend.endpoint)],
            sources: ["127.0.0.11": "alpha", "127.0.0.12": "beta"], hosts: ["alpha", "beta", "server"], seed: 5, pods: pods)
        proxy = FaultProxy(configuration: configuration)
        try proxy.start()
    }

    func dial(_ address: String, from source: String) -> Int32? {
        try? Socket.connect(Endpoint(host: address, port: port), from: source, timeout: 2 * Time.second)
    }

    func counter(_ from: String, _ to: String, _ name: String) -> Int { proxy.counterValues(from: from, to: to)[name] ?? 0 }
}

@Suite struct PodListenerTests {
    @Test func linkRulesApplyToPodConnectionsAsToServiceConnections() throws {
        let harness = try PodHarness()
        defer { harness.proxy.stop() }
        #expect(harness.proxy.podListening.count == 1 && harness.proxy.podListening[0].host == "0.0.0.0" && harness.port != 0)
        // alpha -> server's pod 127.10.2.7: the link alpha->server, so a reject on it refuses.
        _ = try harness.proxy.apply([FaultRule(.cut(from: "alpha", to: "server", mode: .reject))])
        #expect(refused(harness.dial("127.10.2.7", from: "127.0.0.11")), "a pod connection crossed a reject rule")
        #expect(waitUntil { harness.counter("alpha", "server", "connections_refused") == 1 })
        // A blackhole holds it, undialled, as it would a service connection.
        harness.proxy.heal()
        _ = try harness.proxy.apply([FaultRule(.cut(from: "alpha", to: "server", mode: .blackhole))])
        let held = try #require(harness.dial("127.10.2.8", from: "127.0.0.11"))
        #expect(waitUntil { harness.counter("alpha", "server", "connections_held") == 1 })
        #expect(isTimeout(read(held, 1, timeout: 300 * Time.millisecond).end), "a held pod connection was answered")
        // The held connection must be over before the next rule: one still waiting for the heal
        // (it looks every 250 ms) would otherwise meet the reject below and count as refused too.
        harness.proxy.heal()
        close(held)
        #expect(waitUntil(10 * Time.second) { harness.proxy.connectionCount == 0 }, "the held connection never ended")
        // A caller dialling from a pod address is known by its pod network: the same link.
        let refusedBefore = harness.counter("alpha", "server", "connections_refused")
        _ = try harness.proxy.apply([FaultRule(.cut(from: "alpha", to: "server", mode: .reject))])
        #expect(refused(harness.dial("127.10.2.7", from: "127.10.1.5")))
        #expect(waitUntil { harness.counter("alpha", "server", "connections_refused") == refusedBefore + 1 })
        #expect(harness.backend.acceptedCount == 0, "the service backend saw pod traffic")
    }

    @Test func connectionsThatAreNotPodTrafficAreReset() throws {
        let harness = try PodHarness()
        defer { harness.proxy.stop() }
        // To an address no pod network holds (the pod listener takes every local address).
        #expect(refused(harness.dial("127.0.0.1", from: "127.0.0.11")))
        #expect(waitUntil { harness.proxy.podUnroutedCount == 1 })
        // From an address no host claims.
        #expect(refused(harness.dial("127.10.2.7", from: "127.0.0.99")))
        #expect(waitUntil { harness.proxy.podUnknownSourceCount == 1 })
        // From a host to its own pod range: its own lo would have answered a pod that exists.
        #expect(refused(harness.dial("127.10.1.7", from: "127.10.1.5")))
        #expect(waitUntil { harness.proxy.podOwnHostCount == 1 })
        // With no rule the proxy dials 127.10.2.7 itself, unmarked, which on loopback lands on its
        // own pod listener from 127.0.0.1: refused there, so the caller is reset, not looped.
        #expect(refused(harness.dial("127.10.2.7", from: "127.0.0.11")))
        #expect(waitUntil { harness.proxy.podUnknownSourceCount == 2 })
        #expect(waitUntil { harness.proxy.connectionCount == 0 }, "a looped connection stayed open")
        let report = harness.proxy.linksReport()
        #expect(report["pod_connections_unrouted"] == .integer(1) && report["pod_connections_own_host"] == .integer(1))
    }
}
