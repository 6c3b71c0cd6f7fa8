//! Kubernetes' MicroTime as the API writes it (`2026-11-23T10:00:00.000000Z`): RFC 3339 in UTC
//! with exactly six fractional digits. Leases carry their acquire and renew times in this form.


public enum MicroTime {
    /// The MicroTime text of `microseconds` since the Unix epoch.
    public static func format(microseconds: Int64) -> String {
        let (seconds, fraction) = floorDivide(microseconds, 1_000_000)
        let whole = KubeTime.format(seconds)
        precondition(whole.hasSuffix("Z"), "KubeTime.format gave '\(whole)' without a trailing Z")
        let digits = String(fraction)
        return String(whole.dropLast()) + "." + String(repeating: "0", count: 6 - digits.count) + digits + "Z"
    }

    /// Microseconds since the epoch of a MicroTime or any RFC 3339 timestamp with up to six
    /// fractional digits (more are cut); nil when malformed.
    public static func parse(_ text: String) -> Int64? {
        guard let seconds = KubeTime.parse(text) else { return nil }
        var fraction: Int64 = 0
        if let dot = text.firstIndex(of: ".") {
            let digits = text[text.index(after: dot)...].prefix { $0.isASCII && $0.isNumber }
            for (position, digit) in digits.prefix(6).enumerated() {
                fraction += Int64(digit.wholeNumberValue!) * [100_000, 10_000, 1_000, 100, 10, 1][position]
            }
        }
        return seconds * 1_000_000 + fraction
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let (quotient, remainder) = value.quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }
}
