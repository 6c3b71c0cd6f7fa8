//! The nemesis: at random intervals it applies one fault the run's `FaultMix` allows, or heals.
//! Partitions (random halves, majority/minority with the leader in the minority, bridge, leader
//! isolation), one-way cuts, loss/duplication/delay, crashes (with torn writes), pauses, clock
//! drift and jumps, and membership changes (remove a voter; add a fresh learner; promote it).

import Base
import Raft

final class Nemesis {
    unowned let simulation: Simulation
    private var active = true
    private(set) var steps = 0
    private var nextNodeID: Raft.NodeID
    /// A fresh node being added (started, its addLearner maybe not yet committed).
    private var joining: Raft.NodeID?
    /// A voter whose removal was proposed; it is stopped for good once the removal applies.
    private var removing: Raft.NodeID?

    init(simulation: Simulation) {
        self.simulation = simulation
        self.nextNodeID = Raft.NodeID(simulation.options.nodes) + 1
    }

    private var faults: FaultMix { simulation.options.faults }
    private var live: [SimNode] { simulation.nodes.filter { !$0.retired } }

    func start() { scheduleStep() }
    func stop() { active = false }

    private func scheduleStep() {
        let delay = simulation.random.int64(in: faults.intervalMin...faults.intervalMax)
        simulation.schedule(after: delay) { [self] in
            guard active else { return }
            step()
            scheduleStep()
        }
    }

    private func step() {
        steps += 1
        retireRemovedNodes()
        var choices: [() -> Void] = [healNetwork, restartOrResumeSome]
        if faults.partitions { choices += [partitionRandomly, partitionLeaderIntoMinority, bridge, isolateLeader] }
        if faults.oneWayCuts { choices.append(cutOneWay) }
        if faults.lossRateMax > 0 || faults.duplicateRateMax > 0 || faults.delayMax > 5 * Time.millisecond {
            choices.append(degradeNetwork)
        }
        if faults.crashes { choices.append(crashSomeone) }
        if faults.pauses { choices.append(pauseSomeone) }
        if faults.clockDrift { choices.append(driftClock) }
        if faults.clockJumps { choices.append(jumpClock) }
        if faults.membership { choices += [changeMembership, transferLeadership] }
        if faults.leaderChurn, let leader = simulation.currentLeader { choices.append { self.onNewLeader(leader) } }
        simulation.random.pick(choices)()
    }

    // MARK: - Healing

    private func healNetwork() {
        simulation.network.healAll()
        simulation.network.conditions = simulation.network.baseline
        simulation.trace("nemesis: heal network")
    }

    private func restartOrResumeSome() {
        for node in live {
            if node.paused { node.resume() }
            if !node.isUp { node.start() }
        }
    }

    /// Before the liveness phase: every fault undone, every clock honest again.
    func healEverything() {
        healNetwork()
        for node in live {
            node.clockRate = 1.0
            if node.paused { node.resume() }
            if !node.isUp { node.start() }
        }
    }

    // MARK: - Partitions

    private func ids(_ nodes: [SimNode]) -> [UInt64] { nodes.map { $0.id } }

    private func partitionRandomly() {
        var shuffled = live
        simulation.random.shuffle(&shuffled)
        let cut = simulation.random.int(in: 1...max(1, shuffled.count - 1))
        let groups = [ids(Array(shuffled[..<cut])), ids(Array(shuffled[cut...]))]
        simulation.network.partition(groups)
        simulation.trace("nemesis: partition \(groups)")
    }

    private func partitionLeaderIntoMinority() {
        guard let leader = simulation.currentLeader else { return partitionRandomly() }
        var others = live.filter { $0.id != leader.id }
        simulation.random.shuffle(&others)
        let minoritySize = max(0, (live.count - 1) / 2 - 1)
        let minority = [leader.id] + ids(Array(others.prefix(minoritySize)))
        let majority = ids(Array(others.dropFirst(minoritySize)))
        simulation.network.partition([minority, majority])
        simulation.trace("nemesis: leader in minority \(minority) | \(majority)")
    }

    /// Two halves that cannot talk, joined by one node that talks to both.
    private func bridge() {
        var shuffled = live
        guard shuffled.count >= 3 else { return partitionRandomly() }
        simulation.random.shuffle(&shuffled)
        let bridgeNode = shuffled.removeFirst()
        let half = shuffled.count / 2
        let left = ids(Array(shuffled[..<half]))
        let right = ids(Array(shuffled[half...]))
        simulation.network.partition([left, right])
        simulation.trace("nemesis: bridge \(left) <- n\(bridgeNode.id) -> \(right)")
    }

    private func isolateLeader() {
        guard let leader = simulation.currentLeader else { return }
        simulation.network.partition([[leader.id], ids(live.filter { $0.id != leader.id })])
        simulation.trace("nemesis: isolate leader n\(leader.id)")
    }

    private func cutOneWay() {
        let all = live
        guard all.count >= 2 else { return }
        let from = simulation.currentLeader ?? simulation.random.pick(all)
        let to = simulation.random.pick(all.filter { $0.id != from.id })
        simulation.network.block(from: from.id, to: to.id)
        simulation.trace("nemesis: one-way cut n\(from.id) -> n\(to.id)")
    }

    private func degradeNetwork() {
        var conditions = NetworkConditions()
        conditions.lossRate = simulation.random.unit() * faults.lossRateMax
        conditions.duplicateRate = simulation.random.unit() * faults.duplicateRateMax
        conditions.delayMin = Time.millisecond
        conditions.delayMax = simulation.random.int64(in: Time.millisecond...max(Time.millisecond, faults.delayMax))
        simulation.network.conditions = conditions
        simulation.trace("nemesis: network \(conditions)")
    }

    // MARK: - Processes and clocks

    /// Leader churn: a new leader may die within milliseconds of its election.
    func onNewLeader(_ leader: SimNode) {
        guard active, faults.leaderChurn, simulation.random.chance(0.8) else { return }
        let lifetime = simulation.random.int64(in: 0...(30 * Time.millisecond))
        let downtime = simulation.random.int64(in: 50 * Time.millisecond...(800 * Time.millisecond))
        simulation.schedule(after: lifetime) { [self] in
            guard active, leader.isUp, !leader.retired else { return }
            simulation.trace("nemesis: churn kills leader n\(leader.id)")
            leader.crash(tear: false)
            restart(leader, after: downtime)
        }
    }

    /// Restarts a crashed node after `downtime`, unless the safety phase is over (healing
    /// restarts everything) or the node has been removed meanwhile.
    private func restart(_ node: SimNode, after downtime: Nanoseconds) {
        simulation.schedule(after: downtime) { [self] in
            if active && !node.retired && !node.isUp { node.start() }
        }
    }

    /// Half the time the leader (faults on leaders hurt most), otherwise anyone in `candidates`.
    private func pickVictim(from candidates: [SimNode]) -> SimNode {
        simulation.random.chance(0.5)
            ? (simulation.currentLeader ?? simulation.random.pick(candidates)) : simulation.random.pick(candidates)
    }

    private func crashSomeone() {
        let candidates = live.filter { $0.isUp }
        guard !candidates.isEmpty else { return }
        let victim = pickVictim(from: candidates)
        let tear = faults.tornWrites && simulation.random.chance(0.5)
        victim.crash(tear: tear)
        restart(victim, after: simulation.random.int64(in: 200 * Time.millisecond...5 * Time.second))
    }

    private func pauseSomeone() {
        let candidates = live.filter { $0.isUp && !$0.paused }
        guard !candidates.isEmpty else { return }
        let victim = pickVictim(from: candidates)
        victim.pause()
        let pauseLength = simulation.random.int64(in: 500 * Time.millisecond...4 * Time.second)
        simulation.schedule(after: pauseLength) { victim.resume() }
    }

    private func driftClock() {
        let victim = simulation.random.pick(live)
        victim.clockRate = simulation.random.pick([0.5, 0.8, 0.9, 1.0, 1.1, 1.25, 2.0])
        simulation.trace("nemesis: n\(victim.id) clock rate x\(victim.clockRate)")
    }

    private func jumpClock() {
        let victim = simulation.random.pick(live)
        victim.jumpClock(ticks: simulation.random.int(in: 2...(2 * simulation.options.electionTicks)))
    }

    // MARK: - Membership

    private func changeMembership() {
        guard let leader = simulation.currentLeader, let replica = leader.replica else { return }
        let conf = replica.raft.conf
        let members = Set(conf.voters + conf.learners)
        if let newcomer = joining, members.contains(newcomer) { joining = nil }
        let change: Raft.ConfChange
        if let learner = conf.learners.first {
            change = Raft.ConfChange(.addVoter, learner)
        } else if let newcomer = joining {
            change = Raft.ConfChange(.addLearner, newcomer)
        } else if conf.voters.count >= simulation.options.nodes && removing == nil {
            let followers = conf.voters.filter { $0 != leader.id }
            guard !followers.isEmpty else { return }
            change = Raft.ConfChange(.removeNode, simulation.random.pick(followers))
        } else if conf.voters.count < simulation.options.nodes {
            let id = nextNodeID
            nextNodeID += 1
            // A new member starts empty and learns the configuration from the leader.
            simulation.addNode(id: id, bootstrapVoters: []).start()
            joining = id
            change = Raft.ConfChange(.addLearner, id)
        } else {
            return
        }
        switch replica.changeMembership(change) {
        case .success(let index):
            simulation.trace("nemesis: propose \(change) at \(index) via n\(leader.id)")
            if change.kind == .removeNode { removing = change.node }
        case .failure(let error):
            simulation.trace("nemesis: \(change) refused: \(error)")
        }
        simulation.afterNodeEvent(leader)
    }

    /// An operator hands leadership to a random voter under load (etcd's move-leader).
    private func transferLeadership() {
        guard let leader = simulation.currentLeader, let replica = leader.replica else { return }
        let targets = replica.raft.conf.voters.filter { $0 != leader.id }
        guard !targets.isEmpty else { return }
        let target = simulation.random.pick(targets)
        simulation.trace("nemesis: transfer leadership n\(leader.id) -> n\(target)")
        replica.transferLeadership(to: target)
        simulation.afterNodeEvent(leader)
    }

    /// A removed voter is shut down once the removal is in force (etcd members stop themselves).
    private func retireRemovedNodes() {
        guard let removed = removing, let leader = simulation.currentLeader?.replica?.raft else { return }
        let members = Set(leader.conf.voters + leader.conf.learners)
        guard leader.log.applied >= leader.pendingConfIndex else { return }
        if members.contains(removed) {
            removing = nil  // The proposal was lost with its leader.
            return
        }
        guard let node = simulation.node(removed) else { return }
        node.crash(tear: false)
        node.retired = true
        removing = nil
        simulation.trace("nemesis: n\(removed) removed and stopped")
    }
}
