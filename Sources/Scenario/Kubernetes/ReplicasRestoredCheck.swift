//! ReplicasRestoredCheck: the Deployment's promise under faults — when a fault leaves fewer of
//! its pods serving than it wants, the controllers bring the count back (evicting the pods of a
//! lost node, creating and scheduling replacements) within a bound, and the run ends with all
//! of them serving.

import Base

/// The Deployment's serving count at one poll.
private struct Availability {
    var time: Nanoseconds
    var available: Int
    var desired: Int

    var short: Bool { available < desired }
}

extension Checks {
    // MARK: - Replicas restored

    /// Available = the Deployment's pods live, Running and Ready on a node whose Ready is
    /// `True`; desired = its `spec.replicas`, both per poll. For each fault window: if the count
    /// fell short after its start (before the next window's), it must be back to the desired
    /// count at or before start + `within` — a shortfall still running into the next window is
    /// judged with that one. The last poll must have exactly the desired count available.
    /// Unknown when no poll read the Deployment.
    public static func replicasRestored(snapshots: [KubeSnapshot], deployment: String, faults: [TimeWindow], within: Nanoseconds) -> CheckResult {
        let name = "replicas-restored"
        let counts = snapshots.inTimeOrder.compactMap { poll in
            poll.deployment(named: deployment).map {
                Availability(time: poll.time, available: poll.availablePods(ofDeployment: deployment).count, desired: $0.replicas)
            }
        }
        guard let last = counts.last else {
            return CheckResult(name: name, verdict: .unknown, summary: "no poll read the Deployment \(deployment)")
        }
        let windows = faults.sorted { $0.start < $1.start }
        var judgements: [FaultJudgement] = []
        for (index, window) in windows.enumerated() {
            let nextStart = index + 1 < windows.count ? windows[index + 1].start : Int64.max
            judgements += judgeRestoration(window, before: nextStart, counts: counts, within: within)
        }
        var details = judgements.flatMap(\.details)
        let failing = judgements.filter { $0.verdict == .fail }
        if last.available != last.desired {
            let text = "not restored by the end: \(last.available) of \(last.desired) available at the last poll"
            details.append(CheckDetail(time: last.time, text))
            // A shortfall still running at the end is this one; only the others add news.
            let others = failing.filter { $0.measured != nil }.map(\.figures)
            return CheckResult(name: name, verdict: .fail, summary: ([text] + others).joined(separator: "; "), details: details)
        }
        guard failing.isEmpty else {
            return CheckResult(name: name, verdict: .fail,
                summary: "\(failing.count) of \(count(judgements.count, "shortfall")) not restored in time: "
                    + failing.map(\.figures).joined(separator: "; "), details: details)
        }
        if let unjudged = judgements.first(where: { $0.verdict == .unknown }) {
            return CheckResult(name: name, verdict: .unknown, summary: unjudged.figures, details: details)
        }
        return CheckResult(name: name, verdict: .pass,
            summary: restoredSummary(judgements, faults: windows.count, last: last), details: details)
    }

    /// The shortfall one window caused, if any: none when the count never fell short between
    /// its start and the next window's, or when it was still short at the next window.
    private static func judgeRestoration(_ window: TimeWindow, before nextStart: Nanoseconds, counts: [Availability],
        within: Nanoseconds) -> [FaultJudgement]
    {
        let inWindow = counts.filter { $0.time >= window.start && $0.time < nextStart }
        guard let lastShort = inWindow.last(where: \.short), let firstShort = inWindow.first(where: \.short) else { return [] }
        if nextStart != Int64.max, inWindow.last?.short == true { return [] }
        let deadline = window.start + within
        let allowed = "allowed \(Time.describe(within))"
        let fell = "fell to \(firstShort.available) of \(firstShort.desired) available \(Time.describe(firstShort.time - window.start)) after the fault"
        let restored = counts.first { $0.time > lastShort.time && !$0.short }
        let verdict: Verdict
        let text: String
        if let restored, restored.time <= deadline {
            verdict = .pass
            text = "\(restored.available) of \(restored.desired) available again \(Time.describe(restored.time - window.start)) after the fault (\(allowed))"
        } else if let restored {
            verdict = .fail
            text = "\(restored.available) of \(restored.desired) available again only \(Time.describe(restored.time - window.start)) after the fault (\(allowed))"
        } else {
            verdict = counts.last.map { $0.time >= deadline } == true ? .fail : .unknown
            text = "still \(lastShort.available) of \(lastShort.desired) available at the last poll, \(Time.describe(lastShort.time - window.start)) after the fault (\(allowed))"
        }
        let details = [CheckDetail(time: firstShort.time, fell), CheckDetail(time: restored?.time ?? lastShort.time, text)]
        return [FaultJudgement(verdict, text, details: details, measured: restored.map { $0.time - window.start })]
    }

    private static func restoredSummary(_ judgements: [FaultJudgement], faults: Int, last: Availability) -> String {
        let end = "\(last.available) of \(last.desired) available at the end"
        guard !judgements.isEmpty else {
            return faults == 0 ? "\(end); no fault to recover from" : "never short of the desired count through \(count(faults, "fault")); \(end)"
        }
        let slowest = judgements.max { ($0.measured ?? 0) < ($1.measured ?? 0) } ?? judgements[0]
        let of = judgements.count == 1 ? "" : " (the slowest of \(judgements.count) shortfalls)"
        return slowest.figures + of
    }
}
