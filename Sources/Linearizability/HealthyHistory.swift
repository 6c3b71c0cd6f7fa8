//! HealthyHistory: generates histories of a correct (linearizable) register service.
//!
//! Used by `faultline bench check` and by tests as known-good input. Clients issue random
//! reads, writes, cas and deletes with overlapping intervals; each operation takes effect
//! atomically at a random instant inside its interval, so the result is linearizable by
//! construction. A few percent end as `info` (half of those took effect) and a few writes
//! `fail` (took no effect). Every written value is unique, as real workloads make them.

import Base

/// A linearizable history of `operations` operations over `keys` keys from `clients` clients.
public func generateHealthyHistory(operations: Int, keys: Int, clients: Int, seed: UInt64) -> [HistoryEvent] {
    precondition(operations >= 0, "operations must be ≥ 0, got \(operations)")
    precondition(keys > 0, "keys must be > 0, got \(keys)")
    precondition(clients > 0, "clients must be > 0, got \(clients)")
    var random = SeededRandom(seed: seed)
    var planned = planOperations(operations, keys: keys, clients: clients, random: &random)
    applyAtEffectTimes(&planned, keys: keys, random: &random)
    return events(of: planned)
}

/// One generated operation before it becomes events.
struct PlannedOperation {
    var process: Int
    var f: OperationKind
    var key: Int
    var invoke: Int64
    var effect: Int64
    var completion: Int64
    var outcome: OperationOutcome
    /// Whether it changed (or read) the register; false for fail and for info that never ran.
    var takesEffect: Bool
    var value: HistoryValue
}

func planOperations(_ count: Int, keys: Int, clients: Int, random: inout SeededRandom) -> [PlannedOperation] {
    var freeAt = [Int64](repeating: 0, count: clients)
    var process = Array(0..<clients)
    var nextProcess = clients
    var planned: [PlannedOperation] = []
    planned.reserveCapacity(count)
    for _ in 0..<count {
        // The client that is free first goes next, so all clients stay busy and overlap.
        var client = 0
        for candidate in 1..<clients where freeAt[candidate] < freeAt[client] { client = candidate }
        let invoke = freeAt[client] + random.int64(in: 0...200_000)
        let latency = random.int64(in: 50_000...3_000_000)
        let completion = invoke + latency
        let roll = random.int(in: 0...99)
        let f: OperationKind = roll < 40 ? .read : roll < 70 ? .write : roll < 90 ? .cas : .delete
        var outcome = OperationOutcome.ok
        var takesEffect = true
        if random.chance(0.03) {
            outcome = .info
            takesEffect = f != .read && random.chance(0.5)
        } else if f == .write && random.chance(0.01) {
            outcome = .fail
            takesEffect = false
        }
        planned.append(
            PlannedOperation(
                process: process[client], f: f, key: random.int(in: 0...(keys - 1)), invoke: invoke,
                effect: invoke + random.int64(in: 0...latency), completion: completion, outcome: outcome,
                takesEffect: takesEffect, value: .null))
        freeAt[client] = completion + 1
        if outcome == .info {
            // A process never issues again after an unknown outcome; the client gets a new one.
            process[client] = nextProcess
            nextProcess += 1
        }
    }
    return planned
}

/// Runs the register in effect-time order, filling in values read and cas outcomes.
func applyAtEffectTimes(_ planned: inout [PlannedOperation], keys: Int, random: inout SeededRandom) {
    var registers = [String?](repeating: nil, count: keys)
    var lastWritten = [String](repeating: "none", count: keys)
    var nextValue = 0
    func fresh() -> String {
        nextValue += 1
        return String(nextValue)
    }
    let order = planned.indices.sorted { (planned[$0].effect, $0) < (planned[$1].effect, $1) }
    for position in order {
        var op = planned[position]
        let key = op.key
        switch op.f {
        case .read:
            op.value = op.outcome == .ok ? (registers[key].map { .string($0) } ?? .null) : .null
        case .write:
            let value = fresh()
            op.value = .string(value)
            lastWritten[key] = value
            if op.takesEffect { registers[key] = value }
        case .delete:
            if op.takesEffect { registers[key] = nil }
        case .cas:
            let expected = registers[key] != nil && random.chance(0.7) ? registers[key]! : lastWritten[key]
            let new = fresh()
            op.value = .pair(expected, new)
            lastWritten[key] = new
            let matches = registers[key] == expected
            if op.outcome == .ok && !matches {
                op.outcome = .fail
                op.takesEffect = false
            }
            if op.takesEffect && matches { registers[key] = new }
        }
        planned[position] = op
    }
}

func events(of planned: [PlannedOperation]) -> [HistoryEvent] {
    var timeline: [(time: Int64, order: Int, event: HistoryEvent)] = []
    timeline.reserveCapacity(planned.count * 2)
    for (position, op) in planned.enumerated() {
        let key = "k\(op.key)"
        let invokeValue: HistoryValue = op.f == .read ? .null : op.value
        timeline.append(
            (op.invoke, 2 * position,
             HistoryEvent(process: op.process, type: .invoke, f: op.f, key: key, value: invokeValue, time: op.invoke)))
        let type: EventType = op.outcome == .ok ? .ok : op.outcome == .fail ? .fail : .info
        let error: String? = op.outcome == .info ? "timeout" : op.outcome == .fail ? "rejected" : nil
        timeline.append(
            (op.completion, 2 * position + 1,
             HistoryEvent(
                process: op.process, type: type, f: op.f, key: key, value: op.value, time: op.completion, error: error)))
    }
    timeline.sort { ($0.time, $0.order) < ($1.time, $1.order) }
    return timeline.map(\.event)
}
