//! Snapshot files: one file per snapshot, written atomically (temporary file, fsync, rename), with
//! a checksum over the whole body. Loading takes the newest intact one; a damaged newer file is
//! reported and skipped for an older intact one only when the WAL still covers the gap (the caller
//! checks that: a snapshot older than the WAL's first entry is useless).

import Base
import Raft

public final class SnapshotFiles {
    public let directory: String
    /// How many snapshot files to keep (etcd: --max-snapshots 5).
    public let keepCount: Int
    static let magic: UInt32 = 0x4E53_4C46  // "FLSN"
    static let formatVersion: UInt32 = 1

    public init(directory: String, keepCount: Int = 5) throws(StorageError) {
        precondition(keepCount >= 1, "keepCount must be at least 1, got \(keepCount)")
        try Files.makeDirectories(directory)
        self.directory = directory
        self.keepCount = keepCount
    }

    static func fileName(index: Raft.Index, term: Raft.Term) -> String { hex16(term) + "-" + hex16(index) + ".snap" }

    public func save(_ snapshot: Raft.Snapshot) throws(StorageError) {
        var body = ByteWriter(capacity: snapshot.data.count + 64)
        snapshot.encode(into: &body)
        var file = ByteWriter(capacity: body.bytes.count + 20)
        file.uint32(Self.magic)
        file.uint32(Self.formatVersion)
        file.uint32(CRC32C.checksum(body.bytes))
        file.uint64(UInt64(body.bytes.count))
        file.raw(body.bytes)
        try Files.writeAtomically(directory + "/" + Self.fileName(index: snapshot.index, term: snapshot.term), file.bytes)
        try purge()
    }

    /// Snapshot files, newest (highest index) first.
    func names() throws(StorageError) -> [String] {
        let names = try Files.list(directory).filter { $0.hasSuffix(".snap") }
        return names.sorted { index(of: $0) > index(of: $1) }
    }

    private func index(of name: String) -> UInt64 {
        let parts = name.dropLast(5).split(separator: "-")
        return parts.count == 2 ? UInt64(parts[1], radix: 16) ?? 0 : 0
    }

    private func purge() throws(StorageError) {
        for name in try names().dropFirst(keepCount) { try Files.remove(directory + "/" + name) }
        for name in try Files.list(directory) where name.hasSuffix(".snap.tmp") {
            try Files.remove(directory + "/" + name)
        }
    }

    /// Every snapshot on disk, newest first, each either decoded or with the reason it is damaged.
    public func loadAll() throws(StorageError) -> [(path: String, result: Result<Raft.Snapshot, StorageError>)] {
        var found: [(String, Result<Raft.Snapshot, StorageError>)] = []
        for name in try names() {
            let path = directory + "/" + name
            found.append((path, Result { () throws(StorageError) in try Self.load(path) }))
        }
        return found
    }

    static func load(_ path: String) throws(StorageError) -> Raft.Snapshot {
        let bytes = try Files.read(path)
        var reader = ByteReader(bytes)
        guard reader.uint32() == magic else { throw StorageError(path: path, "not a snapshot file (bad magic at offset 0)") }
        guard let version = reader.uint32(), version == formatVersion else {
            throw StorageError(path: path, "unsupported snapshot format version at offset 4")
        }
        guard let checksum = reader.uint32(), let length = reader.uint64(), length == UInt64(reader.remaining) else {
            throw StorageError(path: path, "snapshot length at offset 12 does not match the file size \(bytes.count)")
        }
        guard let body = reader.raw(Int(length)), CRC32C.checksum(body) == checksum else {
            throw StorageError(path: path, "snapshot checksum mismatch over bytes 20..<\(bytes.count)")
        }
        var bodyReader = ByteReader(body)
        guard let snapshot = Raft.Snapshot(from: &bodyReader), bodyReader.atEnd else {
            throw StorageError(path: path, "snapshot body at offset 20 does not decode")
        }
        return snapshot
    }
}
