//! A simulated disk: a write-ahead log of checksummed records, of which only a synced prefix is
//! sure to survive a crash, and an atomically replaced snapshot file.

import Base
import Raft
import Services

struct SimDisk {
    enum Record {
        case hardState(Raft.HardState)
        case entries([Raft.Entry])
        /// The log was replaced by the snapshot at this index (already in `snapshotFile`).
        case snapshotReset(index: Raft.Index, term: Raft.Term)
    }
    private(set) var records: [(record: Record, checksum: UInt64)] = []
    /// Records that survive any crash.
    private(set) var syncedCount = 0
    private(set) var snapshotFile: Raft.Snapshot?

    /// A disk for a founding member holds the bootstrap log; a joining member's disk is empty.
    init(bootstrapVoters: [Raft.NodeID]) {
        guard !bootstrapVoters.isEmpty else { return }
        let bootstrap = Raft.bootstrap(voters: bootstrapVoters)
        append(.entries(bootstrap.entries))
        append(.hardState(bootstrap.hardState))
        syncedCount = records.count
    }

    /// Appends the batch's records (not yet durable); returns the count to sync up to.
    mutating func write(_ batch: PersistBatch) -> Int {
        if let snapshot = batch.snapshot {
            // Written to a temporary file, fsync'd and renamed: atomic and durable at once.
            snapshotFile = snapshot
            append(.snapshotReset(index: snapshot.index, term: snapshot.term))
        }
        if !batch.entries.isEmpty { append(.entries(batch.entries)) }
        if let hard = batch.hardState { append(.hardState(hard)) }
        return records.count
    }

    mutating func sync(through count: Int) {
        precondition(count <= records.count, "syncing \(count) of \(records.count) records")
        syncedCount = max(syncedCount, count)
    }

    mutating func saveSnapshot(_ snapshot: Raft.Snapshot) {
        if let existing = snapshotFile, existing.index >= snapshot.index { return }
        snapshotFile = snapshot
    }

    /// A crash: unsynced records are lost, except a random prefix of them that reached the
    /// platter; with `tear`, the last of those is only partly written.
    mutating func crash(random: inout SeededRandom, tear: Bool) {
        let unsynced = records.count - syncedCount
        let survivors = unsynced > 0 ? random.int(in: 0...unsynced) : 0
        records.removeLast(unsynced - survivors)
        if tear && survivors > 0 {
            records[records.count - 1].checksum ^= 0xdead_beef
        }
        syncedCount = records.count
    }

    private mutating func append(_ record: Record) {
        records.append((record, SimDisk.checksum(record)))
    }

    static func checksum(_ record: Record) -> UInt64 {
        var hash = FNV1a()
        switch record {
        case .hardState(let hard):
            hash.combine(UInt64(1))
            hash.combine(hard.term)
            hash.combine(hard.vote)
            hash.combine(hard.commit)
        case .entries(let entries):
            hash.combine(UInt64(2))
            for entry in entries { combine(entry, into: &hash) }
        case .snapshotReset(let index, let term):
            hash.combine(UInt64(3))
            hash.combine(index)
            hash.combine(term)
        }
        return hash.value
    }

    static func combine(_ entry: Raft.Entry, into hash: inout FNV1a) {
        hash.combine(entry.term)
        hash.combine(entry.index)
        switch entry.payload {
        case .empty: hash.combine(UInt8(0))
        case .normal(let data):
            hash.combine(UInt8(1))
            hash.combine(bytes: data)
        case .confChange(let change):
            hash.combine(UInt8(2))
            hash.combine(change.kind.rawValue)
            hash.combine(change.node)
        }
    }

    /// Rebuilds what a restarting node knows. A record with a bad checksum is accepted only as
    /// the torn tail (it is dropped, as etcd's WAL repair does); anywhere else it is corruption.
    mutating func recover() -> RecoveredState {
        if let torn = records.firstIndex(where: { SimDisk.checksum($0.record) != $0.checksum }) {
            precondition(torn == records.count - 1, "corrupt WAL record \(torn) of \(records.count) (not the tail)")
            records.removeLast()
            syncedCount = min(syncedCount, records.count)
        }
        let snapshot = snapshotFile ?? Raft.emptySnapshot
        var hard = Raft.HardState()
        var base: Raft.Index = 0
        var entries: [Raft.Entry] = []
        for (record, _) in records {
            switch record {
            case .hardState(let state): hard = state
            case .snapshotReset(let index, _):
                base = index
                entries = []
            case .entries(let batch):
                guard let first = batch.first else { continue }
                precondition(first.index <= base + Raft.Index(entries.count) + 1,
                    "WAL gap: entries from \(first.index) after \(base + Raft.Index(entries.count))")
                let keep = max(0, Int(first.index) - Int(base) - 1)
                entries.removeLast(entries.count - min(keep, entries.count))
                entries.append(contentsOf: batch.filter { $0.index > base })
            }
        }
        let usable = entries.filter { $0.index > snapshot.index }
        if let first = usable.first {
            precondition(first.index == snapshot.index + 1,
                "recovered log starts at \(first.index) but snapshot ends at \(snapshot.index)")
        }
        hard.commit = max(hard.commit, snapshot.index)
        return RecoveredState(hardState: hard, snapshot: snapshot, entries: usable)
    }
}
