//! Minimizer: shrinks a failing key's history to a few operations that cannot be ordered.
//!
//! Removing operations can both hide a violation and invent one (drop the write a read saw and
//! the read looks impossible), so every candidate is re-checked and only verified failures are
//! kept. The preferred counterexample is "context-free": it fails whatever value the key held
//! before its first operation, so it cannot be an artefact of dropping earlier writes. Steps:
//!
//! 1. Binary-search the shortest failing prefix (by invoke time) from the absent key.
//! 2. Grow a window backwards from that prefix's end (2, 4, 8, … operations) until it fails
//!    from every initial value, then binary-search its smallest such size.
//! 3. Greedily drop each operation while the rest still fails.
//!
//! If no window fails context-free (the violation needs the initial absent key, like reading a
//! value before anything was written), steps 2 and 3 run from the absent key instead. All
//! searches share one step budget; when it runs out, the smallest verified set so far stands.

struct Minimizer {
    let operations: [RegisterOperation]
    var stepsLeft: Int

    init(operations: [RegisterOperation], stepsMax: Int) {
        self.operations = operations
        self.stepsLeft = stepsMax
    }

    /// The subset found, and whether it fails from every initial value.
    mutating func minimize() -> ([RegisterOperation], contextFree: Bool) {
        let prefix = shortestFailingPrefix()
        let failing = Array(operations[0..<prefix])
        if let window = smallestContextFreeWindow(failing) {
            return (greedyDrop(window, contextFree: true), true)
        }
        return (greedyDrop(failing, contextFree: false), false)
    }

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

    /// The smallest `n` such that the first `n` operations fail from the absent key.
    mutating func shortestFailingPrefix() -> Int {
        var low = 0  // operations[0..<low] is assumed linearizable (the empty prefix is).
        var high = operations.count  // operations[0..<high] fails: the caller's verdict.
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if fails(operations[0..<middle], contextFree: false) { high = middle } else { low = middle }
        }
        return high
    }

    /// The shortest window ending at the last operation of `failing` that fails from every
    /// initial value, or nil when none does (within budget).
    mutating func smallestContextFreeWindow(_ failing: [RegisterOperation]) -> [RegisterOperation]? {
        let end = failing.count
        var size = 1
        var previous = 0
        while true {
            let window = failing[(end - size)..<end]
            if fails(window, contextFree: true) { break }
            if size == end { return nil }
            previous = size
            size = min(end, size * 2)
        }
        // operations of size `size` fail; search down towards `previous` (which did not).
        var low = previous
        var high = size
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if fails(failing[(end - middle)..<end], contextFree: true) { high = middle } else { low = middle }
        }
        return Array(failing[(end - high)..<end])
    }

    /// Drops operations one at a time, keeping each removal that still fails.
    mutating func greedyDrop(_ start: [RegisterOperation], contextFree: Bool) -> [RegisterOperation] {
        var current = start
        var position = 0
        while position < current.count && stepsLeft > 0 {
            var candidate = current
            candidate.remove(at: position)
            if !candidate.isEmpty && fails(candidate[...], contextFree: contextFree) {
                current = candidate
            } else {
                position += 1
            }
        }
        return current
    }
}
