//! Membership changes on a live cluster of in-process members over loopback: a learner joins a
//! running cluster with an empty data directory (`--initial-cluster-state existing`) and catches
//! up from a snapshot, is promoted, and a founding member is removed and stops.

import Base
import EtcdClient
import EtcdServer
import Foundation
import Synchronization
import Testing

/// Ports 26310–26319 (clients) and 26320–26329 (peers).
private func flags(_ index: Int, directory: String, cluster: String, state: String = "new") -> [String] {
    ["--name", "m\(index)", "--data-dir", "\(directory)/m\(index)",
        "--listen-client-urls", "http://127.0.0.1:\(26310 + index)", "--advertise-client-urls", "http://127.0.0.1:\(26310 + index)",
        "--listen-peer-urls", "http://127.0.0.1:\(26320 + index)", "--initial-advertise-peer-urls", "http://127.0.0.1:\(26320 + index)",
        "--initial-cluster", cluster, "--initial-cluster-state", state,
        // Fast timing and frequent snapshots, so the joiner is sent a snapshot, not the whole log.
        "--heartbeat-interval", "50", "--election-timeout", "500", "--snapshot-count", "25"]
}

/// FL_TEST_LOG=1 prints the members' logs.
private func logger(_ name: String) -> @Sendable (String) -> Void {
    guard ProcessInfo.processInfo.environment["FL_TEST_LOG"] != nil else { return { _ in } }
    return { line in print("[\(name)] \(line)") }
}

private func clientURL(_ index: Int) -> String { "http://127.0.0.1:\(26310 + index)" }
private func peerURL(_ index: Int) -> String { "http://127.0.0.1:\(26320 + index)" }

/// Retries `body` until it returns without throwing, or rethrows its last error at the deadline.
private func eventually<T>(seconds: Double = 10, _ body: () throws -> T) throws -> T {
    let deadline = Date().addingTimeInterval(seconds)
    while true {
        do {
            return try body()
        } catch {
            if Date() > deadline { throw error }
            usleep(50_000)
        }
    }
}

private struct NotYet: Error { var what: String }

extension LiveClusterTests {
@Suite struct MembershipTests {
    @Test func learnerJoinsIsPromotedAndAFounderIsRemoved() throws {
        let directory = NSTemporaryDirectory() + "fl-membership-\(getpid())"
        try? FileManager.default.removeItem(atPath: directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let founders = (1...3).map { "m\($0)=\(peerURL($0))" }.joined(separator: ",")
        var members: [Int: EtcdMember] = [:]
        defer { for member in members.values { member.stop() } }
        let removed = Atomic<Int>(0)
        for index in 1...3 {
            let member = try EtcdMember(configuration: try Configuration.parse(flags(index, directory: directory, cluster: founders)), log: logger("m\(index)"))
            member.onRemoved = { removed.add(1, ordering: .relaxed) }
            try member.start()
            members[index] = member
        }
        // Generous timeouts: other suites may be using both cores.
        let client = EtcdClient(endpoints: (1...3).map(clientURL), timeout: 20 * Time.second)
        for key in 0..<100 { _ = try eventually { try client.put("key/\(key)", "v\(key)") } }

        // A learner is added, then started with an empty data directory.
        let (added, listed) = try client.memberAdd(peerURLs: [peerURL(4)], isLearner: true)
        #expect(added.isLearner && added.name.isEmpty && added.peerURLs == [peerURL(4)])
        #expect(listed.count == 4 && listed.filter(\.isLearner).map(\.id) == [added.id])
        #expect(throws: EtcdClientError.self) { try client.memberAdd(peerURLs: [peerURL(5)], isLearner: true) }
        let joiner = try EtcdMember(configuration: try Configuration.parse(
            flags(4, directory: directory, cluster: founders + ",m4=\(peerURL(4))", state: "existing")), log: logger("m4"))
        try joiner.start()
        members[4] = joiner
        #expect(joiner.memberID == added.id, "the joiner must take the id the cluster assigned")
        #expect(joiner.clusterID == members[1]!.clusterID)

        // It catches up (from a snapshot: the founders compacted their logs), and serves reads.
        let local = EtcdClient(endpoints: [clientURL(4)], timeout: 20 * Time.second)
        let caughtUp = try eventually {
            guard let value = try local.value(of: "key/99", serializable: true) else { throw NotYet(what: "key/99 on the learner") }
            return value
        }
        #expect(caughtUp == "v99")
        #expect(try local.value(of: "key/0", serializable: true) == "v0")

        // Promoted once in sync; promoting a voter is refused.
        let promoted = try eventually { try client.memberPromote(id: added.id) }
        #expect(promoted.count == 4 && promoted.allSatisfy { !$0.isLearner })
        #expect(throws: EtcdClientError.self) { try client.memberPromote(id: added.id) }

        // A founder is removed: it stops, the other three carry on, the new member included.
        let founderID = members[1]!.memberID
        let remaining = try client.memberRemove(id: founderID)
        #expect(Set(remaining.map(\.id)) == Set([members[2]!.memberID, members[3]!.memberID, added.id]))
        _ = try eventually(seconds: 5) { () throws -> Bool in
            guard removed.load(ordering: .relaxed) == 1 else { throw NotYet(what: "the removed member's onRemoved") }
            return true
        }
        members.removeValue(forKey: 1)!.stop()
        #expect(throws: EtcdClientError.self) { try client.memberRemove(id: founderID) }
        let survivors = EtcdClient(endpoints: [2, 3, 4].map(clientURL), timeout: 20 * Time.second)
        _ = try eventually { try survivors.put("after/removal", "yes") }
        #expect(try eventually { () throws -> String? in
            guard let value = try local.value(of: "after/removal", serializable: true) else { throw NotYet(what: "after/removal on m4") }
            return value
        } == "yes")
        // The joined member names itself once it runs (it announces its name and client URLs).
        let final = try eventually { () throws -> [EtcdClient.Member] in
            let list = try survivors.memberList()
            guard list.first(where: { $0.id == added.id })?.name == "m4" else { throw NotYet(what: "m4's name in the list") }
            return list
        }
        #expect(final.count == 3 && final.allSatisfy { !$0.isLearner })

        // Restarted from its own data directory, the joined member keeps its id and its data.
        members.removeValue(forKey: 4)!.stop()
        let restarted = try EtcdMember(configuration: try Configuration.parse(
            flags(4, directory: directory, cluster: founders + ",m4=\(peerURL(4))", state: "existing")), log: { _ in })
        try restarted.start()
        members[4] = restarted
        #expect(restarted.memberID == added.id)
        _ = try eventually { try survivors.put("after/restart", "yes") }
        #expect(try eventually { () throws -> String? in
            guard let value = try local.value(of: "after/restart", serializable: true) else { throw NotYet(what: "after/restart on m4") }
            return value
        } == "yes")
    }

    @Test func joiningWithoutBeingAddedIsRefusedWithAClearError() throws {
        let directory = NSTemporaryDirectory() + "fl-membership-refused-\(getpid())"
        try? FileManager.default.removeItem(atPath: directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let founder = try EtcdMember(configuration: try Configuration.parse(flags(1, directory: directory, cluster: "m1=\(peerURL(1))")), log: { _ in })
        try founder.start()
        var founderRunning = true
        defer { if founderRunning { founder.stop() } }
        _ = try eventually { try EtcdClient(endpoints: [clientURL(1)]).put("x", "1") }
        let stranger = try Configuration.parse(flags(2, directory: directory, cluster: "m1=\(peerURL(1)),m2=\(peerURL(2))", state: "existing"))
        do {
            _ = try EtcdMember(configuration: stranger, log: { _ in })
            Issue.record("a member that was never added joined the cluster")
        } catch {
            #expect("\(error)".contains("member add"), "the error should say how to fix it: \(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: "\(directory)/m2"), "a refused join must not leave a data directory")
        // Nobody running at all: also refused, naming what it tried.
        founder.stop()
        founderRunning = false
        do {
            _ = try EtcdMember(configuration: stranger, log: { _ in })
            Issue.record("joined a cluster nobody runs")
        } catch {
            #expect("\(error)".contains("no member named in --initial-cluster answered"), "\(error)")
        }
    }
}
}
