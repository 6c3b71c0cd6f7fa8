//! kube-proxy's pure core: which listeners Services and Endpoints give (ports paired by name,
//! ready addresses only, headless, ExternalName, UDP and malformed objects left out, two
//! Services on one address), and how the balancer picks backends (round robin, ClientIP
//! affinity with its timeout, backends that leave, a bounded client table), deterministically.

import Base
import KubeNode
import Testing
import Wire

@Suite struct ServiceListenersTests {
    static func service(_ name: String, clusterIP: String?, ports: String = #"[{"name":"web","port":80,"targetPort":8080}]"#,
        extra: String = "", namespace: String = "default") -> JSONValue
    {
        let ip = clusterIP.map { #","clusterIP":"\#($0)""# } ?? ""
        return try! JSON.parse(#"""
            {"kind":"Service","metadata":{"name":"\#(name)","namespace":"\#(namespace)"},"spec":{"ports":\#(ports)\#(ip)\#(extra)}}
            """#)
    }

    static func endpoints(_ name: String, subsets: String, namespace: String = "default") -> JSONValue {
        try! JSON.parse(#"{"kind":"Endpoints","metadata":{"name":"\#(name)","namespace":"\#(namespace)"},"subsets":\#(subsets)}"#)
    }

    static let twoReady = endpoints("web", subsets: #"""
        [{"addresses":[{"ip":"10.244.2.3"},{"ip":"10.244.1.2"}],"notReadyAddresses":[{"ip":"10.244.3.9"}],
          "ports":[{"name":"web","port":8080,"protocol":"TCP"},{"name":"metrics","port":9090}]}]
        """#)

    @Test func aServicePortListensOnItsClusterIPWithTheReadyAddressesOfItsNamedPort() throws {
        let plan = ServiceListeners.plan(services: [Self.service("web", clusterIP: "10.96.0.10")], endpoints: [Self.twoReady])
        let listener = try #require(plan.listeners.first)
        #expect(plan.listeners.count == 1)
        #expect(listener.address == ServiceAddress(ip: "10.96.0.10", port: 80))
        #expect(listener.service == "default/web" && listener.portName == "web")
        // Sorted by address; the not-ready address and the other port are left out.
        #expect(listener.backends == [ProxyBackend(ip: "10.244.1.2", port: 8080), ProxyBackend(ip: "10.244.2.3", port: 8080)])
        #expect(listener.affinity == .none && listener.accepts)
        #expect(plan.addresses == ["10.96.0.10"] && plan.sockets == [listener.address])
    }

    @Test func portsPairByNameAcrossSubsets() throws {
        let service = Self.service("web", clusterIP: "10.96.0.10",
            ports: #"[{"name":"web","port":80},{"name":"metrics","port":9100},{"name":"admin","port":81}]"#)
        let endpoints = Self.endpoints("web", subsets: #"""
            [{"addresses":[{"ip":"10.244.1.2"}],"ports":[{"name":"web","port":8080},{"name":"metrics","port":9090}]},
             {"addresses":[{"ip":"10.244.2.3"}],"ports":[{"name":"web","port":8081}]}]
            """#)
        let plan = ServiceListeners.plan(services: [service], endpoints: [endpoints])
        #expect(plan.listeners.map(\.address.port) == [80, 81, 9100])
        #expect(plan.listener(at: ServiceAddress(ip: "10.96.0.10", port: 80))?.backends
            == [ProxyBackend(ip: "10.244.1.2", port: 8080), ProxyBackend(ip: "10.244.2.3", port: 8081)])
        #expect(plan.listener(at: ServiceAddress(ip: "10.96.0.10", port: 9100))?.backends == [ProxyBackend(ip: "10.244.1.2", port: 9090)])
        // A port no Endpoints port is named after has no backend: its address is held, nothing listens.
        let admin = try #require(plan.listener(at: ServiceAddress(ip: "10.96.0.10", port: 81)))
        #expect(admin.backends.isEmpty && !admin.accepts)
        #expect(plan.sockets.map(\.port) == [80, 9100] && plan.addresses == ["10.96.0.10"])
    }

    @Test func anUnnamedPortPairsWithAnUnnamedEndpointsPortOnly() {
        let service = Self.service("web", clusterIP: "10.96.0.10", ports: #"[{"port":80}]"#)
        let unnamed = Self.endpoints("web", subsets: #"[{"addresses":[{"ip":"10.244.1.2"}],"ports":[{"port":8080}]}]"#)
        let named = Self.endpoints("web", subsets: #"[{"addresses":[{"ip":"10.244.1.2"}],"ports":[{"name":"http","port":8080}]}]"#)
        #expect(ServiceListeners.plan(services: [service], endpoints: [unnamed]).listeners.first?.backends == [ProxyBackend(ip: "10.244.1.2", port: 8080)])
        #expect(ServiceListeners.plan(services: [service], endpoints: [named]).listeners.first?.backends == [])
    }

    @Test func headlessExternalNameUDPAndMalformedServicesGetNoListener() {
        let services = [
            Self.service("headless", clusterIP: "None"),
            Self.service("pending", clusterIP: nil),
            Self.service("empty", clusterIP: ""),
            Self.service("six", clusterIP: "fd00::10"),
            Self.service("zero", clusterIP: "0.0.0.0"),
            Self.service("garbled", clusterIP: "10.96.0.300"),
            Self.service("alias", clusterIP: "10.96.0.11", extra: #","type":"ExternalName","externalName":"example.com""#),
            Self.service("dns", clusterIP: "10.96.0.12", ports: #"[{"name":"dns","port":53,"protocol":"UDP"},{"name":"sctp","port":9,"protocol":"SCTP"}]"#),
            Self.service("badports", clusterIP: "10.96.0.13", ports: #"[{"name":"a","port":0},{"name":"b","port":70000},{"name":"c","port":"80"},{"name":"d"}]"#),
            try! JSON.parse(#"{"kind":"Service","metadata":{"namespace":"default"},"spec":{"clusterIP":"10.96.0.14","ports":[{"port":80}]}}"#),
            .string("not an object"),
        ]
        let plan = ServiceListeners.plan(services: services, endpoints: [])
        #expect(plan.listeners.isEmpty, "\(plan.listeners)")
        #expect(plan.addresses.isEmpty && plan.conflicts.isEmpty)
    }

    @Test func badEndpointsEntriesAreSkipped() {
        let endpoints = Self.endpoints("web", subsets: #"""
            [{"addresses":[{"ip":"10.244.1.2"},{"ip":"bogus"},{"hostname":"no-ip"},{"ip":"0.0.0.0"}],
              "ports":[{"name":"web","port":8080},{"name":"web","port":0},{"name":"web","port":8080,"protocol":"UDP"}]},
             {"addresses":[{"ip":"10.244.1.2"}],"ports":[{"name":"web","port":8080}]},
             {"notReadyAddresses":[{"ip":"10.244.9.9"}],"ports":[{"name":"web","port":8080}]}]
            """#)
        let plan = ServiceListeners.plan(services: [Self.service("web", clusterIP: "10.96.0.10")], endpoints: [endpoints])
        #expect(plan.listeners.first?.backends == [ProxyBackend(ip: "10.244.1.2", port: 8080)], "one backend, once")
    }

    @Test func endpointsOfAnotherNamespaceOrNameDoNotCount() {
        let plan = ServiceListeners.plan(services: [Self.service("web", clusterIP: "10.96.0.10")],
            endpoints: [Self.endpoints("web", subsets: #"[{"addresses":[{"ip":"10.244.1.2"}],"ports":[{"name":"web","port":8080}]}]"#, namespace: "shop"),
                Self.endpoints("web2", subsets: #"[{"addresses":[{"ip":"10.244.1.3"}],"ports":[{"name":"web","port":8080}]}]"#)])
        #expect(plan.listeners.first?.backends == [])
    }

    @Test func twoServicesOnOneAddressTheFirstByNameKeepsIt() {
        let first = Self.service("a", clusterIP: "10.96.0.10"), second = Self.service("b", clusterIP: "10.96.0.10")
        for services in [[first, second], [second, first]] {
            let plan = ServiceListeners.plan(services: services, endpoints: [])
            #expect(plan.listeners.map(\.service) == ["default/a"])
            #expect(plan.conflicts == ["default/b port web: 10.96.0.10:80 is already default/a's"])
        }
    }

    @Test func sessionAffinityAndItsTimeout() {
        let sticky = Self.service("s", clusterIP: "10.96.0.10", extra: #","sessionAffinity":"ClientIP""#)
        let timed = Self.service("t", clusterIP: "10.96.0.11",
            extra: #","sessionAffinity":"ClientIP","sessionAffinityConfig":{"clientIP":{"timeoutSeconds":30}}"#)
        let outOfRange = Self.service("u", clusterIP: "10.96.0.12",
            extra: #","sessionAffinity":"ClientIP","sessionAffinityConfig":{"clientIP":{"timeoutSeconds":0}}"#)
        let none = Self.service("v", clusterIP: "10.96.0.13", extra: #","sessionAffinity":"None""#)
        let plan = ServiceListeners.plan(services: [sticky, timed, outOfRange, none], endpoints: [])
        #expect(plan.listeners.map(\.affinity) == [.clientIP(timeoutSeconds: 10800), .clientIP(timeoutSeconds: 30),
            .clientIP(timeoutSeconds: 10800), .none])
    }

    @Test func thePlanDoesNotDependOnTheOrderOfItsInputs() {
        let services = (0..<12).map { Self.service("s\($0)", clusterIP: "10.96.0.\(20 - $0)", ports: #"[{"name":"web","port":80},{"name":"x","port":81}]"#) }
        let endpoints = (0..<12).map { Self.endpoints("s\($0)", subsets: #"""
            [{"addresses":[{"ip":"10.244.1.\#($0 + 1)"},{"ip":"10.244.2.\#($0 + 1)"}],"ports":[{"name":"web","port":8080}]}]
            """#) }
        let reference = ServiceListeners.plan(services: services, endpoints: endpoints)
        var random = SeededRandom(seed: 7)
        for _ in 0..<20 {
            #expect(ServiceListeners.plan(services: services.shuffled(using: &random), endpoints: endpoints.shuffled(using: &random)) == reference)
        }
        #expect(reference.listeners.map(\.address) == reference.listeners.map(\.address).sorted())
        #expect(reference.addresses.first == "10.96.0.9" && reference.addresses.count == 12, "sorted numerically, not as text")
    }
}

@Suite struct ServiceBalancerTests {
    static let address = ServiceAddress(ip: "10.96.0.10", port: 80)
    static let backends = [ProxyBackend(ip: "10.244.1.2", port: 8080), ProxyBackend(ip: "10.244.2.3", port: 8080),
        ProxyBackend(ip: "10.244.3.4", port: 8080)]

    static func plan(_ backends: [ProxyBackend], affinity: SessionAffinity = .none) -> ProxyPlan {
        ProxyPlan(listeners: [ServiceListener(address: address, service: "default/web", portName: "web", backends: backends, affinity: affinity)])
    }

    @Test func roundRobinTakesEachBackendInTurn() {
        var balancer = ServiceBalancer()
        balancer.update(Self.plan(Self.backends))
        let chosen = (0..<7).map { balancer.choose(Self.address, clientIP: "10.0.0.\($0)", now: 0) }
        #expect(chosen == [0, 1, 2, 0, 1, 2, 0].map { Optional(Self.backends[$0]) })
        // An unknown listener, or one without backends, refuses.
        #expect(balancer.choose(ServiceAddress(ip: "10.96.0.99", port: 80), clientIP: "10.0.0.1", now: 0) == nil)
        balancer.update(Self.plan([]))
        #expect(balancer.choose(Self.address, clientIP: "10.0.0.1", now: 0) == nil)
    }

    @Test func aChangeOfBackendsStartsTheTurnAgainAndAnUnchangedPlanKeepsIt() {
        var balancer = ServiceBalancer()
        balancer.update(Self.plan(Self.backends))
        _ = balancer.choose(Self.address, clientIP: "c", now: 0)
        balancer.update(Self.plan(Self.backends))
        #expect(balancer.choose(Self.address, clientIP: "c", now: 0) == Self.backends[1], "same backends: the turn goes on")
        balancer.update(Self.plan(Array(Self.backends.prefix(2))))
        #expect(balancer.choose(Self.address, clientIP: "c", now: 0) == Self.backends[0])
        balancer.update(ProxyPlan())
        #expect(balancer.addresses.isEmpty)
    }

    @Test func clientIPAffinityKeepsAClientOnItsBackendUntilItStaysAwayForTheTimeout() {
        var balancer = ServiceBalancer()
        balancer.update(Self.plan(Self.backends, affinity: .clientIP(timeoutSeconds: 10)))
        let first = balancer.choose(Self.address, clientIP: "10.0.0.1", now: 0)
        let other = balancer.choose(Self.address, clientIP: "10.0.0.2", now: 0)
        #expect(first == Self.backends[0] && other == Self.backends[1], "new clients take turns")
        // Every use within the timeout renews it: 9 s apart, ten times.
        for step in 1...10 { #expect(balancer.choose(Self.address, clientIP: "10.0.0.1", now: Int64(step) * 9 * Time.second) == first) }
        // Away for the whole timeout: a new turn (the next backend).
        #expect(balancer.choose(Self.address, clientIP: "10.0.0.1", now: 100 * Time.second) == Self.backends[2])
        #expect(balancer.rememberedClients(Self.address) == 2)
    }

    @Test func aClientWhoseBackendLeftTakesATurnAndOthersStay() {
        var balancer = ServiceBalancer()
        balancer.update(Self.plan(Self.backends, affinity: .clientIP(timeoutSeconds: 10800)))
        let clients = ["a", "b", "c"]
        let before = clients.map { balancer.choose(Self.address, clientIP: $0, now: 0) }
        #expect(before == Self.backends.map(Optional.init))
        balancer.update(Self.plan([Self.backends[0], Self.backends[2]], affinity: .clientIP(timeoutSeconds: 10800)))
        #expect(balancer.choose(Self.address, clientIP: "a", now: 1) == Self.backends[0])
        #expect(balancer.choose(Self.address, clientIP: "c", now: 1) == Self.backends[2])
        #expect(balancer.choose(Self.address, clientIP: "b", now: 1) == Self.backends[0], "b's backend left: the turn starts again")
        // Forgetting a client (its backend could not be dialled) gives it the next turn.
        balancer.forget(Self.address, clientIP: "a")
        #expect(balancer.choose(Self.address, clientIP: "a", now: 2) == Self.backends[2])
    }

    @Test func turningAffinityOffOrChangingItsTimeoutForgetsTheClients() {
        var balancer = ServiceBalancer()
        balancer.update(Self.plan(Self.backends, affinity: .clientIP(timeoutSeconds: 60)))
        _ = balancer.choose(Self.address, clientIP: "a", now: 0)
        balancer.update(Self.plan(Self.backends, affinity: .clientIP(timeoutSeconds: 30)))
        #expect(balancer.rememberedClients(Self.address) == 0)
        _ = balancer.choose(Self.address, clientIP: "a", now: 0)
        balancer.update(Self.plan(Self.backends))
        #expect(balancer.rememberedClients(Self.address) == 0)
        let spread = (0..<3).map { _ in balancer.choose(Self.address, clientIP: "a", now: 0) }
        #expect(Set(spread.compactMap { $0 }).count == 3, "without affinity one client is spread: \(spread)")
    }

    @Test func theClientTableIsBoundedExpiredFirstThenLeastRecentlyUsed() {
        var balancer = ServiceBalancer(settings: ServiceBalancer.Settings(affinityClientsMax: 3))
        balancer.update(Self.plan(Self.backends, affinity: .clientIP(timeoutSeconds: 10)))
        for (index, client) in ["a", "b", "c"].enumerated() { _ = balancer.choose(Self.address, clientIP: client, now: Int64(index) * Time.second) }
        let aBackend = balancer.choose(Self.address, clientIP: "a", now: 3 * Time.second)
        _ = balancer.choose(Self.address, clientIP: "d", now: 4 * Time.second)  // full, none expired: b (least recent) goes
        #expect(balancer.rememberedClients(Self.address) == 3)
        #expect(balancer.choose(Self.address, clientIP: "a", now: 5 * Time.second) == aBackend, "a was used recently and stays")
        // At 12.5 s, c (last used at 2 s) has expired; b comes back and c makes room.
        _ = balancer.choose(Self.address, clientIP: "b", now: 12_500 * Time.millisecond)
        #expect(balancer.rememberedClients(Self.address) == 3)
    }

    @Test func theSameUpdatesAndConnectionsGiveTheSameChoices() {
        func run() -> [ProxyBackend?] {
            var balancer = ServiceBalancer(settings: ServiceBalancer.Settings(affinityClientsMax: 8))
            var random = SeededRandom(seed: 42)
            var chosen: [ProxyBackend?] = []
            for step in 0..<400 {
                if step % 50 == 0 {
                    let count = step / 50 % 4
                    balancer.update(Self.plan(Array(Self.backends.prefix(count)), affinity: step % 100 == 0 ? .clientIP(timeoutSeconds: 5) : .none))
                }
                chosen.append(balancer.choose(Self.address, clientIP: "10.0.0.\(random.next() % 20)", now: Int64(step) * 100 * Time.millisecond))
            }
            return chosen
        }
        let first = run()
        #expect(first == run())
        #expect(first.contains(nil) && first.contains { $0 != nil })
    }
}
