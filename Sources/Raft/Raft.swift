//! Raft: the consensus core, pure. Events in, a `Ready` of directives out.
//!
//! `Raft.Instance` owns the in-memory log, the role and the peers' progress. It never touches a
//! socket, a file or the clock: time is `tick()` calls, randomness is a seeded generator in
//! `Raft.Config`, storage is the shell's job. The contract with the shell mirrors etcd-io/raft:
//!
//! 1. Feed events: `tick()`, `step(message)`, `propose(data)`, `proposeConfChange(_)`,
//!    `readIndex(context)`, `transferLeadership(to:)`.
//! 2. When `hasReady`, take `ready()`. Persist `ready.hardState`, `ready.snapshot` and
//!    `ready.entries` durably (fsync) BEFORE sending `ready.messages`: a vote or an
//!    acknowledgement must never be sent for state a crash could forget.
//! 3. Send the messages, apply `ready.committedEntries` to the replicated state machine in order,
//!    answer `ready.readStates` once the state machine has applied their index.
//! 4. Call `advance(ready)`. Only then is the next `ready()` allowed.
//!
//! Safety argument for membership changes (one at a time). A configuration change takes effect
//! on a node when the node *applies* its entry, and a leader refuses to propose a change while an
//! earlier one is not yet applied (`pendingConfIndex`). A new leader sets `pendingConfIndex` to its
//! last index, so it cannot propose a change before its own no-op entry of the new term is
//! committed and applied. Each change adds or removes one voter, so any majority of the old voter
//! set and any majority of the new one intersect: two leaders cannot be elected for one term, and
//! a committed entry is held by a majority of whichever configuration is in force. The no-op rule
//! closes the known gap in single-server changes (Ongaro, raft-dev 2015): a leader of a newer term
//! cannot act on a configuration that a deposed leader's uncommitted change may have superseded.
//! Learners receive the log but neither vote nor count toward commit; a learner is promoted to a
//! voter only once its log has caught up with the leader's commit index, so the promotion does not
//! stall commits behind a replica that would need the whole log.

public enum Raft {
    public typealias NodeID = UInt64
    public typealias Term = UInt64
    public typealias Index = UInt64
    /// "No node": no vote cast, no leader known.
    public static let none: NodeID = 0
}
