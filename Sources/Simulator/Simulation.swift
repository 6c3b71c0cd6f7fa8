//! The simulated world and its run: a safety phase under the nemesis, then a liveness phase with
//! everything healed, then the end-of-run checks. See EventQueue.swift for how to run it.

import Base
import KV
import Linearizability
import Raft
import Services

public struct SimulationResult: Sendable {
    public var seed: UInt64
    public var summary: String
    /// Empty when every check held.
    public var failures: [String]
    public var passed: Bool { failures.isEmpty }
    public var virtualTime: Nanoseconds
    /// FNV-1a of every trace line and history line: equal for equal runs.
    public var traceHash: UInt64
    public var trace: [String]
    public var history: [HistoryEvent]
    public var stats: [(String, Int)]
}

public final class Simulation {
    public let options: SimulationOptions
    var random: SeededRandom
    private var queue = EventQueue()
    public private(set) var now: Nanoseconds = 0
    var network = SimNetwork()
    var nodes: [SimNode] = []
    private var traceDigest = FNV1a()
    private var traceLines: [String] = []
    var failures: [String] = []
    /// Set on the first safety violation: the run stops there.
    var halted = false
    var history: [HistoryEvent] = []
    var workload: Workload!
    var nemesis: Nemesis!
    let checker = SafetyChecker()
    var eventsProcessed = 0

    public init(options: SimulationOptions) {
        precondition((1...9).contains(options.nodes), "nodes must be 1...9 (got \(options.nodes))")
        self.options = options
        self.random = SeededRandom(seed: options.seed)
        network.baseline.delayMax = min(network.baseline.delayMax, options.faults.delayMax)
        network.conditions = network.baseline
    }

    // MARK: - Scheduling

    func schedule(after delay: Nanoseconds, _ action: @escaping () -> Void) {
        precondition(delay >= 0, "negative delay \(delay)")
        queue.schedule(at: now + delay, action)
    }

    /// Runs events until `deadline` or until `done()` holds after an event.
    private func run(until deadline: Nanoseconds, done: () -> Bool = { false }) {
        while !halted, let next = queue.nextTime, next <= deadline {
            let (time, action) = queue.pop()!
            now = time
            action()
            eventsProcessed += 1
            if done() { return }
        }
        now = max(now, deadline)
    }

    func trace(_ line: String) {
        let stamped = "\(formatTime(now)) \(line)"
        traceDigest.combine(stamped)
        if options.recordTrace { traceLines.append(stamped) }
    }

    func fail(_ reason: String) {
        trace("FAIL \(reason)")
        failures.append("\(formatTime(now)): \(reason)")
        halted = true
    }

    func record(_ event: HistoryEvent) {
        history.append(event)
        traceDigest.combine(event.jsonLine())
    }

    // MARK: - Nodes and messages

    func node(_ id: Raft.NodeID) -> SimNode? {
        nodes.first { $0.id == id }
    }

    func addNode(id: Raft.NodeID, bootstrapVoters: [Raft.NodeID]) -> SimNode {
        precondition(node(id) == nil, "node \(id) exists")
        let created = SimNode(id: id, simulation: self, disk: SimDisk(bootstrapVoters: bootstrapVoters))
        nodes.append(created)
        return created
    }

    func transmit(_ message: Raft.Message) {
        guard let target = node(message.to), !target.retired else { return }
        if options.recordTrace && message.kind != .append && message.kind != .appendResponse && message.kind != .heartbeat && message.kind != .heartbeatResponse { trace("send \(message)") }
        for delay in network.deliveries(from: message.from, to: message.to, duplicable: true, random: &random) {
            target.run(after: delay) { [self] in
                // A partition that began while the message was in flight drops it too.
                guard !network.isBlocked(from: message.from, to: message.to) else { return }
                target.replica!.receive(message)
            }
        }
    }

    /// The node that is up, unpaused and leading in the highest term, if any.
    var currentLeader: SimNode? {
        nodes.filter { !$0.retired && !$0.paused && $0.replica?.raft.role == .leader }
            .max { $0.replica!.raft.term < $1.replica!.raft.term }
    }

    func afterNodeEvent(_ node: SimNode) {
        guard let raft = node.replica?.raft else { return }
        if checker.afterStep(node: node, raft: raft, simulation: self) { nemesis?.onNewLeader(node) }
    }

    func observe(_ observation: ReplicaObservation, at node: SimNode) {
        switch observation {
        case .applied(let entry):
            checker.applied(entry, at: node, simulation: self)
        case .restoredSnapshot(let index, let term):
            trace("n\(node.id) restored snapshot \(term)/\(index) \(node.replica!.raft.conf)")
            node.lastApplied = index
        case .role(let soft, let term):
            trace("n\(node.id) \(soft.role) term \(term) leader \(soft.leader)")
        }
    }

    // MARK: - The run

    public func run() -> SimulationResult {
        trace("seed \(options.seed) nodes \(options.nodes) \(options.faults)")
        let voters = (1...Raft.NodeID(options.nodes)).map { $0 }
        for id in voters { addNode(id: id, bootstrapVoters: voters).start() }
        workload = Workload(simulation: self)
        nemesis = Nemesis(simulation: self)
        workload.start()
        nemesis.start()

        // Safety phase: faults on.
        run(until: options.duration)
        // Liveness phase: heal everything; a leader and a committed write must follow.
        if !halted { livenessPhase() }
        if !halted { finalChecks() }
        let result = SimulationResult(
            seed: options.seed,
            summary: "\(options.nodes) nodes, preVote=\(options.preVote) checkQuorum=\(options.checkQuorum) batch=\(options.maxEntriesPerMessage) window=\(options.maxInflightMessages), \(options.faults)",
            failures: failures,
            virtualTime: now,
            traceHash: traceDigest.value,
            trace: traceLines,
            history: history,
            stats: statistics())
        tearDown()
        return result
    }

    private func livenessPhase() {
        nemesis.stop()
        nemesis.healEverything()
        workload.stopIssuing()
        let healedAt = now
        trace("liveness phase: all healed")
        // Let in-flight operations finish or time out so the final probe is not concurrent
        // with the workload.
        run(until: now + options.operationTimeout + 100 * Time.millisecond)
        workload.startFinalProbe()
        run(until: healedAt + options.livenessBound) { workload.probeFinished }
        if halted { return }
        guard workload.probeFinished else {
            let leader = currentLeader.map { "n\($0.id) term \($0.replica!.raft.term)" } ?? "none"
            fail("liveness: no write and final reads committed within \(Time.describe(options.livenessBound)) of healing (leader: \(leader))")
            return
        }
        trace("liveness: write committed \(Time.describe(now - healedAt)) after healing")
        let convergenceDeadline = now + options.livenessBound
        var converged = false
        while !halted && !converged && now < convergenceDeadline {
            run(until: now + 50 * Time.millisecond)
            converged = checker.replicasConverged(simulation: self)
        }
        if !halted && !converged {
            fail("convergence: replicas did not reach the same applied index and state within \(Time.describe(options.livenessBound)): \(checker.convergenceReport(simulation: self))")
        }
    }

    private func finalChecks() {
        checker.checkLogMatching(simulation: self)
        if halted { return }
        checker.checkAcknowledgedWrites(history: history, simulation: self)
        if halted { return }
        let report = checkLinearizability(history)
        if !report.linearizable {
            fail("linearizability: \(report.description)")
        }
    }

    private func statistics() -> [(String, Int)] {
        var ok = 0, failed = 0, unknown = 0
        for event in history {
            switch event.type {
            case .ok: ok += 1
            case .fail: failed += 1
            case .info: unknown += 1
            case .invoke: break
            }
        }
        return [
            ("ops_ok", ok), ("ops_fail", failed), ("ops_info", unknown),
            ("leaders", checker.leaderCount), ("max_term", Int(checker.maxTerm)),
            ("applied", checker.highestApplied), ("nemesis_steps", nemesis?.steps ?? 0),
            ("events", eventsProcessed),
        ]
    }

    /// Breaks the reference cycles through scheduled closures so the run's memory is freed.
    private func tearDown() {
        queue = EventQueue()
        for node in nodes { node.replica = nil }
        nodes = []
        workload = nil
        nemesis = nil
    }
}

func formatTime(_ time: Nanoseconds) -> String {
    let millis = time / Time.millisecond
    let seconds = millis / 1000
    let fraction = String(millis % 1000)
    return "\(seconds).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)s"
}
