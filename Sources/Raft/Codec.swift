//! The binary form of Raft's values, for the WAL and the peer protocol. Little-endian, versioned
//! by the container (a WAL record type, a peer frame), never by each value. Decoders return nil on
//! any malformed input and never trap: bytes from disk or a socket are untrusted.

import Base

extension Raft.ConfChange {
    public func encode(into writer: inout ByteWriter) {
        writer.uint8(kind.rawValue)
        writer.uint64(node)
        writer.lengthPrefixed(context)
    }

    public init?(from reader: inout ByteReader) {
        guard let raw = reader.uint8(), let kind = Kind(rawValue: raw), let node = reader.uint64(),
            let context = reader.lengthPrefixed()
        else { return nil }
        self.init(kind, node, context: context)
    }
}

extension Raft.ConfState {
    public func encode(into writer: inout ByteWriter) {
        writer.uint32(UInt32(voters.count))
        for voter in voters { writer.uint64(voter) }
        writer.uint32(UInt32(learners.count))
        for learner in learners { writer.uint64(learner) }
    }

    public init?(from reader: inout ByteReader) {
        guard let voters = Self.nodes(&reader), let learners = Self.nodes(&reader),
            Set(voters).isDisjoint(with: learners)
        else { return nil }
        self.init(voters: voters, learners: learners)
    }

    private static func nodes(_ reader: inout ByteReader) -> [Raft.NodeID]? {
        guard let count = reader.uint32(), Int(count) * 8 <= reader.remaining else { return nil }
        var nodes: [Raft.NodeID] = []
        nodes.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let node = reader.uint64() else { return nil }
            nodes.append(node)
        }
        return nodes
    }
}

extension Raft.Entry {
    public func encode(into writer: inout ByteWriter) {
        writer.uint64(term)
        writer.uint64(index)
        switch payload {
        case .empty:
            writer.uint8(0)
        case .normal(let data):
            writer.uint8(1)
            writer.lengthPrefixed(data)
        case .confChange(let change):
            writer.uint8(2)
            change.encode(into: &writer)
        }
    }

    public init?(from reader: inout ByteReader) {
        guard let term = reader.uint64(), let index = reader.uint64(), let tag = reader.uint8() else { return nil }
        let payload: Raft.EntryPayload
        switch tag {
        case 0: payload = .empty
        case 1:
            guard let data = reader.lengthPrefixed() else { return nil }
            payload = .normal(data)
        case 2:
            guard let change = Raft.ConfChange(from: &reader) else { return nil }
            payload = .confChange(change)
        default: return nil
        }
        self.init(term: term, index: index, payload: payload)
    }
}

extension Raft.HardState {
    public func encode(into writer: inout ByteWriter) {
        writer.uint64(term)
        writer.uint64(vote)
        writer.uint64(commit)
    }

    public init?(from reader: inout ByteReader) {
        guard let term = reader.uint64(), let vote = reader.uint64(), let commit = reader.uint64() else { return nil }
        self.init(term: term, vote: vote, commit: commit)
    }
}

extension Raft.Snapshot {
    public func encode(into writer: inout ByteWriter) {
        writer.uint64(index)
        writer.uint64(term)
        conf.encode(into: &writer)
        writer.lengthPrefixed(data)
    }

    public init?(from reader: inout ByteReader) {
        guard let index = reader.uint64(), let term = reader.uint64(), let conf = Raft.ConfState(from: &reader),
            let data = reader.lengthPrefixed()
        else { return nil }
        self.init(index: index, term: term, conf: conf, data: data)
    }
}

extension Raft.Message {
    public func encode(into writer: inout ByteWriter) {
        writer.uint8(kind.rawValue)
        writer.uint64(from)
        writer.uint64(to)
        writer.uint64(term)
        writer.uint64(logTerm)
        writer.uint64(index)
        writer.uint64(commit)
        writer.bool(reject)
        writer.uint64(rejectHint)
        writer.uint64(context)
        writer.uint32(UInt32(entries.count))
        for entry in entries { entry.encode(into: &writer) }
        if let snapshot {
            writer.uint8(1)
            snapshot.encode(into: &writer)
        } else {
            writer.uint8(0)
        }
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: 64 + entries.reduce(0) { $0 + $1.byteCount })
        encode(into: &writer)
        return writer.bytes
    }

    public init?(from reader: inout ByteReader) {
        guard let raw = reader.uint8(), let kind = Raft.MessageKind(rawValue: raw), let from = reader.uint64(),
            let to = reader.uint64(), let term = reader.uint64(), let logTerm = reader.uint64(),
            let index = reader.uint64(), let commit = reader.uint64(), let reject = reader.bool(),
            let rejectHint = reader.uint64(), let context = reader.uint64(), let count = reader.uint32(),
            Int(count) * 17 <= reader.remaining
        else { return nil }
        self.init(kind: kind, from: from, to: to, term: term)
        self.logTerm = logTerm
        self.index = index
        self.commit = commit
        self.reject = reject
        self.rejectHint = rejectHint
        self.context = context
        entries.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let entry = Raft.Entry(from: &reader) else { return nil }
            entries.append(entry)
        }
        switch reader.uint8() {
        case 0: snapshot = nil
        case 1:
            guard let snapshot = Raft.Snapshot(from: &reader) else { return nil }
            self.snapshot = snapshot
        default: return nil
        }
    }

    /// Decodes a whole buffer holding exactly one message.
    public init?(decoding bytes: [UInt8]) {
        var reader = ByteReader(bytes)
        self.init(from: &reader)
        guard reader.atEnd else { return nil }
    }
}
