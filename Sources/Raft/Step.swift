//! Message handling: the term rules common to every role, then one handler per role.

extension Raft.Instance {
    public typealias Message = Raft.Message

    /// Feeds a message received from a peer.
    public func step(_ message: Message) {
        precondition(message.to == id, "message \(message) delivered to \(id)")
        // Messages from nodes outside the configuration are still processed: a removed leader's
        // heartbeat must make it step down, and a new member learns the log before it is known.
        guard message.from != Raft.none else { return }
        if message.term > term {
            if message.kind == .vote || message.kind == .preVote {
                let forced = message.context == Raft.Instance.transferContext
                let inLease = config.checkQuorum && leader != Raft.none && electionElapsed < config.electionTicks
                // §9.6 / §4.2.3: while we hear from a live leader, a disruptive candidate (one
                // that was partitioned away) is ignored rather than allowed to depose it.
                if !forced && inLease { return }
            }
            switch message.kind {
            case .preVote:
                break  // A pre-vote never changes our term.
            case .preVoteResponse where !message.reject:
                break  // We bump our term once a quorum granted the pre-vote.
            case .append, .heartbeat, .snapshot:
                becomeFollower(term: message.term, leader: message.from)
            default:
                becomeFollower(term: message.term, leader: Raft.none)
            }
        } else if message.term < term {
            if config.mutation == .countStaleVotes && message.kind == .voteResponse && role == .candidate {
                stepCandidate(message)  // Deliberately wrong: see Raft.Mutation.
                return
            }
            if (config.checkQuorum || config.preVote) && (message.kind == .heartbeat || message.kind == .append) {
                // A stale leader learns our term and steps down; without this, a node with a
                // higher term that pre-vote keeps from winning could never rejoin.
                send(Message(kind: .appendResponse, from: id, to: message.from, term: term))
            } else if message.kind == .preVote {
                var response = Message(kind: .preVoteResponse, from: id, to: message.from, term: term)
                response.reject = true
                send(response)
            }
            return
        }

        switch message.kind {
        case .vote, .preVote:
            handleVoteRequest(message)
        default:
            switch role {
            case .leader: stepLeader(message)
            case .candidate, .preCandidate: stepCandidate(message)
            case .follower: stepFollower(message)
            }
        }
    }

    private func handleVoteRequest(_ message: Message) {
        let isPreVote = message.kind == .preVote
        let canVote = vote == message.from
            || (vote == Raft.none && leader == Raft.none)
            || (isPreVote && message.term > term)
        let upToDate = config.mutation == .voteIgnoresLog
            || log.isUpToDate(lastIndex: message.index, lastTerm: message.logTerm)
        var response = Message(kind: isPreVote ? .preVoteResponse : .voteResponse, from: id, to: message.from,
            term: isPreVote ? message.term : term)
        if canVote && upToDate {
            if !isPreVote {
                electionElapsed = 0
                vote = message.from
            }
        } else {
            response.reject = true
            response.term = term
        }
        send(response)
    }

    // MARK: - Leader

    private func stepLeader(_ message: Message) {
        guard progress[message.from] != nil else { return }
        switch message.kind {
        case .appendResponse:
            progress[message.from]!.recentActive = true
            onAppendResponse(message)
        case .heartbeatResponse:
            progress[message.from]!.recentActive = true
            onHeartbeatResponse(message)
        case .readIndex:
            handleReadIndex(context: message.context, from: message.from)
        default:
            break  // Other leaders' traffic for this term cannot exist; stale kinds are ignored.
        }
    }

    private func onAppendResponse(_ message: Message) {
        let peer = message.from
        if message.reject {
            var hint = message.rejectHint
            if message.logTerm > 0 { hint = log.conflictSearch(from: message.rejectHint, term: message.logTerm).index }
            if progress[peer]!.maybeDecrease(rejected: message.index, hint: hint) {
                if progress[peer]!.state == .replicate { progress[peer]!.becomeProbe() }
                sendAppend(to: peer)
            }
            return
        }
        let wasPaused = progress[peer]!.isPaused(maxInflight: config.maxInflightMessages)
        guard progress[peer]!.maybeUpdate(message.index) else {
            if wasPaused && !progress[peer]!.isPaused(maxInflight: config.maxInflightMessages) { sendAppend(to: peer) }
            return
        }
        switch progress[peer]!.state {
        case .probe: progress[peer]!.becomeReplicate()
        case .snapshot:
            if progress[peer]!.match >= progress[peer]!.pendingSnapshot { progress[peer]!.becomeProbe() }
        case .replicate: break
        }
        if maybeCommit() {
            broadcastAppend()
        } else {
            // Keep the pipeline full: send whatever the window now allows.
            sendAppend(to: peer)
        }
        if peer == transferee && progress[peer]!.match == log.lastIndex {
            send(Message(kind: .timeoutNow, from: id, to: peer, term: term))
        }
    }

    private func onHeartbeatResponse(_ message: Message) {
        let peer = message.from
        progress[peer]!.probeSent = false
        if progress[peer]!.state == .replicate && progress[peer]!.isPaused(maxInflight: config.maxInflightMessages) {
            // The window is full of appends that may all be lost (the follower restarted, say):
            // free one slot so an append goes out, and a rejection can restart probing.
            progress[peer]!.inflight.removeFirst()
        }
        if progress[peer]!.state == .snapshot && progress[peer]!.stateTicks > config.electionTicks {
            // The snapshot (or its answer) was lost; probe again.
            progress[peer]!.becomeProbe()
        }
        // Even an empty append: the follower's answer tells whether our optimistic `next` is
        // right (it may have lost everything we pipelined).
        if progress[peer]!.match < log.lastIndex { sendAppend(to: peer, evenIfEmpty: true) }
        guard message.context != 0 else { return }
        for state in readOnly.acknowledge(context: message.context, from: peer, quorum: quorum, voters: conf.voters) {
            releaseRead(state)
        }
    }

    /// Commits the highest index a quorum of voters holds, if it is of the current term (§5.4.2).
    @discardableResult
    func maybeCommit() -> Bool {
        var matches = conf.voters.map { progress[$0]?.match ?? 0 }
        matches.sort(by: >)
        let candidate = matches[quorum - 1]
        guard candidate > log.committed, let candidateTerm = log.term(at: candidate) else { return false }
        if candidateTerm != term && config.mutation != .commitPreviousTermByCount { return false }
        let before = log.committed
        log.commit(to: candidate)
        uncommittedEntries = max(0, uncommittedEntries - Int(candidate - before))
        if candidateTerm == term { releaseDeferredReads() }
        return true
    }

    // MARK: - Candidate

    func stepCandidate(_ message: Message) {
        let expected: Raft.MessageKind = role == .preCandidate ? .preVoteResponse : .voteResponse
        switch message.kind {
        case .append, .heartbeat, .snapshot:
            becomeFollower(term: message.term, leader: message.from)
            stepFollower(message)
        case expected:
            guard conf.voters.contains(message.from) else { return }
            votes[message.from] = !message.reject
            switch tallyVotes() {
            case .won:
                if role == .preCandidate { campaign(preVote: false, force: false) } else { becomeLeader() }
            case .lost:
                becomeFollower(term: term, leader: Raft.none)
            case .pending:
                break
            }
        default:
            break
        }
    }

    // MARK: - Follower

    private func stepFollower(_ message: Message) {
        switch message.kind {
        case .append:
            electionElapsed = 0
            leader = message.from
            onAppend(message)
        case .heartbeat:
            electionElapsed = 0
            leader = message.from
            log.commit(to: min(message.commit, log.lastIndex))
            var response = Message(kind: .heartbeatResponse, from: id, to: message.from, term: term)
            response.context = message.context
            send(response)
        case .snapshot:
            electionElapsed = 0
            leader = message.from
            onSnapshot(message)
        case .timeoutNow:
            // Leader transfer: campaign at once, skipping pre-vote, and let the request through
            // other nodes' leader lease.
            if isVoter { campaign(preVote: false, force: true) }
        case .readIndexResponse:
            readStates.append(Raft.ReadState(index: message.index, context: message.context))
        case .readIndex:
            if leader != Raft.none {
                var forwarded = message
                forwarded.to = leader
                forwarded.from = id
                send(forwarded)
            }
        default:
            break
        }
    }

    private func onAppend(_ message: Message) {
        var response = Message(kind: .appendResponse, from: id, to: message.from, term: term)
        if message.index < log.committed {
            response.index = log.committed
            send(response)
            return
        }
        if let lastNew = log.maybeAppend(prevIndex: message.index, prevTerm: message.logTerm,
            leaderCommit: message.commit, newEntries: message.entries)
        {
            response.index = lastNew
            send(response)
            return
        }
        // Fast backtracking: point the leader at our last entry whose term is not newer than
        // the one it probed with, skipping a whole conflicting term in one round trip.
        let probe = min(message.index, log.lastIndex)
        let hint = log.conflictSearch(from: probe, term: message.logTerm)
        response.reject = true
        response.index = message.index
        response.rejectHint = hint.index
        response.logTerm = hint.term
        send(response)
    }

    private func onSnapshot(_ message: Message) {
        let snapshot = message.snapshot!
        var response = Message(kind: .appendResponse, from: id, to: message.from, term: term)
        if snapshot.index <= log.committed {
            response.index = log.committed
        } else if log.matches(index: snapshot.index, term: snapshot.term) {
            // We already hold the snapshot's last entry: just move the commit index.
            log.commit(to: snapshot.index)
            response.index = log.committed
        } else {
            log.restore(snapshot)
            latestSnapshot = snapshot
            conf = snapshot.conf
            pendingSnapshot = snapshot
            rebuildProgressAfterConfChange()
            response.index = log.lastIndex
        }
        send(response)
    }
}
