//! The replicated state machine of `faultline etcd`: the MVCC store fed with `StoreCommand`s.

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
    let store: MVCCStore
    /// How long the last `apply` took (for the apply latency histogram).
    private(set) var lastApplyDuration: Nanoseconds = 0

    init() { store = MVCCStore() }

    init?(snapshot: [UInt8]) {
        guard let store = try? MVCCStore(snapshot: snapshot) else { return nil }
        self.store = store
    }

    func snapshot() -> [UInt8] { store.snapshot() }

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
