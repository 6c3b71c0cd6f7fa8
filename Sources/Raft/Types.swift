//! The values that cross the core's boundary: log entries, messages, hard state, snapshots.

extension Raft {
    /// A membership change: one voter or learner added, promoted or removed, or a member's
    /// attributes updated (`updateNode` leaves the configuration as it is).
    public struct ConfChange: Equatable, Sendable, CustomStringConvertible {
        public enum Kind: UInt8, Sendable { case addVoter = 1, addLearner = 2, removeNode = 3, updateNode = 4 }
        public var kind: Kind
        public var node: NodeID
        /// Opaque to Raft: what the application records about the member (etcd: its peer URLs).
        public var context: [UInt8]
        public init(_ kind: Kind, _ node: NodeID, context: [UInt8] = []) {
            self.kind = kind
            self.node = node
            self.context = context
        }
        public var description: String { "\(kind)(\(node))" }
    }

    /// Which nodes vote and which only learn.
    /// Invariant: `voters` and `learners` are disjoint.
    public struct ConfState: Equatable, Sendable, CustomStringConvertible {
        public var voters: [NodeID]
        public var learners: [NodeID]
        public init(voters: [NodeID], learners: [NodeID] = []) {
            self.voters = voters.sorted()
            self.learners = learners.sorted()
            precondition(Set(voters).isDisjoint(with: learners), "voters \(voters) and learners \(learners) overlap")
        }
        public var description: String { "voters=\(voters) learners=\(learners)" }

        /// The configuration after `change`.
        public func applying(_ change: ConfChange) -> ConfState {
            var voterSet = voters.filter { $0 != change.node }
            var learnerSet = learners.filter { $0 != change.node }
            switch change.kind {
            case .addVoter: voterSet.append(change.node)
            case .addLearner: learnerSet.append(change.node)
            case .removeNode: break
            case .updateNode: return self
            }
            return ConfState(voters: voterSet, learners: learnerSet)
        }
    }

    public enum EntryPayload: Equatable, Sendable {
        /// The no-op a new leader appends to commit entries of earlier terms.
        case empty
        case normal([UInt8])
        case confChange(ConfChange)
    }

    public struct Entry: Equatable, Sendable, CustomStringConvertible {
        public var term: Term
        public var index: Index
        public var payload: EntryPayload
        public init(term: Term, index: Index, payload: EntryPayload) {
            self.term = term
            self.index = index
            self.payload = payload
        }
        public var description: String { "\(term)/\(index)" }
        /// Size charged against the flow-control byte budgets.
        public var byteCount: Int {
            switch payload {
            case .empty: return 16
            case .normal(let data): return 16 + data.count
            case .confChange(let change): return 26 + change.context.count
            }
        }
    }

    /// What must be durable before any message that depends on it is sent.
    public struct HardState: Equatable, Sendable, CustomStringConvertible {
        public var term: Term
        public var vote: NodeID
        public var commit: Index
        public init(term: Term = 0, vote: NodeID = Raft.none, commit: Index = 0) {
            self.term = term
            self.vote = vote
            self.commit = commit
        }
        public var description: String { "term=\(term) vote=\(vote) commit=\(commit)" }
    }

    public struct Snapshot: Equatable, Sendable {
        public var index: Index
        public var term: Term
        public var conf: ConfState
        public var data: [UInt8]
        public init(index: Index, term: Term, conf: ConfState, data: [UInt8]) {
            self.index = index
            self.term = term
            self.conf = conf
            self.data = data
        }
    }

    public enum MessageKind: UInt8, Sendable, CaseIterable {
        case append = 1, appendResponse, vote, voteResponse, preVote, preVoteResponse
        case heartbeat, heartbeatResponse, snapshot, timeoutNow, readIndex, readIndexResponse
    }

    /// A message between two nodes. Unused fields are zero.
    public struct Message: Equatable, Sendable, CustomStringConvertible {
        public var kind: MessageKind
        public var from: NodeID
        public var to: NodeID
        public var term: Term
        /// append: term of the entry before `entries`; vote: candidate's last log term;
        /// appendResponse(reject): term of the follower's entry at `rejectHint`.
        public var logTerm: Term = 0
        /// append: index of the entry before `entries`; vote: candidate's last index;
        /// appendResponse: the follower's last matching index (or the rejected index).
        public var index: Index = 0
        public var entries: [Entry] = []
        public var commit: Index = 0
        public var reject = false
        public var rejectHint: Index = 0
        public var snapshot: Snapshot? = nil
        /// Heartbeats and read-index traffic carry the read request they confirm; votes carry
        /// `transferContext` when a leader transfer forces the election.
        public var context: UInt64 = 0

        public init(kind: MessageKind, from: NodeID, to: NodeID, term: Term) {
            self.kind = kind
            self.from = from
            self.to = to
            self.term = term
        }

        public var description: String {
            var text = "\(kind) \(from)->\(to) t\(term)"
            switch kind {
            case .append:
                text += " prev=\(logTerm)/\(index) n=\(entries.count) commit=\(commit)"
            case .appendResponse:
                text += reject ? " reject=\(index) hint=\(logTerm)/\(rejectHint)" : " match=\(index)"
            case .vote, .preVote: text += " last=\(logTerm)/\(index)"
            case .voteResponse, .preVoteResponse: text += reject ? " rejected" : " granted"
            case .heartbeat: text += " commit=\(commit) ctx=\(context)"
            case .snapshot: text += " snap=\(snapshot.map { "\($0.term)/\($0.index)" } ?? "nil")"
            case .heartbeatResponse, .readIndex, .readIndexResponse: text += " ctx=\(context) idx=\(index)"
            case .timeoutNow: break
            }
            return text
        }
    }

    /// A confirmed read: once the state machine has applied `index`, the read with `context` may
    /// be served linearizably.
    public struct ReadState: Equatable, Sendable {
        public var index: Index
        public var context: UInt64
        public init(index: Index, context: UInt64) {
            self.index = index
            self.context = context
        }
    }

    public enum Role: String, Sendable { case follower, preCandidate, candidate, leader }

    public struct SoftState: Equatable, Sendable {
        public var leader: NodeID
        public var role: Role
    }

    public enum ProposalError: Error, Equatable, Sendable {
        case notLeader(knownLeader: NodeID)
        case transferInProgress
        case tooManyUncommitted
        case confChangePending(Index)
        case learnerNotCaughtUp(NodeID)
        case invalidConfChange(String)
    }
}

extension Raft {
    /// The log a brand-new cluster starts from: one committed `addVoter` entry per initial member
    /// at term 1, as etcd bootstraps. The membership lives in the log, so a node that joins later
    /// with an empty log learns the whole configuration history by replaying it.
    /// `contexts` gives each voter's `ConfChange.context` (the application's member record).
    public static func bootstrap(voters: [NodeID], contexts: [NodeID: [UInt8]] = [:]) -> (hardState: HardState, entries: [Entry]) {
        precondition(!voters.isEmpty, "a cluster needs at least one voter")
        precondition(Set(voters).count == voters.count, "duplicate voters in \(voters)")
        precondition(!voters.contains(Raft.none), "node id 0 is reserved")
        let entries = voters.sorted().enumerated().map { offset, node in
            Entry(term: 1, index: Index(offset + 1),
                payload: .confChange(ConfChange(.addVoter, node, context: contexts[node] ?? [])))
        }
        return (HardState(term: 1, vote: Raft.none, commit: Index(entries.count)), entries)
    }

    /// The configuration before anything is applied: nobody (the log says who is a member).
    public static let emptySnapshot = Snapshot(index: 0, term: 0, conf: ConfState(voters: []), data: [])
}
