//! SingleLeaderCheck: leader election's promise for the control plane's singletons (scheduler,
//! controller-manager): at most one holder of a lease acts at a time, and when the leader's host
//! is killed, paused or cut off, a standby takes over within a bound.

import Base

/// A stretch of time, start inclusive, end exclusive.
private struct Stretch {
    var start: Nanoseconds
    var end: Nanoseconds

    /// What is left of `self` outside `cuts`.
    func removing(_ cuts: [TimeWindow]) -> [Stretch] {
        var pieces = [self]
        for cut in cuts {
            pieces = pieces.flatMap { piece -> [Stretch] in
                guard cut.start < piece.end && piece.start < cut.end else { return [piece] }
                return [Stretch(start: piece.start, end: cut.start), Stretch(start: cut.end, end: piece.end)].filter { $0.start < $0.end }
            }
        }
        return pieces
    }

    func overlap(_ other: Stretch) -> Stretch? {
        let both = Stretch(start: max(start, other.start), end: min(end, other.end))
        return both.start < both.end ? both : nil
    }
}

extension Checks {
    // MARK: - Single leader

    /// Per lease: no two spans of different holders overlap once each holder's pauses (by host)
    /// are taken out — a paused leader does not act, so the standby that took over its expired
    /// lease is no violation, but a leader still acting after it resumed is. Open spans run to
    /// the end of the observation (the latest time any span, pause or stop mentions). With
    /// `takeoverWithin`: every stop of a host while it led a lease must be followed by another
    /// holder starting to lead that lease within the bound. Unknown when there are no spans, or
    /// when a takeover was asked for and none could be judged.
    public static func singleLeader(spans: [LeadershipSpan], pauses: [String: [TimeWindow]], takeoverWithin: Nanoseconds?,
        stops: [String: [Nanoseconds]]) -> CheckResult
    {
        let name = "single-leader"
        guard !spans.isEmpty else { return CheckResult(name: name, verdict: .unknown, summary: "no component logged leading a lease") }
        let observationEnd = (spans.flatMap { [$0.start, $0.end].compactMap { $0 } }
            + pauses.values.flatMap { $0.flatMap { [$0.start, $0.end] } } + stops.values.flatMap { $0 }).max() ?? 0
        let leases = Dictionary(grouping: spans, by: \.lease).mapValues { $0.sorted { ($0.start, $0.holder) < ($1.start, $1.holder) } }
        var details: [CheckDetail] = []
        var overlaps = 0
        var takeovers: [FaultJudgement] = []
        var slow: [String] = []
        var lines: [String] = []
        for lease in leases.keys.sorted() {
            let leaseSpans = leases[lease] ?? []
            let found = leaderOverlaps(leaseSpans, pauses: pauses, until: observationEnd)
            overlaps += found.count
            details += found
            var line = "\(lease): " + leaseSpans.map { span in
                "\(span.holder) \(Time.describe(span.start))–\(span.end.map { Time.describe($0) } ?? "end")"
            }.joined(separator: ", ")
            if let takeoverWithin {
                let judged = judgeTakeovers(lease, leaseSpans, stops: stops, within: takeoverWithin, until: observationEnd)
                takeovers += judged
                slow += judged.filter { $0.verdict == .fail }.map { "\(lease): \($0.figures)" }
                line += judged.map { "; \($0.figures)" }.joined()
            }
            lines.append(line)
        }
        details += takeovers.flatMap(\.details)
        if overlaps > 0 || !slow.isEmpty {
            var problems: [String] = []
            if overlaps > 0 { problems.append("\(count(overlaps, "overlap")) of two leaders acting at once") }
            problems += slow
            return CheckResult(name: name, verdict: .fail, summary: problems.joined(separator: "; "), details: details)
        }
        if takeoverWithin != nil, takeovers.isEmpty || takeovers.contains(where: { $0.verdict == .unknown }) {
            let why = takeovers.isEmpty ? "no stop hit a leading host, so no takeover was tested" : "a takeover could not be judged"
            return CheckResult(name: name, verdict: .unknown, summary: "\(why); " + lines.joined(separator: "; "), details: details)
        }
        return CheckResult(name: name, verdict: .pass, summary: lines.joined(separator: "; "), details: details)
    }

    /// Every overlap of two holders' acting time in one lease.
    private static func leaderOverlaps(_ spans: [LeadershipSpan], pauses: [String: [TimeWindow]], until end: Nanoseconds) -> [CheckDetail] {
        let acting = spans.map { span in
            Stretch(start: span.start, end: max(span.start, span.end ?? end)).removing(pauses[span.holder] ?? [])
        }
        var found: [CheckDetail] = []
        for first in spans.indices {
            for second in spans.indices where second > first && spans[first].holder != spans[second].holder {
                let shared = acting[first].flatMap { piece in acting[second].compactMap { piece.overlap($0) } }
                guard let earliest = shared.min(by: { $0.start < $1.start }) else { continue }
                let total = shared.reduce(0) { $0 + ($1.end - $1.start) }
                let (a, b) = (spans[first], spans[second])
                found.append(CheckDetail(time: earliest.start,
                    "\(a.holder) and \(b.holder) both led \(a.lease) from \(Time.describe(earliest.start)) to \(Time.describe(earliest.end))"
                        + " (\(Time.describe(total)) in all, pauses taken out)"))
            }
        }
        return found
    }

    /// For each stop of a host while it led `lease`: the next holder's start, against `within`.
    private static func judgeTakeovers(_ lease: String, _ spans: [LeadershipSpan], stops: [String: [Nanoseconds]], within: Nanoseconds,
        until end: Nanoseconds) -> [FaultJudgement]
    {
        var judgements: [FaultJudgement] = []
        for host in stops.keys.sorted() {
            for stop in (stops[host] ?? []).sorted() {
                guard spans.contains(where: { $0.holder == host && $0.start <= stop && stop <= ($0.end ?? end) }) else { continue }
                let next = spans.first { $0.holder != host && $0.start >= stop }
                let allowed = "allowed \(Time.describe(within))"
                let delay = next.map { $0.start - stop }
                let verdict: Verdict
                let text: String
                if let next, let delay, delay <= within {
                    (verdict, text) = (.pass, "\(next.holder) took over \(Time.describe(delay)) after \(host) stopped (\(allowed))")
                } else if let next, let delay {
                    (verdict, text) = (.fail, "\(next.holder) took over only \(Time.describe(delay)) after \(host) stopped (\(allowed))")
                } else if end >= stop + within {
                    (verdict, text) = (.fail, "no holder took over within \(Time.describe(within)) after \(host) stopped")
                } else {
                    (verdict, text) = (.unknown, "the observation ends \(Time.describe(end - stop)) after \(host) stopped, with no takeover yet (\(allowed))")
                }
                judgements.append(FaultJudgement(verdict, text,
                    details: [CheckDetail(time: stop, "\(host) stopped while leading \(lease); \(text)")], measured: delay))
            }
        }
        return judgements
    }
}
