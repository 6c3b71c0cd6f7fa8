//! Checker: is a key-value history linearizable? Partitions by key and searches each register.
//!
//! Keys are independent registers (a history is linearizable exactly when each key's
//! sub-history is), so each key is checked alone, in sorted order so the report never depends
//! on dictionary order. Before searching, operations that cannot matter are dropped: `fail`
//! operations took no effect, an `info` read constrains nothing, and an `info` write, delete or
//! cas whose resulting value no operation ever observes can always be placed "never". The last
//! rule keeps the search from trying every subset of timed-out writes in a faulty run.

/// The verdict on a history.
public struct LinearizabilityReport: Sendable {
    public var linearizable: Bool
    /// Operations checked: every invocation in the history.
    public var operationCount: Int
    public var keyCount: Int
    /// The first key (in sorted order) whose operations cannot be ordered; nil when linearizable.
    public var failingKey: String?
    /// The smallest set of the failing key's operations found that cannot be ordered, by invoke time.
    public var counterexample: [Operation]
    /// Whether the counterexample fails whatever value the key held before it (true), or only
    /// from the initially absent key (false, e.g. a read of a value never written).
    public var counterexampleIsContextFree: Bool
    /// What failed and why, with the operations' times, for people.
    public var description: String
}

/// Checks a history against the key-value register model of `specs/history-format.md`.
public func checkLinearizability(_ events: [HistoryEvent]) -> LinearizabilityReport {
    Checker().check(events)
}

/// The linearizability checker, with the limits of its counterexample minimisation.
public struct Checker: Sendable {
    /// Search steps the counterexample minimisation may spend in total, after the verdict.
    /// Invariant: > 0.
    public var minimizationStepsMax: Int

    public init(minimizationStepsMax: Int = 20_000_000) {
        precondition(minimizationStepsMax > 0, "minimizationStepsMax must be positive, got \(minimizationStepsMax)")
        self.minimizationStepsMax = minimizationStepsMax
    }

    public func check(_ events: [HistoryEvent]) -> LinearizabilityReport {
        check(operations: operations(from: events))
    }

    public func check(operations all: [Operation]) -> LinearizabilityReport {
        var byKey: [String: [Int]] = [:]
        for (position, operation) in all.enumerated() { byKey[operation.key, default: []].append(position) }
        var report = LinearizabilityReport(
            linearizable: true, operationCount: all.count, keyCount: byKey.count, failingKey: nil, counterexample: [],
            counterexampleIsContextFree: false, description: "")
        for key in byKey.keys.sorted() {
            let register = RegisterHistory(all, positions: byKey[key]!)
            var steps = 0
            let outcome = searchRegister(register.operations[...], initial: 0, steps: &steps)
            guard case .notLinearizable(let deepest, let stuck) = outcome else { continue }
            var minimizer = Minimizer(operations: register.operations, stepsMax: minimizationStepsMax)
            let (subset, contextFree) = minimizer.minimize()
            report.linearizable = false
            report.failingKey = key
            report.counterexample = subset.map { all[$0.source] }.sorted(by: Self.byInvoke)
            report.counterexampleIsContextFree = contextFree
            // Ok operations the minimizer made optional: they may take effect outside the window.
            let optional = Set(subset.filter { $0.isInfo && all[$0.source].outcome == .ok }.map { all[$0.source].index })
            report.description = Self.describe(
                key: key, counterexample: report.counterexample, optional: optional, contextFree: contextFree,
                progress: (deepest, register.operations.count), stuck: all[register.operations[stuck].source])
            return report
        }
        let keys = byKey.count == 1 ? "key" : "keys"
        report.description = "linearizable: \(all.count) operations on \(byKey.count) \(keys)"
        return report
    }

    static func byInvoke(_ left: Operation, _ right: Operation) -> Bool {
        (left.invokeTime, left.index) < (right.invokeTime, right.index)
    }

    static func describe(
        key: String, counterexample: [Operation], optional: Set<Int>, contextFree: Bool, progress: (Int, Int),
        stuck: Operation
    ) -> String {
        let start = contextFree ? "whatever value the key held before them" : "starting from the absent key"
        var lines = [
            "NOT linearizable: key \(quote(key))",
            "these \(counterexample.count) operations cannot be ordered (\(start)):",
        ]
        for operation in counterexample {
            let note = optional.contains(operation.index) ? "  (optional: may take effect outside this span)" : ""
            lines.append("  \(operation)\(note)")
        }
        lines.append(
            "the search ordered at most \(progress.0) of the key's \(progress.1) relevant operations; "
                + "at that point it could not place: \(stuck)")
        return lines.joined(separator: "\n")
    }

    static func quote(_ text: String) -> String { HistoryValue.string(text).description }
}

/// One key's operations ready for the search: relevant ones only, values interned.
struct RegisterHistory {
    /// Sorted by invoke time (then by history order).
    var operations: [RegisterOperation] = []

    init(_ all: [Operation], positions: [Int]) {
        var table: [String: Int32] = [:]
        func intern(_ text: String) -> Int32 {
            if let id = table[text] { return id }
            let id = Int32(table.count + 1)
            table[text] = id
            return id
        }
        // Values some operation can observe: what ok reads return and what ok or info cas expect.
        var observed = Set<Int32>()
        for position in positions {
            let op = all[position]
            if op.f == .read && op.outcome == .ok { observed.insert(op.output.internedRead(intern)) }
            // A failed cas is dropped from the search, so what it expected observes nothing.
            if op.f == .cas && op.outcome != .fail, case .pair(let expected, _) = op.input {
                observed.insert(intern(expected))
            }
        }
        for position in positions {
            let op = all[position]
            guard let register = RegisterOperation(op, source: position, intern: intern) else { continue }
            if register.isInfo && register.kind != .read && !observed.contains(register.value) { continue }
            var kept = register
            // Values nobody observes are indistinguishable, so they share one id: the memo then
            // sees "the register holds garbage" as one state, not one state per write.
            if kept.kind != .read && kept.kind != .delete && !observed.contains(kept.value) { kept.value = -1 }
            operations.append(kept)
        }
        operations.sort { ($0.invokeTime, $0.source) < ($1.invokeTime, $1.source) }
    }
}

extension HistoryValue {
    func internedRead(_ intern: (String) -> Int32) -> Int32 {
        if case .string(let text) = self { return intern(text) }
        return 0
    }
}

extension RegisterOperation {
    /// The search's form of `op`, or nil when it cannot affect the verdict (fail, info read).
    init?(_ op: Operation, source: Int, intern: (String) -> Int32) {
        if op.outcome == .fail { return nil }
        if op.outcome == .info && op.f == .read { return nil }
        let isInfo = op.outcome == .info
        var expected: Int32 = 0
        var value: Int32 = 0
        let kind: Kind
        switch (op.f, op.input) {
        case (.read, _):
            kind = .read
            value = op.output.internedRead(intern)
        case (.write, .string(let text)):
            kind = .write
            value = intern(text)
        case (.cas, .pair(let old, let new)):
            kind = .cas
            expected = intern(old)
            value = intern(new)
        case (.delete, _):
            kind = .delete
        default:
            preconditionFailure("operation \(op.index) \(op.f.rawValue) has input \(op.input)")
        }
        self.init(
            kind: kind, value: value, expected: expected, isInfo: isInfo, invokeTime: op.invokeTime,
            completionTime: op.completionTime, source: source)
    }
}
