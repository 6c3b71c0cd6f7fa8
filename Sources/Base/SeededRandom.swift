/// A deterministic pseudo-random generator (xoshiro256**, seeded through SplitMix64).
///
/// Every random choice in a pure core or in the simulator flows from one of these, so a seed
/// reproduces a run byte for byte. It is a value type: copying it forks the sequence, which is
/// how the simulator hands each node an independent stream derived from the run's seed.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var mixer = seed
        func splitMix() -> UInt64 {
            mixer &+= 0x9E37_79B9_7F4A_7C15
            var z = mixer
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
        precondition(state != (0, 0, 0, 0), "xoshiro state must not be all zero (seed \(seed))")
    }

    public mutating func next() -> UInt64 {
        let result = rotate(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotate(state.3, 45)
        return result
    }

    private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// An independent generator for a named purpose, so adding draws to one stream does not
    /// shift another's (a node's election timeouts stay the same when the workload changes).
    public func derived(_ label: UInt64) -> SeededRandom {
        var copy = self
        return SeededRandom(seed: copy.next() ^ (label &* 0x9E37_79B9_7F4A_7C15))
    }

    /// A uniform integer in `range`.
    public mutating func int(in range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
    public mutating func int64(in range: ClosedRange<Int64>) -> Int64 { Int64.random(in: range, using: &self) }

    /// True with probability `p` (0...1).
    public mutating func chance(_ p: Double) -> Bool {
        if p <= 0 { return false }
        if p >= 1 { return true }
        return Double(next() >> 11) / Double(1 << 53) < p
    }

    /// A uniform double in 0..<1.
    public mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }

    public mutating func pick<T>(_ items: [T]) -> T {
        precondition(!items.isEmpty, "pick from an empty list")
        return items[int(in: 0...(items.count - 1))]
    }

    public mutating func shuffle<T>(_ items: inout [T]) { items.shuffle(using: &self) }
}
