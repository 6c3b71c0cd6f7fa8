//! The cluster's member registry: who the members are, the peer URLs others dial them at, and
//! whether they vote. It is replicated state — every change is a Raft configuration change whose
//! context carries the member's record — and lives in the state machine, so snapshots carry it
//! and a member that joins with an empty log learns it by replaying the log or a snapshot.

import Base
import Raft

/// What the cluster records about one member.
public struct MemberRecord: Equatable, Sendable {
    public var id: UInt64
    /// From `--initial-cluster` for founding members; empty for members added later (they
    /// announce their name once they run, as etcd's members publish theirs).
    public var name: String
    public var peerURLs: [String]
    public var isLearner: Bool

    /// The `ConfChange.context` form: name and peer URLs (the change's kind says the rest).
    public func context() -> [UInt8] {
        var writer = ByteWriter()
        writer.string(name)
        writer.uint32(UInt32(peerURLs.count))
        for url in peerURLs { writer.string(url) }
        return writer.bytes
    }

    public init(id: UInt64, name: String, peerURLs: [String], isLearner: Bool) {
        self.id = id
        self.name = name
        self.peerURLs = peerURLs
        self.isLearner = isLearner
    }

    public init?(id: UInt64, isLearner: Bool, context: [UInt8]) {
        var reader = ByteReader(context)
        guard let name = reader.string(), let count = reader.uint32(), count <= MemberRegistry.peerURLsMax else { return nil }
        var urls: [String] = []
        for _ in 0..<count {
            guard let url = reader.string() else { return nil }
            urls.append(url)
        }
        guard reader.atEnd else { return nil }
        self.init(id: id, name: name, peerURLs: urls, isLearner: isLearner)
    }
}

public struct MemberRegistry: Equatable, Sendable {
    static let peerURLsMax: UInt32 = 64
    public private(set) var members: [UInt64: MemberRecord] = [:]
    /// Ids removed once are never reused (etcd refuses them too: a removed member that comes
    /// back with its old data must not be mistaken for a current one).
    public private(set) var removed: Set<UInt64> = []

    public init() {}

    /// Members in etcd's listing order (by id).
    public var sorted: [MemberRecord] { members.keys.sorted().map { members[$0]! } }
    var learnerCount: Int { members.values.filter(\.isLearner).count }
    var voterIDs: [UInt64] { members.values.filter { !$0.isLearner }.map(\.id).sorted() }

    func member(withPeerURL url: String) -> MemberRecord? {
        sorted.first { $0.peerURLs.contains(url) }
    }

    /// Applies a committed configuration change. A context that does not decode (a log written
    /// before contexts existed) still records the member, with no name or URLs.
    public mutating func apply(_ change: Raft.ConfChange) {
        switch change.kind {
        case .addVoter, .addLearner:
            let isLearner = change.kind == .addLearner
            if change.context.isEmpty, var existing = members[change.node] {
                // A promotion carries no new record.
                existing.isLearner = isLearner
                members[change.node] = existing
            } else {
                members[change.node] = MemberRecord(id: change.node, isLearner: isLearner, context: change.context)
                    ?? MemberRecord(id: change.node, name: "", peerURLs: [], isLearner: isLearner)
            }
        case .updateNode:
            guard var existing = members[change.node],
                let update = MemberRecord(id: change.node, isLearner: existing.isLearner, context: change.context)
            else { return }
            existing.peerURLs = update.peerURLs
            members[change.node] = existing
        case .removeNode:
            members[change.node] = nil
            removed.insert(change.node)
        }
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter()
        writer.uint32(UInt32(members.count))
        for record in sorted {
            writer.uint64(record.id)
            writer.bool(record.isLearner)
            writer.lengthPrefixed(record.context())
        }
        writer.uint32(UInt32(removed.count))
        for id in removed.sorted() { writer.uint64(id) }
        return writer.bytes
    }

    public init?(decoding reader: inout ByteReader) {
        guard let count = reader.uint32(), count <= 1 << 16 else { return nil }
        for _ in 0..<count {
            guard let id = reader.uint64(), let isLearner = reader.bool(), let context = reader.lengthPrefixed(),
                let record = MemberRecord(id: id, isLearner: isLearner, context: context)
            else { return nil }
            members[id] = record
        }
        guard let removedCount = reader.uint32(), removedCount <= 1 << 20 else { return nil }
        for _ in 0..<removedCount {
            guard let id = reader.uint64() else { return nil }
            removed.insert(id)
        }
    }
}

/// What a member tells a joining member that asks over the peer transport: the cluster's id and
/// its registry (the joiner finds its own id there by its peer URLs).
struct MembershipAnswer: Equatable {
    var clusterID: UInt64
    var registry: MemberRegistry

    func encoded() -> [UInt8] {
        var writer = ByteWriter()
        writer.uint64(clusterID)
        writer.raw(registry.encoded())
        return writer.bytes
    }

    init(clusterID: UInt64, registry: MemberRegistry) {
        self.clusterID = clusterID
        self.registry = registry
    }

    init?(decoding bytes: [UInt8]) {
        var reader = ByteReader(bytes)
        guard let clusterID = reader.uint64(), let registry = MemberRegistry(decoding: &reader), reader.atEnd else { return nil }
        self.init(clusterID: clusterID, registry: registry)
    }
}
