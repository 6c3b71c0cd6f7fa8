//! Storage: the real disk — a checksummed, fsync'd write-ahead log and snapshot files.
//!
//! A member's data directory looks like etcd's:
//!
//!     <data-dir>/member/wal/<seq>-<first index>.wal    the write-ahead log, in segments
//!     <data-dir>/member/snap/<index>-<term>.snap        snapshots of the state machine
//!
//! The contract with the Raft shell (persist before send, see `Raft.swift`): `MemberStorage.persist`
//! returns only after the batch is on stable storage (fdatasync), so a member never acknowledges
//! anything it could forget in a crash. Recovery replays the newest intact snapshot and the WAL after
//! it. A record cut short at the very end of the last segment is what a crash mid-write leaves (a
//! torn tail): it was never acknowledged and is truncated away. A bad record anywhere else is
//! corruption: the member refuses to start and names the file and byte offset.

import Base
import Glibc

public struct StorageError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var message: String

    public init(path: String, _ message: String) {
        self.path = path
        self.message = message
    }

    static func system(_ operation: String, _ path: String, errno code: Int32 = errno) -> StorageError {
        StorageError(path: path, "\(operation) failed: \(String(cString: strerror(code))) (errno \(code))")
    }

    public var description: String { "\(path): \(message)" }
}
