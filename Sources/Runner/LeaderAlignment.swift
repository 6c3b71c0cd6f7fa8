//! Starting a run under a chosen leader: `replay` moves leadership (etcd's MoveLeader) to the
//! member that led when the original run began, so that a recorded "isolate etcd-2" hits the
//! leader again rather than whichever member won the new cluster's first election.

import Base
import EtcdClient
import Foundation

public enum LeaderAlignment {
    /// Moves leadership to `target` and waits until every member names it. Returns what
    /// happened, for the log; a failure is reported, not thrown (the replay then says where it
    /// diverges, which is the honest outcome).
    public static func move(to target: String, members: [(name: String, url: String)],
        timeout: Nanoseconds = 10 * Time.second) -> (moved: Bool, detail: String)
    {
        let deadline = Date().addingTimeInterval(Double(timeout) / 1e9)
        var lastProblem = "no member answered its status"
        var transferred = false
        while Date() < deadline {
            var ids: [String: UInt64] = [:]
            var named: [UInt64] = []
            for member in members {
                guard let status = try? EtcdClient(endpoints: [member.url], timeout: Time.second).status() else { continue }
                ids[member.name] = status.header.memberID
                named.append(status.leader)
            }
            guard let targetID = ids[target] else {
                lastProblem = "\(target) does not answer its status"
                usleep(100_000)
                continue
            }
            if named.count == members.count && named.allSatisfy({ $0 == targetID }) {
                return (true, transferred ? "leadership moved to \(target)" : "\(target) already leads")
            }
            guard let leaderID = named.first(where: { $0 != 0 }), let leader = members.first(where: { ids[$0.name] == leaderID }) else {
                lastProblem = "no leader yet"
                usleep(100_000)
                continue
            }
            if leaderID != targetID {
                do {
                    try EtcdClient(endpoints: [leader.url], timeout: timeout).moveLeader(to: targetID)
                    transferred = true
                } catch {
                    lastProblem = "moving leadership from \(leader.name) to \(target) failed: \(error)"
                }
            }
            usleep(50_000)
        }
        return (false, "could not make \(target) the leader within \(Time.describe(timeout)): \(lastProblem)")
    }
}
