//! LivenessChecks: the properties about progress — the cluster serves writes again soon after
//! the last heal, the workload was fast enough before the faults for the run to mean anything,
//! the steady-state hypothesis held — and the adapter that turns the Linearizability target's
//! report into a CheckResult.

import Base
import Linearizability

/// One run of a steady-state probe: when, in which phase, whether it succeeded and how long it took.
public struct ProbeOutcome: Sendable, Equatable {
    public enum Phase: String, Sendable {
        case before, during, after
    }

    public var kind: ProbeKind
    public var phase: Phase
    public var time: Nanoseconds
    public var succeeded: Bool
    /// How long it took to succeed (or to give up).
    public var took: Nanoseconds
    /// What went wrong, when it failed.
    public var note: String?

    public init(kind: ProbeKind, phase: Phase, time: Nanoseconds, succeeded: Bool, took: Nanoseconds, note: String? = nil) {
        self.kind = kind
        self.phase = phase
        self.time = time
        self.succeeded = succeeded
        self.took = took
        self.note = note
    }
}

extension Checks {
    // MARK: - Availability

    /// Some write (write, cas or delete) completes `ok` within `within` after `lastHeal`. Unknown
    /// when nothing was healed, or when the history ends before the deadline without a success.
    public static func availability(operations: [Operation], lastHeal: Nanoseconds?, within: Nanoseconds,
        historyEnd: Nanoseconds) -> CheckResult
    {
        let name = "availability"
        guard let lastHeal else { return CheckResult(name: name, verdict: .unknown, summary: "no fault was healed") }
        let deadline = lastHeal + within
        let first = operations.filter { $0.f != .read && $0.outcome == .ok && $0.completionTime > lastHeal }
            .map(\.completionTime).min()
        if let first, first <= deadline {
            return CheckResult(name: name, verdict: .pass,
                summary: "a write succeeded \(Time.describe(first - lastHeal)) after the last heal (allowed \(Time.describe(within)))")
        }
        if first == nil, historyEnd < deadline {
            return CheckResult(name: name, verdict: .unknown,
                summary: "the history ends \(Time.describe(historyEnd - lastHeal)) after the last heal, before the \(Time.describe(within)) allowed, with no write succeeding")
        }
        let measured = first.map { "the first write succeeded \(Time.describe($0 - lastHeal)) after it" } ?? "no write succeeded after it"
        return CheckResult(name: name, verdict: .fail,
            summary: "no write succeeded within \(Time.describe(within)) of the last heal; \(measured)",
            details: [CheckDetail(time: lastHeal, "last heal"), CheckDetail(time: deadline, "deadline")])
    }

    // MARK: - Minimum rate

    /// The workload must have completed operations at `minimumRate` per second or more from its
    /// first invoke to the first fault (to the end of the history when there was none);
    /// otherwise the faults hit an idle cluster and the run is invalid.
    public static func minimumRate(operations: [Operation], firstFault: Nanoseconds?, minimumRate: Double) -> CheckResult {
        let name = "minimum-rate"
        let lastEvent = operations.map { $0.completionTime == Int64.max ? ($0.infoTime ?? $0.invokeTime) : $0.completionTime }.max()
        guard let start = operations.map(\.invokeTime).min(), let end = firstFault ?? lastEvent, end > start else {
            return CheckResult(name: name, verdict: .invalid, summary: "no operation was invoked before the first fault")
        }
        let completed = operations.filter { $0.outcome == .ok && $0.completionTime <= end }.count
        let rate = Double(completed) / (Double(end - start) / Double(Time.second))
        let measured = "\(completed) operations succeeded in \(Time.describe(end - start)) before the first fault: \(rounded(rate)) ops/s"
        guard rate >= minimumRate else {
            return CheckResult(name: name, verdict: .invalid, summary: "\(measured), below the \(rounded(minimumRate)) ops/s required")
        }
        return CheckResult(name: name, verdict: .pass, summary: "\(measured) (required \(rounded(minimumRate)))")
    }

    /// One decimal, for rates in summaries.
    static func rounded(_ value: Double) -> String {
        let tenths = (value * 10).rounded()
        return tenths.truncatingRemainder(dividingBy: 10) == 0 ? "\(Int(tenths / 10))" : "\(tenths / 10)"
    }

    // MARK: - Steady state

    /// The hypothesis: every probe succeeds within its tolerance. A probe failing before the
    /// nemesis makes the run invalid (the cluster was not healthy to begin with); failing during
    /// (for probes that say `during`) or after makes it fail.
    public static func steadyState(probes: [Probe], outcomes: [ProbeOutcome]) -> CheckResult {
        let name = "steady-state"
        guard !probes.isEmpty else { return CheckResult(name: name, verdict: .pass, summary: "the scenario states no hypothesis") }
        var invalidating: [CheckDetail] = []
        var failing: [CheckDetail] = []
        for outcome in outcomes {
            guard let probe = probes.first(where: { $0.kind == outcome.kind }) else { continue }
            if outcome.phase == .during && !probe.during { continue }
            let inTime = outcome.took <= probe.within
            guard !outcome.succeeded || !inTime else { continue }
            let why = outcome.succeeded
                ? "took \(Time.describe(outcome.took)), over its \(Time.describe(probe.within))"
                : "failed\(outcome.note.map { ": \($0)" } ?? "")"
            let detail = CheckDetail(time: outcome.time, "\(outcome.kind) probe \(outcome.phase.rawValue) the nemesis \(why)")
            if outcome.phase == .before { invalidating.append(detail) } else { failing.append(detail) }
        }
        let missing = probes.filter { probe in !outcomes.contains { $0.kind == probe.kind && $0.phase == .before } }
            + probes.filter { probe in !outcomes.contains { $0.kind == probe.kind && $0.phase == .after } }
        if !invalidating.isEmpty {
            return CheckResult(name: name, verdict: .invalid, summary: "the steady state did not hold before the nemesis",
                details: invalidating + failing)
        }
        if !failing.isEmpty {
            return CheckResult(name: name, verdict: .fail, summary: "\(count(failing.count, "probe")) failed", details: failing)
        }
        if !missing.isEmpty {
            return CheckResult(name: name, verdict: .unknown,
                summary: "not every probe ran before and after the nemesis (missing: \(Set(missing.map(\.kind.rawValue)).sorted().joined(separator: ", ")))")
        }
        return CheckResult(name: name, verdict: .pass, summary: "\(count(outcomes.count, "probe")) held within their tolerances")
    }

    // MARK: - Linearizability

    /// The Linearizability target's verdict as a CheckResult; the counterexample becomes the details.
    public static func linearizable(_ report: LinearizabilityReport) -> CheckResult {
        let name = "linearizable"
        guard !report.linearizable else {
            return CheckResult(name: name, verdict: report.operationCount == 0 ? .unknown : .pass,
                summary: report.operationCount == 0 ? "the history has no operations" : report.description)
        }
        let key = report.failingKey ?? "?"
        let details = report.counterexample.map { CheckDetail(time: $0.invokeTime, "\($0)") }
        return CheckResult(name: name, verdict: .fail,
            summary: "key \(key): \(count(report.counterexample.count, "operation")) cannot be ordered", details: details)
    }

    /// Checks `events` with the Linearizability target's checker.
    public static func linearizable(events: [HistoryEvent]) -> CheckResult { linearizable(checkLinearizability(events)) }
}
