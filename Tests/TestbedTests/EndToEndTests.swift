//! The testbed end to end, as a user drives it (root only; CI runs as root): `faultline up`
//! a 3-member etcd cluster in network namespaces behind the fault proxy, write through the proxy,
//! isolate the leader (a new leader is elected among the rest and writes go on there, while the
//! isolated one cannot commit), heal (it catches up), check that a one-way cut and a latency rule
//! measurably take effect, and `faultline down` leaves nothing behind. Once with the built-in
//! store, once with real etcd (Debian's etcd-server) as the external program.

import Base
import EtcdClient
import Foundation
import Testbed
import Testing


private let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
/// The release binary (Scripts/test builds it before running the tests).
private let faultline = repository + "/.build/release/faultline"

/// One link's counters, from `fault list -o json`.
private func link(_ from: String, _ to: String, in cluster: String) -> [String: Any] {
    let output = cli(["fault", "list", "-o", "json", "-c", cluster]).output
    guard let object = (try? JSONSerialization.jsonObject(with: Data(output.utf8))) as? [String: Any],
        let links = object["links"] as? [[String: Any]]
    else { return [:] }
    return links.first { $0["from"] as? String == from && $0["to"] as? String == to } ?? [:]
}

@discardableResult
private func cli(_ arguments: [String]) -> (status: Int32, output: String) { run([faultline] + arguments) }

private func eventually<T>(seconds: Double, _ body: () throws -> T?) -> T? {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if let value = try? body() { return value }
        usleep(100_000)
    }
    return nil
}

extension RootTests {
@Suite(.enabled(if: FileManager.default.isExecutableFile(atPath: faultline), "needs the release build"))
struct EndToEndTests {
    @Test(arguments: ["builtin", "etcd"])
    func isolateTheLeaderHealCutAndDelay(impl: String) throws {
        let cluster = "e2e-\(impl)"
        cli(["down", cluster])
        let up = cli(["up", repository + "/Topologies/etcd-3.yaml", "--name", cluster, "--impl", impl])
        defer {
            // Normally the test took it down itself; this catches a failure half-way.
            if FileManager.default.fileExists(atPath: ClusterDirectory(cluster: cluster).path) { cli(["down", cluster]) }
        }
        try #require(up.status == 0, "up failed: \(up.output)")
        let record = try ClusterDirectory(cluster: cluster).load()
        let url = { (host: String) in "http://\(record.host(host)!.serviceAddress):2379" }
        let hosts = record.hosts.map(\.name)
        let client = EtcdClient(endpoints: hosts.map(url), timeout: 5 * Time.second)
        _ = try client.put("e2e/before", "1")

        // Who leads: ask each member, map member ids to host names through the member list.
        let names = Dictionary(uniqueKeysWithValues: try client.memberList().map { ($0.id, $0.name) })
        let leaderID = try #require(eventually(seconds: 10) { try EtcdClient(endpoints: [url(hosts[0])]).status().leader })
        let leader = try #require(names[leaderID])
        let followers = hosts.filter { $0 != leader }

        // Isolate it: the others elect a new leader and keep writing.
        let isolate = cli(["fault", "isolate", leader, "-c", cluster])
        try #require(isolate.status == 0, "isolate: \(isolate.output)")
        let survivors = EtcdClient(endpoints: followers.map(url), timeout: 5 * Time.second)
        let newLeader = eventually(seconds: 15) { () -> UInt64? in
            let status = try EtcdClient(endpoints: [url(followers[0])]).status()
            return status.leader != 0 && status.leader != leaderID ? status.leader : nil
        }
        #expect(newLeader != nil, "no new leader among \(followers)")
        #expect(eventually(seconds: 10) { try survivors.put("e2e/during", "2") } != nil, "writes did not go on")
        // The isolated member still takes the client's calls, but cannot commit.
        let stale = EtcdClient(endpoints: [url(leader)], timeout: 3 * Time.second)
        #expect((try? stale.put("e2e/stale", "x")) == nil, "the isolated member committed a write")

        // Heal: it catches up.
        #expect(cli(["fault", "heal", "--all", "-c", cluster]).status == 0)
        let caughtUp = eventually(seconds: 15) { try stale.value(of: "e2e/during", serializable: true) }
        #expect(caughtUp == "2", "the healed member did not catch up")

        // Latency on client → followers[0]: a read there takes at least the delay.
        #expect(cli(["fault", "latency", "--from", "client", "--to", followers[0], "--delay", "200ms", "-c", cluster]).status == 0)
        let slow = EtcdClient(endpoints: [url(followers[0])], timeout: 5 * Time.second)
        let began = Date()
        _ = try slow.value(of: "e2e/before", serializable: true)
        #expect(Date().timeIntervalSince(began) >= 0.2, "the latency rule did not delay the read")
        #expect(link("client", followers[0], in: cluster)["chunks_delayed"] as? Int ?? 0 >= 1, "no delayed chunk counted")
        #expect(cli(["fault", "heal", "--all", "-c", cluster]).status == 0)

        // A one-way cut client → followers[1]: requests there fail, and the proxy counts it.
        #expect(cli(["fault", "cut", "--from", "client", "--to", followers[1], "-c", cluster]).status == 0)
        let cut = EtcdClient(endpoints: [url(followers[1])], timeout: 2 * Time.second)
        #expect((try? cut.value(of: "e2e/before", serializable: true)) == nil, "a request crossed the cut")
        let list = cli(["fault", "list", "-c", cluster])
        #expect(list.status == 0 && list.output.contains(followers[1]), "fault list: \(list.output)")
        // A new connection across a blackhole is held undialled; bytes on an open one are stalled.
        let cutLink = link("client", followers[1], in: cluster)
        #expect((cutLink["connections_held"] as? Int ?? 0) + (cutLink["bytes_stalled"] as? Int ?? 0) >= 1, "nothing held or stalled: \(cutLink)")
        #expect(cli(["fault", "heal", "--all", "-c", cluster]).status == 0)

        // A reset of the members' links to the leader: counted, and the cluster carries on.
        let leaderNow = eventually(seconds: 10) { () -> String? in
            let status = try EtcdClient(endpoints: [url(followers[0])]).status()
            return status.leader != 0 ? names[status.leader] : nil
        }
        if let leaderNow, let other = hosts.first(where: { $0 != leaderNow }) {
            #expect(cli(["fault", "reset", "--from", leaderNow, "--to", other, "-c", cluster]).status == 0)
            #expect(link(leaderNow, other, in: cluster)["connections_reset"] as? Int ?? 0 >= 1, "no reset counted")
        }
        #expect(eventually(seconds: 10) { try client.put("e2e/after", "3") } != nil, "writes did not go on after the reset")

        // A rule with a TTL heals itself, and the trace says so.
        #expect(cli(["fault", "cut", "--from", "client", "--to", followers[0], "--ttl", "300ms", "-c", cluster]).status == 0)
        let tracePath = ClusterDirectory(cluster: cluster).tracePath
        let expired = eventually(seconds: 5) { () -> Bool? in
            let trace = try String(contentsOfFile: tracePath, encoding: .utf8)
            return trace.contains("\"event\":\"expired\"") ? true : nil
        }
        #expect(expired == true, "the TTL expiry is not in the trace")
        #expect(!((try? String(contentsOfFile: tracePath, encoding: .utf8)) ?? "").contains("\"rule\":\"r1\",\"t_ns\""),
            "an explicitly healed rule was traced as expired")

        // A bridge: the two others cannot talk, both still reach the bridge host, and the
        // cluster keeps committing (the bridge host sees a majority).
        let bridge = hosts[0]
        #expect(cli(["fault", "bridge", bridge, "-c", cluster]).status == 0)
        let bridged = cli(["fault", "list", "-o", "json", "-c", cluster]).output
        #expect((link(hosts[1], hosts[2], in: cluster)["policy"] as? [String: Any])?["blocked"] as? String == "blackhole",
            "the bridge does not block \(hosts[1]) -> \(hosts[2]): \(bridged)")
        #expect((link(hosts[1], bridge, in: cluster)["policy"] as? [String: Any])?["blocked"] as? String == "none",
            "the bridge blocks \(hosts[1]) -> \(bridge): \(bridged)")
        #expect(eventually(seconds: 10) { try client.put("e2e/bridged", "4") } != nil, "no write committed across the bridge")
        #expect(cli(["fault", "heal", "--all", "-c", cluster]).status == 0)

        // Down leaves nothing: no namespaces, no processes, no directory.
        let pids = (try ClusterDirectory(cluster: cluster).load()).hosts.compactMap(\.pid)
        let down = cli(["down", cluster])
        #expect(down.status == 0, "down: \(down.output)")
        #expect(try Namespaces.existing(prefix: "fl-\(cluster)-").isEmpty, "namespaces left behind")
        for pid in pids { #expect(kill(pid, 0) != 0, "process \(pid) left running") }
        #expect(!FileManager.default.fileExists(atPath: ClusterDirectory(cluster: cluster).path))
    }

    /// Loopback mode (what a non-root user gets): no namespaces, 127.x addresses, the same proxy.
    /// Our members bind their outgoing connections to their own address, so isolating the leader
    /// still works; the peer links are attributed to hosts, not to the client.
    @Test func loopbackModeIsolatesTheLeaderWithoutNamespaces() throws {
        let cluster = "e2e-loop"
        cli(["down", cluster])
        let up = cli(["up", repository + "/Topologies/etcd-3.yaml", "--name", cluster, "--loopback"])
        defer {
            if FileManager.default.fileExists(atPath: ClusterDirectory(cluster: cluster).path) { cli(["down", cluster]) }
        }
        try #require(up.status == 0, "up --loopback failed: \(up.output)")
        #expect(up.output.contains("warning: loopback mode"), "no isolation warning: \(up.output)")
        #expect(try Namespaces.existing(prefix: "fl-\(cluster)-").isEmpty, "loopback mode made namespaces")
        let record = try ClusterDirectory(cluster: cluster).load()
        #expect(record.plan.loopback && record.hosts.allSatisfy { $0.serviceAddress.hasPrefix("127.") && $0.namespace.isEmpty })
        let url = { (host: String) in "http://\(record.host(host)!.serviceAddress):2379" }
        let hosts = record.hosts.map(\.name)
        let client = EtcdClient(endpoints: hosts.map(url), timeout: 5 * Time.second)
        _ = try client.put("loop/before", "1")
        // Peer traffic is attributed to the hosts (bound source addresses), not to the client.
        let peerLink = eventually(seconds: 5) { () -> [String: Any]? in
            let counters = link(hosts[0], hosts[1], in: cluster)
            return (counters["bytes_forwarded"] as? Int ?? 0) > 0 ? counters : nil
        }
        #expect(peerLink != nil, "no traffic counted on \(hosts[0]) -> \(hosts[1])")

        let names = Dictionary(uniqueKeysWithValues: try client.memberList().map { ($0.id, $0.name) })
        let leaderID = try #require(eventually(seconds: 10) { try EtcdClient(endpoints: [url(hosts[0])]).status().leader })
        let leader = try #require(names[leaderID])
        let followers = hosts.filter { $0 != leader }
        #expect(cli(["fault", "isolate", leader, "-c", cluster]).status == 0)
        let newLeader = eventually(seconds: 15) { () -> UInt64? in
            let status = try EtcdClient(endpoints: [url(followers[0])]).status()
            return status.leader != 0 && status.leader != leaderID ? status.leader : nil
        }
        #expect(newLeader != nil, "no new leader among \(followers) on loopback")
        let stale = EtcdClient(endpoints: [url(leader)], timeout: 3 * Time.second)
        #expect((try? stale.put("loop/stale", "x")) == nil, "the isolated member committed a write")
        #expect(cli(["fault", "heal", "--all", "-c", cluster]).status == 0)
        #expect(eventually(seconds: 15) { try stale.value(of: "loop/before", serializable: true) } == "1")

        let pids = record.hosts.compactMap(\.pid) + [record.proxy?.pid].compactMap { $0 }
        #expect(cli(["down", cluster]).status == 0)
        for pid in pids { #expect(kill(pid, 0) != 0, "process \(pid) left running") }
        #expect(!FileManager.default.fileExists(atPath: ClusterDirectory(cluster: cluster).path))
    }
}
}
