/// Little-endian binary encoding shared by every on-disk and on-wire format we own (log entries,
/// store commands, snapshots, WAL records, peer frames). Readers never trap on bad input: a
/// short or malformed buffer yields nil, and the caller turns that into an error naming where.

public struct ByteWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func uint8(_ value: UInt8) { bytes.append(value) }
    public mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    public mutating func uint32(_ value: UInt32) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    public mutating func uint64(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    public mutating func int64(_ value: Int64) { uint64(UInt64(bitPattern: value)) }

    /// A length-prefixed byte string.
    public mutating func lengthPrefixed<C: Collection>(_ data: C) where C.Element == UInt8 {
        uint64(UInt64(data.count))
        bytes.append(contentsOf: data)
    }

    public mutating func string(_ text: String) { lengthPrefixed(Array(text.utf8)) }

    /// Raw bytes with no length (the reader must know it).
    public mutating func raw<C: Collection>(_ data: C) where C.Element == UInt8 { bytes.append(contentsOf: data) }
}

public struct ByteReader: Sendable {
    public let bytes: [UInt8]
    public private(set) var position: Int

    public init(_ bytes: [UInt8], position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    public var atEnd: Bool { position == bytes.count }
    public var remaining: Int { bytes.count - position }

    public mutating func uint8() -> UInt8? {
        guard position < bytes.count else { return nil }
        defer { position += 1 }
        return bytes[position]
    }

    public mutating func bool() -> Bool? {
        switch uint8() {
        case 0: return false
        case 1: return true
        default: return nil
        }
    }

    public mutating func uint32() -> UInt32? {
        guard remaining >= 4 else { return nil }
        var value: UInt32 = 0
        for offset in 0..<4 { value |= UInt32(bytes[position + offset]) << UInt32(offset * 8) }
        position += 4
        return value
    }

    public mutating func uint64() -> UInt64? {
        guard remaining >= 8 else { return nil }
        var value: UInt64 = 0
        for offset in 0..<8 { value |= UInt64(bytes[position + offset]) << UInt64(offset * 8) }
        position += 8
        return value
    }

    public mutating func int64() -> Int64? { uint64().map { Int64(bitPattern: $0) } }

    public mutating func lengthPrefixed() -> [UInt8]? {
        guard let length = uint64(), length <= UInt64(remaining) else { return nil }
        return raw(Int(length))
    }

    public mutating func string() -> String? {
        lengthPrefixed().map { String(decoding: $0, as: UTF8.self) }
    }

    public mutating func raw(_ count: Int) -> [UInt8]? {
        guard count >= 0, count <= remaining else { return nil }
        defer { position += count }
        return Array(bytes[position..<(position + count)])
    }
}
