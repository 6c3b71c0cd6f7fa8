//! The `kubernetes` Service and its Endpoints as the bootstrap loop builds them, the address an
//! apiserver publishes, and the cluster-IP claims' repair pass.

import KubeAPI
import Testing
import Wire

@Suite struct KubernetesServiceTests {
    func addresses(_ endpoints: JSONValue?) -> [String] {
        (endpoints?.arrayMember("subsets").first?.arrayMember("addresses") ?? []).compactMap { $0.stringMember("ip") }
    }

    @Test func theServiceIsTheRealOne() {
        let service = KubernetesService.service(clusterIP: "10.96.0.1", targetPort: 6443)
        #expect(service.stringMember("metadata", "namespace") == "default" && service.stringMember("metadata", "name") == "kubernetes")
        #expect(service.stringMember("metadata", "labels", "component") == "apiserver")
        #expect(service.stringMember("metadata", "labels", "provider") == "kubernetes")
        #expect(service.stringMember("spec", "clusterIP") == "10.96.0.1" && service.stringMember("spec", "type") == "ClusterIP")
        #expect(service.stringMember("spec", "sessionAffinity") == "None")
        #expect(service.member("spec", "selector") == nil, "its Endpoints are the apiservers', not a selector's")
        let port = try! #require(service.arrayMember("spec", "ports").first)
        #expect(port == .object(["name": .string("https"), "protocol": .string("TCP"), "port": .integer(443), "targetPort": .integer(6443)]))
    }

    @Test func endpointsAreMadeSortedWithThePort() throws {
        let made = try #require(KubernetesService.reconciledEndpoints(current: nil, addresses: ["10.0.0.3", "10.0.0.12", "10.0.0.3"], port: 6443))
        #expect(addresses(made) == ["10.0.0.12", "10.0.0.3"], "sorted as text and without duplicates, as the real reconciler writes them")
        #expect(made.arrayMember("subsets").first?.arrayMember("ports")
            == [.object(["name": .string("https"), "port": .integer(6443), "protocol": .string("TCP")])])
        #expect(made.stringMember("metadata", "labels", KubernetesService.skipMirrorLabel) == "true")
        #expect(made.stringMember("metadata", "name") == "kubernetes" && made.stringMember("metadata", "namespace") == "default")
    }

    @Test func endpointsThatListTheLeasesAreLeftAlone() throws {
        let current = try #require(KubernetesService.reconciledEndpoints(current: nil, addresses: ["10.0.0.1", "10.0.0.2"], port: 6443))
        #expect(KubernetesService.reconciledEndpoints(current: current, addresses: ["10.0.0.2", "10.0.0.1"], port: 6443) == nil)
        // Another apiserver's port stays: the ports are only made when the object has none.
        #expect(KubernetesService.reconciledEndpoints(current: current, addresses: ["10.0.0.1", "10.0.0.2"], port: 7443) == nil)
    }

    @Test func endpointsFollowTheLeasesAndKeepTheObject() throws {
        var current = try #require(KubernetesService.reconciledEndpoints(current: nil, addresses: ["10.0.0.1", "10.0.0.2"], port: 6443))
        current.set("metadata.uid", .string("u1"))
        let shrunk = try #require(KubernetesService.reconciledEndpoints(current: current, addresses: ["10.0.0.2"], port: 6443))
        #expect(addresses(shrunk) == ["10.0.0.2"])
        #expect(shrunk.stringMember("metadata", "uid") == "u1", "an update of the stored object, not a new one")
        #expect(shrunk.arrayMember("subsets").first?.arrayMember("ports") == current.arrayMember("subsets").first?.arrayMember("ports"))
        let grown = try #require(KubernetesService.reconciledEndpoints(current: current, addresses: ["10.0.0.1", "10.0.0.2", "10.0.0.3"], port: 6443))
        #expect(addresses(grown) == ["10.0.0.1", "10.0.0.2", "10.0.0.3"])
        // Same count, another address.
        #expect(addresses(KubernetesService.reconciledEndpoints(current: current, addresses: ["10.0.0.1", "10.0.0.9"], port: 6443)) == ["10.0.0.1", "10.0.0.9"])
    }

    @Test func malformedOrUnlabelledEndpointsAreRewritten() throws {
        let two = try JSON.parse(#"{"metadata":{"name":"kubernetes","namespace":"default","labels":{"endpointslice.kubernetes.io/skip-mirror":"true"}},"subsets":[{"addresses":[{"ip":"10.0.0.1"}],"ports":[{"port":1}]},{"addresses":[{"ip":"10.0.0.2"}],"ports":[{"port":2}]}]}"#)
        let fixed = try #require(KubernetesService.reconciledEndpoints(current: two, addresses: ["10.0.0.1"], port: 6443))
        #expect(fixed.arrayMember("subsets").count == 1 && addresses(fixed) == ["10.0.0.1"])
        #expect(fixed.arrayMember("subsets").first?.arrayMember("ports").first?.intMember("port") == 6443)
        let unlabelled = try JSON.parse(#"{"metadata":{"name":"kubernetes","namespace":"default","labels":{"keep":"me"}},"subsets":[{"addresses":[{"ip":"10.0.0.1"}],"ports":[{"name":"https","port":6443,"protocol":"TCP"}]}]}"#)
        let labelled = try #require(KubernetesService.reconciledEndpoints(current: unlabelled, addresses: ["10.0.0.1"], port: 6443))
        #expect(labelled.stringMember("metadata", "labels", KubernetesService.skipMirrorLabel) == "true")
        #expect(labelled.stringMember("metadata", "labels", "keep") == "me")
    }

    @Test func leaseRecordsNameTheirAddress() throws {
        #expect(KubernetesService.leaseAddress(KubernetesService.leaseRecord(ip: "10.1.2.3")) == "10.1.2.3")
        #expect(KubernetesService.leaseAddress(try JSON.parse(#"{"subsets":[]}"#)) == nil)
        #expect(KubernetesService.leaseAddress(try JSON.parse(#"{"subsets":[{"addresses":[{"ip":""}]}]}"#)) == nil)
    }

    @Test func thePublishedAddressComesFromTheAdvertisedOneOrTheListenOne() {
        typealias Published = KubernetesService.PublishedAddress
        #expect(KubernetesService.publishedAddress(advertise: "10.0.0.5:7443", listenHost: "0.0.0.0", listenPort: 6443) == Published.listed(ip: "10.0.0.5", port: 7443))
        #expect(KubernetesService.publishedAddress(advertise: "10.0.0.5", listenHost: "0.0.0.0", listenPort: 6443) == Published.listed(ip: "10.0.0.5", port: 6443))
        #expect(KubernetesService.publishedAddress(advertise: nil, listenHost: "127.0.0.2", listenPort: 6443) == Published.listed(ip: "127.0.0.2", port: 6443))
        let wildcard = KubernetesService.publishedAddress(advertise: nil, listenHost: "0.0.0.0", listenPort: 6443)
        guard case .unlisted(let reason, let port) = wildcard else {
            Issue.record("0.0.0.0 with no advertised address was listed: \(wildcard)")
            return
        }
        #expect(reason.contains("0.0.0.0") && port == 6443)
        #expect(KubernetesService.publishedAddress(advertise: "api.example:443", listenHost: "127.0.0.1", listenPort: 6443).port == 443)
        if case .listed = KubernetesService.publishedAddress(advertise: "api.example:443", listenHost: "127.0.0.1", listenPort: 6443) {
            Issue.record("a name was listed as an Endpoints address")
        }
        if case .listed = KubernetesService.publishedAddress(advertise: "10.0.0.5:http", listenHost: "127.0.0.1", listenPort: 6443) {
            Issue.record("an advertised address with a bad port was listed")
        }
    }
}

@Suite struct ClusterIPRepairTests {
    let range = IPv4Range(cidr: "10.96.0.0/12")!
    var reserved: UInt32 { range.network + 1 }
    func address(_ text: String) -> UInt32 { IPv4Range.parse(text)! }

    func service(_ name: String, uid: String, ip: String) -> JSONValue {
        .object(["metadata": .object(["namespace": .string("default"), "name": .string(name), "uid": .string(uid)]),
            "spec": .object(["clusterIP": .string(ip), "clusterIPs": .array([.string(ip)])])])
    }

    func claim(_ ip: String, _ name: String, uid: String, revision: Int64) -> ClusterIPRepair.StoredClaim {
        ClusterIPRepair.StoredClaim(address: address(ip), claim: ClusterIPClaim(namespace: "default", name: name, uid: uid), revision: revision)
    }

    @Test func aClaimRecordRoundTrips() {
        let owner = ClusterIPClaim(namespace: "shop", name: "cart", uid: "u-1")
        let record = owner.record(address: address("10.96.0.7"))
        #expect(ClusterIPClaim(record: record) == owner && ClusterIPClaim.address(ofRecord: record) == address("10.96.0.7"))
        #expect(owner.names(service("cart", uid: "u-1", ip: "10.96.0.7")))
        #expect(!owner.names(service("cart", uid: "u-2", ip: "10.96.0.7")), "a new Service of the same name is not the claim's")
        #expect(ClusterIPClaim.kubernetesService.names(service("kubernetes", uid: "any", ip: "10.96.0.1")))
    }

    @Test func anUnheldClaimIsFreedAfterThreePassesNotBefore() {
        var repair = ClusterIPRepair()
        let orphan = claim("10.96.0.9", "gone", uid: "u-gone", revision: 40)
        for pass in 1..<ClusterIPRepair.passesBeforeLeakCleanup {
            #expect(repair.pass(claims: [orphan], services: [], range: range, reserved: reserved).leaked.isEmpty, "pass \(pass)")
        }
        let plan = repair.pass(claims: [orphan], services: [], range: range, reserved: reserved)
        #expect(plan.leaked.map(\.address) == [address("10.96.0.9")] && plan.leaked.map(\.revision) == [40])
        #expect(repair.suspectCount == 0)
    }

    @Test func aHeldClaimIsNeverFreedAndAServiceWithoutOneGetsOne() {
        var repair = ClusterIPRepair()
        let web = service("web", uid: "u-web", ip: "10.96.0.2")
        let legacy = service("old", uid: "u-old", ip: "10.96.0.3")
        for _ in 0..<5 {
            let plan = repair.pass(claims: [claim("10.96.0.2", "web", uid: "u-web", revision: 5)], services: [web, legacy], range: range,
                reserved: reserved)
            #expect(plan.leaked.isEmpty)
            #expect(plan.missing.map(\.address) == [address("10.96.0.3")])
            #expect(plan.missing.map(\.claim) == [ClusterIPClaim(namespace: "default", name: "old", uid: "u-old")])
        }
    }

    @Test func aClaimOfAnotherServiceOfTheSameNameIsALeak() {
        var repair = ClusterIPRepair()
        let recreated = service("web", uid: "u-new", ip: "10.96.0.4")
        var leaked: [UInt32] = []
        for _ in 0..<ClusterIPRepair.passesBeforeLeakCleanup {
            leaked = repair.pass(claims: [claim("10.96.0.2", "web", uid: "u-old", revision: 5), claim("10.96.0.4", "web", uid: "u-new", revision: 6)],
                services: [recreated], range: range, reserved: reserved).leaked.map(\.address)
        }
        #expect(leaked == [address("10.96.0.2")])
    }

    @Test func aRewrittenClaimStartsCountingAgain() {
        var repair = ClusterIPRepair()
        _ = repair.pass(claims: [claim("10.96.0.9", "a", uid: "1", revision: 10)], services: [], range: range, reserved: reserved)
        _ = repair.pass(claims: [claim("10.96.0.9", "a", uid: "1", revision: 10)], services: [], range: range, reserved: reserved)
        let plan = repair.pass(claims: [claim("10.96.0.9", "b", uid: "2", revision: 11)], services: [], range: range, reserved: reserved)
        #expect(plan.leaked.isEmpty, "freed and claimed again since: a new claim, watched from the start")
        #expect(repair.suspectCount == 1)
        _ = repair.pass(claims: [], services: [], range: range, reserved: reserved)
        #expect(repair.suspectCount == 0, "a claim that went is forgotten")
    }

    @Test func theKubernetesAddressStaysClaimedAndDuplicatesAreReported() {
        var repair = ClusterIPRepair()
        let stored = ClusterIPRepair.StoredClaim(address: reserved, claim: .kubernetesService, revision: 2)
        var plan = ClusterIPRepair.Plan()
        for _ in 0..<4 { plan = repair.pass(claims: [stored], services: [], range: range, reserved: reserved) }
        #expect(plan.leaked.isEmpty)
        let kubernetes = service("kubernetes", uid: "k", ip: "10.96.0.1")
        plan = repair.pass(claims: [], services: [kubernetes], range: range, reserved: reserved)
        #expect(plan.missing.map(\.claim) == [.kubernetesService])
        plan = repair.pass(claims: [], services: [service("a", uid: "1", ip: "10.96.0.5"), service("b", uid: "2", ip: "10.96.0.5")],
            range: range, reserved: reserved)
        #expect(plan.duplicates.map(\.services) == [["default/a", "default/b"]])
        #expect(plan.missing.count == 1)
    }
}
