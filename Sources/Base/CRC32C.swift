/// CRC-32C (Castagnoli), the checksum of every WAL record, snapshot file and peer frame, as
/// etcd's WAL uses. Table-driven, eight bits at a time, over raw buffers: the generic entry
/// points only adapt their input, so callers in other modules never run an unspecialized loop
/// (that made it ~40 ns a byte; this is well under 1).
public enum CRC32C {
    @usableFromInline
    static let table: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        return crc
    }

    /// Extends `crc` (the checksum of earlier bytes, 0 to start) over `bytes`.
    public static func update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var value = ~crc
        table.withUnsafeBufferPointer { table in
            for byte in bytes { value = table[Int((value ^ UInt32(byte)) & 0xff)] ^ (value >> 8) }
        }
        return ~value
    }

    public static func update(_ crc: UInt32, _ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { update(crc, $0) }
    }

    public static func update(_ crc: UInt32, _ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.withUnsafeBytes { update(crc, $0) }
    }

    @inlinable
    public static func update<C: Collection>(_ crc: UInt32, _ bytes: C) -> UInt32 where C.Element == UInt8 {
        if let result = bytes.withContiguousStorageIfAvailable({ update(crc, UnsafeRawBufferPointer($0)) }) { return result }
        return update(crc, Array(bytes))
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 { update(0, bytes) }
    public static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 { update(0, bytes) }

    @inlinable
    public static func checksum<C: Collection>(_ bytes: C) -> UInt32 where C.Element == UInt8 { update(0, bytes) }
}
