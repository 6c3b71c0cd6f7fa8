//! The simulator's safety checks (Raft §5.2–§5.4, Figure 3), run after every step or at the end:
//! election safety, leader completeness, state machine safety, log matching, acknowledged writes
//! present, convergence of replicas. Each failure stops the run with a message carrying state.

import Base
import KV
import Linearizability
import Raft

package final class SafetyChecker {
    package init() {}
    /// The leader seen for each term.
    private var leaderOfTerm: [Raft.Term: Raft.NodeID] = [:]
    /// Term and payload hash of the entry applied at each index (index - 1), 0 = not seen yet.
    private var appliedTerms: [Raft.Term] = []
    private var appliedHashes: [UInt64] = []
    /// Values of writes and CAS that some replica applied (they are unique per operation).
    private var appliedValues: Set<String> = []

    var leaderCount: Int { leaderOfTerm.count }
    var maxTerm: Raft.Term { leaderOfTerm.keys.max() ?? 0 }
    var highestApplied: Int { appliedTerms.count }

    // MARK: - After every step

    func afterStep(node: SimNode, raft: Raft.Instance, simulation: Simulation) {
        guard raft.role == .leader else { return }
        if node.wasLeaderAtTerm == raft.term { return }
        node.wasLeaderAtTerm = raft.term
        if let violation = recordLeader(node.id, term: raft.term) {
            simulation.fail(violation)
            return
        }
        simulation.trace("n\(node.id) leads term \(raft.term) (log \(raft.log.lastTerm)/\(raft.log.lastIndex), commit \(raft.log.committed), \(raft.conf))")
        checkLeaderCompleteness(node: node, raft: raft, simulation: simulation)
        simulation.nemesis?.onNewLeader(node)
    }

    /// Election safety (§5.2): at most one leader per term. Returns the violation, if any.
    package func recordLeader(_ node: Raft.NodeID, term: Raft.Term) -> String? {
        if let other = leaderOfTerm[term], other != node {
            return "election safety: n\(other) and n\(node) are both leaders of term \(term)"
        }
        leaderOfTerm[term] = node
        return nil
    }

    /// §5.4: a leader's log holds every entry committed in earlier terms.
    private func checkLeaderCompleteness(node: SimNode, raft: Raft.Instance, simulation: Simulation) {
        let first = Int(raft.log.snapshotIndex) + 1
        guard first <= appliedTerms.count else { return }
        for index in first...appliedTerms.count where appliedTerms[index - 1] != 0 {
            let expected = appliedTerms[index - 1]
            let held = raft.log.term(at: Raft.Index(index))
            if held != expected {
                simulation.fail("leader completeness: n\(node.id) leads term \(raft.term) but holds \(held.map { "term \($0)" } ?? "nothing") at committed index \(index) (applied elsewhere with term \(expected))")
                return
            }
        }
    }

    // MARK: - On apply

    func applied(_ entry: Raft.Entry, at node: SimNode, simulation: Simulation) {
        if entry.index != node.lastApplied + 1 {
            simulation.fail("apply order: n\(node.id) applied \(entry.index) after \(node.lastApplied)")
            return
        }
        node.lastApplied = entry.index
        var hash = FNV1a()
        SimDisk.combine(entry, into: &hash)
        let position = Int(entry.index) - 1
        while appliedTerms.count <= position {
            appliedTerms.append(0)
            appliedHashes.append(0)
        }
        if appliedTerms[position] == 0 {
            appliedTerms[position] = entry.term
            appliedHashes[position] = hash.value
        } else if appliedTerms[position] != entry.term || appliedHashes[position] != hash.value {
            simulation.fail("state machine safety: n\(node.id) applied \(entry.term)/\(entry.index) \(entry.payload) but another node applied term \(appliedTerms[position]) there")
            return
        }
        if case .normal(let data) = entry.payload, let command = KVCommand(decoding: data) {
            switch command {
            case .write(_, let value), .cas(_, _, let value): appliedValues.insert(value)
            case .delete: break
            }
        }
    }

    // MARK: - At the end

    /// Log Matching (§5.3): two logs holding an entry with the same index and term are identical
    /// up to it.
    func checkLogMatching(simulation: Simulation) {
        let logs = simulation.nodes.compactMap { node in node.replica.map { (node.id, $0.raft.log) } }
        for (a, first) in logs.enumerated() {
            for (idA, logA) in [first] {
                for (idB, logB) in logs.dropFirst(a + 1) {
                    let floor = max(logA.snapshotIndex, logB.snapshotIndex)
                    var index = min(logA.lastIndex, logB.lastIndex)
                    while index > floor && logA.term(at: index) != logB.term(at: index) { index -= 1 }
                    var check = index
                    while check > floor {
                        let entryA = logA.entries[Int(check - logA.snapshotIndex - 1)]
                        let entryB = logB.entries[Int(check - logB.snapshotIndex - 1)]
                        if entryA != entryB {
                            simulation.fail("log matching: n\(idA) and n\(idB) agree at \(index) but differ at \(check): \(entryA) vs \(entryB)")
                            return
                        }
                        check -= 1
                    }
                }
            }
        }
    }

    /// Every write or CAS a client saw succeed was applied by some replica.
    func checkAcknowledgedWrites(history: [HistoryEvent], simulation: Simulation) {
        for event in history where event.type == .ok {
            let value: String
            switch (event.f, event.value) {
            case (.write, .string(let written)): value = written
            case (.cas, .pair(_, let new)): value = new
            default: continue
            }
            if !appliedValues.contains(value) {
                simulation.fail("acknowledged write lost: \(event.f) \(event.key)=\(value) by process \(event.process) at \(formatTime(event.time)) was never applied")
                return
            }
        }
    }

    /// Every member is up, has applied the leader's commit index, and holds the same state.
    func replicasConverged(simulation: Simulation) -> Bool {
        guard let leader = simulation.currentLeader?.replica else { return false }
        let members = leader.raft.conf.voters + leader.raft.conf.learners
        let target = leader.raft.log.committed
        let fingerprint = leader.stateMachine.fingerprint
        for id in members {
            guard let replica = simulation.node(id)?.replica, replica.raft.log.applied == target,
                replica.stateMachine.fingerprint == fingerprint
            else { return false }
        }
        return true
    }

    func convergenceReport(simulation: Simulation) -> String {
        simulation.nodes.filter { !$0.retired }.map { node in
            guard let raft = node.replica?.raft else { return "n\(node.id) down" }
            return "n\(node.id) \(raft.role) t\(raft.term) applied \(raft.log.applied) commit \(raft.log.committed) state \(String(node.replica!.stateMachine.fingerprint, radix: 16))"
        }.joined(separator: "; ")
    }
}
