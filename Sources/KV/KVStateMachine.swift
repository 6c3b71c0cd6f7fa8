//! KV: the replicated state machine behind the store — registers with read, write, CAS and delete.
//!
//! Pure and deterministic: commands arrive as bytes from committed log entries, in log order, on
//! every replica; the same prefix of commands yields the same state and the same `fingerprint` on
//! every replica. (The etcd-compatible MVCC store of the store issue will replace this with
//! revisions, leases and watches behind the same apply/snapshot/restore shape.)

import Base

public enum KVCommand: Equatable, Sendable {
    case write(key: String, value: String)
    case cas(key: String, expected: String, new: String)
    case delete(key: String)

    public var key: String {
        switch self {
        case .write(let key, _), .cas(let key, _, _), .delete(let key): return key
        }
    }

    public func encoded() -> [UInt8] {
        var writer = ByteWriter()
        switch self {
        case .write(let key, let value):
            writer.uint8(1)
            writer.string(key)
            writer.string(value)
        case .cas(let key, let expected, let new):
            writer.uint8(2)
            writer.string(key)
            writer.string(expected)
            writer.string(new)
        case .delete(let key):
            writer.uint8(3)
            writer.string(key)
        }
        return writer.bytes
    }

    public init?(decoding bytes: [UInt8]) {
        var reader = ByteReader(bytes)
        guard let tag = reader.uint8() else { return nil }
        switch tag {
        case 1:
            guard let key = reader.string(), let value = reader.string() else { return nil }
            self = .write(key: key, value: value)
        case 2:
            guard let key = reader.string(), let expected = reader.string(), let new = reader.string() else { return nil }
            self = .cas(key: key, expected: expected, new: new)
        case 3:
            guard let key = reader.string() else { return nil }
            self = .delete(key: key)
        default:
            return nil
        }
        guard reader.atEnd else { return nil }
    }
}

public enum KVResult: Equatable, Sendable {
    case ok
    /// A CAS whose expected value did not match: it changed nothing.
    case casMismatch
}

public struct KVStateMachine: Sendable {
    public private(set) var values: [String: String] = [:]
    public private(set) var appliedCommands = 0

    public init() {}

    public func read(_ key: String) -> String? { values[key] }

    public mutating func apply(_ command: KVCommand) -> KVResult {
        appliedCommands += 1
        switch command {
        case .write(let key, let value):
            values[key] = value
            return .ok
        case .cas(let key, let expected, let new):
            guard values[key] == expected else { return .casMismatch }
            values[key] = new
            return .ok
        case .delete(let key):
            values[key] = nil
            return .ok
        }
    }

    /// A hash of the contents, equal on replicas that applied the same commands.
    public var fingerprint: UInt64 {
        var hash = FNV1a()
        for key in values.keys.sorted() {
            hash.combine(key)
            hash.combine(values[key]!)
        }
        return hash.value
    }

    public func snapshot() -> [UInt8] {
        var writer = ByteWriter()
        writer.uint64(UInt64(appliedCommands))
        writer.uint64(UInt64(values.count))
        for key in values.keys.sorted() {
            writer.string(key)
            writer.string(values[key]!)
        }
        return writer.bytes
    }

    public init?(snapshot bytes: [UInt8]) {
        var reader = ByteReader(bytes)
        guard let applied = reader.uint64(), let count = reader.uint64() else { return nil }
        appliedCommands = Int(applied)
        for _ in 0..<count {
            guard let key = reader.string(), let value = reader.string() else { return nil }
            values[key] = value
        }
        guard reader.atEnd else { return nil }
    }
}
