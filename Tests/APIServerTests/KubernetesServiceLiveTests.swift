//! The `kubernetes` Service, its Endpoints and race-free cluster IPs, live on loopback: a store
//! member in this process and two apiservers on it, one on 127.0.0.1 and one on 127.0.0.2 (the
//! same port, as apiservers of a real cluster share one), with short reconcile intervals.
//!
//! - the Service exists with 10.96.0.1:443, comes back when deleted, and no user Service gets
//!   its address (asking for it is refused as already allocated);
//! - its Endpoints list every live apiserver: the second appears, and goes when it stops; a
//!   lease record whose apiserver vanished without a word goes when its lease runs out;
//! - 20 Services created at once through both apiservers get 20 distinct addresses, each
//!   claimed in the store for its Service; a deleted Service's claim goes with it; a claim no
//!   Service holds is freed by the repair pass and its address can be had again.

import APIServer
import Base
import EtcdServer
import Foundation
import Net
import Testing

/// A store member and up to two apiservers on it (127.0.0.1 and 127.0.0.2, one port).
private final class TwoAPIServers {
    let directory: String
    let storePort: UInt16
    let apiPort: UInt16
    let member: EtcdMember
    var servers: [String: APIServer] = [:]
    let configure: (inout APIServerConfiguration) -> Void

    /// Ports: store clients `base`, store peers `base + 1`, apiservers `base + 2`.
    init(basePort: UInt16, configure: @escaping (inout APIServerConfiguration) -> Void) throws {
        directory = NSTemporaryDirectory() + "fl-ksvc-\(basePort)-\(getpid())"
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        storePort = basePort
        apiPort = basePort + 2
        self.configure = configure
        member = try EtcdMember(configuration: try Configuration.parse(Configuration.singleMemberFlags(
            name: "s", dataDirectory: directory + "/store", clientPort: basePort, peerPort: basePort + 1)), log: { _ in })
        try member.start()
    }

    func startAPIServer(host: String) throws {
        var configuration = APIServerConfiguration()
        configuration.listen = Endpoint(host: host, port: apiPort)
        configuration.etcdServers = ["http://127.0.0.1:\(storePort)"]
        configuration.log = { _ in }
        configure(&configuration)
        let server = try APIServer(configuration: configuration)
        try server.start()
        server.bootstrapInBackground()
        servers[host] = server
        try require(within: 20 * Time.second, "the apiserver on \(host) ready") { (try? self.request("GET", "/readyz", host: host))?.status == 200 }
    }

    func stopAPIServer(host: String) {
        servers.removeValue(forKey: host)?.stop()
    }

    func stop() {
        for host in Array(servers.keys) { stopAPIServer(host: host) }
        member.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: - Requests

    func request(_ method: String, _ path: String, body: String? = nil, host: String = "127.0.0.1") throws -> (status: Int, text: String) {
        try Self.request(method, path, body: body, endpoint: Endpoint(host: host, port: apiPort))
    }

    static func request(_ method: String, _ path: String, body: String?, endpoint: Endpoint) throws -> (status: Int, text: String) {
        let client = HTTPClient(endpoint: endpoint, connectTimeout: Time.second)
        let response = try client.request(method, path, body: body.map { Array($0.utf8) }, timeout: 5 * Time.second)
        return (response.status, response.text)
    }

    /// The object at `path`, nil when absent (404).
    func object(_ path: String, host: String = "127.0.0.1") throws -> [String: Any]? {
        let answer = try request("GET", path, host: host)
        if answer.status == 404 { return nil }
        guard answer.status == 200 else { throw LiveTestError("GET \(path): \(answer.status) \(answer.text)") }
        return try parse(answer.text)
    }

    /// The store's value at `key` (parsed), nil when absent.
    func storeValue(_ key: String) throws -> [String: Any]? {
        let range = try storeCall("/v3/kv/range", ["key": Data(key.utf8).base64EncodedString()])
        guard let kvs = range["kvs"] as? [[String: Any]], let encoded = kvs.first?["value"] as? String,
            let value = Data(base64Encoded: encoded)
        else { return nil }
        return try parse(String(decoding: value, as: UTF8.self))
    }

    /// True when the store answers and has no `key`.
    func isAbsent(_ key: String) -> Bool {
        do { return try storeValue(key) == nil } catch { return false }
    }

    /// The keys under `prefix` in the store.
    func storeKeys(_ prefix: String) throws -> [String] {
        var end = Array(prefix.utf8)
        end[end.count - 1] += 1
        let range = try storeCall("/v3/kv/range", ["key": Data(prefix.utf8).base64EncodedString(),
            "range_end": Data(end).base64EncodedString(), "keys_only": true])
        return (range["kvs"] as? [[String: Any]] ?? []).compactMap { ($0["key"] as? String).flatMap { Data(base64Encoded: $0) } }
            .map { String(decoding: $0, as: UTF8.self) }
    }

    /// Puts `value` at `key`, under a new lease of `ttl` seconds when given.
    func storePut(_ key: String, _ value: String, leaseTTL ttl: Int? = nil) throws {
        var body: [String: Any] = ["key": Data(key.utf8).base64EncodedString(), "value": Data(value.utf8).base64EncodedString()]
        if let ttl {
            let grant = try storeCall("/v3/lease/grant", ["TTL": String(ttl)])
            guard let id = grant["ID"] as? String else { throw LiveTestError("no lease ID in \(grant)") }
            body["lease"] = id
        }
        _ = try storeCall("/v3/kv/put", body)
    }

    private func storeCall(_ path: String, _ body: [String: Any]) throws -> [String: Any] {
        let client = HTTPClient(endpoint: Endpoint(host: "127.0.0.1", port: storePort))
        let answer = try client.post(path, body: Array(try JSONSerialization.data(withJSONObject: body)), timeout: 5 * Time.second)
        guard answer.status == 200 else { throw LiveTestError("store \(path): \(answer.status) \(answer.text)") }
        return try parse(answer.text)
    }

    func parse(_ text: String) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw LiveTestError("not a JSON object: \(text)")
        }
        return object
    }

    // MARK: - The objects under test

    static let servicePath = "/api/v1/namespaces/default/services/kubernetes"
    static let endpointsPath = "/api/v1/namespaces/default/endpoints/kubernetes"

    /// The addresses the `kubernetes` Endpoints list (nil: no such Endpoints).
    func endpointAddresses() -> [String]? {
        guard let endpoints = try? object(Self.endpointsPath), let subsets = endpoints["subsets"] as? [[String: Any]] else { return nil }
        return subsets.flatMap { ($0["addresses"] as? [[String: Any]] ?? []).compactMap { $0["ip"] as? String } }
    }

    func createService(_ name: String, clusterIP: String? = nil, host: String = "127.0.0.1") throws -> (status: Int, text: String) {
        try Self.createService(name, clusterIP: clusterIP, endpoint: Endpoint(host: host, port: apiPort))
    }

    static func createService(_ name: String, clusterIP: String? = nil, endpoint: Endpoint) throws -> (status: Int, text: String) {
        let ip = clusterIP.map { #","clusterIP":"\#($0)""# } ?? ""
        return try request("POST", "/api/v1/namespaces/default/services", body: #"""
            {"apiVersion":"v1","kind":"Service","metadata":{"name":"\#(name)"},"spec":{"selector":{"app":"\#(name)"}\#(ip),"ports":[{"port":80}]}}
            """#, endpoint: endpoint)
    }
}

struct LiveTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Polls `condition` until it holds, or throws after `timeout`; returns how long it took.
@discardableResult
private func require(within timeout: Nanoseconds, _ what: String, _ condition: () -> Bool) throws -> Nanoseconds {
    let start = Date()
    let deadline = start.addingTimeInterval(Double(timeout) / Double(Time.second))
    while Date() < deadline {
        if condition() { return Nanoseconds(Date().timeIntervalSince(start) * Double(Time.second)) }
        usleep(50_000)
    }
    throw LiveTestError("not within \(Time.describe(timeout)): \(what)")
}

@Suite(.serialized) struct KubernetesServiceLiveTests {
    static let interval = 300 * Time.millisecond
    static let leaseTTL = 2 * Time.second

    @Test func theServiceAndItsEndpointsFollowTheAPIServers() throws {
        let cluster = try TwoAPIServers(basePort: 23230) { configuration in
            configuration.endpointReconcilerInterval = Self.interval
            configuration.masterEndpointReconcileTTL = Self.leaseTTL
        }
        defer { cluster.stop() }
        try cluster.startAPIServer(host: "127.0.0.1")

        // The Service, as a real apiserver makes it.
        try require(within: 5 * Time.second, "the kubernetes Service") { (try? cluster.object(TwoAPIServers.servicePath)) != nil }
        let service = try #require(try cluster.object(TwoAPIServers.servicePath))
        let spec = try #require(service["spec"] as? [String: Any])
        #expect(spec["clusterIP"] as? String == "10.96.0.1")
        #expect(spec["type"] as? String == "ClusterIP" && spec["sessionAffinity"] as? String == "None" && spec["selector"] == nil)
        let port = try #require((spec["ports"] as? [[String: Any]])?.first)
        #expect(port["name"] as? String == "https" && port["port"] as? Int == 443 && port["protocol"] as? String == "TCP")
        #expect(port["targetPort"] as? Int == Int(cluster.apiPort))
        let labels = (service["metadata"] as? [String: Any])?["labels"] as? [String: String]
        #expect(labels == ["component": "apiserver", "provider": "kubernetes"])
        let firstUID = (service["metadata"] as? [String: Any])?["uid"] as? String

        // Its Endpoints: this apiserver, on the port it serves.
        try require(within: 5 * Time.second, "the Endpoints list 127.0.0.1") { cluster.endpointAddresses() == ["127.0.0.1"] }
        let endpoints = try #require(try cluster.object(TwoAPIServers.endpointsPath))
        let ports = (endpoints["subsets"] as? [[String: Any]])?.first?["ports"] as? [[String: Any]]
        #expect(ports?.count == 1 && ports?.first?["name"] as? String == "https" && ports?.first?["port"] as? Int == Int(cluster.apiPort))

        // A second apiserver joins them, and leaves them when it stops (well within the lease's TTL).
        try cluster.startAPIServer(host: "127.0.0.2")
        try require(within: 5 * Time.second, "the Endpoints list both apiservers") { cluster.endpointAddresses() == ["127.0.0.1", "127.0.0.2"] }
        #expect(try cluster.object(TwoAPIServers.endpointsPath, host: "127.0.0.2") != nil, "the second one serves the same objects")
        cluster.stopAPIServer(host: "127.0.0.2")
        try require(within: Self.leaseTTL, "the stopped apiserver leaves the Endpoints") { cluster.endpointAddresses() == ["127.0.0.1"] }
        #expect(try cluster.storeKeys("/registry/masterleases/") == ["/registry/masterleases/127.0.0.1"], "its lease record went with it")

        // An apiserver that vanished without a word (its record left to its lease): listed while
        // the lease lives, gone once it runs out.
        try cluster.storePut("/registry/masterleases/127.0.0.9", #"{"kind":"Endpoints","apiVersion":"v1","metadata":{"name":"127.0.0.9"},"subsets":[{"addresses":[{"ip":"127.0.0.9"}]}]}"#,
            leaseTTL: 2)
        try require(within: 3 * Time.second, "the vanished apiserver listed") { cluster.endpointAddresses() == ["127.0.0.1", "127.0.0.9"] }
        try require(within: 6 * Time.second, "the vanished apiserver dropped when its lease ran out") { cluster.endpointAddresses() == ["127.0.0.1"] }

        // Deleted, the Service comes back within a round or two, with its address.
        #expect(try cluster.request("DELETE", TwoAPIServers.servicePath).status == 200)
        try require(within: 5 * Time.second, "the kubernetes Service recreated") {
            guard let again = try? cluster.object(TwoAPIServers.servicePath) else { return false }
            return (again["metadata"] as? [String: Any])?["uid"] as? String != firstUID
                && (again["spec"] as? [String: Any])?["clusterIP"] as? String == "10.96.0.1"
        }

        // No user Service gets its address, asked for or not; one that asks is refused as a real
        // apiserver refuses it.
        let web = try cluster.createService("web")
        #expect(web.status == 201, "\(web.text)")
        let webIP = (try cluster.parse(web.text)["spec"] as? [String: Any])?["clusterIP"] as? String
        #expect(webIP == "10.96.0.2")
        let thief = try cluster.createService("thief", clusterIP: "10.96.0.1")
        #expect(thief.status == 422 && thief.text.contains("failed to allocate IP 10.96.0.1: provided IP is already allocated"), "\(thief.text)")
        let twin = try cluster.createService("twin", clusterIP: "10.96.0.2")
        #expect(twin.status == 422 && twin.text.contains("provided IP is already allocated"), "\(twin.text)")
        let free = try cluster.createService("chosen", clusterIP: "10.96.0.77")
        #expect(free.status == 201, "\(free.text)")

        // Each address is claimed in the store for its Service; a deleted Service's claim goes.
        let webClaim = try #require(try cluster.storeValue("/registry/ranges/serviceips/10.96.0.2"))
        #expect((webClaim["service"] as? [String: Any])?["name"] as? String == "web")
        #expect((try cluster.storeValue("/registry/ranges/serviceips/10.96.0.1")?["service"] as? [String: Any])?["name"] as? String == "kubernetes")
        #expect(try cluster.request("DELETE", "/api/v1/namespaces/default/services/web").status == 200)
        try require(within: 2 * Time.second, "the deleted Service's claim released") { cluster.isAbsent("/registry/ranges/serviceips/10.96.0.2") }
        #expect(try cluster.storeValue("/registry/ranges/serviceips/10.96.0.77") != nil, "the other Service's claim stays")
    }

    @Test func concurrentCreatesThroughTwoAPIServersGetDistinctAddressesAndLeaksAreRepaired() throws {
        let cluster = try TwoAPIServers(basePort: 23234) { configuration in
            configuration.endpointReconcilerInterval = Self.interval
            configuration.masterEndpointReconcileTTL = Self.leaseTTL
            configuration.repairServicesInterval = Self.interval
        }
        defer { cluster.stop() }
        try cluster.startAPIServer(host: "127.0.0.1")
        try cluster.startAPIServer(host: "127.0.0.2")

        // 20 creates at once, half through each apiserver: a thread each (not a pool the size of
        // the machine), let go together.
        let answers = Answers()
        let port = cluster.apiPort
        let start = DispatchSemaphore(value: 0), done = DispatchGroup()
        for index in 0..<20 {
            done.enter()
            Thread {
                start.wait()
                let endpoint = Endpoint(host: index % 2 == 0 ? "127.0.0.1" : "127.0.0.2", port: port)
                answers.append(index, Result { try TwoAPIServers.createService("s\(index)", endpoint: endpoint) })
                done.leave()
            }.start()
        }
        for _ in 0..<20 { start.signal() }
        #expect(done.wait(timeout: .now() + 30) == .success, "the creates answered within 30 s")
        var addresses: [String: String] = [:]
        for (index, answer) in answers.all {
            let (status, text) = try answer.get()
            #expect(status == 201, "s\(index): \(text)")
            addresses["s\(index)"] = (try? cluster.parse(text)["spec"] as? [String: Any])?["clusterIP"] as? String
        }
        #expect(addresses.count == 20 && Set(addresses.values).count == 20, "distinct addresses: \(addresses)")
        #expect(!addresses.values.contains("10.96.0.1"), "no user Service has the kubernetes Service's address: \(addresses)")
        for (name, address) in addresses {
            let claim = try cluster.storeValue("/registry/ranges/serviceips/\(address)")
            #expect((claim?["service"] as? [String: Any])?["name"] as? String == name, "the claim of \(address): \(String(describing: claim))")
        }

        // A claim left by a create that never happened blocks its address, until the repair
        // pass finds no Service has held it for three passes and frees it.
        try cluster.storePut("/registry/ranges/serviceips/10.96.3.3",
            #"{"address":"10.96.3.3","service":{"namespace":"default","name":"never","uid":"no-such-uid"}}"#)
        let blocked = try cluster.createService("wants", clusterIP: "10.96.3.3")
        #expect(blocked.status == 422 && blocked.text.contains("provided IP is already allocated"), "\(blocked.text)")
        try require(within: 10 * Time.second, "the leaked claim freed") { cluster.isAbsent("/registry/ranges/serviceips/10.96.3.3") }
        let wanted = try cluster.createService("wants", clusterIP: "10.96.3.3")
        #expect(wanted.status == 201, "\(wanted.text)")
        // Meanwhile the live Services' claims were left alone.
        let claims = try cluster.storeKeys("/registry/ranges/serviceips/")
        #expect(claims.count == 22, "the kubernetes Service's, the 20 Services' and the new one's: \(claims)")
    }
}

/// The concurrent creates' answers, by index.
private final class Answers: @unchecked Sendable {
    private let lock = NSLock()
    private var answers: [Int: Result<(status: Int, text: String), any Error>] = [:]

    func append(_ index: Int, _ answer: Result<(status: Int, text: String), any Error>) {
        lock.lock()
        defer { lock.unlock() }
        answers[index] = answer
    }

    var all: [(Int, Result<(status: Int, text: String), any Error>)] {
        lock.lock()
        defer { lock.unlock() }
        return answers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}
