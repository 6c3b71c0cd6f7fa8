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

    init?(snapshot: [UInt8]) {
        var reader = ByteReader(snapshot)
        guard reader.uint32() == Self.snapshotMagic, let registryBytes = reader.lengthPrefixed() else { return nil }
        var registryReader = ByteReader(registryBytes)
        guard let registry = MemberRegistry(decoding: &registryReader), registryReader.atEnd,
            let store = try? MVCCStore(snapshot: Array(snapshot[reader.position...]))
        else { return nil }
        self.store = store
        self.registry = registry
    }

    func snapshot() -> [UInt8] {
        let storeBytes = store.snapshot()
        let registryBytes = registry.encoded()
        var writer = ByteWriter(capacity: storeBytes.count + registryBytes.count + 16)
        writer.uint32(Self.snapshotMagic)
        writer.lengthPrefixed(registryBytes)
        writer.raw(storeBytes)
        return writer.bytes
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
