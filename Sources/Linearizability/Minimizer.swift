//! Minimizer: shrinks a failing key's history to a few operations that cannot be ordered.
//!
//! Dropping operations naively can invent violations (drop the write a read saw and the read
//! looks impossible), so the minimizer only takes *sound* steps: ones after which "still not
//! linearizable" implies the original history is not linearizable either.
//!
//! - A time window [start, end]. Operations that completed before `start` are dropped and the
//!   value at `start` is left free (the search tries every value); operations straddling
//!   `start` become optional (they may have taken effect before or inside the window).
//!   Operations invoked after `end` are dropped and those completing after it become optional.
//!   Any linearization of the whole history, cut at `start` and `end`, orders such a window,
//!   so a window that fails proves the history fails. Failure is monotone in both bounds, so
//!   `end` is found by binary search and `start` by galloping back from `end`.
//! - Within the window: dropping a read, or making a write optional, only removes
//!   constraints, so if the rest still fails the window did. An optional write whose value
//!   nobody reads can then be dropped (it can always be placed "never").
//!
//! "Context-free" windows fail whatever value the key held at `start`. If none does (the
//! violation needs the initially absent key, like a read of a value before any write), the
//! window starts at the beginning of the history instead. All searches share one step budget;
//! when it runs out, the smallest verified set so far stands.

struct Minimizer {
    let operations: [RegisterOperation]
    var stepsLeft: Int

    init(operations: [RegisterOperation], stepsMax: Int) {
        self.operations = operations
        self.stepsLeft = stepsMax
    }

    /// The subset found (optional operations have `isInfo` set), and whether it is context-free.
    mutating func minimize() -> ([RegisterOperation], contextFree: Bool) {
        let end = earliestFailingEnd()
        let starts = Array(Set(operations.lazy.filter { $0.invokeTime <= end }.map(\.invokeTime))).sorted()
        guard let latest = latestContextFreeStart(starts, end: end) else {
            return (relaxGreedily(window(start: nil, end: end), contextFree: false), false)
        }
        // The latest start gives the shortest span, but a slightly earlier start can relax to
        // fewer operations (the write that made a read stale may have begun a little earlier).
        // Every earlier start fails too, so each candidate is a valid counterexample.
        var best = relaxGreedily(window(start: starts[latest], end: end), contextFree: true)
        for candidate in stride(from: latest - 1, through: max(0, latest - Self.earlierStartsMax), by: -1) {
            guard best.count > 2 && stepsLeft > 0 else { break }
            let relaxed = relaxGreedily(window(start: starts[candidate], end: end), contextFree: true)
            if relaxed.count < best.count { best = relaxed }
        }
        return (best, true)
    }

    /// How many starts before the latest failing one are also tried for a smaller result.
    static let earlierStartsMax = 16

    // MARK: - Windows

    /// The operations of the window [start, end] (start nil: from the beginning), relaxed as
    /// described above, in invoke order.
    func window(start: Int64?, end: Int64) -> [RegisterOperation] {
        var result: [RegisterOperation] = []
        for var op in operations {
            if op.invokeTime > end { break }
            var optional = op.isInfo || op.completionTime > end
            if let start, op.invokeTime < start {
                if !op.isInfo && op.completionTime < start { continue }
                optional = true
            }
            if optional {
                // An unknown read constrains nothing.
                if op.kind == .read { continue }
                op.isInfo = true
            }
            result.append(op)
        }
        return droppingUnobservedOptionals(result)
    }

    /// Removes optional operations whose resulting value no operation in `window` observes,
    /// repeatedly, since dropping an optional cas can leave the one before it unobserved.
    func droppingUnobservedOptionals(_ window: [RegisterOperation]) -> [RegisterOperation] {
        var current = window
        while true {
            var observed = Set<Int32>()
            for op in current {
                if op.kind == .read { observed.insert(op.value) }
                if op.kind == .cas { observed.insert(op.expected) }
            }
            let kept = current.filter { !$0.isInfo || observed.contains($0.value) }
            if kept.count == current.count { return kept }
            current = kept
        }
    }

    /// The earliest completion time `end` such that the window [beginning, end] fails from the
    /// absent key. The whole history fails (the caller's verdict), so one exists.
    mutating func earliestFailingEnd() -> Int64 {
        let ends = Array(Set(operations.lazy.filter { !$0.isInfo }.map(\.completionTime))).sorted()
        precondition(!ends.isEmpty, "a failing key has no ok operations")
        var low = -1  // ends[low] is assumed not to fail (the empty window does not).
        var high = ends.count - 1  // ends[high] fails: it covers every ok operation.
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if fails(window(start: nil, end: ends[middle])[...], contextFree: false) { high = middle } else { low = middle }
        }
        return ends[high]
    }

    /// The index in `starts` of the latest window start (ending at `end`) that fails from every
    /// initial value, or nil when none does (within budget). Small windows are tried first because they are
    /// cheap and the answer is usually small.
    mutating func latestContextFreeStart(_ starts: [Int64], end: Int64) -> Int? {
        var failing = -1
        var passing = starts.count
        var step = 1
        while failing < 0 {
            let candidate = max(0, passing - step)
            if fails(window(start: starts[candidate], end: end)[...], contextFree: true) {
                failing = candidate
            } else {
                if candidate == 0 { return nil }
                passing = candidate
                step *= 2
            }
        }
        while passing - failing > 1 {
            let middle = failing + (passing - failing) / 2
            if fails(window(start: starts[middle], end: end)[...], contextFree: true) { failing = middle } else { passing = middle }
        }
        return failing
    }

    // MARK: - Relaxing

    /// Drops reads and makes writes optional one at a time, keeping each change that still fails.
    mutating func relaxGreedily(_ start: [RegisterOperation], contextFree: Bool) -> [RegisterOperation] {
        var current = start
        var position = 0
        while position < current.count && stepsLeft > 0 {
            var candidate = current
            if candidate[position].kind == .read {
                candidate.remove(at: position)
            } else if !candidate[position].isInfo {
                candidate[position].isInfo = true
                candidate = droppingUnobservedOptionals(candidate)
            } else {
                position += 1
                continue
            }
            if candidate.contains(where: { !$0.isInfo }) && fails(candidate[...], contextFree: contextFree) {
                current = candidate
                position = 0
            } else {
                position += 1
            }
        }
        return current
    }

    // MARK: - Checking

    /// Whether `subset` is certainly not linearizable: from the absent key, or, when
    /// `contextFree`, from every initial value. Running out of budget counts as "not certain".
    mutating func fails(_ subset: ArraySlice<RegisterOperation>, contextFree: Bool) -> Bool {
        var initials: [Int32] = [0]
        if contextFree {
            // Values nobody in the subset mentions all behave alike; one fresh id stands for them.
            var mentioned = Set<Int32>([0])
            var fresh: Int32 = 0
            for op in subset {
                for value in [op.value, op.expected] where mentioned.insert(value).inserted { initials.append(value) }
                fresh = max(fresh, op.value, op.expected)
            }
            initials.append(fresh + 1)
        }
        for initial in initials {
            guard stepsLeft > 0 else { return false }
            var steps = 0
            let outcome = searchRegister(subset, initial: initial, stepLimit: stepsLeft, steps: &steps)
            stepsLeft -= min(stepsLeft, steps)
            guard case .notLinearizable = outcome else { return false }
        }
        return true
    }
}
