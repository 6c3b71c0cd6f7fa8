//! Services: the shells that turn pure cores' directives into I/O through an environment.
//!
//! `Replica` drives one `Raft.Instance` and one replicated state machine (the simulator's
//! `KVStateMachine`, the server's MVCC store). It never touches a socket, file or clock itself:
//! the `ReplicaEnvironment` does, and completions come back as calls on the replica. The
//! simulator's environment is virtual (SimNetwork, SimDisk); the real server's is sockets and an
//! fsync'd WAL — the same replica code runs in both.

import Base
import Raft

/// What a replica needs from the world around it.
public protocol ReplicaEnvironment: AnyObject {
    /// Sends a Raft message to a peer (best effort: it may be lost).
    func send(_ message: Raft.Message)
    /// Writes the batch and makes it durable; calls `completion` once it is (never, if the node
    /// crashes first). At most one batch is outstanding per replica.
    func persist(_ batch: PersistBatch, completion: @escaping () -> Void)
    /// Saves a snapshot of the state machine atomically and durably.
    func saveSnapshot(_ snapshot: Raft.Snapshot)
    /// Something checkers want to see (entries applied, roles taken).
    func observe(_ observation: ReplicaObservation)
}

/// One write to stable storage: the hard state, a received snapshot, and log entries. A snapshot
/// replaces the whole log: it must be durable before anything written after it, and recovery
/// must discard log entries written before it.
public struct PersistBatch: Sendable {
    public var hardState: Raft.HardState?
    public var snapshot: Raft.Snapshot?
    public var entries: [Raft.Entry]
}

public enum ReplicaObservation: Sendable {
    case applied(Raft.Entry)
    case restoredSnapshot(index: Raft.Index, term: Raft.Term)
    case role(Raft.SoftState, term: Raft.Term)
}

/// What the replica recovered from stable storage at start.
public struct RecoveredState: Sendable {
    public var hardState: Raft.HardState
    public var snapshot: Raft.Snapshot
    public var entries: [Raft.Entry]
    public init(hardState: Raft.HardState, snapshot: Raft.Snapshot, entries: [Raft.Entry]) {
        self.hardState = hardState
        self.snapshot = snapshot
        self.entries = entries
    }
}

/// A deterministic state machine fed with committed entries' bytes, in log order, on every replica.
public protocol ReplicatedStateMachine {
    /// What applying one entry produced (a response to the proposer, events for watchers).
    associatedtype Outcome
    init()
    /// Restores from `snapshot()` bytes; nil if they do not decode.
    init?(snapshot: [UInt8])
    func snapshot() -> [UInt8]
    /// Applies the data of a committed normal entry. Must not fail: a command that cannot take
    /// effect reports that in its outcome, and the same bytes give the same outcome everywhere.
    mutating func apply(_ data: [UInt8], at index: Raft.Index) -> Outcome
    /// Records a committed membership change (the application's member registry lives in the
    /// state machine, so snapshots carry it). Raft applies the change to its configuration itself.
    mutating func applyConfChange(_ change: Raft.ConfChange, at index: Raft.Index)
}

extension ReplicatedStateMachine {
    public mutating func applyConfChange(_ change: Raft.ConfChange, at index: Raft.Index) {}
}

/// What became of a proposed membership change.
public enum MembershipOutcome: Equatable {
    /// Committed and applied: the configuration now includes it.
    case applied
    /// Refused before it entered the log (definitely no effect).
    case refused(Raft.ProposalError)
    /// Overwritten by another leader's entry (definitely no effect).
    case dropped
}

/// What became of a proposal.
public enum ProposalOutcome<Outcome> {
    /// Committed and applied; the state machine's outcome.
    case applied(Outcome)
    /// This node cannot serve it (definitely no effect); `leader` is a hint.
    case notLeader(leader: Raft.NodeID)
    /// Overwritten by another leader's entry (definitely no effect).
    case dropped
}

/// What became of a linearizable read.
public enum ReadOutcome {
    /// Confirmed by ReadIndex and the state machine caught up: read it now, synchronously.
    case ready
    case notLeader(leader: Raft.NodeID)
}

public final class Replica<Machine: ReplicatedStateMachine, Environment: ReplicaEnvironment> {
    public let raft: Raft.Instance
    public private(set) var stateMachine: Machine
    /// Compact the log after this many applied entries (etcd: --snapshot-count).
    public let snapshotCount: Raft.Index
    private unowned let environment: Environment
    private var persisting = false
    /// The term and vote on stable storage (what a crash would come back with).
    private var durableTerm: Raft.Term
    private var durableVote: Raft.NodeID
    private var proposals: [Raft.Index: (term: Raft.Term, completion: (ProposalOutcome<Machine.Outcome>) -> Void)] = [:]
    private var membershipProposals: [Raft.Index: (term: Raft.Term, completion: (MembershipOutcome) -> Void)] = [:]
    private var reads: [UInt64: (ReadOutcome) -> Void] = [:]
    /// Called for every applied normal entry, proposed here or elsewhere (watchers need them all).
    public var onApply: ((Raft.Entry, Machine.Outcome) -> Void)?
    /// Called for every applied membership change, after the state machine recorded it.
    public var onConfChange: ((Raft.ConfChange) -> Void)?
    /// Reads confirmed by ReadIndex, waiting for the state machine to apply their index.
    private var confirmedReads: [(index: Raft.Index, context: UInt64)] = []
    private var nextReadContext: UInt64 = 1
    /// Requests in flight at most; more are refused rather than queued without bound.
    public let maxPendingRequests: Int

    public init(config: Raft.Config, recovered: RecoveredState, snapshotCount: Raft.Index,
        maxPendingRequests: Int = 10_000, environment: Environment)
    {
        precondition(snapshotCount >= 1, "snapshotCount must be at least 1")
        self.raft = Raft.Instance(config: config, hardState: recovered.hardState, snapshot: recovered.snapshot,
            entries: recovered.entries)
        guard let machine = recovered.snapshot.data.isEmpty
            ? Machine() : Machine(snapshot: recovered.snapshot.data)
        else { preconditionFailure("snapshot at index \(recovered.snapshot.index) does not decode") }
        self.stateMachine = machine
        self.durableTerm = recovered.hardState.term
        self.durableVote = recovered.hardState.vote
        self.snapshotCount = snapshotCount
        self.maxPendingRequests = maxPendingRequests
        self.environment = environment
    }

    // MARK: - Events from the environment

    public func tick() {
        raft.tick()
        pump()
    }

    public func receive(_ message: Raft.Message) {
        raft.step(message)
        pump()
    }

    /// Proposes `data` as a command; `completion` runs once its fate is known.
    public func propose(_ data: [UInt8], completion: @escaping (ProposalOutcome<Machine.Outcome>) -> Void) {
        if pendingRequestCount >= maxPendingRequests {
            completion(.notLeader(leader: raft.leader))
            return
        }
        switch raft.propose(data) {
        case .success(let position):
            proposals[position.index] = (position.term, completion)
        case .failure:
            completion(.notLeader(leader: raft.leader))
            return
        }
        pump()
    }

    /// A linearizable read: `completion(.ready)` runs once ReadIndex confirmed this node's
    /// leadership (or, on a follower, the leader's commit index) and the state machine has applied
    /// that far; the caller then reads `stateMachine` synchronously.
    public func read(completion: @escaping (ReadOutcome) -> Void) {
        if pendingRequestCount >= maxPendingRequests || raft.leader == Raft.none {
            completion(.notLeader(leader: raft.leader))
            return
        }
        let context = nextReadContext
        nextReadContext += 1
        reads[context] = completion
        raft.readIndex(context: context)
        pump()
    }

    public func changeMembership(_ change: Raft.ConfChange) -> Result<Raft.Index, Raft.ProposalError> {
        defer { pump() }
        return raft.proposeConfChange(change).map { $0.index }
    }

    /// Proposes a membership change; `completion` runs once it is applied (or definitely not).
    public func changeMembership(_ change: Raft.ConfChange, completion: @escaping (MembershipOutcome) -> Void) {
        switch raft.proposeConfChange(change) {
        case .success(let position):
            membershipProposals[position.index] = (position.term, completion)
        case .failure(let error):
            completion(.refused(error))
        }
        pump()
    }

    public func transferLeadership(to target: Raft.NodeID) {
        raft.transferLeadership(to: target)
        pump()
    }

    // MARK: - The Ready loop

    /// Hands the next Ready to storage; the rest happens when it is durable.
    private func pump() {
        guard !persisting, raft.hasReady else { return }
        let ready = raft.ready()
        if let soft = ready.softState {
            environment.observe(.role(soft, term: raft.term))
            failUnconfirmedReads()
        }
        let needsWrite = ready.hardState != nil || ready.snapshot != nil || !ready.entries.isEmpty
        // A leader may replicate entries before its own copy is durable (Raft thesis §10.2.1, as
        // etcd does): it counts itself toward a commit only once `advance` reports them
        // persisted. That holds only while the term and vote it acts under are already on disk;
        // a Ready that changes them (a single voter electing itself in one step) waits as usual.
        // This takes one fsync off every commit's critical path.
        let termAndVoteDurable = ready.hardState.map { $0.term == durableTerm && $0.vote == durableVote } ?? true
        let sendEarly = raft.role == .leader && needsWrite && termAndVoteDurable
        if sendEarly {
            for message in ready.messages { environment.send(message) }
        }
        if !needsWrite {
            completeReady(ready, messagesSent: false)
            return
        }
        persisting = true
        let batch = PersistBatch(hardState: ready.hardState, snapshot: ready.snapshot, entries: ready.entries)
        environment.persist(batch) { [weak self] in
            guard let self else { return }
            self.persisting = false
            if let state = ready.hardState {
                self.durableTerm = state.term
                self.durableVote = state.vote
            }
            self.completeReady(ready, messagesSent: sendEarly)
        }
    }

    /// Runs once the Ready's writes are durable: only now may a follower's messages leave.
    private func completeReady(_ ready: Raft.Ready, messagesSent: Bool) {
        if !messagesSent { for message in ready.messages { environment.send(message) } }
        if let snapshot = ready.snapshot {
            guard let machine = Machine(snapshot: snapshot.data) else {
                preconditionFailure("received snapshot at index \(snapshot.index) does not decode")
            }
            stateMachine = machine
            environment.observe(.restoredSnapshot(index: snapshot.index, term: snapshot.term))
            // Proposals at or below the snapshot can no longer be matched to their outcome.
            for index in proposals.keys.sorted() where index <= snapshot.index {
                proposals.removeValue(forKey: index)
            }
            for index in membershipProposals.keys.sorted() where index <= snapshot.index {
                membershipProposals.removeValue(forKey: index)?.completion(.dropped)
            }
        }
        for entry in ready.committedEntries { apply(entry) }
        for state in ready.readStates { confirmedReads.append((state.index, state.context)) }
        raft.advance(ready)
        serveConfirmedReads()
        maybeCompact()
        pump()
    }

    private func apply(_ entry: Raft.Entry) {
        environment.observe(.applied(entry))
        let proposal = proposals.removeValue(forKey: entry.index)
        let membershipProposal = membershipProposals.removeValue(forKey: entry.index)
        if case .confChange(let change) = entry.payload {
            proposal?.completion(.dropped)
            stateMachine.applyConfChange(change, at: entry.index)
            onConfChange?(change)
            if let membershipProposal {
                membershipProposal.completion(membershipProposal.term == entry.term ? .applied : .dropped)
            }
            return
        }
        // A membership proposal overwritten by another leader's entry.
        membershipProposal?.completion(.dropped)
        guard case .normal(let data) = entry.payload else {
            // Empty entries carry no command; a proposal never lands on one unless another
            // leader overwrote it.
            proposal?.completion(.dropped)
            return
        }
        let outcome = stateMachine.apply(data, at: entry.index)
        onApply?(entry, outcome)
        guard let proposal else { return }
        proposal.completion(proposal.term == entry.term ? .applied(outcome) : .dropped)
    }

    private func serveConfirmedReads() {
        let applied = raft.log.applied
        var waiting: [(index: Raft.Index, context: UInt64)] = []
        for read in confirmedReads {
            if read.index > applied {
                waiting.append(read)
            } else if let completion = reads.removeValue(forKey: read.context) {
                completion(.ready)
            }
        }
        confirmedReads = waiting
    }

    /// A read-index request sent under a leader that is gone will never be confirmed. A read has
    /// no effect, so answering it "not leader" is always truthful.
    private func failUnconfirmedReads() {
        let confirmed = Set(confirmedReads.map { $0.context })
        for context in reads.keys.sorted() where !confirmed.contains(context) {
            reads.removeValue(forKey: context)!(.notLeader(leader: raft.leader))
        }
    }

    private func maybeCompact() {
        // `applied` trails a just-received snapshot until its Ready has been handled.
        guard raft.log.applied > raft.log.snapshotIndex,
            raft.log.applied - raft.log.snapshotIndex >= snapshotCount
        else { return }
        raft.compact(snapshotData: stateMachine.snapshot())
        environment.saveSnapshot(raft.latestSnapshot)
    }

    /// Requests accepted and not yet answered.
    public var pendingRequestCount: Int { proposals.count + reads.count + membershipProposals.count }
}
