//! What the leader knows of each follower's log, and the flow control toward it.

extension Raft {
    public struct Progress: Sendable {
        public enum State: String, Sendable {
            /// One append at a time until the follower's match index is found.
            case probe
            /// Pipelined appends, at most `maxInflight` unacknowledged.
            case replicate
            /// A snapshot is on its way; appends wait.
            case snapshot
        }
        /// Invariant: `match < next`.
        public internal(set) var match: Index
        public internal(set) var next: Index
        public internal(set) var state: State = .probe
        /// In probe state: an append is out and unanswered.
        var probeSent = false
        /// Last index of each append in flight (replicate state), oldest first.
        var inflight: [Index] = []
        var pendingSnapshot: Index = 0
        /// Ticks since the last state change (to retry a snapshot that was lost).
        var stateTicks = 0
        /// Heard from within the current check-quorum window.
        var recentActive = false
        public internal(set) var isLearner: Bool

        init(next: Index, isLearner: Bool) {
            self.match = 0
            self.next = next
            self.isLearner = isLearner
        }

        mutating func become(_ newState: State) {
            state = newState
            probeSent = false
            inflight.removeAll()
            pendingSnapshot = 0
            stateTicks = 0
        }

        mutating func becomeProbe() {
            let resume = state == .snapshot ? max(match + 1, pendingSnapshot + 1) : match + 1
            become(.probe)
            next = resume
        }

        mutating func becomeReplicate() {
            become(.replicate)
            next = match + 1
        }

        mutating func becomeSnapshot(_ index: Index) {
            become(.snapshot)
            pendingSnapshot = index
        }

        /// An acknowledgement up to `index`. Returns false when it tells nothing new.
        mutating func maybeUpdate(_ index: Index) -> Bool {
            var updated = false
            if index > match {
                match = index
                updated = true
                probeSent = false
            }
            next = max(next, index + 1)
            inflight.removeAll { $0 <= index }
            return updated
        }

        /// A rejection of the append after `rejected`; `hint` is where the follower suggests
        /// looking. Returns false when the rejection is stale.
        mutating func maybeDecrease(rejected: Index, hint: Index) -> Bool {
            if state == .replicate {
                if rejected <= match { return false }
                next = match + 1
                return true
            }
            if next == 0 || next - 1 != rejected { return false }
            next = max(min(rejected, hint + 1), match + 1)
            probeSent = false
            return true
        }

        func isPaused(maxInflight: Int) -> Bool {
            switch state {
            case .probe: return probeSent
            case .replicate: return inflight.count >= maxInflight
            case .snapshot: return true
            }
        }

        /// Records an append ending at `last` as sent.
        mutating func sent(last: Index, entryCount: Int) {
            switch state {
            case .replicate:
                if entryCount > 0 {
                    next = last + 1
                    inflight.append(last)
                }
            case .probe:
                probeSent = true
            case .snapshot:
                preconditionFailure("sending append in snapshot state")
            }
        }
    }
}
