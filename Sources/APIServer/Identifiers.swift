//! Identities the server makes up: object uids (random version-4 UUIDs) and the five-character
//! suffixes of `generateName` (from Kubernetes' alphabet without vowels or look-alikes, so no
//! words and no 0/O or 1/l confusion). The shell's randomness; the pure core takes them as input.

enum Identifiers {
    static func uid() -> String {
        var generator = SystemRandomNumberGenerator()
        // Two draws of 64 bits, not sixteen of 8: each draw is a getrandom call.
        let high = generator.next(), low = generator.next()
        var bytes = (0..<16).map { index in UInt8(truncatingIfNeeded: (index < 8 ? high : low) >> (8 * UInt64(index % 8))) }
        bytes[6] = bytes[6] & 0x0f | 0x40
        bytes[8] = bytes[8] & 0x3f | 0x80
        let hex = bytes.map { byte in String(byte >> 4, radix: 16) + String(byte & 0x0f, radix: 16) }.joined()
        let characters = Array(hex)
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(characters[$0]) }.joined(separator: "-")
    }

    static let suffixAlphabet = Array("bcdfghjklmnpqrstvwxz2456789")

    static func nameSuffix(length: Int = 5) -> String {
        var generator = SystemRandomNumberGenerator()
        var bits = generator.next()
        return String((0..<length).map { _ in
            defer { bits /= UInt64(suffixAlphabet.count) }
            return suffixAlphabet[Int(bits % UInt64(suffixAlphabet.count))]
        })
    }
}
