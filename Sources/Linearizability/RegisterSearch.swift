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
        var callEntry = Array(repeating: Int32(-1), count: operations.count)
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
/// `stepLimit` bounds the entries visited, so minimisation can give up on a costly subset.
func searchRegister(
    _ operations: ArraySlice<RegisterOperation>, initial: Int32, stepLimit: Int = Int.max, steps: inout Int
) -> SearchOutcome {
    var okRemaining = operations.reduce(0) { $0 + ($1.isInfo ? 0 : 1) }
    if okRemaining == 0 { return .linearizable }
    let base = operations.startIndex
    var list = EntryList(operations)
    var linearized = LinearizedSet(capacity: operations.count)
    var memo = Set<MemoKey>()
    var calls: [(entry: Int32, state: Int32)] = []
    var state = initial
    var entry = Int(list.next[list.head])
    var deepest = 0
    var stuck = -1
    while true {
        precondition(entry >= 0, "search ran off the list with \(okRemaining) ok operations unplaced")
        steps += 1
        if steps > stepLimit { return .exhausted }
        let position = Int(list.operation[entry])
        if list.match[entry] != -2 {
            let op = operations[base + position]
            if let newState = op.apply(to: state) {
                let oldFirst = linearized.first
                linearized.insert(position)
                if memo.insert(linearized.key(state: newState)).inserted {
                    calls.append((Int32(entry), state))
                    state = newState
                    list.lift(entry)
                    if !op.isInfo {
                        okRemaining -= 1
                        if okRemaining == 0 { return .linearizable }
                    }
                    entry = Int(list.next[list.head])
                    continue
                }
                // Seen before: this order leads nowhere new. Undo the tentative insert.
                linearized.remove(position)
                linearized.first = oldFirst
            }
            entry = Int(list.next[entry])
        } else {
            // An ok operation returned with no order placing it before its return: backtrack.
            if calls.count >= deepest {
                deepest = calls.count
                stuck = position
            }
            // A read placed where the value matched is never worth moving later: reads do not
            // change the state, so any order placing it later can place it there instead. So
            // after undoing a read, keep undoing instead of trying orders without it.
            var undone: Int
            repeat {
                guard let top = calls.popLast() else { return .notLinearizable(deepest: deepest, stuck: stuck) }
                entry = Int(top.entry)
                state = top.state
                undone = Int(list.operation[entry])
                linearized.remove(undone)
                list.unlift(entry)
                if !operations[base + undone].isInfo { okRemaining += 1 }
            } while operations[base + undone].kind == .read
            entry = Int(list.next[entry])
        }
    }
}
