//! A member's whole durable state: the WAL plus snapshot files, behind the two operations the
//! Raft shell needs (persist a Ready's writes; save a snapshot) and one recovery on start.

import Base
import Raft

public struct RecoveredMember: Sendable {
    public var metadata: MemberMetadata
    public var hardState: Raft.HardState
    public var snapshot: Raft.Snapshot
    /// Entries after `snapshot.index`, contiguous.
    public var entries: [Raft.Entry]
    public var truncatedTailBytes: Int
    /// Damaged snapshot files skipped in favour of an older intact one.
    public var skippedSnapshots: [String]
}

public final class MemberStorage {
    public let dataDirectory: String
    public let wal: WriteAheadLog
    public let snapshots: SnapshotFiles

    public static func walDirectory(_ dataDirectory: String) -> String { dataDirectory + "/member/wal" }
    public static func snapDirectory(_ dataDirectory: String) -> String { dataDirectory + "/member/snap" }

    /// True when `dataDirectory` already holds a member (then flags like --initial-cluster are
    /// ignored, as etcd does, and the member restarts from its own state).
    public static func exists(_ dataDirectory: String) -> Bool {
        let wal = walDirectory(dataDirectory)
        guard Files.isDirectory(wal), let names = try? Files.list(wal) else { return false }
        return names.contains { $0.hasSuffix(".wal") }
    }

    /// Creates a new member's storage holding the cluster's bootstrap log.
    public static func create(dataDirectory: String, metadata: MemberMetadata, hardState: Raft.HardState,
        entries: [Raft.Entry], segmentBytesMax: Int = 64 << 20) throws(StorageError) -> MemberStorage
    {
        let snapshots = try SnapshotFiles(directory: snapDirectory(dataDirectory))
        let wal = try WriteAheadLog.create(directory: walDirectory(dataDirectory), metadata: metadata,
            hardState: hardState, entries: entries, segmentBytesMax: segmentBytesMax)
        return MemberStorage(dataDirectory: dataDirectory, wal: wal, snapshots: snapshots)
    }

    private init(dataDirectory: String, wal: WriteAheadLog, snapshots: SnapshotFiles) {
        self.dataDirectory = dataDirectory
        self.wal = wal
        self.snapshots = snapshots
    }

    /// Recovers the member: the newest intact snapshot, then the WAL's entries after it.
    public static func open(dataDirectory: String, segmentBytesMax: Int = 64 << 20) throws(StorageError)
        -> (storage: MemberStorage, recovered: RecoveredMember)
    {
        let snapshots = try SnapshotFiles(directory: snapDirectory(dataDirectory))
        let (wal, contents) = try WriteAheadLog.open(directory: walDirectory(dataDirectory), segmentBytesMax: segmentBytesMax)
        let firstInWAL = contents.entries.first?.index
        var skipped: [String] = []
        var chosen = Raft.emptySnapshot
        for (path, result) in try snapshots.loadAll() {
            switch result {
            case .success(let snapshot):
                // Usable only if the WAL continues from it (or it is at least as new as the WAL).
                if let firstInWAL, snapshot.index + 1 < firstInWAL { skipped.append(path + ": older than the WAL's first entry") ; continue }
                chosen = snapshot
            case .failure(let error):
                skipped.append(error.description)
                continue
            }
            break
        }
        if let reset = contents.snapshotReset, chosen.index < reset.index {
            throw StorageError(path: snapDirectory(dataDirectory),
                "the WAL records a snapshot at index \(reset.index) from the leader, but no intact snapshot file at or after it exists (skipped: \(skipped))")
        }
        var entries = contents.entries
        if chosen.index > 0 {
            // Raft's rule: a log that disagrees with the snapshot at its index is discarded whole.
            if let at = entries.first(where: { $0.index == chosen.index }) {
                if at.term == chosen.term { entries.removeAll { $0.index <= chosen.index } } else { entries.removeAll() }
            } else if let first = entries.first, first.index > chosen.index + 1 {
                throw StorageError(path: walDirectory(dataDirectory),
                    "the WAL starts at entry \(first.index) but the newest usable snapshot ends at \(chosen.index): entries are missing")
            } else {
                entries.removeAll { $0.index <= chosen.index }
            }
        } else if let first = entries.first, first.index != 1 {
            throw StorageError(path: walDirectory(dataDirectory),
                "the WAL starts at entry \(first.index) and there is no snapshot before it")
        }
        let storage = MemberStorage(dataDirectory: dataDirectory, wal: wal, snapshots: snapshots)
        let recovered = RecoveredMember(metadata: contents.metadata, hardState: contents.hardState,
            snapshot: chosen, entries: entries, truncatedTailBytes: contents.truncatedTailBytes,
            skippedSnapshots: skipped)
        return (storage, recovered)
    }

    /// Makes a Ready's writes durable. A snapshot from the leader is written (and synced) before
    /// the WAL record that says the log was replaced by it.
    public func persist(hardState: Raft.HardState?, snapshot: Raft.Snapshot?, entries: [Raft.Entry]) throws(StorageError) {
        if let snapshot {
            try snapshots.save(snapshot)
            try wal.append(hardState: hardState, entries: entries, snapshotReset: (snapshot.index, snapshot.term))
        } else {
            try wal.append(hardState: hardState, entries: entries)
        }
    }

    /// Saves a snapshot the member took itself (log compaction) and drops WAL segments it covers.
    public func saveSnapshot(_ snapshot: Raft.Snapshot) throws(StorageError) {
        try snapshots.save(snapshot)
        try wal.release(through: snapshot.index)
    }
}
