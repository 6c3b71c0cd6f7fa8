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

    /// Returns true when `node` has just become the leader of a new term and that is legal.
    func afterStep(node: SimNode, raft: Raft.Instance, simulation: Simulation) -> Bool {
        guard raft.role == .leader else { return false }
        if node.wasLeaderAtTerm == raft.term { return false }
        node.wasLeaderAtTerm = raft.term
        if let violation = recordLeader(node.id, term: raft.term) {
            simulation.fail(violation)
            return false
        }
        simulation.trace("n\(node.id) leads term \(raft.term) (log \(raft.log.lastTerm)/\(raft.log.lastIndex), commit \(raft.log.committed), \(raft.conf))")
        return checkLeaderCompleteness(node: node, raft: raft, simulation: simulation)
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
    private func checkLeaderCompleteness(node: SimNode, raft: Raft.Instance, simulation: Simulation) -> Bool {
        let first = Int(raft.log.snapshotIndex) + 1
        guard first <= appliedTerms.count else { return true }
        for index in first...appliedTerms.count where appliedTerms[index - 1] != 0 {
            let expected = appliedTerms[index - 1]
            let held = raft.log.term(at: Raft.Index(index))
            if held != expected {
                simulation.fail("leader completeness: n\(node.id) leads term \(raft.term) but holds \(held.map { "term \($0)" } ?? "nothing") at committed index \(index) (applied elsewhere with term \(expected))")
                return false
            }
        }
        return true
    }

    // MARK: - On apply

    func applied(_ entry: Raft.Entry, at node: SimNode, simulation: Simulation) {
        if entry.index != node.lastApplied + 1 {
            simulation.fail("apply order: n\(node.id) applied \(entry.index) after \(node.lastApplied)")
            return
        }
        node.lastApplied = entry.index
        if let violation = recordApplied(entry, by: node.id) { simulation.fail(violation) }
    }

    /// State machine safety (§5.4.3): no two nodes apply different entries at one index.
    /// Returns the violation, if any.
    package func recordApplied(_ entry: Raft.Entry, by node: Raft.NodeID) -> String? {
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
            return "state machine safety: n\(node) applied \(entry.term)/\(entry.index) \(entry.payload) but another node applied term \(appliedTerms[position]) there"
        }
        if case .normal(let data) = entry.payload, let command = KVCommand(decoding: data) {
            switch command {
            case .write(_, let value), .cas(_, _, let value): appliedValues.insert(value)
            case .delete: break
            }
        }
        return nil
    }

    // MARK: - At the end

    /// Log Matching (§5.3): two logs holding an entry with the same index and term are identical
    /// up to it.
    func checkLogMatching(simulation: Simulation) {
        let logs = simulation.nodes.compactMap { node in
            node.replica.map { (node.id, $0.raft.log.snapshotIndex, $0.raft.log.entries) }
        }
        for (position, first) in logs.enumerated() {
            for second in logs.dropFirst(position + 1) {
                if let violation = SafetyChecker.logMatchingViolation(first, second) {
                    simulation.fail(violation)
                    return
                }
            }
        }
    }

    /// Returns how two logs (each: node, snapshot index, entries after it) break Log Matching.
    package static func logMatchingViolation(
        _ a: (id: Raft.NodeID, snapshotIndex: Raft.Index, entries: [Raft.Entry]),
        _ b: (id: Raft.NodeID, snapshotIndex: Raft.Index, entries: [Raft.Entry])
    ) -> String? {
        func entry(_ log: (id: Raft.NodeID, snapshotIndex: Raft.Index, entries: [Raft.Entry]), _ index: Raft.Index) -> Raft.Entry {
            log.entries[Int(index - log.snapshotIndex - 1)]
        }
        let floor = max(a.snapshotIndex, b.snapshotIndex)
        var agreed = min(a.snapshotIndex + Raft.Index(a.entries.count), b.snapshotIndex + Raft.Index(b.entries.count))
        while agreed > floor && entry(a, agreed).term != entry(b, agreed).term { agreed -= 1 }
        var index = agreed
        while index > floor {
            if entry(a, index) != entry(b, index) {
                return "log matching: n\(a.id) and n\(b.id) agree at \(agreed) but differ at \(index): \(entry(a, index)) vs \(entry(b, index))"
            }
            index -= 1
        }
        return nil
    }

    /// Every write or CAS a client saw succeed was applied by some replica.
    func checkAcknowledgedWrites(history: [HistoryEvent], simulation: Simulation) {
        if let violation = lostAcknowledgedWrite(in: history) { simulation.fail(violation) }
    }

    /// The first write or CAS acknowledged in `history` that no replica applied, if any.
    package func lostAcknowledgedWrite(in history: [HistoryEvent]) -> String? {
        for event in history where event.type == .ok {
            let value: String
            switch (event.f, event.value) {
            case (.write, .string(let written)): value = written
            case (.cas, .pair(_, let new)): value = new
            default: continue
            }
            if !appliedValues.contains(value) {
                return "acknowledged write lost: \(event.f) \(event.key)=\(value) by process \(event.process) at \(formatTime(event.time)) was never applied"
            }
        }
        return nil
    }

    /// Every member is up, has applied the leader's commit index, and holds the same state.
    func replicasConverged(simulation: Simulation) -> Bool {
        guard let leader = simulation.currentLeader?.replica else { return false }
        let members = leader.raft.conf.voters + leader.raft.conf.learners
        let states = members.map { id in
            simulation.node(id)?.replica.map { (applied: $0.raft.log.applied, fingerprint: $0.stateMachine.fingerprint) }
        }
        return SafetyChecker.converged(states, target: leader.raft.log.committed,
            fingerprint: leader.stateMachine.fingerprint)
    }

    /// Convergence: every member is up (non-nil), has applied `target`, and holds `fingerprint`.
    package static func converged(_ states: [(applied: Raft.Index, fingerprint: UInt64)?], target: Raft.Index,
        fingerprint: UInt64) -> Bool
    {
        states.allSatisfy { $0?.applied == target && $0?.fingerprint == fingerprint }
    }

    func convergenceReport(simulation: Simulation) -> String {
        simulation.nodes.filter { !$0.retired }.map { node in
            guard let raft = node.replica?.raft else { return "n\(node.id) down" }
            return "n\(node.id) \(raft.role) t\(raft.term) applied \(raft.log.applied) commit \(raft.log.committed) state \(String(node.replica!.stateMachine.fingerprint, radix: 16))"
        }.joined(separator: "; ")
    }
}
