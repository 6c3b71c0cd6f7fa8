//! Services: the shells that turn pure cores' directives into I/O through an environment.
//!
//! `KVReplica` drives one `Raft.Instance` and one `KVStateMachine`. It never touches a socket,
//! file or clock itself: the `ReplicaEnvironment` does, and completions come back as calls on the
//! replica. The simulator's environment is virtual (SimNetwork, SimDisk); the real server's will
//! be sockets and an fsync'd WAL — the same replica code runs in both.

import Base
import KV
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

public enum ClientRequest: Equatable, Sendable {
    case read(key: String)
    case command(KVCommand)
}

public enum ClientOutcome: Equatable, Sendable {
    /// Took effect; a read carries the value it saw.
    case ok(value: String?)
    /// A CAS whose expected value did not match (definitely no effect).
    case casMismatch
    /// This node cannot serve the request (definitely no effect); `leader` is a hint.
    case notLeader(leader: Raft.NodeID)
    /// The proposal was overwritten by another leader's entry (definitely no effect).
    case dropped
}

public final class KVReplica<Environment: ReplicaEnvironment> {
    public let raft: Raft.Instance
    public private(set) var stateMachine: KVStateMachine
    /// Compact the log after this many applied entries (etcd: --snapshot-count).
    public let snapshotCount: Raft.Index
    private unowned let environment: Environment
    private var persisting = false
    private var proposals: [Raft.Index: (term: Raft.Term, completion: (ClientOutcome) -> Void)] = [:]
    private var reads: [UInt64: (key: String, completion: (ClientOutcome) -> Void)] = [:]
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
            ? KVStateMachine() : KVStateMachine(snapshot: recovered.snapshot.data)
        else { preconditionFailure("snapshot at index \(recovered.snapshot.index) does not decode") }
        self.stateMachine = machine
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

    public func submit(_ request: ClientRequest, completion: @escaping (ClientOutcome) -> Void) {
        if proposals.count + reads.count >= maxPendingRequests {
            completion(.notLeader(leader: raft.leader))
            return
        }
        switch request {
        case .read(let key):
            if raft.leader == Raft.none {
                completion(.notLeader(leader: Raft.none))
                return
            }
            let context = nextReadContext
            nextReadContext += 1
            reads[context] = (key, completion)
            raft.readIndex(context: context)
        case .command(let command):
            switch raft.propose(command.encoded()) {
            case .success(let position):
                proposals[position.index] = (position.term, completion)
            case .failure:
                completion(.notLeader(leader: raft.leader))
                return
            }
        }
        pump()
    }

    public func changeMembership(_ change: Raft.ConfChange) -> Result<Raft.Index, Raft.ProposalError> {
        defer { pump() }
        return raft.proposeConfChange(change).map { $0.index }
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
        if !needsWrite {
            completeReady(ready)
            return
        }
        persisting = true
        let batch = PersistBatch(hardState: ready.hardState, snapshot: ready.snapshot, entries: ready.entries)
        environment.persist(batch) { [weak self] in
            guard let self else { return }
            self.persisting = false
            self.completeReady(ready)
        }
    }

    /// Runs once the Ready's writes are durable: only now may its messages leave.
    private func completeReady(_ ready: Raft.Ready) {
        for message in ready.messages { environment.send(message) }
        if let snapshot = ready.snapshot {
            guard let machine = KVStateMachine(snapshot: snapshot.data) else {
                preconditionFailure("received snapshot at index \(snapshot.index) does not decode")
            }
            stateMachine = machine
            environment.observe(.restoredSnapshot(index: snapshot.index, term: snapshot.term))
            // Proposals at or below the snapshot can no longer be matched to their outcome.
            for index in proposals.keys.sorted() where index <= snapshot.index {
                proposals.removeValue(forKey: index)
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
        var outcome = ClientOutcome.ok(value: nil)
        if case .normal(let data) = entry.payload {
            guard let command = KVCommand(decoding: data) else {
                preconditionFailure("entry \(entry) holds an undecodable command")
            }
            if stateMachine.apply(command) == .casMismatch { outcome = .casMismatch }
        }
        guard let proposal = proposals.removeValue(forKey: entry.index) else { return }
        proposal.completion(proposal.term == entry.term ? outcome : .dropped)
    }

    private func serveConfirmedReads() {
        let applied = raft.log.applied
        var waiting: [(index: Raft.Index, context: UInt64)] = []
        for read in confirmedReads {
            if read.index > applied {
                waiting.append(read)
            } else if let request = reads.removeValue(forKey: read.context) {
                request.completion(.ok(value: stateMachine.read(request.key)))
            }
        }
        confirmedReads = waiting
    }

    /// A read-index request sent under a leader that is gone will never be confirmed. A read has
    /// no effect, so answering it "not leader" is always truthful.
    private func failUnconfirmedReads() {
        let confirmed = Set(confirmedReads.map { $0.context })
        for context in reads.keys.sorted() where !confirmed.contains(context) {
            reads.removeValue(forKey: context)!.completion(.notLeader(leader: raft.leader))
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
    public var pendingRequestCount: Int { proposals.count + reads.count }
}
