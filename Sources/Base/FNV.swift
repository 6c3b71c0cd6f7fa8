/// FNV-1a, 64 bit: a stable hash for fingerprints that must be equal across processes
/// (Swift's `Hasher` is seeded per process, so it can never reach an output).
public struct FNV1a: Sendable {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325
    public init() {}
    public mutating func combine(_ byte: UInt8) {
        value ^= UInt64(byte)
        value = value &* 0x0000_0100_0000_01B3
    }
    public mutating func combine<S: Sequence>(bytes: S) where S.Element == UInt8 {
        for byte in bytes { combine(byte) }
    }
    public mutating func combine(_ number: UInt64) {
        var n = number
        for _ in 0..<8 {
            combine(UInt8(truncatingIfNeeded: n))
            n >>= 8
        }
    }
    public mutating func combine(_ text: String) {
        combine(bytes: text.utf8)
        combine(UInt8(0xff))
    }
}
