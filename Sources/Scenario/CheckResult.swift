//! CheckResult: what one check concluded about a run — pass, fail, unknown or invalid — with a
//! summary line and a bounded list of the offending items, and how the verdicts of all checks
//! combine into the run's.

import Base

/// A check's conclusion.
public enum Verdict: String, Sendable, Equatable, CustomStringConvertible {
    /// The property held.
    case pass
    /// The property was violated; the details say where.
    case fail
    /// The run could not tell (too little was observed). Never counted as a pass.
    case unknown
    /// The run did not test what it meant to (the workload was too slow, the steady state did
    /// not hold before the faults), so its other verdicts prove nothing.
    case invalid

    public var description: String { rawValue }

    /// The run's verdict: invalid if any check is, else fail if any check fails, else pass only
    /// if every check passed (and there was at least one), else unknown.
    public static func overall(_ results: [CheckResult]) -> Verdict {
        if results.contains(where: { $0.verdict == .invalid }) { return .invalid }
        if results.contains(where: { $0.verdict == .fail }) { return .fail }
        if !results.isEmpty && results.allSatisfy({ $0.verdict == .pass }) { return .pass }
        return .unknown
    }
}

/// One offending (or notable) item, with when it happened if that is known.
public struct CheckDetail: Sendable, Equatable, CustomStringConvertible {
    public var time: Nanoseconds?
    public var text: String

    public init(time: Nanoseconds? = nil, _ text: String) {
        self.time = time
        self.text = text
    }

    public var description: String { time.map { "\(Time.describe($0)): \(text)" } ?? text }
}

/// What one check concluded.
public struct CheckResult: Sendable, Equatable, CustomStringConvertible {
    /// Details kept per check, so a badly broken run still gives a readable report.
    public static let detailsMax = 20

    public var name: String
    public var verdict: Verdict
    public var summary: String
    /// At most `detailsMax`, earliest first when timed.
    public var details: [CheckDetail]
    /// How many details were left out beyond `detailsMax`.
    public var omittedDetails: Int

    public init(name: String, verdict: Verdict, summary: String, details: [CheckDetail] = []) {
        self.name = name
        self.verdict = verdict
        self.summary = summary
        let ordered = details.enumerated().sorted { left, right in
            (left.element.time ?? Int64.max, left.offset) < (right.element.time ?? Int64.max, right.offset)
        }.map(\.element)
        self.details = Array(ordered.prefix(Self.detailsMax))
        self.omittedDetails = max(0, details.count - Self.detailsMax)
    }

    /// `FAIL no-lost-writes: 2 of 40 acknowledged inserts are missing` and the details indented.
    public var description: String {
        var lines = ["\(verdict.rawValue.uppercased()) \(name): \(summary)"]
        lines += details.map { "  \($0)" }
        if omittedDetails > 0 { lines.append("  … and \(omittedDetails) more") }
        return lines.joined(separator: "\n")
    }
}

/// A span of the run, from `start` to `end` (nanoseconds since the workload started).
public struct TimeWindow: Sendable, Equatable {
    public var start: Nanoseconds
    public var end: Nanoseconds

    public init(start: Nanoseconds, end: Nanoseconds) {
        precondition(start <= end, "a window ends (\(end)) before it starts (\(start))")
        self.start = start
        self.end = end
    }
}

/// The pure checks. Each takes what the runner observed and returns a `CheckResult`; none
/// reads a clock or a file.
public enum Checks {
    /// The number of items and a noun, pluralised: `1 write`, `3 writes`.
    static func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }
}
