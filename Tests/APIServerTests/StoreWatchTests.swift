//! What the apiserver's watches get from the store's: BOOKMARKs that move on with the store's
//! progress notifications even when the watched collection is quiet, and a watch that ends
//! (so the client lists and watches again) when its store member loses the leader, instead of
//! staying open with nothing to say. Three built-in members and an apiserver on loopback.

import APIServer
import Base
import EtcdClient
import EtcdServer
import Foundation
import Net
import Testing
import KubeAPI
import Wire

/// Ports 26451–26453 (store clients), 26461–26463 (peers), 26470 (apiserver).
private func clientURL(_ index: Int) -> String { "http://127.0.0.1:\(26450 + index)" }
private func peerURL(_ index: Int) -> String { "http://127.0.0.1:\(26460 + index)" }
private let apiPort: UInt16 = 26470

@Suite struct StoreWatchTests {
    @Test func bookmarksFollowTheStoresProgressAndALeaderlessMemberEndsTheWatch() throws {
        let directory = NSTemporaryDirectory() + "fl-storewatch-\(getpid())"
        try? FileManager.default.removeItem(atPath: directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var members: [EtcdMember] = []
        defer { for member in members { member.stop() } }
        for index in 1...3 {
            let member = try EtcdMember(configuration: try Configuration.parse([
                "--name", "m\(index)", "--data-dir", "\(directory)/m\(index)",
                "--listen-client-urls", clientURL(index), "--advertise-client-urls", clientURL(index),
                "--listen-peer-urls", peerURL(index), "--initial-advertise-peer-urls", peerURL(index),
                "--initial-cluster", (1...3).map { "m\($0)=\(peerURL($0))" }.joined(separator: ","),
                "--heartbeat-interval", "20", "--election-timeout", "200", "--experimental-watch-progress-notify-interval", "100ms",
            ]), log: { _ in })
            try member.start()
            members.append(member)
        }
        var configuration = APIServerConfiguration()
        configuration.listen = Endpoint(host: "127.0.0.1", port: apiPort)
        configuration.etcdServers = [clientURL(1)]  // every watch on member 1
        configuration.watchBookmarkInterval = 200 * Time.millisecond
        configuration.log = { _ in }
        let server = try APIServer(configuration: configuration)
        try server.start()
        defer { server.stop() }
        server.bootstrapInBackground()
        let api = HTTPClient(endpoint: Endpoint(host: "127.0.0.1", port: apiPort), connectTimeout: 200 * Time.millisecond)
        let ready = Date().addingTimeInterval(20)
        while (try? api.get("/readyz", timeout: Time.second))?.status != 200 && Date() < ready { usleep(50_000) }

        func create(_ path: String, _ body: String) throws -> Int64 {
            let answer = try api.request("POST", path, body: Array(body.utf8), timeout: 5 * Time.second)
            try #require(answer.status == 201, "\(path): \(answer.status) \(answer.text)")
            let object = try JSON.parse(answer.text)
            return Int64(object.string(at: "metadata.resourceVersion") ?? "") ?? 0
        }
        let watched = try create("/api/v1/namespaces/default/configmaps", #"{"metadata":{"name":"watched"}}"#)
        // A write elsewhere: the configmaps stay quiet, but the store moves on.
        let elsewhere = try create("/api/v1/namespaces/default/secrets", #"{"metadata":{"name":"elsewhere"}}"#)
        try #require(elsewhere > watched)

        let watch = HTTPClient(endpoint: Endpoint(host: "127.0.0.1", port: apiPort))
        var bookmarks: [Int64] = []
        var stopped: Date?
        var pending: [UInt8] = []
        let started = Date()
        _ = try watch.stream("/api/v1/namespaces/default/configmaps?watch=true&allowWatchBookmarks=true&resourceVersion=\(watched)",
            method: "GET", body: [], idleTimeout: 8 * Time.second) { chunk in
            pending += chunk
            while let newline = pending.firstIndex(of: 10) {
                let line = Array(pending[..<newline])
                pending.removeFirst(newline + 1)
                guard let event = try? JSON.parse(String(decoding: line, as: UTF8.self)),
                    event.string(at: "type") == "BOOKMARK",
                    let revision = Int64(event.string(at: "object.metadata.resourceVersion") ?? "")
                else { continue }
                bookmarks.append(revision)
            }
            // Once a bookmark has caught up with the store, member 1 loses its leader.
            if stopped == nil, let last = bookmarks.last, last >= elsewhere {
                members[1].stop()
                members[2].stop()
                stopped = Date()
            }
            return Date().timeIntervalSince(started) < 20
        }
        #expect(bookmarks.contains { $0 >= elsewhere },
            "no BOOKMARK reached the store's revision \(elsewhere) (the quiet collection's is \(watched)): \(bookmarks)")
        let stoppedAt = try #require(stopped, "the test never cut member 1 off")
        let ended = Date().timeIntervalSince(stoppedAt)
        // Three election timeouts (600 ms), the hub's next tick, and margin; a watch that did not
        // need a leader would run on (bookmarks keep it alive) until the 20 s limit above.
        #expect(ended < 6, "the watch ended \(ended) s after member 1 lost its leader")
    }

    /// A member that goes silent (paused: the link stays open, nothing comes back) is found by
    /// the keepalive: the apiserver's watch ends within the keepalive's time and timeout, where
    /// it would otherwise wait for as long as the client's watch lasts.
    @Test func aSilentMembersWatchesAreCutByTheKeepalive() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/etcd") else {
            Issue.record("real etcd 3.4 is not installed (Scripts/setup installs etcd-server)")
            return
        }
        let directory = NSTemporaryDirectory() + "fl-keepalive-\(getpid())"
        try? FileManager.default.removeItem(atPath: directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let client = "http://127.0.0.1:26480", peer = "http://127.0.0.1:26481"
        let etcd = Process()
        etcd.executableURL = URL(fileURLWithPath: "/usr/bin/etcd")
        etcd.arguments = ["--name", "k", "--data-dir", directory + "/store", "--listen-client-urls", client, "--advertise-client-urls", client,
            "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster", "k=\(peer)"]
        etcd.standardOutput = FileHandle.nullDevice
        etcd.standardError = FileHandle.nullDevice
        try etcd.run()
        defer {
            kill(etcd.processIdentifier, SIGCONT)
            etcd.terminate()
            etcd.waitUntilExit()
        }
        var configuration = APIServerConfiguration()
        configuration.listen = Endpoint(host: "127.0.0.1", port: 26482)
        configuration.etcdServers = [client]
        configuration.storeKeepaliveTime = 500 * Time.millisecond
        configuration.storeKeepaliveTimeout = 500 * Time.millisecond
        configuration.storeRequestTimeout = 2 * Time.second
        configuration.log = { _ in }
        let server = try APIServer(configuration: configuration)
        try server.start()
        defer {
            kill(etcd.processIdentifier, SIGCONT)
            server.stop()
        }
        server.bootstrapInBackground()
        let api = HTTPClient(endpoint: Endpoint(host: "127.0.0.1", port: 26482), connectTimeout: 200 * Time.millisecond)
        let ready = Date().addingTimeInterval(20)
        while (try? api.get("/readyz", timeout: Time.second))?.status != 200 && Date() < ready { usleep(50_000) }
        try #require((try? api.get("/readyz", timeout: Time.second))?.status == 200, "the apiserver never became ready")
        // One object, so the watch's first chunk (its ADDED) says the stream is running.
        let created = try api.request("POST", "/api/v1/namespaces/default/configmaps", body: Array(#"{"metadata":{"name":"one"}}"#.utf8),
            timeout: 5 * Time.second)
        try #require(created.status == 201, "\(created.status) \(created.text)")

        let watch = HTTPClient(endpoint: Endpoint(host: "127.0.0.1", port: 26482))
        var paused: Date?
        let started = Date()
        // No bookmarks: a watch the keepalive does not cut sends nothing and runs into the
        // 10 s idle limit here, which counts as a failure below.
        _ = try? watch.stream("/api/v1/namespaces/default/configmaps?watch=true", method: "GET", body: [],
            idleTimeout: 10 * Time.second) { _ in
            if paused == nil {
                kill(etcd.processIdentifier, SIGSTOP)
                paused = Date()
            }
            return Date().timeIntervalSince(started) < 20
        }
        if paused == nil {
            Issue.record("the watch ended before the member was paused")
            return
        }
        let ended = Date().timeIntervalSince(paused!)
        // One interval to the probe, its timeout, the stream's end: about 1–1.5 s.
        #expect(ended < 5, "the watch on a paused member ended \(ended) s after the pause (the keepalive should cut it within about 1.5 s)")
    }
}
