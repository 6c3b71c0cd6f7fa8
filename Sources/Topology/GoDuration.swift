//! GoDuration: a length of time written as Go's time.ParseDuration reads it (`100ms`, `1s`,
//! `1m30s`, `1.5h`), which is how etcd and Kubernetes users already write their timeouts.

import Base

/// A non-negative length of time, in nanoseconds, read from and written in Go's duration syntax.
public struct GoDuration: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Invariant: nanoseconds >= 0.
    public let nanoseconds: Nanoseconds

    public init(nanoseconds: Nanoseconds) {
        precondition(nanoseconds >= 0, "durations are never negative, got \(nanoseconds)ns")
        self.nanoseconds = nanoseconds
    }

    public static func milliseconds(_ count: Int64) -> GoDuration { GoDuration(nanoseconds: count * Time.millisecond) }
    public static func seconds(_ count: Int64) -> GoDuration { GoDuration(nanoseconds: count * Time.second) }
    public static func minutes(_ count: Int64) -> GoDuration { GoDuration(nanoseconds: count * 60 * Time.second) }

    public static func < (left: GoDuration, right: GoDuration) -> Bool { left.nanoseconds < right.nanoseconds }

    /// The duration in whole milliseconds, or nil if it is not a whole number of them (etcd's
    /// --heartbeat-interval and --election-timeout take milliseconds).
    public var wholeMilliseconds: Int64? {
        nanoseconds % Time.millisecond == 0 ? nanoseconds / Time.millisecond : nil
    }

    // MARK: - Parsing

    static let units: [(suffix: String, scale: Nanoseconds)] = [
        ("ns", 1), ("us", Time.microsecond), ("µs", Time.microsecond), ("μs", Time.microsecond),
        ("ms", Time.millisecond), ("s", Time.second), ("m", 60 * Time.second), ("h", 3600 * Time.second),
    ]

    /// Parses Go's syntax: one or more `<number><unit>` parts (`1h2m3.5s`), units ns, us (or µs),
    /// ms, s, m, h; a bare `0` is zero. The error says what is wrong and shows valid examples.
    public static func parse(_ text: String) -> Result<GoDuration, DurationSyntaxError> {
        let examples = "write a number and a unit (ns, us, ms, s, m, h), e.g. 100ms, 1s or 1m30s"
        if text == "0" { return .success(GoDuration(nanoseconds: 0)) }
        if text.hasPrefix("-") { return .failure(DurationSyntaxError("'\(text)' is negative; durations must be 0 or more")) }
        guard !text.isEmpty else { return .failure(DurationSyntaxError("an empty duration; \(examples)")) }
        var rest = Substring(text.hasPrefix("+") ? String(text.dropFirst()) : text)
        var total: Nanoseconds = 0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            let afterNumber = rest.dropFirst(number.count)
            let unit = afterNumber.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            rest = afterNumber.dropFirst(unit.count)
            let parts = number.split(separator: ".", omittingEmptySubsequences: false)
            guard !number.isEmpty, parts.count <= 2, parts.contains(where: { !$0.isEmpty }) else {
                return .failure(DurationSyntaxError("'\(text)' is not a duration; \(examples)"))
            }
            guard !unit.isEmpty else {
                return .failure(DurationSyntaxError("'\(text)' has no unit after \(number); \(examples)"))
            }
            guard let scale = units.first(where: { $0.suffix == unit })?.scale else {
                return .failure(DurationSyntaxError("'\(text)' has an unknown unit '\(unit)'; \(examples)"))
            }
            guard let part = value(whole: parts[0], fraction: parts.count == 2 ? parts[1] : "", scale: scale),
                case (let sum, false) = total.addingReportingOverflow(part)
            else {
                return .failure(DurationSyntaxError("'\(text)' is too long a duration (at most about 292 years)"))
            }
            total = sum
        }
        return .success(GoDuration(nanoseconds: total))
    }

    /// `whole.fraction × scale` in nanoseconds, or nil on overflow. Fraction digits beyond what a
    /// nanosecond can resolve are dropped, as Go does.
    static func value(whole: Substring, fraction: Substring, scale: Nanoseconds) -> Nanoseconds? {
        var result: Nanoseconds = 0
        if !whole.isEmpty {
            guard let wholeValue = Int64(whole), case (let scaled, false) = wholeValue.multipliedReportingOverflow(by: scale)
            else { return nil }
            result = scaled
        }
        var unit = scale
        for digit in fraction {
            unit /= 10
            guard unit > 0, let digitValue = digit.wholeNumberValue else { break }
            result += Int64(digitValue) * unit
        }
        return result >= 0 ? result : nil
    }

    // MARK: - Formatting

    /// The shortest Go-syntax spelling: `0s`, `850us`, `100ms`, `1.5s`, `1m30s`, `5m`, `1h`.
    public var description: String {
        if nanoseconds == 0 { return "0s" }
        if nanoseconds < Time.microsecond { return "\(nanoseconds)ns" }
        if nanoseconds < Time.millisecond { return Self.decimal(nanoseconds, Time.microsecond) + "us" }
        if nanoseconds < Time.second { return Self.decimal(nanoseconds, Time.millisecond) + "ms" }
        let hours = nanoseconds / (3600 * Time.second)
        let minutes = nanoseconds % (3600 * Time.second) / (60 * Time.second)
        let seconds = nanoseconds % (60 * Time.second)
        var text = ""
        if hours > 0 { text += "\(hours)h" }
        if minutes > 0 { text += "\(minutes)m" }
        if seconds > 0 { text += Self.decimal(seconds, Time.second) + "s" }
        return text
    }

    /// `value / scale` as a decimal without trailing zeros: 1500/1000 -> "1.5".
    static func decimal(_ value: Int64, _ scale: Int64) -> String {
        let whole = value / scale
        var remainder = value % scale
        guard remainder > 0 else { return "\(whole)" }
        var digits = ""
        var place = scale / 10
        while remainder > 0 && place > 0 {
            digits += "\(remainder / place)"
            remainder %= place
            place /= 10
        }
        return "\(whole).\(digits)"
    }
}

/// Why a text is not a Go duration.
public struct DurationSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

extension GoDuration: Codable {
    /// Decodes from a string in Go syntax; a bare number is refused because its unit would be a
    /// guess (etcd's flags take milliseconds, Kubernetes' take Go durations).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        switch Self.parse(text) {
        case .success(let duration): self = duration
        case .failure(let error): throw decoder.valueError("bad duration: \(error)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
