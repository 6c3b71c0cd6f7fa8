//! The in-memory Raft log: a snapshot boundary, the entries after it, and three watermarks.

extension Raft {
    /// Invariant: `applied <= committed`, `snapshotIndex <= committed <= lastIndex`,
    /// `persisted <= lastIndex`, and `entries[i].index == snapshotIndex + 1 + i`. `applied` is
    /// below `snapshotIndex` only between receiving a snapshot and the shell restoring its state
    /// machine from it (the Ready that carries it): until then the state machine is older.
    public struct Log: Sendable {
        public private(set) var snapshotIndex: Index
        public private(set) var snapshotTerm: Term
        public private(set) var entries: [Entry]
        public internal(set) var committed: Index
        public internal(set) var applied: Index
        /// Entries up to here are durable and identical to the ones held here.
        public internal(set) var persisted: Index

        init(snapshotIndex: Index, snapshotTerm: Term, entries: [Entry], committed: Index) {
            self.snapshotIndex = snapshotIndex
            self.snapshotTerm = snapshotTerm
            self.entries = entries
            self.committed = max(committed, snapshotIndex)
            self.applied = snapshotIndex
            self.persisted = snapshotIndex + Index(entries.count)
            for (offset, entry) in entries.enumerated() {
                precondition(entry.index == snapshotIndex + 1 + Index(offset),
                    "recovered entry \(entry) at offset \(offset) after snapshot \(snapshotIndex)")
            }
            precondition(self.committed <= lastIndex,
                "committed \(committed) beyond last index \(lastIndex): log truncated or lost")
        }

        public var firstIndex: Index { snapshotIndex + 1 }
        public var lastIndex: Index { snapshotIndex + Index(entries.count) }
        public var lastTerm: Term { entries.last?.term ?? snapshotTerm }

        /// The term of the entry at `index`, or nil when it is compacted away or beyond the end.
        public func term(at index: Index) -> Term? {
            if index == snapshotIndex { return snapshotTerm }
            if index < snapshotIndex || index > lastIndex { return nil }
            return entries[Int(index - snapshotIndex - 1)].term
        }

        public func matches(index: Index, term: Term) -> Bool { self.term(at: index) == term }

        /// §5.4.1: a candidate's log is at least as up to date as ours.
        public func isUpToDate(lastIndex candidateIndex: Index, lastTerm candidateTerm: Term) -> Bool {
            candidateTerm > lastTerm || (candidateTerm == lastTerm && candidateIndex >= lastIndex)
        }

        /// Entries in [from, through], at most `maxCount` and about `maxBytes`, at least one.
        public func slice(from: Index, through: Index, maxCount: Int = .max, maxBytes: Int = .max) -> [Entry] {
            precondition(from > snapshotIndex, "slice from \(from) is compacted (snapshot \(snapshotIndex))")
            if from > through { return [] }
            precondition(through <= lastIndex, "slice through \(through) beyond last \(lastIndex)")
            var result: [Entry] = []
            var bytes = 0
            var index = from
            while index <= through && result.count < maxCount {
                let entry = entries[Int(index - snapshotIndex - 1)]
                if !result.isEmpty && bytes + entry.byteCount > maxBytes { break }
                bytes += entry.byteCount
                result.append(entry)
                index += 1
            }
            return result
        }

        mutating func append(_ newEntries: [Entry]) {
            guard let first = newEntries.first else { return }
            precondition(first.index > committed, "truncating committed entry \(first.index) (committed \(committed))")
            precondition(first.index <= lastIndex + 1, "gap: appending \(first.index) after \(lastIndex)")
            entries.removeLast(Int(lastIndex - (first.index - 1)))
            persisted = min(persisted, first.index - 1)
            entries.append(contentsOf: newEntries)
        }

        /// The first new entry whose term conflicts with ours, or whose index we lack (0: none).
        func firstConflict(_ newEntries: [Entry]) -> Index {
            for entry in newEntries where !matches(index: entry.index, term: entry.term) {
                return entry.index
            }
            return 0
        }

        /// §5.3 consistency check and append. Returns the last index now known to match, or nil
        /// when our log does not hold `(prevTerm, prevIndex)`.
        mutating func maybeAppend(prevIndex: Index, prevTerm: Term, leaderCommit: Index, newEntries: [Entry]) -> Index? {
            guard matches(index: prevIndex, term: prevTerm) else { return nil }
            let lastNew = prevIndex + Index(newEntries.count)
            let conflict = firstConflict(newEntries)
            if conflict != 0 {
                precondition(conflict > committed, "conflict at \(conflict) is within committed \(committed)")
                append(Array(newEntries[Int(conflict - prevIndex - 1)...]))
            }
            commit(to: min(leaderCommit, lastNew))
            return lastNew
        }

        mutating func commit(to index: Index) {
            guard index > committed else { return }
            precondition(index <= lastIndex, "commit \(index) beyond last index \(lastIndex)")
            committed = index
        }

        /// Fast backtracking: the largest index <= `index` whose term is <= `term`.
        func conflictSearch(from index: Index, term: Term) -> (index: Index, term: Term) {
            var probe = min(index, lastIndex)
            while probe > snapshotIndex {
                if let probeTerm = self.term(at: probe), probeTerm <= term { return (probe, probeTerm) }
                probe -= 1
            }
            // Below our snapshot nothing is known: let the other side decide from `index`.
            if index < snapshotIndex { return (index, 0) }
            return (snapshotIndex, snapshotTerm)
        }

        /// Replaces everything with a snapshot (the follower was too far behind).
        mutating func restore(_ snapshot: Snapshot) {
            precondition(snapshot.index > committed, "restoring snapshot \(snapshot.index) at or below commit \(committed)")
            snapshotIndex = snapshot.index
            snapshotTerm = snapshot.term
            entries = []
            committed = snapshot.index
            // `applied` stays: the state machine is not restored until the shell has the snapshot.
            persisted = snapshot.index
        }

        /// Drops entries up to `index` (already in a snapshot of the state machine).
        mutating func compact(through index: Index) {
            precondition(index <= applied, "compacting \(index) beyond applied \(applied)")
            guard index > snapshotIndex else { return }
            let term = self.term(at: index)!
            entries.removeFirst(Int(index - snapshotIndex))
            snapshotIndex = index
            snapshotTerm = term
        }
    }
}
