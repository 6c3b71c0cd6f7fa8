//! Simulation tests: seed sweeps with mixed faults, determinism, and mutation checks showing
//! that each checker catches a deliberately broken rule. Reproduce any seed with
//! `faultline sim --seed N --nodes M`.

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
