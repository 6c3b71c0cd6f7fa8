//! Simulation tests: seed sweeps with mixed faults, determinism, and mutation checks showing
//! that each checker catches a deliberately broken rule. Reproduce any seed with
//! `faultline sim --seed N --nodes M`.

import KV
import Linearizability
import Raft
import Simulator
import Testing

/// A checker search that explodes must fail the run, not hang CI.
@Suite(.timeLimit(.minutes(8))) struct SimulationSweepTests {
    /// 200 seeds per cluster size, each with its own fault mix (swarm testing).
    @Test("a sweep of 200 seeds with mixed faults passes every check", arguments: [3, 5])
    func sweep(nodes: Int) {
        var failures: [String] = []
        for seed in UInt64(1)...200 {
            let result = Simulation(options: .swarm(seed: seed, nodes: nodes)).run()
            if !result.passed { failures.append("seed \(seed): \(result.failures.joined(separator: "; "))") }
        }
        #expect(failures.isEmpty, "\(failures.count) failing seeds (faultline sim --seed N --nodes \(nodes)):\n\(failures.joined(separator: "\n"))")
    }

    @Test("single-node and seven-node clusters pass too", arguments: [1, 7])
    func otherSizes(nodes: Int) {
        for seed in UInt64(1)...20 {
            let result = Simulation(options: .swarm(seed: seed, nodes: nodes)).run()
            #expect(result.passed, "seed \(seed) nodes \(nodes): \(result.failures)")
        }
    }

    @Test("the workload makes progress and records a checkable history")
    func workloadProgresses() {
        var options = SimulationOptions(seed: 3)
        options.faults = .none
        let result = Simulation(options: options).run()
        #expect(result.passed, "\(result.failures)")
        let completed = result.history.filter { $0.type == .ok }.count
        #expect(completed > 500, "only \(completed) operations completed in a healthy 30 s run")
        #expect(checkLinearizability(result.history).linearizable)
    }
}

@Suite(.timeLimit(.minutes(3))) struct DeterminismTests {
    @Test("one seed gives one trace, byte for byte", arguments: [UInt64(7), 42, 1234])
    func sameSeedSameTrace(seed: UInt64) {
        var options = SimulationOptions.swarm(seed: seed, nodes: 5)
        options.recordTrace = true
        let first = Simulation(options: options).run()
        let second = Simulation(options: options).run()
        #expect(first.traceHash == second.traceHash)
        #expect(first.trace == second.trace)
        #expect(first.history == second.history)
    }

    @Test("different seeds give different runs")
    func differentSeedsDiffer() {
        let first = Simulation(options: .swarm(seed: 1, nodes: 3)).run()
        let second = Simulation(options: .swarm(seed: 2, nodes: 3)).run()
        #expect(first.traceHash != second.traceHash)
    }
}

/// Each mutation breaks one rule behind a test-only switch; the checkers must notice within a
/// bounded number of seeds, and say which rule broke.
@Suite(.timeLimit(.minutes(8))) struct MutationTests {
    func firstFailure(_ mutation: Raft.Mutation?, leaseReads: Bool = false, seeds: ClosedRange<UInt64>, nodes: Int = 3)
        -> (seed: UInt64, failure: String)?
    {
        for seed in seeds {
            var options = SimulationOptions.swarm(seed: seed, nodes: nodes)
            options.mutation = mutation
            options.leaseReads = leaseReads
            let result = Simulation(options: options).run()
            if let failure = result.failures.first { return (seed, failure) }
        }
        return nil
    }

    @Test("granting votes without the up-to-date log check is caught (leader completeness)")
    func voteIgnoresLog() {
        let found = firstFailure(.voteIgnoresLog, seeds: 1...20)
        #expect(found != nil, "no seed in 1...20 caught vote-ignores-log")
        #expect(found?.failure.contains("leader completeness") == true || found?.failure.contains("state machine safety") == true
            || found?.failure.contains("linearizability") == true, "\(found?.failure ?? "")")
    }

    @Test("serving reads without ReadIndex is caught (linearizability)")
    func readWithoutReadIndex() {
        let found = firstFailure(.readWithoutReadIndex, seeds: 1...100)
        #expect(found != nil, "no seed in 1...100 caught read-without-read-index")
        #expect(found?.failure.contains("linearizability") == true, "\(found?.failure ?? "")")
    }

    @Test("leader leases are unsafe: the simulator finds a stale read")
    func leaseReadsUnsafe() {
        let found = firstFailure(nil, leaseReads: true, seeds: 1...100)
        #expect(found != nil, "no seed in 1...100 showed a stale lease read")
        #expect(found?.failure.contains("linearizability") == true, "\(found?.failure ?? "")")
    }

    /// Counting stale votes rarely bites (6 of 3000 five-node seeds), so this pins a seed that
    /// shows it. If the swarm's derivation from the seed changes, find a new one with
    /// `faultline sim --seeds 1..3000 --nodes 5 --quiet --mutation count-stale-votes`.
    @Test("counting stale votes elects two leaders in one term (election safety, pinned seed 343)")
    func countStaleVotes() {
        let found = firstFailure(.countStaleVotes, seeds: 343...343, nodes: 5)
        #expect(found?.failure.contains("election safety") == true, "\(found?.failure ?? "seed 343 passed")")
        let intact = Simulation(options: .swarm(seed: 343, nodes: 5)).run()
        #expect(intact.passed, "the same seed without the mutation: \(intact.failures)")
    }

    @Test("the election-safety checker rejects two leaders in one term")
    func electionSafetyCheckerCanFail() {
        let checker = SafetyChecker()
        #expect(checker.recordLeader(1, term: 3) == nil)
        #expect(checker.recordLeader(1, term: 3) == nil, "the same leader seen twice is fine")
        #expect(checker.recordLeader(2, term: 4) == nil)
        let violation = checker.recordLeader(2, term: 3)
        #expect(violation?.contains("election safety") == true)
    }
}

/// Known-bad inputs for each of the simulator's checkers: every check must be able to fail.
@Suite struct CheckerKnownBadTests {
    func entry(_ term: Raft.Term, _ index: Raft.Index, _ text: String) -> Raft.Entry {
        Raft.Entry(term: term, index: index, payload: .normal(Array(text.utf8)))
    }

    @Test("state machine safety rejects two different entries applied at one index")
    func stateMachineSafety() {
        let checker = SafetyChecker()
        #expect(checker.recordApplied(entry(1, 1, "a"), by: 1) == nil)
        #expect(checker.recordApplied(entry(1, 1, "a"), by: 2) == nil, "the same entry twice is fine")
        #expect(checker.recordApplied(entry(2, 1, "b"), by: 3)?.contains("state machine safety") == true)
        #expect(checker.recordApplied(entry(1, 2, "x"), by: 1) == nil)
        #expect(checker.recordApplied(entry(1, 2, "y"), by: 2) != nil, "same term, different payload")
    }

    @Test("log matching rejects logs that agree at an index but differ before it")
    func logMatching() {
        let good = [entry(1, 1, "a"), entry(1, 2, "b"), entry(2, 3, "c")]
        var bad = good
        bad[1] = entry(1, 2, "B")
        #expect(SafetyChecker.logMatchingViolation((1, 0, good), (2, 0, good)) == nil)
        #expect(SafetyChecker.logMatchingViolation((1, 0, good), (2, 0, [entry(1, 1, "a"), entry(3, 2, "z")])) == nil,
            "logs that diverge after their last agreement are fine")
        #expect(SafetyChecker.logMatchingViolation((1, 0, good), (2, 0, bad))?.contains("log matching") == true)
        #expect(SafetyChecker.logMatchingViolation((1, 1, Array(good.dropFirst())), (2, 0, bad)) != nil,
            "a compacted prefix does not hide a later difference")
    }

    @Test("an acknowledged write no replica applied is reported lost")
    func acknowledgedWriteLost() {
        let checker = SafetyChecker()
        let write = KVCommand.write(key: "k", value: "v1")
        _ = checker.recordApplied(Raft.Entry(term: 1, index: 1, payload: .normal(write.encoded())), by: 1)
        let kept = HistoryEvent(process: 0, type: .ok, f: .write, key: "k", value: .string("v1"), time: 5)
        let lost = HistoryEvent(process: 1, type: .ok, f: .write, key: "k", value: .string("v2"), time: 6)
        let unknown = HistoryEvent(process: 2, type: .info, f: .write, key: "k", value: .string("v3"), time: 7)
        #expect(checker.lostAcknowledgedWrite(in: [kept, unknown]) == nil, "an info write may be lost")
        #expect(checker.lostAcknowledgedWrite(in: [kept, lost])?.contains("v2") == true)
    }

    @Test("convergence requires every member up, caught up and equal")
    func convergence() {
        let equal: [(applied: Raft.Index, fingerprint: UInt64)?] = [(10, 7), (10, 7)]
        #expect(SafetyChecker.converged(equal, target: 10, fingerprint: 7))
        #expect(!SafetyChecker.converged([(10, 7), (9, 7)], target: 10, fingerprint: 7), "one replica behind")
        #expect(!SafetyChecker.converged([(10, 7), (10, 8)], target: 10, fingerprint: 7), "divergent state")
        #expect(!SafetyChecker.converged([(10, 7), nil], target: 10, fingerprint: 7), "a member down")
    }

    @Test("the liveness check fails when no write can commit in time")
    func livenessCanFail() {
        var options = SimulationOptions(seed: 5)
        options.faults = .none
        options.duration = 2 * 1_000_000_000
        // Far shorter than one election timeout: nothing can commit after healing.
        options.livenessBound = 1_000_000
        options.operationTimeout = 1_000_000
        let result = Simulation(options: options).run()
        #expect(result.failures.first?.contains("liveness") == true, "\(result.failures)")
    }
}
