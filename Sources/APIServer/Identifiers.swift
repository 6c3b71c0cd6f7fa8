//! Identities the server makes up: object uids (random version-4 UUIDs) and the five-character
//! suffixes of `generateName` (from Kubernetes' alphabet without vowels or look-alikes, so no
//! words and no 0/O or 1/l confusion). The shell's randomness; the pure core takes them as input.
//!
//! They come from one generator seeded once from the system's: a getrandom call per uid showed
//! up in profiles of creates, and uids need to be unique, not secret.

import Base
import Synchronization

enum Identifiers {
    static func uid() -> String {
        var high = ProcessRandom.next(), low = ProcessRandom.next()
        // Version 4, variant 10.
        high = high & ~(0xf << 12) | (0x4 << 12)
        low = low & ~(0x3 << 62) | (0x2 << 62)
        var text: [UInt8] = []
        text.reserveCapacity(36)
        let hex = Array("0123456789abcdef".utf8)
        for (index, word) in [high, low].enumerated() {
            for nibble in 0..<16 {
                let position = index * 16 + nibble
                if position == 8 || position == 12 || position == 16 || position == 20 { text.append(UInt8(ascii: "-")) }
                text.append(hex[Int(word >> UInt64(60 - 4 * nibble) & 0xf)])
            }
        }
        return String(decoding: text, as: UTF8.self)
    }

    static let suffixAlphabet = Array("bcdfghjklmnpqrstvwxz2456789")

    static func nameSuffix(length: Int = 5) -> String {
        var bits = ProcessRandom.next()
        return String((0..<length).map { _ in
            defer { bits /= UInt64(suffixAlphabet.count) }
            return suffixAlphabet[Int(bits % UInt64(suffixAlphabet.count))]
        })
    }
}

/// One generator for the process, seeded from the system's once; a lock is cheaper than the
/// system call it replaces.
enum ProcessRandom {
    private static let generator: Mutex<SeededRandom> = {
        var system = SystemRandomNumberGenerator()
        return Mutex(SeededRandom(seed: system.next()))
    }()

    static func next() -> UInt64 { generator.withLock { $0.next() } }
}
