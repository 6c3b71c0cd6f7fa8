//! Base: the vocabulary every other target shares.
//!
//! Identifiers, virtual/monotonic instants and durations in nanoseconds, and an in-tree seeded
//! pseudo-random generator. Nothing here touches the clock, the disk or the network: pure cores
//! import only this target and the standard library.

/// Nanoseconds on a monotonic time line (virtual in the simulator, CLOCK_MONOTONIC in real runs).
public typealias Nanoseconds = Int64

public enum Time {
    public static let nanosecond: Nanoseconds = 1
    public static let microsecond: Nanoseconds = 1_000
    public static let millisecond: Nanoseconds = 1_000_000
    public static let second: Nanoseconds = 1_000_000_000

    /// Formats a duration for people: `850ms`, `12.5s`.
    public static func describe(_ value: Nanoseconds) -> String {
        if value < 0 { return "-" + describe(-value) }
        if value < millisecond { return "\(value / microsecond)µs" }
        if value < second { return "\(value / millisecond)ms" }
        let tenths = value / (second / 10)
        return tenths % 10 == 0 ? "\(tenths / 10)s" : "\(tenths / 10).\(tenths % 10)s"
    }

    /// Seconds with a fixed number of decimals, truncated, for tables: `seconds(1_250_000_000, decimals: 2)`
    /// is `1.25s`. Negative values get a minus sign.
    public static func seconds(_ value: Nanoseconds, decimals: Int) -> String {
        precondition((0...9).contains(decimals), "decimals \(decimals) must be 0...9")
        if value < 0 { return "-" + seconds(-value, decimals: decimals) }
        var unit: Nanoseconds = 1
        for _ in 0..<decimals { unit *= 10 }
        let scaled = value / (second / unit)
        guard decimals > 0 else { return "\(scaled)s" }
        let fraction = String(scaled % unit)
        return "\(scaled / unit)." + String(repeating: "0", count: decimals - fraction.count) + fraction + "s"
    }

    /// Parses `150ms`, `2s`, `1m`, `500us`, `1000ns`. Returns nil for anything else.
    public static func parse(_ text: String) -> Nanoseconds? {
        let units: [(String, Nanoseconds)] = [
            ("ns", 1), ("us", microsecond), ("µs", microsecond), ("ms", millisecond),
            ("s", second), ("m", 60 * second), ("h", 3600 * second),
        ]
        // Longest suffix first so "ms" is not read as "s".
        for (suffix, scale) in units.sorted(by: { $0.0.count > $1.0.count }) where text.hasSuffix(suffix) {
            let number = String(text.dropLast(suffix.count))
            if let whole = Int64(number), whole >= 0 { return whole * scale }
            if let fraction = Double(number), fraction >= 0, fraction.isFinite {
                return Int64(fraction * Double(scale))
            }
            return nil
        }
        return nil
    }
}
