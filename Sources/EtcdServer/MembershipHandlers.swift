//! Membership calls: member list, add (as a voter or a learner), remove, update (peer URLs) and
//! promote. The leader checks each change against the registry and etcd's strict reconfiguration
//! rules (never a change that leaves fewer started or connected voters than a quorum), proposes it
//! as a Raft configuration change, and answers once it is applied. Followers forward to it.

import Base
import EtcdAPI
import Foundation
import Net
import Raft
import Services

extension EtcdMember {
    /// etcd counts a member "active" when heard from within this long (its HealthInterval).
    static let activeWithin: Nanoseconds = 5 * Time.second
    /// etcd 3.4 allows one learner at a time.
    static let learnersMax = 1

    /// The members as `member list` shows them (call on the loop).
    func memberInfos() -> [MemberInfo] {
        replica.stateMachine.registry.sorted.map { record in
            let announced = peerAttributes[record.id]
            let isSelf = record.id == memberID
            return MemberInfo(id: record.id,
                name: isSelf ? configuration.name : (record.name.isEmpty ? announced?.name ?? "" : record.name),
                peerURLs: record.peerURLs,
                clientURLs: isSelf ? configuration.advertiseClientURLs.map(\.description) : announced?.clientURLs ?? [],
                isLearner: record.isLearner)
        }
    }

    func memberList() throws(APIError) -> Answer {
        guard let answer = onLoop({ () -> Answer in
            (200, EtcdAPI.encodeMembers(self.memberInfos(), header: self.header(revision: 0)))
        }) else { throw .stopped }
        return answer
    }

    /// Runs a membership call on the leader (forwarding it there from a follower).
    func changeMembership(_ route: Route, path: String, body: [UInt8], forwarded: Bool) throws(APIError) -> Answer {
        let request = try EtcdAPI.decodeMember(body)
        if route == .memberAdd || route == .memberUpdate {
            guard !request.peerURLs.isEmpty,
                request.peerURLs.allSatisfy({ (try? EtcdURL.parse($0, flag: "peerURLs")) != nil })
            else { throw .memberBadURLs }
        }
        let waiter = Waiter<Answer>()
        let accepted = loop.execute { [self] in
            whenLeaderKnown(otherwise: { waiter.fulfil(Self.failure(.noLeader)) }) { [self] in
                guard replica.raft.role == .leader else {
                    forward(path: path, body: body, forwarded: forwarded, to: waiter)
                    return
                }
                let change: Raft.ConfChange
                do throws(APIError) {
                    change = try membershipChange(route, request)
                } catch {
                    waiter.fulfil(Self.failure(error))
                    return
                }
                replica.changeMembership(change) { [self] outcome in
                    waiter.fulfil(membershipAnswer(outcome, change: change))
                }
            }
        }
        guard accepted else { throw .tooManyRequests }
        guard let answer = waiter.wait(timeout: configuration.requestTimeout) else { throw .timeout }
        return answer
    }

    /// On the leader: the configuration change a call asks for, checked as etcd checks it.
    private func membershipChange(_ route: Route, _ request: EtcdAPI.MemberRequest) throws(APIError) -> Raft.ConfChange {
        let registry = replica.stateMachine.registry
        switch route {
        case .memberAdd:
            let addedAt = Int64(wallClockSeconds())
            let id = Configuration.memberID(peerURLs: request.peerURLs, token: configuration.initialClusterToken, addedAt: addedAt)
            // A removed id is never reused; etcd 3.4 reports it as "member not found".
            guard !registry.removed.contains(id) else { throw .memberNotFound }
            guard registry.members[id] == nil else { throw .memberIDExists }
            guard request.peerURLs.allSatisfy({ registry.member(withPeerURL: $0) == nil }) else { throw .peerURLExists }
            if request.isLearner {
                guard registry.learnerCount < Self.learnersMax else { throw .tooManyLearners }
            } else {
                try checkCanAddVoter(registry)
            }
            let record = MemberRecord(id: id, name: "", peerURLs: request.peerURLs, isLearner: request.isLearner)
            return Raft.ConfChange(request.isLearner ? .addLearner : .addVoter, id, context: record.context())
        case .memberRemove:
            guard let record = registry.members[request.id] else { throw .memberNotFound }
            if !record.isLearner { try checkCanRemoveVoter(request.id, registry) }
            return Raft.ConfChange(.removeNode, request.id)
        case .memberUpdate:
            guard var record = registry.members[request.id] else { throw .memberNotFound }
            for url in request.peerURLs {
                if let owner = registry.member(withPeerURL: url), owner.id != request.id { throw .peerURLExists }
            }
            record.peerURLs = request.peerURLs
            return Raft.ConfChange(.updateNode, request.id, context: record.context())
        case .memberPromote:
            guard let record = registry.members[request.id] else { throw .memberNotFound }
            guard record.isLearner else { throw .memberNotLearner }
            try checkCanAddVoter(registry)
            return Raft.ConfChange(.addVoter, request.id)
        default:
            preconditionFailure("\(route) is not a membership call")
        }
    }

    /// etcd's `IsReadyToAddVotingMember` and its check that every voter is connected.
    private func checkCanAddVoter(_ registry: MemberRegistry) throws(APIError) {
        let voters = registry.voterIDs
        let started = voters.filter { isStarted($0, registry) }.count
        let members = voters.count + 1
        // A one-member cluster may always add a second (that is how a restored member grows).
        if !(started == 1 && members == 2) && started < members / 2 + 1 { throw .notEnoughStartedMembers }
        guard voters.allSatisfy({ isActive($0) }) else { throw .unhealthyCluster }
    }

    /// etcd's `IsReadyToRemoveVotingMember`, then: removing a member that was never heard from
    /// is safe; otherwise the active voters left must still be a quorum.
    private func checkCanRemoveVoter(_ id: UInt64, _ registry: MemberRegistry) throws(APIError) {
        let remaining = registry.voterIDs.filter { $0 != id }
        let started = remaining.filter { isStarted($0, registry) }.count
        guard started >= remaining.count / 2 + 1 else { throw .notEnoughStartedMembers }
        if id != memberID && lastHeard[id] == nil { return }
        let voters = registry.voterIDs
        let active = voters.filter { isActive($0) }.count
        if active - 1 < 1 + (voters.count - 1) / 2 { throw .unhealthyCluster }
    }

    /// Started: a founding member (named in the log) or one that announced itself.
    private func isStarted(_ id: UInt64, _ registry: MemberRegistry) -> Bool {
        id == memberID || !(registry.members[id]?.name.isEmpty ?? true) || peerAttributes[id] != nil
    }

    /// Unix seconds, as etcd mixes into an added member's id (only for uniqueness).
    private func wallClockSeconds() -> Int { Int(FaultClock.shared.wallNow().timeIntervalSince1970) }

    private func isActive(_ id: UInt64) -> Bool {
        id == memberID || (lastHeard[id].map { EventLoop.now() - $0 <= Self.activeWithin } ?? false)
    }

    private func membershipAnswer(_ outcome: MembershipOutcome, change: Raft.ConfChange) -> Answer {
        switch outcome {
        case .applied:
            let members = memberInfos()
            let added = change.kind == .addVoter || change.kind == .addLearner
                ? members.first { $0.id == change.node } : nil
            // `member add` names the new member; promote (also an addVoter) does not.
            let isPromotion = change.kind == .addVoter && change.context.isEmpty
            return (200, EtcdAPI.encodeMembers(members, header: header(revision: 0), added: isPromotion ? nil : added))
        case .dropped:
            return Self.failure(.leaderChanged)
        case .refused(.learnerNotCaughtUp):
            return Self.failure(.learnerNotReady)
        case .refused(.notLeader), .refused(.transferInProgress):
            return Self.failure(.noLeader)
        case .refused(.confChangePending):
            return Self.failure(APIError(code: .unavailable, message: "etcdserver: another membership change is in progress; retry"))
        case .refused(.tooManyUncommitted):
            return Self.failure(.tooManyRequests)
        case .refused(.invalidConfChange(let why)):
            return Self.failure(APIError(code: .failedPrecondition, message: "etcdserver: \(why)"))
        }
    }
}
