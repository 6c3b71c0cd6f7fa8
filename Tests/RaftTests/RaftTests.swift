//! Unit tests of the Raft core, one rule each; section numbers refer to the Raft paper
//! (Ongaro & Ousterhout, 2014) and the dissertation (Ongaro, 2014).

import Raft
import Testing

@Suite struct ElectionTests {
    @Test("§5.2: one leader is elected and every node learns it")
    func electsOneLeader() {
        let cluster = Cluster(voters: [1, 2, 3])
        cluster.tickAll(times: 30)
        #expect(cluster.leaders.count == 1)
        let leader = cluster.leaders[0]
        for id in [1, 2, 3] as [Raft.NodeID] { #expect(cluster[id].leader == leader) }
    }

    @Test("§5.4.1: a candidate whose log is behind cannot win")
    func staleLogLoses() {
        let cluster = Cluster(voters: [1, 2, 3])
        cluster.elect(1)
        cluster.isolate(3)
        _ = cluster.propose(1, "a")
        cluster.heal()
        cluster.isolate(1)
        // Node 3 missed "a": node 2 refuses to vote for it.
        cluster[3].campaignNow()
        cluster.settle()
        #expect(cluster[3].role != .leader)
    }

    @Test("§9.6: pre-vote keeps an isolated node's term from growing")
    func preVoteKeepsTerm() {
        let cluster = Cluster(voters: [1, 2, 3])
        cluster.elect(1)
        let term = cluster[2].term
        cluster.isolate(3)
        cluster.tick(3, times: 100)
        #expect(cluster[3].term == term, "isolated node bumped its term to \(cluster[3].term)")
        cluster.heal()
        cluster.tickAll(times: 5)
        #expect(cluster[1].role == .leader, "the returning node deposed the leader")
    }

    @Test("check-quorum: an isolated leader steps down within two election timeouts")
    func checkQuorumStepsDown() {
        let cluster = Cluster(voters: [1, 2, 3])
        cluster.elect(1)
        cluster.isolate(1)
        cluster.tick(1, times: 2 * cluster[1].config.electionTicks)
        #expect(cluster[1].role == .follower)
    }

    @Test("a vote is persisted in the same Ready that sends the vote response")
    func votePersistedBeforeResponse() {
        let cluster = Cluster(voters: [1, 2, 3]) { $0.preVote = false }
        cluster.elect(1)
        for (id, ready) in cluster.readies {
            for message in ready.messages where message.kind == .voteResponse && !message.reject {
                #expect(ready.hardState?.vote == message.to, "n\(id) granted a vote without persisting it")
                #expect(ready.hardState?.term == message.term)
            }
        }
    }
}

@Suite struct ReplicationTests {
    @Test("§5.3: proposals are replicated and applied in order on every node")
    func replicates() {
        let cluster = Cluster(voters: [1, 2, 3])
        cluster.elect(1)
        for value in ["a", "b", "c"] { _ = cluster.propose(1, value) }
        for id in [1, 2, 3] as [Raft.NodeID] {
            let payloads = cluster.applied[id, default: []].compactMap { entry -> String? in
                if case .normal(let data) = entry.payload { return String(decoding: data, as: UTF8.self) }
                return nil
            }
            #expect(payloads == ["a", "b", "c"], "n\(id) applied \(payloads)")
        }
    }

    @Test("a follower refuses proposals")
    func followerRefuses() {
        let cluster = Cluster(voters: [1, 2, 3])
        cluster.elect(1)
        guard case .failure(.notLeader(let hint)) = cluster.propose(2, "x") else {
            Issue.record("follower accepted a proposal")
            return
        }
        #expect(hint == 1)
    }

    /// Run with the rule intact and with it broken (`Raft.Mutation`): the same expectation must
    /// hold in the first case and fail in the second, or the test could not catch the bug.
    @Test("§5.4.2: a leader commits no entry of an earlier term by counting replicas",
        arguments: [nil, Raft.Mutation.commitPreviousTermByCount])
    func noCommitOfPreviousTermByCount(mutation: Raft.Mutation?) {
        let cluster = Cluster(voters: [1, 2, 3]) {
            $0.preVote = false
            $0.checkQuorum = false
            $0.mutation = mutation
        }
        cluster.elect(1)
        // "x" reaches node 2 but node 1's commit is never learned: cut the responses.
        cluster.cut = [[2, 1], [3, 1], [1, 3]]
        _ = cluster.propose(1, "x")
        let index = cluster[1].log.lastIndex
        #expect(cluster[2].log.lastIndex == index)
        #expect(cluster[1].log.committed < index)
        // Node 2 becomes leader of a new term holding "x" (term 2) — it must not commit "x"
        // before an entry of its own term.
        cluster.heal()
        cluster.isolate(1)
        cluster.cut.remove([2, 3])
        cluster.cut.remove([3, 2])
        // Only let the vote exchange through, not the no-op's appends.
        cluster[2].campaignNow()
        cluster.drainReadies()
        let votes = cluster.pool.filter { $0.kind == .vote }
        cluster.pool = []
        for vote in votes where vote.to == 3 { cluster[3].step(vote) }
        cluster.drainReadies()
        let responses = cluster.pool.filter { $0.kind == .voteResponse }
        cluster.pool = []
        for response in responses { cluster[2].step(response) }
        cluster.drainReadies()
        #expect(cluster[2].role == .leader)
        // Node 3 acknowledges "x" (a majority now holds it) but not yet the new no-op.
        var ack = Raft.Message(kind: .appendResponse, from: 3, to: 2, term: cluster[2].term)
        ack.index = index
        cluster.pool = []
        cluster[2].step(ack)
        let committedByCount = cluster[2].log.committed >= index
        if mutation == nil {
            #expect(!committedByCount, "x (term \(cluster[2].log.term(at: index) ?? 0)) committed by counting replicas")
        } else {
            #expect(committedByCount, "the broken rule went unnoticed: this test cannot fail")
        }
        // Once the no-op of the current term is on a majority, both commit.
        ack.index = index + 1
        cluster[2].step(ack)
        #expect(cluster[2].log.committed == index + 1)
    }

    @Test("fast backtracking: a long divergent suffix costs few round trips")
    func fastBacktracking() {
        let cluster = Cluster(voters: [1, 2, 3]) {
            $0.preVote = false
            $0.checkQuorum = false
        }
        cluster.elect(1)
        cluster.isolate(1)
        // Node 1 appends 100 entries nobody else gets.
        for value in 0..<100 { _ = cluster[1].propose(Array("stale\(value)".utf8)) }
        cluster.settle()
        cluster.heal()
        cluster.isolate(1)
        cluster.elect(2)
        for value in 0..<5 { _ = cluster.propose(2, "fresh\(value)") }
        cluster.heal()
        cluster.readies = []
        cluster.tick(2, times: 1)
        let rejections = cluster.readies.flatMap { $0.1.messages }.filter { $0.kind == .appendResponse && $0.reject }
        #expect(cluster[1].log.lastIndex == cluster[2].log.lastIndex)
        #expect(cluster[1].log.term(at: cluster[1].log.lastIndex) == cluster[2].term)
        #expect(rejections.count <= 3, "\(rejections.count) rejections to skip a 100-entry divergent term")
    }

    @Test("pipelining: a follower's window bounds the appends in flight")
    func inflightWindowBounded() {
        let cluster = Cluster(voters: [1, 2, 3]) {
            $0.maxInflightMessages = 4
            $0.maxEntriesPerMessage = 1
        }
        cluster.elect(1)
        cluster.cut = [[2, 1]]  // Node 2's acknowledgements are lost.
        cluster.pool = []
        for value in 0..<20 { _ = cluster[1].propose(Array("v\(value)".utf8)) }
        cluster.drainReadies()
        let appendsToTwo = cluster.pool.filter { $0.kind == .append && $0.to == 2 && !$0.entries.isEmpty }
        #expect(appendsToTwo.count == 4, "\(appendsToTwo.count) appends in flight to a silent follower")
    }
}

@Suite struct SnapshotTests {
    @Test("a follower behind the compacted log gets a snapshot and catches up")
    func installSnapshot() {
        let cluster = Cluster(voters: [1, 2, 3])
        cluster.elect(1)
        cluster.isolate(3)
        for value in 0..<20 { _ = cluster.propose(1, "v\(value)") }
        cluster[1].compact(snapshotData: [42])
        #expect(cluster[1].log.snapshotIndex > 0)
        cluster.heal()
        cluster.readies = []
        cluster.tick(1, times: 1)
        let installed = cluster.readies.contains { $0.0 == 3 && $0.1.snapshot?.data == [42] }
        #expect(installed)
        #expect(cluster[3].log.lastIndex == cluster[1].log.lastIndex)
        #expect(cluster[3].log.committed == cluster[1].log.committed)
    }
}

@Suite struct SnapshotApplyTests {
    @Test("a received snapshot counts as applied only after the shell has restored it")
    func appliedWaitsForTheShell() {
        let follower = Raft.Instance(config: Raft.Config(id: 2, seed: 2), hardState: Raft.HardState(),
            snapshot: Raft.emptySnapshot, entries: [])
        var message = Raft.Message(kind: .snapshot, from: 1, to: 2, term: 3)
        message.snapshot = Raft.Snapshot(index: 50, term: 2, conf: Raft.ConfState(voters: [1, 2, 3]), data: [7])
        follower.step(message)
        #expect(follower.log.applied < 50, "applied moved before the state machine was restored")
        let ready = follower.ready()
        #expect(ready.snapshot?.index == 50)
        #expect(ready.committedEntries.isEmpty)
        follower.advance(ready)
        #expect(follower.log.applied == 50)
    }
}

@Suite struct ReadIndexTests {
    @Test("§6.4: a read index is confirmed by a quorum's heartbeat responses")
    func readIndexConfirmed() {
        let cluster = Cluster(voters: [1, 2, 3])
        cluster.elect(1)
        _ = cluster.propose(1, "a")
        cluster[1].readIndex(context: 7)
        cluster.settle()
        let states = cluster.readStates[1, default: []]
        #expect(states == [Raft.ReadState(index: cluster[1].log.committed, context: 7)])
    }

    @Test("an isolated leader never confirms a read")
    func isolatedLeaderCannotRead() {
        let cluster = Cluster(voters: [1, 2, 3])
        cluster.elect(1)
        cluster.isolate(1)
        cluster[1].readIndex(context: 9)
        cluster.tick(1, times: 5)
        #expect(cluster.readStates[1, default: []].isEmpty)
    }

    @Test("a follower's read is confirmed through the leader")
    func followerRead() {
        let cluster = Cluster(voters: [1, 2, 3])
        cluster.elect(1)
        cluster[2].readIndex(context: 11)
        cluster.settle()
        #expect(cluster.readStates[2, default: []].map(\.context) == [11])
    }
}

@Suite struct LeadershipAndMembershipTests {
    @Test("§3.10: leadership transfer hands over to an up-to-date follower")
    func transfer() {
        let cluster = Cluster(voters: [1, 2, 3])
        cluster.elect(1)
        cluster[1].transferLeadership(to: 3)
        cluster.settle()
        #expect(cluster.leaders == [3])
    }

    @Test("§4.1: add a learner, promote it once caught up, remove a voter")
    func membershipChanges() {
        let cluster = Cluster(voters: [1, 2, 3])
        cluster.elect(1)
        _ = cluster.propose(1, "a")
        cluster.addEmptyNode(4)
        guard case .success = cluster[1].proposeConfChange(Raft.ConfChange(.addLearner, 4)) else {
            Issue.record("addLearner refused")
            return
        }
        cluster.settle()
        #expect(cluster[1].conf.learners == [4])
        #expect(cluster[4].log.lastIndex == cluster[1].log.lastIndex, "the learner caught up")
        guard case .success = cluster[1].proposeConfChange(Raft.ConfChange(.addVoter, 4)) else {
            Issue.record("promotion refused")
            return
        }
        cluster.settle()
        #expect(cluster[1].conf.voters == [1, 2, 3, 4])
        #expect(cluster[4].conf.voters == [1, 2, 3, 4], "the new member learned the bootstrap membership from the log")
        guard case .success = cluster[1].proposeConfChange(Raft.ConfChange(.removeNode, 2)) else {
            Issue.record("removal refused")
            return
        }
        cluster.settle()
        #expect(cluster[1].conf.voters == [1, 3, 4])
    }

    @Test("one membership change at a time")
    func oneChangeAtATime() {
        let cluster = Cluster(voters: [1, 2, 3])
        cluster.elect(1)
        cluster.isolate(1)  // Nothing commits.
        guard case .success = cluster[1].proposeConfChange(Raft.ConfChange(.removeNode, 3)) else {
            Issue.record("first change refused")
            return
        }
        guard case .failure(.confChangePending) = cluster[1].proposeConfChange(Raft.ConfChange(.removeNode, 2)) else {
            Issue.record("second concurrent change accepted")
            return
        }
    }

    @Test("config validation names the bad field")
    func configValidation() {
        var config = Raft.Config(id: 1, seed: 1)
        config.electionTicks = 1
        #expect(config.validate()?.contains("electionTicks") == true)
        config = Raft.Config(id: 0, seed: 1)
        #expect(config.validate()?.contains("id") == true)
    }
}
