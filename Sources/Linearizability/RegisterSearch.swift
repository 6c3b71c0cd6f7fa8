//! RegisterSearch: the Wing & Gong linearizability search, with Lowe's memoisation, for one key.
//!
//! The history of one register is a doubly linked list of call and return entries sorted by
//! time. The search walks it from the front: at a call it tries to linearize that operation
//! now (the model must accept it, and the pair (set of linearized operations, state) must be
//! new); at a return whose operation is still unlinearized it backtracks, because that
//! operation had to take effect before it returned. Linearized entries are lifted out of the
//! list and put back on backtrack (dancing links), as in Porcupine's `checker.go`.
//!
//! `info` operations have no return entry: they may take effect at any time after their invoke
//! or never, and "never" is the same as "after everything else". So the search succeeds as soon
//! as every `ok` operation is linearized, whatever `info` operations remain.

/// One operation on a register, with values interned to small integers.
///
/// Value 0 is "absent" (null); other values are indexes into the key's value table.
struct RegisterOperation {
    enum Kind: UInt8 { case read, write, cas, delete }
    var kind: Kind
    /// The value read (read), written (write), or the new value (cas).
    var value: Int32
    /// The expected value of a cas; unused otherwise.
    var expected: Int32
    var isInfo: Bool
    var invokeTime: Int64
    /// Unused for `info` operations.
    var completionTime: Int64
    /// Index into the checker's operation list, to report it.
    var source: Int

    /// The state after this operation applies to `state`, or nil when the model forbids it here.
    @inline(__always)
    func apply(to state: Int32) -> Int32? {
        switch kind {
        case .read: return state == value ? state : nil
        case .write: return value
        case .delete: return 0
        case .cas:
            if state == expected { return value }
            // An unknown cas may have run and failed its comparison: that changes nothing.
            return isInfo ? state : nil
        }
    }
}

/// What one search found.
enum SearchOutcome: Equatable {
    case linearizable
    /// `deepest` operations were linearized at most; `stuck` (index into the operations)
    /// returned without any order placing it there.
    case notLinearizable(deepest: Int, stuck: Int)
    /// The step limit ran out first.
    case exhausted
}

/// A memo entry: which operations are linearized and the register's value.
///
/// The set is stored compactly as "all operations below `first`" plus the few linearized ones
/// above it: operations are numbered by invoke time, so in a long history the linearized set
/// is a prefix with a small ragged edge, and a full bitset per entry would cost O(n²) memory.
struct MemoKey: Hashable {
    var first: Int32
    var state: Int32
    var extras: [Int32]
}

/// The set of linearized operations, with the cached fields `MemoKey` needs.
struct LinearizedSet {
    var words: [UInt64]
    /// Invariant: every operation below `first` is in the set and `first` is not.
    var first = 0
    var count = 0

    init(capacity: Int) {
        words = Array(repeating: 0, count: capacity / 64 + 1)
    }

    @inline(__always)
    func contains(_ position: Int) -> Bool { words[position >> 6] & (1 << UInt64(position & 63)) != 0 }

    mutating func insert(_ position: Int) {
        precondition(!contains(position), "operation \(position) linearized twice")
        words[position >> 6] |= 1 << UInt64(position & 63)
        count += 1
        while first < words.count * 64 && contains(first) { first += 1 }
    }

    mutating func remove(_ position: Int) {
        precondition(contains(position), "operation \(position) removed but not linearized")
        words[position >> 6] &= ~(1 << UInt64(position & 63))
        count -= 1
        if position < first { first = position }
    }

    func key(state: Int32) -> MemoKey {
        var extras: [Int32] = []
        var missing = count - first
        var word = first >> 6
        while missing > 0 {
            var bits = words[word]
            if word == first >> 6 { bits &= ~((1 << UInt64(first & 63)) - 1) }
            while bits != 0 {
                let bit = bits.trailingZeroBitCount
                extras.append(Int32(word * 64 + bit))
                bits &= bits - 1
                missing -= 1
            }
            word += 1
        }
        return MemoKey(first: Int32(first), state: state, extras: extras)
    }
}

/// The linked list of call and return entries for one search.
///
/// Entries `0..<entryCount` are real; `head` is a sentinel before the first. A removed entry
/// keeps its own links, so putting entries back in reverse order of removal restores the list.
struct EntryList {
    var next: [Int32]
    var previous: [Int32]
    /// The operation of each entry.
    var operation: [Int32]
    /// For a call entry, its return entry (-1 for info); for a return entry, -2.
    var match: [Int32]
    /// The call entry of each operation.
    var callEntry: [Int32]
    let head: Int

    /// Calls sort before returns at the same instant: intervals that touch are concurrent.
    init(_ operations: ArraySlice<RegisterOperation>) {
        struct Event { var time: Int64; var isReturn: Bool; var operation: Int32 }
        var events: [Event] = []
        events.reserveCapacity(operations.count * 2)
        for (position, op) in operations.enumerated() {
            events.append(Event(time: op.invokeTime, isReturn: false, operation: Int32(position)))
            if !op.isInfo { events.append(Event(time: op.completionTime, isReturn: true, operation: Int32(position))) }
        }
        events.sort { left, right in
            if left.time != right.time { return left.time < right.time }
            if left.isReturn != right.isReturn { return !left.isReturn }
            return left.operation < right.operation
        }
        let count = events.count
        head = count
        next = Array(repeating: -1, count: count + 1)
        previous = Array(repeating: -1, count: count + 1)
        operation = events.map(\.operation)
        match = Array(repeating: -2, count: count)
        callEntry = Array(repeating: Int32(-1), count: operations.count)
        for (position, event) in events.enumerated() {
            if event.isReturn {
                match[Int(callEntry[Int(event.operation)])] = Int32(position)
            } else {
                callEntry[Int(event.operation)] = Int32(position)
                match[position] = -1
            }
        }
        var last = head
        for position in 0..<count {
            next[last] = Int32(position)
            previous[position] = Int32(last)
            last = position
        }
    }

    @inline(__always)
    mutating func unlink(_ entry: Int) {
        let before = Int(previous[entry])
        let after = next[entry]
        next[before] = after
        if after >= 0 { previous[Int(after)] = Int32(before) }
    }

    @inline(__always)
    mutating func relink(_ entry: Int) {
        let before = Int(previous[entry])
        let after = next[entry]
        next[before] = Int32(entry)
        if after >= 0 { previous[Int(after)] = Int32(entry) }
    }

    /// Removes a call entry and its return entry.
    mutating func lift(_ call: Int) {
        unlink(call)
        if match[call] >= 0 { unlink(Int(match[call])) }
    }

    /// Undoes `lift(call)`; must be applied in reverse order of lifting.
    mutating func unlift(_ call: Int) {
        if match[call] >= 0 { relink(Int(match[call])) }
        relink(call)
    }
}

/// Searches for a linearization of `operations` (sorted by invoke time) from `initial`.
///
/// Two dominance rules keep concurrent histories from exploding (each only skips orders that
/// another explored order makes redundant):
/// - A read placed where its value matched is never worth placing later (reads change nothing).
/// - A "garbage write" (ok write of a value nobody observes, id -1) is never placed on its own
///   while another write can hide it: when an unconditional write is linearized, every garbage
///   write then available is placed just before it, invisibly. One that reaches its return
///   unplaced is placed there, as late as possible, since garbage only hurts what follows it.
///
/// `stepLimit` bounds the entries visited, so minimisation can give up on a costly subset.
func searchRegister(
    _ operations: ArraySlice<RegisterOperation>, initial: Int32, stepLimit: Int = Int.max, steps: inout Int
) -> SearchOutcome {
    var search = RegisterSearch(operations, initial: initial)
    return search.run(stepLimit: stepLimit, steps: &steps)
}

/// The state of one search; see `searchRegister`.
struct RegisterSearch {
    struct Frame {
        var entry: Int32
        var state: Int32
        /// Placed by a dominance rule: backtracking must not try orders without it here.
        var forced: Bool
    }
    let operations: ArraySlice<RegisterOperation>
    let base: Int
    var list: EntryList
    var linearized: LinearizedSet
    var memo = Set<MemoKey>()
    var frames: [Frame] = []
    var state: Int32
    var okRemaining: Int
    var deepest = 0
    var stuck = -1

    init(_ operations: ArraySlice<RegisterOperation>, initial: Int32) {
        self.operations = operations
        base = operations.startIndex
        list = EntryList(operations)
        linearized = LinearizedSet(capacity: operations.count)
        state = initial
        okRemaining = operations.reduce(0) { $0 + ($1.isInfo ? 0 : 1) }
    }

    func isGarbageWrite(_ op: RegisterOperation) -> Bool { op.kind == .write && op.value == -1 && !op.isInfo }

    mutating func run(stepLimit: Int, steps: inout Int) -> SearchOutcome {
        if okRemaining == 0 { return .linearizable }
        var entry = Int(list.next[list.head])
        while true {
            precondition(entry >= 0, "search ran off the list with \(okRemaining) ok operations unplaced")
            steps += 1
            if steps > stepLimit { return .exhausted }
            let position = Int(list.operation[entry])
            let op = operations[base + position]
            let isCall = list.match[entry] != -2
            if isCall && !isGarbageWrite(op), let newState = op.apply(to: state) {
                if place(entry, newState: newState, absorbing: op.kind == .write || op.kind == .delete) {
                    if okRemaining == 0 { return .linearizable }
                    entry = Int(list.next[list.head])
                    continue
                }
            }
            if isCall {
                entry = Int(list.next[entry])
                continue
            }
            if isGarbageWrite(op) && place(Int(list.callEntry[position]), newState: -1, absorbing: false, forced: true) {
                if okRemaining == 0 { return .linearizable }
                entry = Int(list.next[list.head])
                continue
            }
            // An ok operation returned with no order placing it before its return: backtrack.
            if frames.count >= deepest {
                deepest = frames.count
                stuck = position
            }
            guard let resumed = backtrack() else { return .notLinearizable(deepest: deepest, stuck: stuck) }
            entry = Int(list.next[resumed])
        }
    }

    /// Linearizes the call `entry` (and, when `absorbing`, every garbage write available now,
    /// just before it) unless the resulting memo key was seen. Returns whether it did.
    mutating func place(_ entry: Int, newState: Int32, absorbing: Bool, forced: Bool = false) -> Bool {
        var absorbed: [Int] = []
        if absorbing {
            // Available: calls before the first return still in the list.
            var candidate = Int(list.next[list.head])
            while candidate >= 0 && list.match[candidate] != -2 {
                if candidate != entry && isGarbageWrite(operations[base + Int(list.operation[candidate])]) {
                    absorbed.append(candidate)
                }
                candidate = Int(list.next[candidate])
            }
        }
        let oldFirst = linearized.first
        linearized.insert(Int(list.operation[entry]))
        for other in absorbed { linearized.insert(Int(list.operation[other])) }
        guard memo.insert(linearized.key(state: newState)).inserted else {
            // Seen before: this order leads nowhere new. Undo the tentative inserts.
            for other in absorbed { linearized.remove(Int(list.operation[other])) }
            linearized.remove(Int(list.operation[entry]))
            linearized.first = oldFirst
            return false
        }
        frames.append(Frame(entry: Int32(entry), state: state, forced: forced))
        list.lift(entry)
        if !operations[base + Int(list.operation[entry])].isInfo { okRemaining -= 1 }
        for other in absorbed {
            frames.append(Frame(entry: Int32(other), state: newState, forced: true))
            list.lift(other)
            okRemaining -= 1
        }
        state = newState
        return true
    }

    /// Undoes placements up to and including the latest free choice; returns its entry, from
    /// which the walk continues, or nil when there is none left (not linearizable).
    mutating func backtrack() -> Int? {
        while let frame = frames.popLast() {
            let entry = Int(frame.entry)
            let position = Int(list.operation[entry])
            state = frame.state
            linearized.remove(position)
            list.unlift(entry)
            let op = operations[base + position]
            if !op.isInfo { okRemaining += 1 }
            // A read placed where its value matched is never worth moving later: reads change
            // nothing, so any order placing it later can place it there instead.
            if frame.forced || op.kind == .read { continue }
            return entry
        }
        return nil
    }
}
