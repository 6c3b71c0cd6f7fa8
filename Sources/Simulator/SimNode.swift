//! One simulated host: a `KVReplica` over a `SimDisk`, with its own clock rate, that can crash,
//! restart, pause and resume. Events for a node carry its incarnation, so nothing scheduled for a
//! process that has since crashed reaches the restarted one.

import Base
import KV
import Raft
import Services

final class SimNode: ReplicaEnvironment {
    let id: Raft.NodeID
    unowned let simulation: Simulation
    var replica: KVReplica<SimNode>?
    var disk: SimDisk
    /// Bumped on every crash and restart.
    private(set) var incarnation = 0
    private(set) var paused = false
    /// Work that arrived while paused, run in order on resume (the kernel's socket buffers).
    private var pausedBacklog: [() -> Void] = []
    static let pausedBacklogMax = 100_000
    /// Ticks run at `tickInterval * clockRate`: above 1 the clock is slow, below 1 fast.
    var clockRate = 1.0
    /// Permanently gone (removed from the cluster).
    var retired = false
    var lastApplied: Raft.Index = 0
    var wasLeaderAtTerm: Raft.Term? = nil

    init(id: Raft.NodeID, simulation: Simulation, disk: SimDisk) {
        self.id = id
        self.simulation = simulation
        self.disk = disk
    }

    var isUp: Bool { replica != nil }

    func start() {
        precondition(replica == nil, "starting node \(id) that is already up")
        incarnation += 1
        let recovered = disk.recover()
        var config = Raft.Config(id: id, seed: simulation.options.seed &* 1_000_003 &+ id &* 7919 &+ UInt64(incarnation))
        config.electionTicks = simulation.options.electionTicks
        config.heartbeatTicks = simulation.options.heartbeatTicks
        config.leaseReads = simulation.options.leaseReads
        config.preVote = simulation.options.preVote
        config.maxEntriesPerMessage = simulation.options.maxEntriesPerMessage
        config.maxInflightMessages = simulation.options.maxInflightMessages
        config.checkQuorum = simulation.options.checkQuorum || simulation.options.leaseReads
        config.mutation = simulation.options.mutation
        replica = KVReplica(config: config, recovered: recovered, snapshotCount: simulation.options.snapshotCount,
            environment: self)
        lastApplied = recovered.snapshot.index
        wasLeaderAtTerm = nil
        scheduleTick()
        simulation.trace("n\(id) start (term \(recovered.hardState.term), log \(recovered.snapshot.index)+\(recovered.entries.count))")
    }

    func crash(tear: Bool) {
        guard replica != nil else { return }
        replica = nil
        paused = false
        pausedBacklog = []
        incarnation += 1
        disk.crash(random: &simulation.random, tear: tear)
        simulation.trace("n\(id) crash\(tear ? " (torn write)" : "")")
    }

    func pause() {
        guard isUp, !paused else { return }
        paused = true
        simulation.trace("n\(id) pause")
    }

    func resume() {
        guard paused else { return }
        paused = false
        simulation.trace("n\(id) resume (\(pausedBacklog.count) queued)")
        let backlog = pausedBacklog
        pausedBacklog = []
        let current = incarnation
        for work in backlog {
            simulation.schedule(after: 0) { [self] in
                if incarnation == current { work() }
            }
        }
    }

    /// Runs `work` against this incarnation after `delay`, honouring crashes and pauses.
    func run(after delay: Nanoseconds, _ work: @escaping () -> Void) {
        let scheduledIncarnation = incarnation
        simulation.schedule(after: delay) { [self] in
            guard incarnation == scheduledIncarnation, isUp else { return }
            if paused {
                if pausedBacklog.count < SimNode.pausedBacklogMax { pausedBacklog.append(work) }
                return
            }
            work()
            simulation.afterNodeEvent(self)
        }
    }

    private func scheduleTick() {
        let interval = Nanoseconds(Double(simulation.options.tickInterval) * clockRate)
        let scheduledIncarnation = incarnation
        simulation.schedule(after: interval) { [self] in
            guard incarnation == scheduledIncarnation, let replica else { return }
            // A paused process misses its ticks (Go tickers drop them); it does not catch up.
            if !paused {
                replica.tick()
                simulation.afterNodeEvent(self)
            }
            scheduleTick()
        }
    }

    /// A clock jump: the process sees `count` ticks at once, as after a stall.
    func jumpClock(ticks count: Int) {
        guard let replica, !paused else { return }
        simulation.trace("n\(id) clock jump +\(count) ticks")
        for _ in 0..<count { replica.tick() }
        simulation.afterNodeEvent(self)
    }

    // MARK: - ReplicaEnvironment

    func send(_ message: Raft.Message) { simulation.transmit(message) }

    func persist(_ batch: PersistBatch, completion: @escaping () -> Void) {
        let syncTarget = disk.write(batch)
        let latency = simulation.random.int64(in: simulation.options.fsyncMin...simulation.options.fsyncMax)
        run(after: latency) { [self] in
            disk.sync(through: syncTarget)
            completion()
        }
    }

    func saveSnapshot(_ snapshot: Raft.Snapshot) { disk.saveSnapshot(snapshot) }

    func observe(_ observation: ReplicaObservation) { simulation.observe(observation, at: self) }
}
