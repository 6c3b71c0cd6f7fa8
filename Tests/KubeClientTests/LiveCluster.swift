//! A store member and one or more apiservers in this process, on loopback, for the live tests:
//! ports `base` (store clients), `base + 1` (store peers), `base + 2 …` (apiservers). Apiservers
//! can be stopped and started again on their port; the store can be compacted, so a watch from
//! an old resourceVersion gets 410 Expired.

import APIServer
import Base
import EtcdServer
import Foundation
import KubeClient
import Net
import Synchronization
import Testing
import Wire

final class LiveCluster: @unchecked Sendable {
    let directory: String
    let storePort: UInt16
    let apiPorts: [UInt16]
    private let member: EtcdMember
    private var servers: [APIServer?]
    /// Stops in progress, by apiserver index: set when the stop has returned.
    private var stopping: [Int: Flag] = [:]
    /// Where Service cluster IPs come from; nil: the apiserver's default (10.96.0.0/12).
    private let serviceClusterIPRange: String?

    init(basePort: UInt16, apiservers: Int = 1, serviceClusterIPRange: String? = nil) throws {
        self.serviceClusterIPRange = serviceClusterIPRange
        directory = NSTemporaryDirectory() + "fl-kubeclient-\(basePort)-\(getpid())"
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        storePort = basePort
        apiPorts = (0..<apiservers).map { basePort + 2 + UInt16($0) }
        member = try EtcdMember(configuration: try Configuration.parse(Configuration.singleMemberFlags(
            name: "s", dataDirectory: directory + "/store", clientPort: basePort, peerPort: basePort + 1)), log: { _ in })
        try member.start()
        servers = Array(repeating: nil, count: apiservers)
        for index in 0..<apiservers { try startAPIServer(index) }
    }

    func url(_ index: Int) -> String { "http://127.0.0.1:\(apiPorts[index])" }
    var urls: [String] { apiPorts.indices.map(url) }

    /// A client of the apiservers `indices` (default all), in that order.
    func client(_ indices: [Int]? = nil, component: String = "kubeclient-test", requestTimeout: Nanoseconds = 5 * Time.second) throws -> APIClient {
        var configuration = APIClientConfiguration(servers: (indices ?? Array(apiPorts.indices)).map(url), component: component)
        configuration.requestTimeout = requestTimeout
        configuration.connectTimeout = 500 * Time.millisecond
        return try APIClient(configuration)
    }

    func startAPIServer(_ index: Int) throws {
        try awaitStopped(index)
        var configuration = APIServerConfiguration()
        configuration.listen = Endpoint(host: "127.0.0.1", port: apiPorts[index])
        configuration.etcdServers = ["http://127.0.0.1:\(storePort)"]
        if let serviceClusterIPRange { configuration.serviceClusterIPRange = serviceClusterIPRange }
        configuration.log = { _ in }
        let server = try APIServer(configuration: configuration)
        try server.start()
        server.bootstrapInBackground()
        servers[index] = server
        try waitReady(apiPorts[index])
    }

    /// Stops an apiserver: returns when the stop has finished, or after 2 s when it has not.
    /// `APIServer.stop` can wait for a watch that an informer opened while it was stopping (the
    /// watch hub no longer ends it) until the store sends that watch an event — which the tests'
    /// next write does — so the stop runs on a thread of its own and `startAPIServer` and `stop`
    /// wait for it. (Polling the port meanwhile would be wrong: `HTTPServer.stop` shuts down the
    /// descriptors of the connections it had, and a number freed by a finished connection can
    /// already belong to a new client socket in this process.)
    func stopAPIServer(_ index: Int) {
        guard let server = servers[index] else { return }
        servers[index] = nil
        let done = Flag()
        stopping[index] = done
        Thread {
            server.stop()
            done.set()
        }.start()
        _ = eventually(2 * Time.second) { done.isSet }
    }

    /// Waits for a stop begun by `stopAPIServer` to finish.
    private func awaitStopped(_ index: Int) throws {
        guard let done = stopping[index] else { return }
        guard eventually(10 * Time.second, { done.isSet }) else {
            throw LiveClusterError(description: "apiserver \(index) did not finish stopping within 10 s")
        }
        stopping[index] = nil
    }

    private func waitReady(_ port: UInt16) throws {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let client = HTTPClient(endpoint: Endpoint(host: "127.0.0.1", port: port), connectTimeout: 200 * Time.millisecond)
            if let answer = try? client.get("/readyz", timeout: Time.second), answer.status == 200 { return }
            usleep(50_000)
        }
        throw LiveClusterError(description: "the apiserver on \(port) was not ready within 20 s")
    }

    /// Compacts the store up to its current revision: older resourceVersions are gone.
    func compactStore() throws {
        let store = HTTPClient(endpoint: Endpoint(host: "127.0.0.1", port: storePort))
        let range = try store.post("/v3/kv/range", body: Array(#"{"key":"AA=="}"#.utf8), timeout: 5 * Time.second)
        let header = try JSON.parse(range.text)["header"]
        guard let revision = header?["revision"].flatMap({ value -> Int64? in
            if case .string(let text) = value { return Int64(text) }
            if case .integer(let number) = value { return number }
            return nil
        }) else { throw LiveClusterError(description: "no revision in \(range.text)") }
        let compacted = try store.post("/v3/kv/compaction", body: Array(#"{"revision":"\#(revision)","physical":true}"#.utf8),
            timeout: 5 * Time.second)
        guard compacted.status == 200 else { throw LiveClusterError(description: "compaction answered \(compacted.status): \(compacted.text)") }
    }

    func stop() {
        for index in servers.indices { stopAPIServer(index) }
        for index in servers.indices { try? awaitStopped(index) }
        member.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}

struct LiveClusterError: Error, CustomStringConvertible {
    var description: String
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes; whether it held.
func eventually(_ timeout: Nanoseconds = 10 * Time.second, _ condition: () -> Bool) -> Bool {
    let deadline = MonotonicClock.now() + timeout
    while MonotonicClock.now() < deadline {
        if condition() { return true }
        usleep(20_000)
    }
    return condition()
}

/// Polls `condition` every 50 ms until it holds (a throw counts as not yet) or `seconds` pass;
/// how long it took, or an error naming `what` did not happen.
@discardableResult
func waitUntil(_ seconds: Double, _ what: String, _ condition: () throws -> Bool) throws -> Double {
    let start = Date()
    while Date().timeIntervalSince(start) < seconds {
        if (try? condition()) == true { return Date().timeIntervalSince(start) }
        usleep(50_000)
    }
    throw LiveClusterError(description: "\(what): not within \(seconds) s")
}

/// A thread-safe list of what handlers saw, for the tests to read.
final class Recorder<Element: Sendable>: Sendable {
    private let items = Mutex<[Element]>([])
    func append(_ item: Element) { items.withLock { $0.append(item) } }
    var all: [Element] { items.withLock { $0 } }
}

/// A minimal valid pod.
func podObject(_ name: String, labels: [String: String] = [:]) -> JSONValue {
    var labelObject = JSONObject()
    for (key, value) in labels.sorted(by: { $0.key < $1.key }) { labelObject[key] = .string(value) }
    return .object([
        "apiVersion": .string("v1"), "kind": .string("Pod"),
        "metadata": .object(["name": .string(name), "labels": .object(labelObject)]),
        "spec": .object(["containers": .array([.object(["name": .string("app"), "image": .string("nginx:1.27")])])]),
    ])
}
