//! MoveLeader (`maintenance/transfer-leadership`) on a live three-member cluster over loopback:
//! a follower and an unknown target are refused with etcd 3.4's errors, and the leader hands
//! leadership to the member named, which every member then reports.

import Base
import EtcdClient
import EtcdServer
import Foundation
import Testing

/// Ports 26410–26413 (clients) and 26420–26423 (peers).
private func clientURL(_ index: Int) -> String { "http://127.0.0.1:\(26410 + index)" }
private func peerURL(_ index: Int) -> String { "http://127.0.0.1:\(26420 + index)" }

private func flags(_ index: Int, directory: String) -> [String] {
    ["--name", "m\(index)", "--data-dir", "\(directory)/m\(index)",
        "--listen-client-urls", clientURL(index), "--listen-peer-urls", peerURL(index), "--initial-advertise-peer-urls", peerURL(index),
        "--initial-cluster", (1...3).map { "m\($0)=\(peerURL($0))" }.joined(separator: ","),
        "--heartbeat-interval", "50", "--election-timeout", "500"]
}

extension LiveClusterTests {
@Suite struct MoveLeaderTests {
    @Test func leaderHandsOverToTheNamedMember() throws {
        let directory = NSTemporaryDirectory() + "fl-moveleader-\(getpid())"
        try? FileManager.default.removeItem(atPath: directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var members: [EtcdMember] = []
        defer { for member in members { member.stop() } }
        for index in 1...3 {
            let member = try EtcdMember(configuration: try Configuration.parse(flags(index, directory: directory)), log: { _ in })
            try member.start()
            members.append(member)
        }
        let clients = (1...3).map { EtcdClient(endpoints: [clientURL($0)], timeout: 10 * Time.second) }
        // Wait for a leader every member agrees on.
        var statuses: [EtcdClient.Status] = []
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            statuses = clients.compactMap { try? $0.status() }
            if statuses.count == 3, statuses[0].leader != 0, Set(statuses.map(\.leader)).count == 1 { break }
            usleep(50_000)
        }
        try #require(statuses.count == 3 && statuses[0].leader != 0, "no agreed leader: \(statuses.map(\.leader))")
        let leaderIndex = try #require(statuses.firstIndex { $0.header.memberID == $0.leader })
        let targetIndex = (leaderIndex + 1) % 3
        let target = statuses[targetIndex].header.memberID

        #expect(throws: EtcdClientError.self, "a follower must refuse") { try clients[targetIndex].moveLeader(to: target) }
        do {
            try clients[leaderIndex].moveLeader(to: 0x1234)
            Issue.record("an unknown transferee was accepted")
        } catch {
            #expect("\(error)".contains("bad leader transferee"), "\(error)")
        }

        try clients[leaderIndex].moveLeader(to: target)
        // The call answers once the target leads; the others learn it within a heartbeat or two.
        let agreed = Date().addingTimeInterval(5)
        var leaders: [UInt64] = []
        while Date() < agreed {
            leaders = clients.compactMap { try? $0.status().leader }
            if leaders == [target, target, target] { break }
            usleep(20_000)
        }
        #expect(leaders == [target, target, target], "members name \(leaders), expected \(target)")
    }
}
}
