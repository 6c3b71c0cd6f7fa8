//! The replicated state machine of `faultline etcd`: the MVCC store fed with `StoreCommand`s,
//! and the member registry fed with configuration changes. A snapshot holds both.

import Base
import MVCC
import Raft
import Services

/// A committed command with what applying it did.
struct AppliedCommand {
    var command: StoreCommand
    var result: StoreApplyResult
}

struct StoreMachine: ReplicatedStateMachine {
    static let snapshotMagic: UInt32 = 0x4D53_4C46  // "FLSM"
    let store: MVCCStore
    private(set) var registry = MemberRegistry()
    /// How long the last `apply` took (for the apply latency histogram).
    private(set) var lastApplyDuration: Nanoseconds = 0

    init() { store = MVCCStore() }

    /// The snapshot is the store's bytes followed by the registry and a trailer (registry length,
    /// magic): appending to the store's buffer, rather than copying it behind a header, keeps a
    /// large store from being held twice while a snapshot is made.
    init?(snapshot: [UInt8]) {
        guard snapshot.count >= 8 else { return nil }
        var trailer = ByteReader(snapshot, position: snapshot.count - 8)
        guard let registryCount = trailer.uint32(), trailer.uint32() == Self.snapshotMagic,
            Int(registryCount) <= snapshot.count - 8
        else { return nil }
        let storeCount = snapshot.count - 8 - Int(registryCount)
        var registryReader = ByteReader(Array(snapshot[storeCount..<(snapshot.count - 8)]))
        guard let registry = MemberRegistry(decoding: &registryReader), registryReader.atEnd,
            let store = try? MVCCStore(snapshot: Array(snapshot[..<storeCount]))
        else { return nil }
        self.store = store
        self.registry = registry
    }

    func snapshot() -> [UInt8] {
        var bytes = store.snapshot()
        let registryBytes = registry.encoded()
        var trailer = ByteWriter(capacity: 8)
        trailer.uint32(UInt32(registryBytes.count))
        trailer.uint32(Self.snapshotMagic)
        bytes.append(contentsOf: registryBytes)
        bytes.append(contentsOf: trailer.bytes)
        return bytes
    }

    mutating func applyConfChange(_ change: Raft.ConfChange, at index: Raft.Index) {
        registry.apply(change)
    }

    mutating func apply(_ data: [UInt8], at index: Raft.Index) -> AppliedCommand {
        let command: StoreCommand
        do {
            command = try StoreCommand(decoding: data)
        } catch {
            // Every replica sees the same bytes; a command that does not decode is a bug or a
            // corrupt log, and applying anything else would diverge.
            preconditionFailure("entry \(index) holds an undecodable store command: \(error.message)")
        }
        let began = EventLoop.now()
        defer { lastApplyDuration = EventLoop.now() - began }
        return AppliedCommand(command: command, result: store.apply(command))
    }
}
