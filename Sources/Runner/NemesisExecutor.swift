//! NemesisExecutor: carries out nemesis steps on a running cluster — proxy rules, process
//! verbs, clock skew, resets — and keeps the books the checks and the report need: the fault
//! bands with their real start and end, the process events, every step as carried out (the
//! schedule `replay` drives again), which hosts are down or paused, and the rollback at the end.
//! Both kinds of run (key-value and Kubernetes) drive their nemesis through it.

import Base
import Scenario

final class NemesisExecutor {
    private let control: ClusterControl
    private let clock: @Sendable () -> Nanoseconds
    private let log: @Sendable (String) -> Void

    private(set) var faults: [FaultBand] = []
    private(set) var processEvents: [ProcessEvent] = []
    private(set) var schedule: [ScheduledStep] = []
    private(set) var firstFault: Nanoseconds?
    private(set) var lastHeal: Nanoseconds?
    /// Hosts killed, terminated or paused and not yet brought back.
    private(set) var down: Set<String> = []
    private(set) var paused: Set<String> = []
    private var openRules: [String: [String]] = [:]  // tag -> rule ids
    private var openBands: [String: Int] = [:]  // tag -> index into faults

    init(control: ClusterControl, clock: @escaping @Sendable () -> Nanoseconds, log: @escaping @Sendable (String) -> Void) {
        self.control = control
        self.clock = clock
        self.log = log
    }

    /// Whether any fault is in force now.
    var anyOpen: Bool { !openBands.isEmpty }

    /// The labels of the faults in force, sorted (for the progress line).
    var activeLabels: [String] { openBands.values.map { faults[$0].label }.sorted() }

    /// What the planner needs to know: the members, the leader, what is down or paused.
    func view(members: [String], leader: String?, leaseHolders: [String: String] = [:]) -> ClusterView {
        ClusterView(members: members, leader: leader.flatMap { members.contains($0) ? $0 : nil }, down: down.subtracting(paused),
            paused: paused, leaseHolders: leaseHolders)
    }

    private func closeBand(_ tag: String) {
        if let index = openBands.removeValue(forKey: tag) {
            faults[index].end = clock()
            lastHeal = clock()
        }
    }

    private func openBand(_ tag: String, _ label: String, _ kind: String, _ hosts: [String], groups: [[String]] = []) {
        closeBand(tag)
        faults.append(FaultBand(tag: tag, label: label, kind: kind, hosts: hosts, start: clock(), end: nil, groups: groups))
        openBands[tag] = faults.count - 1
        if firstFault == nil { firstFault = clock() }
    }

    func execute(_ step: NemesisStep) {
        schedule.append(ScheduledStep(time: clock(), step: step))
        do {
            switch step {
            case .rules(let tag, let label, let kind, let hosts, let rules):
                openRules[tag] = try control.addRules(rules)
                openBand(tag, label, kind, hosts, groups: rules.first?["groups"] as? [[String]] ?? [])
                log("fault: \(label)")
            case .heal(let tag) where tag == NemesisStep.everything:
                try control.healAll()
                openRules.removeAll()
                for (tag, index) in openBands where ["kill", "terminate", "pause", "skew"].contains(faults[index].kind) == false {
                    closeBand(tag)
                }
            case .heal(let tag):
                for id in openRules.removeValue(forKey: tag) ?? [] { try? control.heal(id) }
                if let index = openBands[tag] { log("heal: \(faults[index].label)") }
                closeBand(tag)
            case .process(let tag, let label, let verb, let host, let wipe):
                try control.process(verb, host: host, wipe: wipe)
                processEvents.append(ProcessEvent(time: clock(), host: host, event: wipe ? "\(verb) --wipe" : verb))
                switch verb {
                case "kill", "terminate", "pause":
                    down.insert(host)
                    if verb == "pause" { paused.insert(host) }
                    openBand(tag, label, verb, [host])
                default:
                    down.remove(host)
                    paused.remove(host)
                    closeBand(tag)
                }
                log("process: \(label)")
            case .skew(let tag, let label, let host, let offset, let rate):
                try control.skew(host: host, offset: offset, rate: rate)
                if offset == 0 && rate == 1 { closeBand(tag) } else { openBand(tag, label, "skew", [host]) }
                log("clock: \(label)")
            case .reset(let label, let from, let to):
                try control.reset(from: from, to: to)
                faults.append(FaultBand(tag: "reset", label: label, kind: "reset", hosts: [from, to], start: clock(), end: clock()))
                log("reset: \(label)")
            }
        } catch {
            log("nemesis step failed: \(error)")
        }
    }

    /// Undoes everything still in force: every rule healed, every stopped or paused host back,
    /// every skewed clock of `skewHosts` set right. Every band is closed afterwards.
    func rollBack(skewHosts: [String]) {
        for tag in openRules.keys.sorted() { execute(.heal(tag: tag)) }
        try? control.healAll()
        for host in down.sorted() {
            let wasPaused = paused.contains(host)
            execute(.process(tag: "rollback-\(host)", label: "\(wasPaused ? "resume" : "restart") \(host) (rollback)",
                verb: wasPaused ? "resume" : "restart", host: host, wipe: false))
        }
        for index in faults.indices where faults[index].end == nil { faults[index].end = clock() }
        if faults.contains(where: { $0.kind == "skew" }) {
            for host in skewHosts { try? control.skew(host: host, offset: 0, rate: 1) }
        }
    }

    /// Copies the books into `record`.
    func fill(_ record: inout RunRecord) {
        record.faults = faults
        record.processEvents = processEvents
        record.schedule = schedule
        record.firstFault = firstFault
        record.lastHeal = lastHeal
    }
}
