//! LeadershipChecks: leader election on a Lease promises that at most one holder acts at a
//! time — a standby takes the lease only after the leader's has expired, and a leader stops
//! acting once it cannot renew — and that a standby takes over within about a lease duration
//! when the leader dies. A paused process does not act, so its pause is not leadership.

import Base

extension Checks {
    public static func singleLeader(spans: [LeadershipSpan], pauses: [String: [TimeWindow]], takeoverWithin: Nanoseconds?,
        stops: [String: [Nanoseconds]]) -> CheckResult
    {
        let name = "single-leader"
        guard !spans.isEmpty else { return CheckResult(name: name, verdict: .unknown, summary: "no component said it was leading") }
        let horizon = (spans.flatMap { [$0.start, $0.end ?? $0.start] } + pauses.values.flatMap { $0.map(\.end) } + stops.values.flatMap { $0 }).max() ?? 0
        /// The windows during which a span's holder could act: the span minus its host's pauses.
        func acting(_ span: LeadershipSpan) -> [TimeWindow] {
            var windows = [TimeWindow(start: span.start, end: max(span.start, span.end ?? horizon))]
            for pause in pauses[span.holder] ?? [] {
                windows = windows.flatMap { window -> [TimeWindow] in
                    guard pause.start < window.end, pause.end > window.start else { return [window] }
                    var pieces: [TimeWindow] = []
                    if pause.start > window.start { pieces.append(TimeWindow(start: window.start, end: pause.start)) }
                    if pause.end < window.end { pieces.append(TimeWindow(start: pause.end, end: window.end)) }
                    return pieces
                }
            }
            return windows
        }
        var failures: [CheckDetail] = []
        var summaries: [String] = []
        for lease in Set(spans.map(\.lease)).sorted() {
            let leaseSpans = spans.filter { $0.lease == lease }.sorted { $0.start < $1.start }
            for (index, first) in leaseSpans.enumerated() {
                for second in leaseSpans[(index + 1)...] where second.holder != first.holder {
                    for a in acting(first) {
                        for b in acting(second) where a.start < b.end && b.start < a.end {
                            failures.append(CheckDetail(time: max(a.start, b.start),
                                "\(lease): \(first.holder) and \(second.holder) both leading from \(Time.describe(max(a.start, b.start))) to \(Time.describe(min(a.end, b.end)))"))
                        }
                    }
                }
            }
            var text = "\(lease): " + leaseSpans.map { "\($0.holder) \(Time.describe($0.start))–\($0.end.map(Time.describe) ?? "end")" }.joined(separator: ", ")
            if let takeoverWithin {
                for (host, times) in stops.sorted(by: { $0.key < $1.key }) {
                    for time in times {
                        guard leaseSpans.contains(where: { $0.holder == host && $0.start <= time && ($0.end ?? horizon) >= time }) else { continue }
                        if let next = leaseSpans.first(where: { $0.holder != host && $0.start >= time }), next.start - time <= takeoverWithin {
                            text += "; \(next.holder) took over \(Time.describe(next.start - time)) after \(host) stopped"
                        } else if horizon < time + takeoverWithin {
                            return CheckResult(name: name, verdict: .unknown,
                                summary: "\(lease): the run ended \(Time.describe(horizon - time)) after \(host) stopped, before a takeover was due")
                        } else {
                            let next = leaseSpans.first { $0.holder != host && $0.start >= time }
                            failures.append(CheckDetail(time: time + takeoverWithin,
                                "\(lease): nobody took over within \(Time.describe(takeoverWithin)) of \(host) stopping at \(Time.describe(time))" + (next.map { " (\($0.holder) after \(Time.describe($0.start - time)))" } ?? "")))
                        }
                    }
                }
            }
            summaries.append(text)
        }
        if !failures.isEmpty {
            return CheckResult(name: name, verdict: .fail, summary: "\(count(failures.count, "violation")) of single leadership", details: failures)
        }
        return CheckResult(name: name, verdict: .pass, summary: summaries.joined(separator: "; "))
    }
}
