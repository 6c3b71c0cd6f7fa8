//! The write-ahead log: Raft's hard state and entries, appended in records that each carry a
//! CRC-32C, made durable with fdatasync before `append` returns.
//!
//! Record framing (little-endian):
//!
//!     magic u32 "FLWR" | payload length u32 | crc32c(payload) u32 | payload
//!     payload = type u8 | body
//!
//! A record is the unit of atomicity: one `append` (one Ready) is one record, so after a crash a
//! Ready is either wholly in the log or wholly absent. Every segment starts with a metadata record
//! and the current hard state, so segments before the newest snapshot can be deleted.

import Base
import Glibc
import Raft

/// Who this data directory belongs to; written at the start of every segment and checked on open.
public struct MemberMetadata: Equatable, Sendable {
    public var clusterID: UInt64
    public var memberID: UInt64
    public var name: String
    public var clusterToken: String

    public init(clusterID: UInt64, memberID: UInt64, name: String, clusterToken: String) {
        self.clusterID = clusterID
        self.memberID = memberID
        self.name = name
        self.clusterToken = clusterToken
    }
}

enum RecordType: UInt8 {
    case metadata = 1
    /// Optional hard state, then entries; each entry truncates the log from its index.
    case state = 2
    /// A snapshot received from the leader replaced the whole log.
    case snapshotReset = 3
}

enum RecordFormat {
    static let magic: UInt32 = 0x5257_4C46  // "FLWR" little-endian
    static let headerSize = 12
    static let formatVersion: UInt32 = 1
    /// Bigger is corruption, not a record (a Ready is bounded by Raft's batch limits well below this).
    static let payloadSizeMax = 256 << 20

    static func frame(_ payload: [UInt8], into output: inout [UInt8]) {
        precondition(payload.count <= payloadSizeMax, "WAL record of \(payload.count) bytes exceeds \(payloadSizeMax)")
        var header = ByteWriter(capacity: headerSize)
        header.uint32(magic)
        header.uint32(UInt32(payload.count))
        header.uint32(CRC32C.checksum(payload))
        output.append(contentsOf: header.bytes)
        output.append(contentsOf: payload)
    }

    static func metadataPayload(_ metadata: MemberMetadata) -> [UInt8] {
        var writer = ByteWriter()
        writer.uint8(RecordType.metadata.rawValue)
        writer.uint32(formatVersion)
        writer.uint64(metadata.clusterID)
        writer.uint64(metadata.memberID)
        writer.string(metadata.name)
        writer.string(metadata.clusterToken)
        return writer.bytes
    }

    static func statePayload(hardState: Raft.HardState?, entries: [Raft.Entry]) -> [UInt8] {
        var writer = ByteWriter(capacity: 32 + entries.reduce(0) { $0 + $1.byteCount + 8 })
        writer.uint8(RecordType.state.rawValue)
        if let hardState {
            writer.uint8(1)
            hardState.encode(into: &writer)
        } else {
            writer.uint8(0)
        }
        writer.uint32(UInt32(entries.count))
        for entry in entries { entry.encode(into: &writer) }
        return writer.bytes
    }

    static func snapshotResetPayload(index: Raft.Index, term: Raft.Term) -> [UInt8] {
        var writer = ByteWriter()
        writer.uint8(RecordType.snapshotReset.rawValue)
        writer.uint64(index)
        writer.uint64(term)
        return writer.bytes
    }

    /// The record starting at `offset`, if a whole, intact one is there.
    static func record(in bytes: [UInt8], at offset: Int) -> (payload: [UInt8], end: Int)? {
        guard bytes.count - offset >= headerSize else { return nil }
        var reader = ByteReader(bytes, position: offset)
        guard reader.uint32() == magic, let length = reader.uint32(), let checksum = reader.uint32(),
            Int(length) <= payloadSizeMax, let payload = reader.raw(Int(length)),
            CRC32C.checksum(payload) == checksum
        else { return nil }
        return (payload, reader.position)
    }
}

/// What replaying the WAL found.
public struct WALContents: Sendable {
    public var metadata: MemberMetadata
    public var hardState: Raft.HardState
    /// Entries in index order, contiguous.
    public var entries: [Raft.Entry]
    /// The last snapshot a leader sent that replaced the log, if one was recorded.
    public var snapshotReset: (index: Raft.Index, term: Raft.Term)?
    /// Bytes cut from the end of the last segment as a torn write (0 if none).
    public var truncatedTailBytes: Int
}

public final class WriteAheadLog {
    public let directory: String
    public let metadata: MemberMetadata
    /// Start a new segment once the current one is this big (etcd: 64 MB).
    public let segmentBytesMax: Int
    private var fd: Int32
    private var segmentPath: String
    private var segmentBytes: Int
    private var sequence: UInt64
    private var lastIndex: Raft.Index
    private var hardState: Raft.HardState
    /// Segments in order with the index of the first entry they may hold.
    private var segments: [(path: String, firstIndex: Raft.Index)]

    /// Creates a new log in an empty `directory` holding `entries` and `hardState`.
    public static func create(directory: String, metadata: MemberMetadata, hardState: Raft.HardState,
        entries: [Raft.Entry], segmentBytesMax: Int = 64 << 20) throws(StorageError) -> WriteAheadLog
    {
        try Files.makeDirectories(directory)
        let existing = try Files.list(directory).filter { $0.hasSuffix(".wal") }
        guard existing.isEmpty else {
            throw StorageError(path: directory, "already holds a write-ahead log (\(existing.count) segments); refusing to overwrite it")
        }
        let log = try WriteAheadLog(directory: directory, metadata: metadata, sequence: 0, firstIndex: 1,
            hardState: Raft.HardState(), lastIndex: 0, segments: [], segmentBytesMax: segmentBytesMax)
        try log.append(hardState: hardState, entries: entries)
        return log
    }

    private init(directory: String, metadata: MemberMetadata, sequence: UInt64, firstIndex: Raft.Index,
        hardState: Raft.HardState, lastIndex: Raft.Index, segments: [(path: String, firstIndex: Raft.Index)],
        segmentBytesMax: Int) throws(StorageError)
    {
        self.directory = directory
        self.metadata = metadata
        self.segmentBytesMax = segmentBytesMax
        self.sequence = sequence
        self.hardState = hardState
        self.lastIndex = lastIndex
        self.segments = segments
        self.fd = -1
        self.segmentPath = ""
        self.segmentBytes = 0
        try startSegment(firstIndex: firstIndex)
    }

    deinit { if fd >= 0 { close(fd) } }

    static func segmentName(sequence: UInt64, firstIndex: Raft.Index) -> String {
        hex16(sequence) + "-" + hex16(firstIndex) + ".wal"
    }

    static func parseSegmentName(_ name: String) -> (sequence: UInt64, firstIndex: Raft.Index)? {
        guard name.hasSuffix(".wal") else { return nil }
        let parts = name.dropLast(4).split(separator: "-")
        guard parts.count == 2, parts[0].count == 16, parts[1].count == 16,
            let sequence = UInt64(parts[0], radix: 16), let first = UInt64(parts[1], radix: 16)
        else { return nil }
        return (sequence, first)
    }

    private func startSegment(firstIndex: Raft.Index) throws(StorageError) {
        let path = directory + "/" + Self.segmentName(sequence: sequence, firstIndex: firstIndex)
        let newFD = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o600)
        guard newFD >= 0 else { throw .system("open", path) }
        if fd >= 0 { close(fd) }
        fd = newFD
        segmentPath = path
        segmentBytes = 0
        segments.append((path, firstIndex))
        var output: [UInt8] = []
        RecordFormat.frame(RecordFormat.metadataPayload(metadata), into: &output)
        RecordFormat.frame(RecordFormat.statePayload(hardState: hardState, entries: []), into: &output)
        try write(output)
        try Files.syncDirectory(directory)
    }

    private func write(_ bytes: [UInt8]) throws(StorageError) {
        try Files.writeAll(fd, bytes, path: segmentPath)
        guard fdatasync(fd) == 0 else { throw .system("fdatasync", segmentPath) }
        segmentBytes += bytes.count
    }

    /// Appends one record and returns once it is durable. Entries must continue the log or
    /// overwrite a suffix of it (Raft's conflict resolution), never leave a gap.
    public func append(hardState newHardState: Raft.HardState?, entries: [Raft.Entry],
        snapshotReset: (index: Raft.Index, term: Raft.Term)? = nil) throws(StorageError)
    {
        var output: [UInt8] = []
        if let reset = snapshotReset {
            RecordFormat.frame(RecordFormat.snapshotResetPayload(index: reset.index, term: reset.term), into: &output)
            lastIndex = reset.index
        }
        if let first = entries.first {
            precondition(first.index <= lastIndex + 1, "WAL append at \(first.index) leaves a gap after \(lastIndex)")
            for (offset, entry) in entries.enumerated() {
                precondition(entry.index == first.index + Raft.Index(offset), "entries not contiguous at \(entry.index)")
            }
        }
        if newHardState != nil || !entries.isEmpty {
            RecordFormat.frame(RecordFormat.statePayload(hardState: newHardState, entries: entries), into: &output)
        }
        guard !output.isEmpty else { return }
        try write(output)
        if let newHardState { hardState = newHardState }
        if let last = entries.last { lastIndex = last.index }
        if segmentBytes >= segmentBytesMax {
            sequence += 1
            try startSegment(firstIndex: lastIndex + 1)
        }
    }

    /// Deletes segments holding only entries at or below `index` (covered by a durable snapshot).
    public func release(through index: Raft.Index) throws(StorageError) {
        while segments.count >= 2, segments[1].firstIndex <= index + 1 {
            try Files.remove(segments[0].path)
            segments.removeFirst()
        }
    }

    public var segmentCount: Int { segments.count }

    // MARK: - Recovery

    /// Opens an existing log, replaying every segment. A torn record at the end of the last
    /// segment is truncated; any other damage throws, naming the file and offset.
    public static func open(directory: String, segmentBytesMax: Int = 64 << 20) throws(StorageError)
        -> (log: WriteAheadLog, contents: WALContents)
    {
        let names = try Files.list(directory).filter { $0.hasSuffix(".wal") }
        var parsed: [(name: String, sequence: UInt64, firstIndex: Raft.Index)] = []
        for name in names {
            guard let (sequence, first) = parseSegmentName(name) else {
                throw StorageError(path: directory + "/" + name, "not a WAL segment name (expected <seq>-<index>.wal, 16 hex digits each)")
            }
            parsed.append((name, sequence, first))
        }
        guard !parsed.isEmpty else { throw StorageError(path: directory, "holds no WAL segments") }
        parsed.sort { $0.sequence < $1.sequence }
        for (previous, next) in zip(parsed, parsed.dropFirst()) where next.sequence != previous.sequence + 1 {
            throw StorageError(path: directory, "WAL segment \(previous.sequence + 1) is missing (found \(previous.name) then \(next.name))")
        }
        var replay = Replay()
        var truncated = 0
        for (position, segment) in parsed.enumerated() {
            let path = directory + "/" + segment.name
            let isLast = position == parsed.count - 1
            truncated = try replay.segment(path: path, isLast: isLast)
        }
        guard let metadata = replay.metadata else {
            throw StorageError(path: directory, "no metadata record in any WAL segment")
        }
        let last = parsed[parsed.count - 1]
        let lastPath = directory + "/" + last.name
        let log = try WriteAheadLog(reopening: lastPath, directory: directory, metadata: metadata,
            sequence: last.sequence, hardState: replay.hardState, lastIndex: replay.lastIndex,
            segments: parsed.map { (directory + "/" + $0.name, $0.firstIndex) }, segmentBytesMax: segmentBytesMax)
        let contents = WALContents(metadata: metadata, hardState: replay.hardState, entries: replay.entries,
            snapshotReset: replay.snapshotReset, truncatedTailBytes: truncated)
        return (log, contents)
    }

    private init(reopening path: String, directory: String, metadata: MemberMetadata, sequence: UInt64,
        hardState: Raft.HardState, lastIndex: Raft.Index, segments: [(path: String, firstIndex: Raft.Index)],
        segmentBytesMax: Int) throws(StorageError)
    {
        let reopened = Glibc.open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard reopened >= 0 else { throw .system("open", path) }
        var info = stat()
        fstat(reopened, &info)
        self.fd = reopened
        self.segmentPath = path
        self.segmentBytes = Int(info.st_size)
        self.directory = directory
        self.metadata = metadata
        self.sequence = sequence
        self.hardState = hardState
        self.lastIndex = lastIndex
        self.segments = segments
        self.segmentBytesMax = segmentBytesMax
    }
}

/// Replays records in order into the log they describe.
private struct Replay {
    var metadata: MemberMetadata?
    var hardState = Raft.HardState()
    var entries: [Raft.Entry] = []
    var snapshotReset: (index: Raft.Index, term: Raft.Term)?
    /// With an empty `entries`, the index the next entry must follow.
    var baseIndex: Raft.Index?

    var lastIndex: Raft.Index { entries.last?.index ?? baseIndex ?? 0 }

    /// Replays one segment; returns how many torn bytes were truncated from it.
    mutating func segment(path: String, isLast: Bool) throws(StorageError) -> Int {
        let bytes = try Files.read(path)
        var offset = 0
        while offset < bytes.count {
            guard let (payload, end) = RecordFormat.record(in: bytes, at: offset) else {
                return try damagedRecord(path: path, bytes: bytes, at: offset, isLast: isLast)
            }
            try apply(payload, path: path, offset: offset)
            offset = end
        }
        return 0
    }

    /// A record that does not check out. At the end of the last segment, with no intact record
    /// after it, it is a write the crash interrupted: cut it off. Anywhere else it is corruption.
    private func damagedRecord(path: String, bytes: [UInt8], at offset: Int, isLast: Bool) throws(StorageError) -> Int {
        let intactAfter = (offset + 1..<bytes.count).first { RecordFormat.record(in: bytes, at: $0) != nil }
        if isLast, intactAfter == nil {
            let fd = open(path, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { throw .system("open", path) }
            defer { close(fd) }
            guard ftruncate(fd, off_t(offset)) == 0 else { throw .system("ftruncate", path) }
            guard fsync(fd) == 0 else { throw .system("fsync", path) }
            return bytes.count - offset
        }
        var reason = "WAL record at offset \(offset) is corrupt (bad magic, length or checksum)"
        if let intactAfter { reason += "; an intact record follows at offset \(intactAfter), so this is not a torn tail" }
        reason += ". Refusing to start: restore this member's data from a backup, or remove the member and re-add it empty."
        throw StorageError(path: path, reason)
    }

    private mutating func apply(_ payload: [UInt8], path: String, offset: Int) throws(StorageError) {
        var reader = ByteReader(payload)
        let corrupt = { (why: String) in StorageError(path: path, "WAL record at offset \(offset): \(why)") }
        guard let rawType = reader.uint8(), let type = RecordType(rawValue: rawType) else {
            throw corrupt("unknown record type")
        }
        switch type {
        case .metadata:
            guard let version = reader.uint32() else { throw corrupt("truncated metadata") }
            guard version == RecordFormat.formatVersion else {
                throw corrupt("WAL format version \(version); this build reads version \(RecordFormat.formatVersion)")
            }
            guard let cluster = reader.uint64(), let member = reader.uint64(), let name = reader.string(),
                let token = reader.string(), reader.atEnd
            else { throw corrupt("malformed metadata") }
            let found = MemberMetadata(clusterID: cluster, memberID: member, name: name, clusterToken: token)
            if let metadata, metadata != found {
                throw corrupt("metadata \(found) differs from the earlier segments' \(metadata)")
            }
            metadata = found
        case .state:
            guard metadata != nil else { throw corrupt("state record before any metadata record") }
            guard let hasHardState = reader.bool() else { throw corrupt("malformed state record") }
            if hasHardState {
                guard let state = Raft.HardState(from: &reader) else { throw corrupt("malformed hard state") }
                hardState = state
            }
            guard let count = reader.uint32() else { throw corrupt("malformed state record") }
            for _ in 0..<count {
                guard let entry = Raft.Entry(from: &reader) else { throw corrupt("malformed entry") }
                try append(entry, corrupt: corrupt)
            }
            guard reader.atEnd else { throw corrupt("trailing bytes in state record") }
        case .snapshotReset:
            guard let index = reader.uint64(), let term = reader.uint64(), reader.atEnd else {
                throw corrupt("malformed snapshot reset record")
            }
            snapshotReset = (index, term)
            entries.removeAll()
            baseIndex = index
        }
    }

    private mutating func append(_ entry: Raft.Entry, corrupt: (String) -> StorageError) throws(StorageError) {
        guard let first = entries.first else {
            if let baseIndex, entry.index != baseIndex + 1 {
                throw corrupt("entry \(entry.index) does not follow index \(baseIndex)")
            }
            entries.append(entry)
            return
        }
        guard entry.index >= first.index, entry.index <= lastIndex + 1 else {
            throw corrupt("entry \(entry.index) outside the log \(first.index)...\(lastIndex) (a gap)")
        }
        entries.removeLast(Int(lastIndex + 1 - entry.index))
        entries.append(entry)
    }
}

func hex16(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
}
