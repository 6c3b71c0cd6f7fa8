//! MoveLeader (`POST /v3/maintenance/transfer-leadership`), as etcd 3.4 serves it: only the
//! leader accepts it; it hands leadership to a voting member and answers once that member
//! leads, or fails after the request timeout. The testbed's replay uses it to start a replayed
//! run under the leader the original run had.

import Base
import EtcdAPI
import Glibc
import Net

extension EtcdMember {
    /// How often the waiting request looks at who leads.
    static let leaderTransferPoll: Nanoseconds = 10 * Time.millisecond

    func moveLeader(to target: UInt64) throws(APIError) -> Answer {
        enum Start { case started, refused(APIError) }
        guard let start = onLoop({ () -> Start in
            let raft = self.replica.raft
            guard raft.leader == self.memberID else { return .refused(.notLeader) }
            guard raft.conf.voters.contains(target) else { return .refused(.badLeaderTransferee) }
            self.replica.transferLeadership(to: target)
            return .started
        }) else { throw .stopped }
        if case .refused(let error) = start { throw error }
        let deadline = MonotonicClock.now() + configuration.requestTimeout
        while MonotonicClock.now() < deadline {
            guard let led = onLoop({ () -> Bool? in self.replica.raft.leader == target ? true : nil }) else {
                throw .stopped
            }
            // etcd 3.4 leaves this answer's header unset: the gateway prints `{}`.
            if led != nil { return (200, Array("{}".utf8)) }
            usleep(UInt32(Self.leaderTransferPoll / Time.microsecond))
        }
        throw .leaderTransferTimeout
    }
}
