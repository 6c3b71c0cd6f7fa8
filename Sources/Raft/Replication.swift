//! Sending the log: appends with pipelining and flow control, snapshots, heartbeats.

extension Raft.Instance {
    /// Sends every follower what it lacks, or an empty append carrying the new commit index.
    func broadcastAppend() {
        for peer in progress.keys.sorted() where peer != id { sendAppend(to: peer, evenIfEmpty: true) }
    }

    /// Sends as many appends as the follower's flow-control window allows.
    func sendAppend(to peer: Raft.NodeID, evenIfEmpty: Bool = false) {
        var sendEmpty = evenIfEmpty
        while sendOneAppend(to: peer, evenIfEmpty: sendEmpty) { sendEmpty = false }
    }

    /// Returns true when another append could follow at once (pipelining).
    private func sendOneAppend(to peer: Raft.NodeID, evenIfEmpty: Bool) -> Bool {
        guard let current = progress[peer], !current.isPaused(maxInflight: config.maxInflightMessages) else { return false }
        let previousIndex = current.next - 1
        guard let previousTerm = log.term(at: previousIndex), current.next > log.snapshotIndex else {
            sendSnapshot(to: peer)
            return false
        }
        let entries = current.next <= log.lastIndex
            ? log.slice(from: current.next, through: log.lastIndex, maxCount: config.maxEntriesPerMessage,
                maxBytes: config.maxBytesPerMessage)
            : []
        if current.state == .replicate && entries.isEmpty && !evenIfEmpty { return false }
        var message = Message(kind: .append, from: id, to: peer, term: term)
        message.index = previousIndex
        message.logTerm = previousTerm
        message.entries = entries
        message.commit = log.committed
        send(message)
        progress[peer]!.sent(last: previousIndex + Raft.Index(entries.count), entryCount: entries.count)
        return progress[peer]!.state == .replicate && progress[peer]!.next <= log.lastIndex
    }

    private func sendSnapshot(to peer: Raft.NodeID) {
        let snapshot = latestSnapshot
        precondition(snapshot.index == log.snapshotIndex,
            "snapshot provider gave \(snapshot.index), log compacted at \(log.snapshotIndex)")
        var message = Message(kind: .snapshot, from: id, to: peer, term: term)
        message.snapshot = snapshot
        send(message)
        progress[peer]!.becomeSnapshot(snapshot.index)
    }

    func broadcastHeartbeat(context: UInt64) {
        for peer in progress.keys.sorted() where peer != id {
            var message = Message(kind: .heartbeat, from: id, to: peer, term: term)
            // Never tell a follower to commit beyond what it is known to hold.
            message.commit = min(progress[peer]!.match, log.committed)
            message.context = context
            send(message)
        }
    }

    // MARK: - Reads

    func handleReadIndex(context: UInt64, from requester: Raft.NodeID) {
        if conf.voters == [id] {
            respondRead(Raft.ReadState(index: log.committed, context: context), to: requester)
            return
        }
        // §6.4: the commit index is only known to be current once this leader has committed an
        // entry of its own term.
        guard log.term(at: log.committed) == term else {
            if deferredReads.count < config.maxPendingReads { deferredReads.append((context, requester)) }
            return
        }
        if config.leaseReads || config.mutation == .readWithoutReadIndex {
            // The lease: check-quorum guarantees no other leader was elected while we heard from
            // a quorum within the election timeout, if every clock runs at the same rate.
            respondRead(Raft.ReadState(index: log.committed, context: context), to: requester)
            return
        }
        guard readOnly.count < config.maxPendingReads else { return }
        readOnly.add(context: context, index: log.committed, requester: requester, leader: id)
        broadcastHeartbeat(context: context)
    }

    func releaseDeferredReads() {
        let waiting = deferredReads
        deferredReads = []
        for read in waiting { handleReadIndex(context: read.context, from: read.from) }
    }

    func releaseRead(_ pending: ReadOnlyQueue.Pending) {
        respondRead(Raft.ReadState(index: pending.index, context: pending.context), to: pending.requester)
    }

    private func respondRead(_ state: Raft.ReadState, to requester: Raft.NodeID) {
        if requester == id {
            readStates.append(state)
        } else {
            var response = Message(kind: .readIndexResponse, from: id, to: requester, term: term)
            response.index = state.index
            response.context = state.context
            send(response)
        }
    }
}

/// Read-index requests waiting for a quorum of heartbeat acknowledgements, oldest first.
/// Acknowledging a later request confirms every earlier one too.
struct ReadOnlyQueue {
    struct Pending {
        var context: UInt64
        var index: Raft.Index
        var requester: Raft.NodeID
        var acks: Set<Raft.NodeID>
    }
    private var pending: [Pending] = []

    var count: Int { pending.count }
    var lastContext: UInt64? { pending.last?.context }

    mutating func add(context: UInt64, index: Raft.Index, requester: Raft.NodeID, leader: Raft.NodeID) {
        pending.append(Pending(context: context, index: index, requester: requester, acks: [leader]))
    }

    /// Records `peer`'s acknowledgement of `context`; returns the requests now confirmed.
    mutating func acknowledge(context: UInt64, from peer: Raft.NodeID, quorum: Int, voters: [Raft.NodeID]) -> [Pending] {
        guard let position = pending.firstIndex(where: { $0.context == context }) else { return [] }
        if voters.contains(peer) { pending[position].acks.insert(peer) }
        guard pending[position].acks.count >= quorum else { return [] }
        let confirmed = Array(pending[...position])
        pending.removeFirst(position + 1)
        return confirmed
    }
}
