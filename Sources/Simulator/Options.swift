//! What one simulation run does: cluster size, timings, workload, faults. Every field has a
//! default; `swarm(seed:)` derives a fault mix from the seed, so each seed tests something else.

import Base
import Raft

public struct SimulationOptions: Sendable {
    public var seed: UInt64
    public var nodes = 3
    /// Length of the safety phase (faults on) in virtual time.
    public var duration: Nanoseconds = 30 * Time.second
    /// After healing everything, a leader and a committed write must appear within this.
    public var livenessBound: Nanoseconds = 30 * Time.second
    /// One Raft tick = the heartbeat interval (etcd --heartbeat-interval 100 ms).
    public var tickInterval: Nanoseconds = 100 * Time.millisecond
    public var heartbeatTicks = 1
    /// etcd --election-timeout 1000 ms = 10 ticks.
    public var electionTicks = 10
    public var leaseReads = false
    /// etcd 3.4 ships with pre-vote off and 3.5 with it on; the swarm tries both.
    public var preVote = true
    public var checkQuorum = true
    /// Flow control: small batches split a new leader's no-op from the entries before it, the
    /// situation of the Raft paper's Figure 8.
    public var maxEntriesPerMessage = 64
    public var maxInflightMessages = 256
    public var mutation: Raft.Mutation? = nil
    /// Compact after this many applied entries (small, so InstallSnapshot is exercised).
    public var snapshotCount: Raft.Index = 200
    public var clients = 5
    public var keys = 3
    /// Operations invoked on one key before the workload moves that slot to a fresh key. The
    /// checker's search grows exponentially with the operations open on a key (every timed-out
    /// one stays open forever), so, as Jepsen's independent keys do, each key's history is kept
    /// short and the run spreads over many keys.
    public var operationsPerKeyMax = 80
    public var operationTimeout: Nanoseconds = 1500 * Time.millisecond
    public var thinkTimeMax: Nanoseconds = 20 * Time.millisecond
    public var fsyncMin: Nanoseconds = 200 * Time.microsecond
    public var fsyncMax: Nanoseconds = 3 * Time.millisecond
    public var faults = FaultMix()
    /// Keep every trace line (for writing it out); the hash is always computed.
    public var recordTrace = false

    public init(seed: UInt64) { self.seed = seed }

    /// Options for `seed` with a fault mix and rates drawn from the seed (swarm testing).
    public static func swarm(seed: UInt64, nodes: Int) -> SimulationOptions {
        var options = SimulationOptions(seed: seed)
        options.nodes = nodes
        var random = SeededRandom(seed: seed ^ 0x5357_4152_4d00_0000)
        options.faults = FaultMix.random(using: &random)
        options.preVote = random.chance(0.7)
        options.checkQuorum = random.chance(0.8)
        options.maxEntriesPerMessage = random.pick([1, 2, 8, 64])
        options.maxInflightMessages = random.pick([1, 4, 256])
        options.snapshotCount = Raft.Index(random.pick([20, 100, 500]))
        options.clients = random.int(in: 3...8)
        options.keys = random.int(in: 1...4)
        return options
    }
}

/// Which faults a run injects and how hard. Each enabled kind is a candidate at every nemesis step.
public struct FaultMix: Sendable, CustomStringConvertible {
    public var partitions = true
    public var oneWayCuts = true
    public var crashes = true
    public var tornWrites = true
    public var pauses = true
    public var clockDrift = true
    public var clockJumps = true
    public var membership = true
    /// Kill a newly elected leader within milliseconds, restart it soon after: leaders of
    /// successive terms leave short, divergent suffixes (the Raft paper's Figure 8).
    public var leaderChurn = true
    public var lossRateMax = 0.1
    public var duplicateRateMax = 0.05
    public var delayMax: Nanoseconds = 50 * Time.millisecond
    /// Between nemesis steps.
    public var intervalMin: Nanoseconds = 500 * Time.millisecond
    public var intervalMax: Nanoseconds = 3 * Time.second

    public init() {}

    public static var none: FaultMix {
        var mix = FaultMix()
        mix.partitions = false
        mix.oneWayCuts = false
        mix.crashes = false
        mix.tornWrites = false
        mix.pauses = false
        mix.clockDrift = false
        mix.clockJumps = false
        mix.membership = false
        mix.leaderChurn = false
        mix.lossRateMax = 0
        mix.duplicateRateMax = 0
        mix.delayMax = 5 * Time.millisecond
        return mix
    }

    static func random(using random: inout SeededRandom) -> FaultMix {
        var mix = FaultMix()
        mix.partitions = random.chance(0.7)
        mix.oneWayCuts = random.chance(0.4)
        mix.crashes = random.chance(0.6)
        mix.tornWrites = mix.crashes && random.chance(0.5)
        mix.pauses = random.chance(0.4)
        mix.clockDrift = random.chance(0.4)
        mix.clockJumps = random.chance(0.3)
        mix.membership = random.chance(0.4)
        mix.leaderChurn = random.chance(0.3)
        mix.lossRateMax = random.pick([0, 0.01, 0.05, 0.2])
        mix.duplicateRateMax = random.pick([0, 0.01, 0.1])
        mix.delayMax = random.pick([5, 20, 100, 400]) * Time.millisecond
        mix.intervalMin = random.pick([200, 500, 1000]) * Time.millisecond
        mix.intervalMax = mix.intervalMin * Int64(random.int(in: 2...6))
        return mix
    }

    public var description: String {
        let flags: [(String, Bool)] = [
            ("partition", partitions), ("one-way", oneWayCuts), ("crash", crashes), ("torn", tornWrites),
            ("pause", pauses), ("drift", clockDrift), ("jump", clockJumps), ("membership", membership), ("churn", leaderChurn),
        ]
        let enabled = flags.filter { $0.1 }.map { $0.0 }
        return "faults=[\(enabled.joined(separator: ","))] loss<=\(lossRateMax) dup<=\(duplicateRateMax) "
            + "delay<=\(Time.describe(delayMax)) every \(Time.describe(intervalMin))..\(Time.describe(intervalMax))"
    }
}
