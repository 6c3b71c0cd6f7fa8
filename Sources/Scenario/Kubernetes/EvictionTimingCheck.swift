//! EvictionTimingCheck: the taint eviction controller's promise, measured from the runner's
//! polls. Once a silent node is tainted unreachable (NoExecute), each of its pods is evicted
//! when its toleration of that taint runs out (`tolerationSeconds`, 300 s unless the pod says
//! otherwise), counted from the taint: not before, and not much after.

import Base

extension Checks {
    // MARK: - Eviction timing

    /// For each silence whose node was tainted (the first poll in the silence showing its
    /// NoExecute taint): every pod bound to the node and live at that poll must stop being live
    /// (turn terminating or finished, or vanish) within [taint + toleration − tolerance, taint +
    /// toleration + tolerance] if the silence lasts to the end of that span, and never before
    /// its start in any case (a silence healed sooner must not evict them). Silences whose
    /// node was never tainted, or had no pods, are not judged; unknown if none was.
    public static func evictionTiming(snapshots: [KubeSnapshot], silences: [NodeSilence], toleration: Nanoseconds,
        tolerance: Nanoseconds) -> CheckResult
    {
        let name = "eviction-timing"
        let polls = snapshots.inTimeOrder
        guard let runEnd = polls.last?.time else { return CheckResult(name: name, verdict: .unknown, summary: "no poll was recorded") }
        var judgements: [FaultJudgement] = []
        var notJudged: [CheckDetail] = []
        for silence in silences.sorted(by: { ($0.start, $0.node) < ($1.start, $1.node) }) {
            let end = silence.end ?? runEnd
            guard let tainted = polls.first(where: { $0.time >= silence.start && $0.time <= end && $0.node(silence.node)?.noExecuteTaint == true }) else {
                notJudged.append(CheckDetail(time: silence.start, "\(silence.node) (\(silence.cause)) was never tainted while silent"))
                continue
            }
            let pods = tainted.pods.filter { $0.node == silence.node && $0.isLive }.sorted { $0.name < $1.name }
            guard !pods.isEmpty else {
                notJudged.append(CheckDetail(time: tainted.time, "\(silence.node) (\(silence.cause)) had no live pod when tainted"))
                continue
            }
            judgements.append(judgeEviction(silence, taint: tainted.time, pods: pods, polls: polls, toleration: toleration, tolerance: tolerance))
        }
        guard !judgements.isEmpty else {
            return CheckResult(name: name, verdict: .unknown,
                summary: silences.isEmpty ? "the run silenced no node" : "no silenced node was tainted while it had pods", details: notJudged)
        }
        let result = combine(name, judgements, noun: "tainted node", none: "")
        return CheckResult(name: name, verdict: result.verdict, summary: result.summary, details: result.details + notJudged)
    }

    /// One tainted node's pods against the toleration.
    private static func judgeEviction(_ silence: NodeSilence, taint: Nanoseconds, pods: [PodObservation], polls: [KubeSnapshot],
        toleration: Nanoseconds, tolerance: Nanoseconds) -> FaultJudgement
    {
        let runEnd = polls.last?.time ?? taint
        let earliest = taint + toleration - tolerance
        let latest = taint + toleration + tolerance
        let silentUntil = silence.end ?? runEnd
        let allowed = "allowed \(Time.describe(earliest - taint))–\(Time.describe(latest - taint)) after the taint"
        var details: [CheckDetail] = []
        var delays: [Nanoseconds] = []
        var early: [String] = []
        var late: [String] = []
        var unjudged = 0
        for pod in pods {
            let evicted = polls.first { poll in
                poll.time > taint && !poll.pods.contains { $0.uid == pod.uid && $0.isLive }
            }?.time
            let who = "pod \(pod.name) on \(silence.node)"
            if let evicted, evicted < earliest {
                early.append(pod.name)
                details.append(CheckDetail(time: evicted, "\(who) evicted early: \(Time.describe(evicted - taint)) after the taint (\(allowed))"))
            } else if let evicted, evicted <= latest || silentUntil < latest {
                // In time; or the silence ended before the toleration surely ran out, so any
                // eviction from its start on is legal.
                delays.append(evicted - taint)
                details.append(CheckDetail(time: evicted, "\(who) evicted \(Time.describe(evicted - taint)) after the taint"))
            } else if silentUntil < latest {
                // Healed too soon for its toleration to surely run out: only "not early" applies,
                // and it needs polls up to where an eviction would have been early.
                if runEnd < earliest { unjudged += 1 }
            } else if runEnd < latest && evicted == nil {
                unjudged += 1
            } else {
                late.append(pod.name)
                let when = evicted.map { "only \(Time.describe($0 - taint)) after the taint" }
                    ?? "still live though silent \(Time.describe(silentUntil - taint)) after the taint"
                details.append(CheckDetail(time: evicted ?? latest, "\(who) evicted late: \(when) (\(allowed))"))
            }
        }
        var problems: [String] = []
        if !early.isEmpty { problems.append("\(early.count) of \(count(pods.count, "pod")) evicted early (\(early.joined(separator: ", ")))") }
        if !late.isEmpty { problems.append("\(late.count) of \(count(pods.count, "pod")) not evicted in time (\(late.joined(separator: ", ")))") }
        let verdict: Verdict = !problems.isEmpty ? .fail : unjudged > 0 ? .unknown : .pass
        let figures: String
        switch verdict {
        case .fail: figures = problems.joined(separator: ", ") + " (\(allowed))"
        case .unknown, .invalid: figures = "the polls end before the toleration of \(unjudged) of its \(count(pods.count, "pod")) ran out"
        case .pass: figures = evictionFigures(pods: pods.count, delays: delays, healedEarly: silentUntil < latest, allowed: allowed)
        }
        details.append(CheckDetail(time: taint, "\(silence.node) (\(silence.cause)) tainted with \(count(pods.count, "live pod")): \(figures)"))
        return FaultJudgement(verdict, "\(silence.node): \(figures)", details: details)
    }

    private static func evictionFigures(pods: Int, delays: [Nanoseconds], healedEarly: Bool, allowed: String) -> String {
        guard let first = delays.min(), let last = delays.max() else {
            return "healed before the toleration ran out; none of its \(count(pods, "pod")) was evicted"
        }
        let span = first == last ? Time.describe(first) : "\(Time.describe(first))–\(Time.describe(last))"
        let evicted = delays.count == pods ? "\(count(pods, "pod")) evicted" : "\(delays.count) of \(count(pods, "pod")) evicted"
        return "\(evicted) \(span) after the taint (\(allowed)\(healedEarly ? "; the silence ended before its end" : ""))"
    }
}
