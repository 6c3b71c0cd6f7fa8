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
        var bytes: [UInt8] = []
        switch self {
        case .write(let key, let value):
            bytes.append(1)
            appendString(key, to: &bytes)
            appendString(value, to: &bytes)
        case .cas(let key, let expected, let new):
            bytes.append(2)
            appendString(key, to: &bytes)
            appendString(expected, to: &bytes)
            appendString(new, to: &bytes)
        case .delete(let key):
            bytes.append(3)
            appendString(key, to: &bytes)
        }
        return bytes
    }

    public init?(decoding bytes: [UInt8]) {
        var reader = ByteReader(bytes)
        guard let tag = reader.byte() else { return nil }
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
        var bytes: [UInt8] = []
        appendUInt64(UInt64(appliedCommands), to: &bytes)
        appendUInt64(UInt64(values.count), to: &bytes)
        for key in values.keys.sorted() {
            appendString(key, to: &bytes)
            appendString(values[key]!, to: &bytes)
        }
        return bytes
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

func appendUInt64(_ value: UInt64, to bytes: inout [UInt8]) {
    for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
}

func appendString(_ text: String, to bytes: inout [UInt8]) {
    let utf8 = Array(text.utf8)
    appendUInt64(UInt64(utf8.count), to: &bytes)
    bytes.append(contentsOf: utf8)
}

struct ByteReader {
    let bytes: [UInt8]
    var position = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    var atEnd: Bool { position == bytes.count }
    mutating func byte() -> UInt8? {
        guard position < bytes.count else { return nil }
        defer { position += 1 }
        return bytes[position]
    }
    mutating func uint64() -> UInt64? {
        guard bytes.count - position >= 8 else { return nil }
        var value: UInt64 = 0
        for offset in 0..<8 { value |= UInt64(bytes[position + offset]) << UInt64(offset * 8) }
        position += 8
        return value
    }
    mutating func string() -> String? {
        guard let length = uint64(), length <= UInt64(bytes.count - position) else { return nil }
        let slice = bytes[position..<(position + Int(length))]
        position += Int(length)
        return String(decoding: slice, as: UTF8.self)
    }
}
