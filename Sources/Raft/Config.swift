//! Configuration of one Raft node, with etcd's defaults and validation of how limits relate.

extension Raft {
    /// Test-only rule breakers. Each one deliberately violates a rule the safety argument needs,
    /// so tests can show the simulator's checkers catch the violation. Never set outside tests.
    public enum Mutation: String, Sendable, CaseIterable {
        /// Count vote grants from an older term: late responses, and the grants a candidate won
        /// in its previous election.
        case countStaleVotes = "count-stale-votes"
        /// Commit an entry of an earlier term by counting replicas (Raft §5.4.2, Figure 8).
        case commitPreviousTermByCount = "commit-previous-term"
        /// Confirm read-index requests without a heartbeat round (the leader may be deposed).
        case readWithoutReadIndex = "read-without-read-index"
        /// Grant votes without checking that the candidate's log is up to date (§5.4.1).
        case voteIgnoresLog = "vote-ignores-log"
    }

    public struct Config: Sendable {
        public var id: NodeID
        /// Ticks between heartbeats. One tick is the shell's tick interval (etcd: 100 ms).
        public var heartbeatTicks = 1
        /// Base election timeout in ticks; the randomized timeout is in
        /// [electionTicks, 2 * electionTicks) (etcd: 1000 ms / 100 ms = 10).
        public var electionTicks = 10
        /// Pre-vote (§9.6): a candidate first learns whether it could win before bumping its term.
        public var preVote = true
        /// A leader that has not heard from a quorum within an election timeout steps down.
        public var checkQuorum = true
        /// Serve reads from a leader lease instead of a heartbeat round. Unsafe under clock
        /// skew (a slow leader clock outlives its lease): off by default.
        public var leaseReads = false
        /// Entries in one append message at most.
        public var maxEntriesPerMessage = 64
        /// Bytes of entries in one append message at most (one entry may exceed it alone).
        public var maxBytesPerMessage = 1 << 20
        /// Append messages in flight to one follower at most (the pipelining window).
        public var maxInflightMessages = 256
        /// Proposed-but-uncommitted entries the leader accepts at most.
        public var maxUncommittedEntries = 4096
        /// Pending read-index requests at most.
        public var maxPendingReads = 4096
        /// Seed for the randomized election timeout.
        public var seed: UInt64
        public var mutation: Mutation? = nil

        public init(id: NodeID, seed: UInt64) {
            self.id = id
            self.seed = seed
        }

        /// Checks the limits and how they relate; returns a message naming the bad field.
        public func validate() -> String? {
            if id == Raft.none { return "id must not be 0 (0 means no node)" }
            if heartbeatTicks < 1 { return "heartbeatTicks must be at least 1 (got \(heartbeatTicks))" }
            if electionTicks <= heartbeatTicks {
                return "electionTicks (\(electionTicks)) must exceed heartbeatTicks (\(heartbeatTicks))"
            }
            if maxInflightMessages < 1 { return "maxInflightMessages must be at least 1" }
            if maxEntriesPerMessage < 1 { return "maxEntriesPerMessage must be at least 1" }
            if maxUncommittedEntries < 1 { return "maxUncommittedEntries must be at least 1" }
            if leaseReads && !checkQuorum { return "leaseReads requires checkQuorum" }
            return nil
        }
    }
}
