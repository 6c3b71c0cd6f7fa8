//! Handing work to the shell (`ready`) and learning that it is done (`advance`); compaction and
//! the application of membership changes.

extension Raft.Instance {
    public var hasReady: Bool {
        if readyOutstanding { return false }
        return softState != lastSoftState || hardState != lastHardState || pendingSnapshot != nil
            || log.persisted < log.lastIndex || !outbox.isEmpty || !readStates.isEmpty
            || log.committed > log.applied
    }

    /// The next batch of work. Must be followed by `advance` before the next `ready`.
    public func ready() -> Raft.Ready {
        precondition(!readyOutstanding, "ready() called twice without advance()")
        readyOutstanding = true
        let entries = log.persisted < log.lastIndex ? log.slice(from: log.persisted + 1, through: log.lastIndex) : []
        // Entries in this batch are durable before anything is applied, so committed entries
        // up to the commit index can be handed out now.
        let applyFrom = max(log.applied, log.snapshotIndex) + 1
        let committed = log.committed >= applyFrom ? log.slice(from: applyFrom, through: log.committed) : []
        let ready = Raft.Ready(
            softState: softState != lastSoftState ? softState : nil,
            hardState: hardState != lastHardState ? hardState : nil,
            snapshot: pendingSnapshot,
            entries: entries,
            messages: outbox,
            committedEntries: committed,
            readStates: readStates,
            persistThrough: entries.last?.index ?? 0,
            persistTerm: entries.last?.term ?? 0,
            appliedThrough: committed.last?.index ?? pendingSnapshot?.index ?? log.applied)
        outbox = []
        readStates = []
        pendingSnapshot = nil
        lastSoftState = softState
        if let hard = ready.hardState { lastHardState = hard }
        return ready
    }

    /// The shell persisted, sent and applied everything in `ready`.
    public func advance(_ ready: Raft.Ready) {
        precondition(readyOutstanding, "advance() without ready()")
        readyOutstanding = false
        // Entries may have been overwritten while the batch was being written; only an index
        // still holding the written term is durable as held.
        if ready.persistThrough > log.persisted && log.matches(index: ready.persistThrough, term: ready.persistTerm) {
            log.persisted = ready.persistThrough
        }
        // A snapshot restored after this batch was handed out already holds its changes.
        for entry in ready.committedEntries where entry.index > log.snapshotIndex {
            if case .confChange(let change) = entry.payload { applyConfChange(change) }
        }
        if ready.appliedThrough > log.applied { log.applied = ready.appliedThrough }
        if role == .leader, progress[id] != nil, progress[id]!.maybeUpdate(log.persisted) {
            if maybeCommit() { broadcastAppend() }
        }
    }

    /// Discards the log up to the applied index, which `data` (the state machine's snapshot at
    /// that index) now covers.
    public func compact(snapshotData data: [UInt8]) {
        let index = log.applied
        guard index > log.snapshotIndex else { return }
        let snapshotTerm = log.term(at: index)!
        log.compact(through: index)
        latestSnapshot = Raft.Snapshot(index: index, term: snapshotTerm, conf: conf, data: data)
    }

    /// Applies a committed membership change. Called from `advance`, in log order.
    private func applyConfChange(_ change: Raft.ConfChange) {
        conf = conf.applying(change)
        rebuildProgressAfterConfChange()
        if role == .leader {
            if !conf.voters.contains(id) {
                // A leader removed from the configuration steps down; the others elect anew.
                becomeFollower(term: term, leader: Raft.none)
                return
            }
            // New members (and a smaller quorum) get appends now, not at the next heartbeat.
            maybeCommit()
            broadcastAppend()
            if transferee != Raft.none && !conf.voters.contains(transferee) { transferee = Raft.none }
        }
    }

    /// Adds progress for new members and drops it for removed ones, keeping what is known.
    func rebuildProgressAfterConfChange() {
        let members = Set(conf.voters + conf.learners)
        for node in progress.keys where !members.contains(node) { progress[node] = nil }
        for node in members.sorted() {
            let isLearner = conf.learners.contains(node)
            if progress[node] == nil {
                progress[node] = Raft.Progress(next: log.lastIndex + 1, isLearner: isLearner)
                if node == id { progress[node]!.match = log.persisted }
            } else {
                progress[node]!.isLearner = isLearner
            }
        }
    }
}
