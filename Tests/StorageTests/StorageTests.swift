//! The WAL and snapshot files: durability round trips, torn tails truncated, corruption refused
//! with the file and offset named, segment rotation and release, snapshot selection.

import Base
import Foundation
import Raft
import Storage
import Testing

private let metadata = MemberMetadata(clusterID: 7, memberID: 42, name: "m1", clusterToken: "tok")

private func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "fl-storage-" + UUID().uuidString
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

private func entries(_ range: ClosedRange<UInt64>, term: UInt64, size: Int = 8) -> [Raft.Entry] {
    range.map { Raft.Entry(term: term, index: $0, payload: .normal(Array(repeating: UInt8($0 % 251), count: size))) }
}

private func walSegments(_ dataDirectory: String) -> [String] {
    let directory = MemberStorage.walDirectory(dataDirectory)
    return try! FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".wal") }.sorted()
        .map { directory + "/" + $0 }
}

private func fileSize(_ path: String) -> Int {
    (try! FileManager.default.attributesOfItem(atPath: path)[.size] as! NSNumber).intValue
}

private func append(_ bytes: [UInt8], to path: String) {
    let handle = FileHandle(forWritingAtPath: path)!
    handle.seekToEndOfFile()
    handle.write(Data(bytes))
    handle.closeFile()
}

private func flipByte(at offset: Int, in path: String) {
    var data = try! Data(contentsOf: URL(fileURLWithPath: path))
    data[offset] ^= 0xff
    try! data.write(to: URL(fileURLWithPath: path))
}

@Suite struct WriteAheadLogTests {
    @Test func roundTripsHardStateAndEntries() throws {
        let dir = temporaryDirectory()
        let bootstrap = Raft.bootstrap(voters: [1, 2, 3])
        let storage = try MemberStorage.create(dataDirectory: dir, metadata: metadata,
            hardState: bootstrap.hardState, entries: bootstrap.entries)
        try storage.persist(hardState: Raft.HardState(term: 2, vote: 1, commit: 3), snapshot: nil, entries: entries(4...10, term: 2))
        try storage.persist(hardState: Raft.HardState(term: 2, vote: 1, commit: 9), snapshot: nil, entries: [])
        let (_, recovered) = try MemberStorage.open(dataDirectory: dir)
        #expect(recovered.metadata == metadata)
        #expect(recovered.hardState == Raft.HardState(term: 2, vote: 1, commit: 9))
        #expect(recovered.entries == bootstrap.entries + entries(4...10, term: 2))
        #expect(recovered.snapshot.index == 0)
        #expect(recovered.truncatedTailBytes == 0)
    }

    @Test func laterEntriesOverwriteAConflictingSuffix() throws {
        let dir = temporaryDirectory()
        let storage = try MemberStorage.create(dataDirectory: dir, metadata: metadata, hardState: Raft.HardState(),
            entries: entries(1...10, term: 1))
        try storage.persist(hardState: Raft.HardState(term: 3, vote: 2, commit: 5), snapshot: nil, entries: entries(6...7, term: 3))
        let (_, recovered) = try MemberStorage.open(dataDirectory: dir)
        #expect(recovered.entries == entries(1...5, term: 1) + entries(6...7, term: 3))
    }

    @Test func refusesToCreateOverAnExistingLog() throws {
        let dir = temporaryDirectory()
        _ = try MemberStorage.create(dataDirectory: dir, metadata: metadata, hardState: Raft.HardState(), entries: [])
        #expect(throws: StorageError.self) {
            _ = try MemberStorage.create(dataDirectory: dir, metadata: metadata, hardState: Raft.HardState(), entries: [])
        }
    }

    @Test(arguments: [1, 5, 11, 12, 30])
    func truncatesATornTail(cutFromEnd: Int) throws {
        let dir = temporaryDirectory()
        let storage = try MemberStorage.create(dataDirectory: dir, metadata: metadata, hardState: Raft.HardState(),
            entries: entries(1...5, term: 1))
        let segment = walSegments(dir)[0]
        let intactSize = fileSize(segment)
        try storage.persist(hardState: nil, snapshot: nil, entries: entries(6...8, term: 1, size: 40))
        let fullSize = fileSize(segment)
        #expect(truncate(segment, off_t(fullSize - cutFromEnd)) == 0)
        let (reopened, recovered) = try MemberStorage.open(dataDirectory: dir)
        #expect(recovered.entries == entries(1...5, term: 1), "the torn record is dropped, the rest kept")
        #expect(recovered.truncatedTailBytes == fullSize - cutFromEnd - intactSize)
        #expect(fileSize(segment) == intactSize)
        // The log continues cleanly after the cut.
        try reopened.persist(hardState: nil, snapshot: nil, entries: entries(6...6, term: 2))
        let (_, again) = try MemberStorage.open(dataDirectory: dir)
        #expect(again.entries == entries(1...5, term: 1) + entries(6...6, term: 2))
    }

    @Test func truncatesZeroFilledAndGarbageTails() throws {
        for tail in [[UInt8](repeating: 0, count: 4096), Array("garbage after a crash".utf8)] {
            let dir = temporaryDirectory()
            _ = try MemberStorage.create(dataDirectory: dir, metadata: metadata, hardState: Raft.HardState(),
                entries: entries(1...3, term: 1))
            append(tail, to: walSegments(dir)[0])
            let (_, recovered) = try MemberStorage.open(dataDirectory: dir)
            #expect(recovered.entries == entries(1...3, term: 1))
            #expect(recovered.truncatedTailBytes == tail.count)
        }
    }

    @Test func refusesCorruptionBeforeTheTailNamingFileAndOffset() throws {
        let dir = temporaryDirectory()
        let storage = try MemberStorage.create(dataDirectory: dir, metadata: metadata, hardState: Raft.HardState(),
            entries: entries(1...3, term: 1))
        let segment = walSegments(dir)[0]
        let damagedOffset = fileSize(segment)
        try storage.persist(hardState: nil, snapshot: nil, entries: entries(4...6, term: 1))
        try storage.persist(hardState: nil, snapshot: nil, entries: entries(7...9, term: 1))
        flipByte(at: damagedOffset + 20, in: segment)
        do {
            _ = try MemberStorage.open(dataDirectory: dir)
            Issue.record("a corrupt record followed by intact ones must refuse to start")
        } catch {
            #expect(error.path == segment)
            #expect(error.message.contains("offset \(damagedOffset)"), "\(error)")
            #expect(error.message.contains("not a torn tail"), "\(error)")
        }
        #expect(fileSize(segment) > damagedOffset, "nothing was truncated")
    }

    @Test func rotatesSegmentsAndReleasesThoseASnapshotCovers() throws {
        let dir = temporaryDirectory()
        let storage = try MemberStorage.create(dataDirectory: dir, metadata: metadata, hardState: Raft.HardState(),
            entries: [], segmentBytesMax: 1024)
        var index: UInt64 = 1
        for _ in 0..<40 {
            try storage.persist(hardState: Raft.HardState(term: 1, vote: 1, commit: index), snapshot: nil,
                entries: entries(index...(index + 4), term: 1, size: 50))
            index += 5
        }
        let last = index - 1
        #expect(walSegments(dir).count > 5)
        let (_, before) = try MemberStorage.open(dataDirectory: dir, segmentBytesMax: 1024)
        #expect(before.entries == entries(1...last, term: 1, size: 50))

        let snapshot = Raft.Snapshot(index: 150, term: 1, conf: Raft.ConfState(voters: [1]), data: [1, 2, 3])
        try storage.saveSnapshot(snapshot)
        #expect(walSegments(dir).count < 40 * 300 / 1024, "segments below the snapshot are gone")
        let (_, after) = try MemberStorage.open(dataDirectory: dir, segmentBytesMax: 1024)
        #expect(after.snapshot == snapshot)
        #expect(after.entries == entries(151...last, term: 1, size: 50))
        #expect(after.hardState.commit == last - 4)
    }

    @Test func missingMiddleSegmentIsRefused() throws {
        let dir = temporaryDirectory()
        let storage = try MemberStorage.create(dataDirectory: dir, metadata: metadata, hardState: Raft.HardState(),
            entries: [], segmentBytesMax: 512)
        for start in stride(from: UInt64(1), to: 60, by: 5) {
            try storage.persist(hardState: nil, snapshot: nil, entries: entries(start...(start + 4), term: 1, size: 60))
        }
        let segments = walSegments(dir)
        #expect(segments.count >= 3)
        try FileManager.default.removeItem(atPath: segments[1])
        #expect(throws: StorageError.self) { _ = try MemberStorage.open(dataDirectory: dir, segmentBytesMax: 512) }
    }
}

@Suite struct SnapshotFileTests {
    @Test func aSnapshotFromTheLeaderReplacesTheLog() throws {
        let dir = temporaryDirectory()
        let storage = try MemberStorage.create(dataDirectory: dir, metadata: metadata, hardState: Raft.HardState(),
            entries: entries(1...10, term: 1))
        let snapshot = Raft.Snapshot(index: 50, term: 4, conf: Raft.ConfState(voters: [1, 2, 3]), data: Array("state".utf8))
        try storage.persist(hardState: Raft.HardState(term: 4, vote: 0, commit: 50), snapshot: snapshot, entries: [])
        try storage.persist(hardState: nil, snapshot: nil, entries: entries(51...52, term: 4))
        let (_, recovered) = try MemberStorage.open(dataDirectory: dir)
        #expect(recovered.snapshot == snapshot)
        #expect(recovered.entries == entries(51...52, term: 4))
        #expect(recovered.hardState.commit == 50)
    }

    @Test func aDamagedNewestSnapshotFallsBackToAnOlderOne() throws {
        let dir = temporaryDirectory()
        let storage = try MemberStorage.create(dataDirectory: dir, metadata: metadata, hardState: Raft.HardState(),
            entries: entries(1...30, term: 1))
        let older = Raft.Snapshot(index: 10, term: 1, conf: Raft.ConfState(voters: [1]), data: [1])
        let newer = Raft.Snapshot(index: 20, term: 1, conf: Raft.ConfState(voters: [1]), data: [2])
        try storage.saveSnapshot(older)
        try storage.saveSnapshot(newer)
        let snapDir = MemberStorage.snapDirectory(dir)
        let newest = snapDir + "/" + (try FileManager.default.contentsOfDirectory(atPath: snapDir).sorted().last!)
        flipByte(at: 25, in: newest)
        let (_, recovered) = try MemberStorage.open(dataDirectory: dir)
        #expect(recovered.snapshot == older)
        #expect(recovered.entries == entries(11...30, term: 1))
        #expect(recovered.skippedSnapshots.count == 1)
        #expect(recovered.skippedSnapshots[0].contains("checksum"))
    }

    @Test func keepsOnlyTheNewestFiles() throws {
        let dir = temporaryDirectory()
        let files = try SnapshotFiles(directory: dir, keepCount: 3)
        for index in UInt64(1)...8 {
            try files.save(Raft.Snapshot(index: index * 10, term: 1, conf: Raft.ConfState(voters: [1]), data: [UInt8(index)]))
        }
        let loaded = try files.loadAll()
        #expect(loaded.count == 3)
        #expect(try loaded.map { try $0.result.get().index } == [80, 70, 60])
    }
}

@Suite struct CodecTests {
    @Test func messagesRoundTrip() {
        var random = SeededRandom(seed: 11)
        for _ in 0..<500 {
            let kind = Raft.MessageKind.allCases[random.int(in: 0...(Raft.MessageKind.allCases.count - 1))]
            var message = Raft.Message(kind: kind, from: random.next(), to: random.next(), term: random.next())
            message.logTerm = random.next()
            message.index = random.next()
            message.commit = random.next()
            message.reject = random.chance(0.5)
            message.rejectHint = random.next()
            message.context = random.next()
            message.entries = (0..<random.int(in: 0...5)).map { offset in
                let payloads: [Raft.EntryPayload] = [.empty, .normal([1, 2, UInt8(offset)]), .confChange(Raft.ConfChange(.addLearner, 9))]
                return Raft.Entry(term: 3, index: UInt64(offset + 1), payload: payloads[offset % 3])
            }
            if random.chance(0.2) {
                message.snapshot = Raft.Snapshot(index: 5, term: 2, conf: Raft.ConfState(voters: [1, 2], learners: [3]), data: [9, 9])
            }
            #expect(Raft.Message(decoding: message.encoded()) == message)
        }
    }

    @Test func randomBytesNeverTrap() {
        var random = SeededRandom(seed: 12)
        var decoded = 0
        for _ in 0..<20_000 {
            let bytes = (0..<random.int(in: 0...120)).map { _ in UInt8(random.int(in: 0...255)) }
            if Raft.Message(decoding: bytes) != nil { decoded += 1 }
        }
        #expect(decoded < 20_000)
    }
}
