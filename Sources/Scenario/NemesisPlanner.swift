//! NemesisPlanner: expands a scenario's nemesis into concrete fault actions as the run goes.
//! It is an event-driven state machine with no clock of its own: the runner calls `due(at:view:)`
//! on every tick with the elapsed monotonic time and what it sees of the cluster, and applies
//! what comes back, in order. Hosts are chosen when a firing is due, from that view and a
//! generator seeded per nemesis entry, so the same seed and the same views give the same actions.
//!
//! Rules:
//! - A firing is due at its scheduled start. One whose selectors need a leader waits while no
//!   leader is known; if its window closes first (its end, or `instantWaitMax` for instant
//!   faults), it is skipped and reported.
//! - Its undo (heal, resume, restart, clock back) is due at the scheduled end, so periodic
//!   faults keep their shape even when one fired late. At one instant undos come before
//!   injections, so `for == every` heals one firing before the next.
//! - `rollback(at:view:)` undoes everything still applied, then runs the scenario's rollbacks.

import Base

public struct NemesisPlanner: Sendable {
    public let scenario: Scenario
    /// How long an instant fault (reset, restart) waits for a leader before it is skipped.
    public static let instantWaitMax = 5 * Time.second

    /// One generator per nemesis entry, so adding an entry does not change another's choices.
    var randoms: [SeededRandom]
    /// Every entry's firings; `nextFiring[i]` is the first of entry i not yet fired or skipped.
    let schedules: [[FaultOccurrence]]
    var nextFiring: [Int]
    /// Actions due later (undos, swizzle steps). Invariant: none is due before the last `due` call.
    var queue: [QueuedAction] = []
    var sequence = 0
    public private(set) var active: [ActiveFault] = []
    /// Hosts whose clock a skew has moved, for the clear-skew rollback.
    var skewed: Set<String> = []
    public private(set) var finished = false

    struct QueuedAction: Sendable {
        var planned: PlannedAction
        var sequence: Int
    }

    public init(scenario: Scenario, seed: UInt64) {
        self.scenario = scenario
        let base = SeededRandom(seed: seed)
        randoms = scenario.nemesis.indices.map { base.derived(UInt64($0)) }
        schedules = scenario.nemesis.map(\.occurrences)
        nextFiring = Array(repeating: 0, count: scenario.nemesis.count)
    }

    /// Every scheduled firing, in time order (what `scenario show` prints).
    public var schedule: [FaultOccurrence] {
        schedules.flatMap { $0 }.sorted { ($0.start, $0.fault, $0.number) < ($1.start, $1.fault, $1.number) }
    }

    /// Undos waiting for their time, in time order.
    public var pendingUndos: [PlannedAction] { ordered(queue).map(\.planned).filter { $0.purpose == .undo } }

    /// When the planner next has something to do; nil when nothing is left. A time in the past
    /// means a firing waits for a leader: call again on the next tick.
    public var nextDueTime: Nanoseconds? {
        let firings = schedules.indices.compactMap { index in
            nextFiring[index] < schedules[index].count ? schedules[index][nextFiring[index]].start : nil
        }
        return (firings + queue.map(\.planned.time)).min()
    }

    /// Whether every firing is done and every undo applied.
    public var isDone: Bool { queue.isEmpty && schedules.indices.allSatisfy { nextFiring[$0] == schedules[$0].count } }

    // MARK: - Ticks

    /// What is due at `now` (nanoseconds since the workload started), given `view`.
    public mutating func due(at now: Nanoseconds, view: ClusterView) -> NemesisTick {
        precondition(!finished, "the planner was asked for actions at \(now) after its rollback")
        var tick = NemesisTick()
        drainQueue(through: now, into: &tick)
        for index in scenario.nemesis.indices {
            fireDue(index, now: now, view: view, into: &tick)
        }
        // Steps the firings just queued may already be due (a swizzle's first cut).
        drainQueue(through: now, into: &tick)
        return tick
    }

    mutating func drainQueue(through now: Nanoseconds, into tick: inout NemesisTick) {
        let due = ordered(queue.filter { $0.planned.time <= now })
        guard !due.isEmpty else { return }
        queue.removeAll { $0.planned.time <= now }
        tick.actions += due.map(\.planned)
        active.removeAll { $0.until <= now }
    }

    func ordered(_ items: [QueuedAction]) -> [QueuedAction] {
        items.sorted { left, right in
            let leftRank = left.planned.purpose == .undo ? 0 : 1
            let rightRank = right.planned.purpose == .undo ? 0 : 1
            return (left.planned.time, leftRank, left.sequence) < (right.planned.time, rightRank, right.sequence)
        }
    }

    mutating func fireDue(_ index: Int, now: Nanoseconds, view: ClusterView, into tick: inout NemesisTick) {
        let fault = scenario.nemesis[index]
        while nextFiring[index] < schedules[index].count {
            let occurrence = schedules[index][nextFiring[index]]
            guard occurrence.start <= now else { return }
            let windowEnd = occurrence.end ?? occurrence.start + Self.instantWaitMax
            if now >= windowEnd {
                let reason = !fault.canChoose(in: view)
                    ? "no leader was known before its window closed at \(Time.describe(windowEnd))"
                    : "the planner was first asked at \(Time.describe(now)), after its window closed at \(Time.describe(windowEnd))"
                tick.skipped.append(SkippedFiring(tag: occurrence.tag, scheduled: occurrence.start, reason: reason))
                nextFiring[index] += 1
                continue
            }
            if !fault.canChoose(in: view) { return }
            var random = randoms[index]
            let kind = fault.kind == .mix ? random.pick(fault.parameters.choices) : fault.kind
            var expansion = FaultExpansion(fault: fault, kind: kind, occurrence: occurrence, view: view, random: random)
            let plan = expansion.expand()
            randoms[index] = expansion.random
            nextFiring[index] += 1
            guard !plan.hosts.isEmpty else {
                tick.skipped.append(SkippedFiring(tag: occurrence.tag, scheduled: occurrence.start,
                    reason: "its selectors chose no host in the cluster as it was at \(Time.describe(now))"))
                continue
            }
            apply(plan, kind: kind, occurrence: occurrence, now: now, into: &tick)
        }
    }

    mutating func apply(_ plan: FaultExpansion.Plan, kind: FaultKind, occurrence: FaultOccurrence, now: Nanoseconds,
        into tick: inout NemesisTick)
    {
        for action in plan.injections {
            tick.actions.append(PlannedAction(time: occurrence.start, tag: occurrence.tag, purpose: .inject, action: action))
            if case .skew(let host, _, _) = action { skewed.insert(host) }
        }
        for step in plan.steps { enqueue(step) }
        guard let end = occurrence.end else { return }
        for action in plan.undos { enqueue(PlannedAction(time: end, tag: occurrence.tag, purpose: .undo, action: action)) }
        // A swizzle is over at its last heal, before its end.
        let until = plan.steps.map(\.time).max() ?? end
        if !plan.undos.isEmpty || !plan.steps.isEmpty {
            active.append(ActiveFault(tag: occurrence.tag, kind: kind, hosts: plan.hosts, since: now, until: until))
        }
    }

    mutating func enqueue(_ planned: PlannedAction) {
        queue.append(QueuedAction(planned: planned, sequence: sequence))
        sequence += 1
    }

    // MARK: - Rollback

    /// Everything to run at the end of the run, even after an error: the undos of what is still
    /// applied, then the scenario's rollbacks as `view` calls for them. The planner is finished
    /// afterwards.
    public mutating func rollback(at now: Nanoseconds, view: ClusterView) -> [PlannedAction] {
        var actions: [FaultAction] = ordered(queue).map(\.planned).filter { $0.purpose == .undo }.map(\.action)
        queue.removeAll()
        active.removeAll()
        finished = true
        let order = view.members + (view.down.union(view.paused).subtracting(view.members)).sorted()
        for rollback in scenario.rollbacks {
            switch rollback {
            case .healAll: actions.append(.healAll)
            case .resumePaused: actions += order.filter(view.paused.contains).map { .resume(host: $0) }
            case .restartStopped: actions += order.filter(view.down.contains).map { .restart(host: $0, wipe: false) }
            case .clearSkew: actions += skewed.sorted().map { .skew(host: $0, offset: 0, rate: 1) }
            }
        }
        var seen: [FaultAction] = []
        for action in actions where !seen.contains(action) { seen.append(action) }
        return seen.map { PlannedAction(time: now, tag: "rollback", purpose: .rollback, action: $0) }
    }
}

extension Fault {
    var selectors: [Selector] {
        let parameters = self.parameters
        return [parameters.target, parameters.from, parameters.to].compactMap { $0 } + parameters.groups
    }

    /// Whether every selector of the entry can choose in `view` (a leader or lease holder is known).
    func canChoose(in view: ClusterView) -> Bool { selectors.allSatisfy { $0.canChoose(in: view) } }
}
