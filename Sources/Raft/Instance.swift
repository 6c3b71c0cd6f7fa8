//! `Raft.Instance`: one node's consensus state. Single-threaded, no I/O; see Raft.swift for the
//! contract with the shell.

import Base

extension Raft {
    public struct Ready: Sendable {
        public var softState: SoftState?
        public var hardState: HardState?
        /// A snapshot received from the leader, to persist and to restore the state machine from.
        public var snapshot: Snapshot?
        /// Entries to append to stable storage (overwriting from `entries.first.index`).
        public var entries: [Entry]
        /// To send only after the above is durable.
        public var messages: [Message]
        public var committedEntries: [Entry]
        public var readStates: [ReadState]
        /// Highest index `entries`/`snapshot` make durable (0: nothing to persist).
        var persistThrough: Index
        var persistTerm: Term
        var appliedThrough: Index

        public var isEmpty: Bool {
            softState == nil && hardState == nil && snapshot == nil && entries.isEmpty && messages.isEmpty
                && committedEntries.isEmpty && readStates.isEmpty
        }
    }

    public final class Instance {
        public let config: Config
        public internal(set) var id: NodeID
        public internal(set) var term: Term = 0
        public internal(set) var vote: NodeID = Raft.none
        public internal(set) var leader: NodeID = Raft.none
        public internal(set) var role: Role = .follower
        public internal(set) var log: Log
        public internal(set) var conf: ConfState
        public internal(set) var progress: [NodeID: Progress] = [:]
        /// Index of the latest conf change appended; no new one until it is applied.
        public internal(set) var pendingConfIndex: Index = 0
        public internal(set) var transferee: NodeID = Raft.none

        var votes: [NodeID: Bool] = [:]
        var electionElapsed = 0
        var heartbeatElapsed = 0
        var randomizedElectionTimeout = 0
        var random: SeededRandom
        var uncommittedEntries = 0
        var readOnly = ReadOnlyQueue()
        /// Read requests that arrived before this leader committed an entry of its term.
        var deferredReads: [(context: UInt64, from: NodeID)] = []

        var outbox: [Message] = []
        var readStates: [ReadState] = []
        var lastSoftState: SoftState
        var lastHardState: HardState
        var readyOutstanding = false
        /// A snapshot received and not yet handed to the shell.
        var pendingSnapshot: Raft.Snapshot?
        /// The state machine snapshot the log was last compacted to, sent to followers that fell
        /// behind it. Invariant: `latestSnapshot.index == log.snapshotIndex`.
        public internal(set) var latestSnapshot: Raft.Snapshot

        static let transferContext: UInt64 = 0x7472_616e_7366_6572

        /// A node recovered from what it persisted (or a new one: all empty).
        /// `snapshot.conf` is the configuration as of the snapshot; a fresh cluster passes a
        /// snapshot at index 0 with the initial voters.
        public init(config: Config, hardState: HardState, snapshot: Snapshot, entries: [Entry]) {
            if let problem = config.validate() { preconditionFailure("invalid Raft config: \(problem)") }
            self.config = config
            self.id = config.id
            self.random = SeededRandom(seed: config.seed)
            self.log = Log(snapshotIndex: snapshot.index, snapshotTerm: snapshot.term, entries: entries,
                committed: hardState.commit)
            self.conf = snapshot.conf
            self.latestSnapshot = snapshot
            self.term = hardState.term
            self.vote = hardState.vote
            self.lastSoftState = SoftState(leader: Raft.none, role: .follower)
            self.lastHardState = hardState
            resetProgress()
            becomeFollower(term: term, leader: Raft.none)
        }

        // MARK: - Queries

        public var hardState: HardState { HardState(term: term, vote: vote, commit: log.committed) }
        public var softState: SoftState { SoftState(leader: leader, role: role) }
        public var isVoter: Bool { conf.voters.contains(id) }
        var quorum: Int { conf.voters.count / 2 + 1 }

        // MARK: - Events

        /// One tick of the logical clock (the shell's tick interval, 100 ms by default).
        public func tick() {
            if role == .leader { tickLeader() } else { tickElection() }
        }

        private func tickElection() {
            electionElapsed += 1
            if isVoter && electionElapsed >= randomizedElectionTimeout {
                electionElapsed = 0
                campaign(preVote: config.preVote, force: false)
            }
        }

        private func tickLeader() {
            heartbeatElapsed += 1
            electionElapsed += 1
            for peer in progress.keys.sorted() where peer != id {
                progress[peer]!.stateTicks += 1
            }
            if electionElapsed >= config.electionTicks {
                electionElapsed = 0
                if config.checkQuorum {
                    if !quorumActive() {
                        becomeFollower(term: term, leader: Raft.none)
                        return
                    }
                    for peer in progress.keys where peer != id { progress[peer]!.recentActive = false }
                }
                // A transfer that did not finish within an election timeout is abandoned.
                transferee = Raft.none
            }
            if heartbeatElapsed >= config.heartbeatTicks {
                heartbeatElapsed = 0
                broadcastHeartbeat(context: readOnly.lastContext ?? 0)
            }
        }

        private func quorumActive() -> Bool {
            let active = conf.voters.filter { $0 == id || progress[$0]?.recentActive == true }.count
            return active >= quorum
        }

        /// Appends a client command. Only a leader accepts; the returned index and term identify
        /// the entry: when an entry with this index and a different term is applied, it was lost.
        public func propose(_ data: [UInt8]) -> Result<(index: Index, term: Term), ProposalError> {
            switch checkProposable() {
            case .failure(let error): return .failure(error)
            case .success: break
            }
            let index = appendAsLeader(.normal(data))
            return .success((index, term))
        }

        public func proposeConfChange(_ change: ConfChange) -> Result<(index: Index, term: Term), ProposalError> {
            switch checkProposable() {
            case .failure(let error): return .failure(error)
            case .success: break
            }
            if pendingConfIndex > log.applied { return .failure(.confChangePending(pendingConfIndex)) }
            let isVoterNow = conf.voters.contains(change.node)
            let isLearnerNow = conf.learners.contains(change.node)
            switch change.kind {
            case .addVoter:
                if isVoterNow { return .failure(.invalidConfChange("\(change.node) is already a voter")) }
                if isLearnerNow, let learner = progress[change.node], learner.match < log.committed {
                    return .failure(.learnerNotCaughtUp(change.node))
                }
            case .addLearner:
                if isVoterNow { return .failure(.invalidConfChange("\(change.node) is a voter; remove it first")) }
                if isLearnerNow { return .failure(.invalidConfChange("\(change.node) is already a learner")) }
            case .updateNode:
                if !isVoterNow && !isLearnerNow { return .failure(.invalidConfChange("\(change.node) is not a member")) }
            case .removeNode:
                if !isVoterNow && !isLearnerNow { return .failure(.invalidConfChange("\(change.node) is not a member")) }
                if isVoterNow && conf.voters.count == 1 { return .failure(.invalidConfChange("cannot remove the last voter")) }
            }
            let index = appendAsLeader(.confChange(change))
            pendingConfIndex = index
            return .success((index, term))
        }

        private func checkProposable() -> Result<Void, ProposalError> {
            if role != .leader { return .failure(.notLeader(knownLeader: leader)) }
            if transferee != Raft.none { return .failure(.transferInProgress) }
            if uncommittedEntries >= config.maxUncommittedEntries { return .failure(.tooManyUncommitted) }
            return .success(())
        }

        private func appendAsLeader(_ payload: EntryPayload) -> Index {
            let entry = Entry(term: term, index: log.lastIndex + 1, payload: payload)
            log.append([entry])
            uncommittedEntries += 1
            broadcastAppend()
            // A single voter commits as soon as the entry is durable (see advance).
            return entry.index
        }

        /// Asks for a linearizable read point. The answer arrives as a `ReadState` with the same
        /// context in a later `Ready` (or never, when leadership is lost: the shell times out).
        public func readIndex(context: UInt64) {
            if role == .leader {
                handleReadIndex(context: context, from: id)
            } else if leader != Raft.none {
                var request = Message(kind: .readIndex, from: id, to: leader, term: term)
                request.context = context
                send(request)
            }
        }

        /// Moves a follower's election clock to one tick before the minimum election timeout, as
        /// etcd does at start (`--initial-election-tick-advance`): a fresh cluster elects its first
        /// leader within a tick or so instead of a whole election timeout. Pre-vote keeps this
        /// from disturbing a cluster that already has a leader.
        public func advanceElectionTicks() {
            guard role == .follower, leader == Raft.none else { return }
            electionElapsed = max(electionElapsed, config.electionTicks - 1)
        }

        /// Starts handing leadership to `target`; the leader stops accepting proposals until the
        /// transfer completes or an election timeout passes.
        public func transferLeadership(to target: NodeID) {
            guard role == .leader, target != id, conf.voters.contains(target), transferee != target else { return }
            transferee = target
            electionElapsed = 0
            if progress[target]!.match == log.lastIndex {
                send(Message(kind: .timeoutNow, from: id, to: target, term: term))
            } else {
                sendAppend(to: target)
            }
        }

        /// Forces an election now (tests and operators).
        public func campaignNow() {
            guard role != .leader, isVoter else { return }
            campaign(preVote: config.preVote, force: false)
        }

        // MARK: - Roles

        func becomeFollower(term newTerm: Term, leader newLeader: NodeID) {
            reset(term: newTerm)
            role = .follower
            leader = newLeader
        }

        private func becomePreCandidate() {
            precondition(role != .leader, "invalid transition [leader -> preCandidate] at term \(term)")
            // Pre-vote changes neither term nor vote: a partitioned node that keeps failing
            // elections does not inflate its term and disrupt the cluster when it returns.
            votes = [:]
            role = .preCandidate
            leader = Raft.none
        }

        private func becomeCandidate() {
            precondition(role != .leader, "invalid transition [leader -> candidate] at term \(term)")
            let previousVotes = votes
            reset(term: term + 1)
            if config.mutation == .countStaleVotes && role == .candidate {
                votes = previousVotes  // Deliberately wrong: grants from the last term still count.
            }
            vote = id
            role = .candidate
        }

        func becomeLeader() {
            precondition(role == .candidate, "invalid transition [\(role) -> leader] at term \(term)")
            reset(term: term)
            role = .leader
            leader = id
            progress[id]!.becomeReplicate()
            progress[id]!.recentActive = true
            // A new leader may not propose a conf change until its no-op is applied: it cannot
            // know whether an entry it holds beyond its commit index is a conf change.
            pendingConfIndex = log.lastIndex
            let noop = Entry(term: term, index: log.lastIndex + 1, payload: .empty)
            log.append([noop])
            broadcastAppend()
        }

        private func reset(term newTerm: Term) {
            if term != newTerm {
                term = newTerm
                vote = Raft.none
            }
            leader = Raft.none
            electionElapsed = 0
            heartbeatElapsed = 0
            randomizedElectionTimeout = config.electionTicks + random.int(in: 0...(config.electionTicks - 1))
            votes = [:]
            transferee = Raft.none
            uncommittedEntries = 0
            readOnly = ReadOnlyQueue()
            deferredReads = []
            resetProgress()
        }

        private func resetProgress() {
            var fresh: [NodeID: Progress] = [:]
            for node in conf.voters { fresh[node] = Progress(next: log.lastIndex + 1, isLearner: false) }
            for node in conf.learners { fresh[node] = Progress(next: log.lastIndex + 1, isLearner: true) }
            if fresh[id] != nil { fresh[id]!.match = log.persisted }
            progress = fresh
        }

        func campaign(preVote: Bool, force: Bool) {
            let kind: MessageKind
            let campaignTerm: Term
            if preVote {
                becomePreCandidate()
                kind = .preVote
                campaignTerm = term + 1
            } else {
                becomeCandidate()
                kind = .vote
                campaignTerm = term
            }
            votes[id] = true
            if tallyVotes() == .won {
                if preVote { campaign(preVote: false, force: force) } else { becomeLeader() }
                return
            }
            for peer in conf.voters where peer != id {
                var request = Message(kind: kind, from: id, to: peer, term: campaignTerm)
                request.index = log.lastIndex
                request.logTerm = log.lastTerm
                if force { request.context = Instance.transferContext }
                send(request)
            }
        }

        enum ElectionResult { case pending, won, lost }

        func tallyVotes() -> ElectionResult {
            var granted = 0
            var rejected = 0
            for voter in conf.voters {
                switch votes[voter] {
                case true?: granted += 1
                case false?: rejected += 1
                case nil: break
                }
            }
            if granted >= quorum { return .won }
            // Lost once the voters not yet rejecting can no longer make a quorum.
            if conf.voters.count - rejected < quorum { return .lost }
            return .pending
        }

        func send(_ message: Message) {
            precondition(message.to != id, "sending \(message) to self")
            outbox.append(message)
        }
    }
}
