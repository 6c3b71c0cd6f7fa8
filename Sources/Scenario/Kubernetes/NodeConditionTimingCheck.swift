//! NodeConditionTimingCheck: the node lifecycle controller's promise about a node whose kubelet
//! falls silent, measured from the runner's polls. It marks the node Ready=Unknown (and taints
//! it unreachable, NoExecute) once the grace period has passed since it last saw the node's
//! lease renewed — never before, and not much after, since it looks every monitor period — and
//! the node is Ready again soon after the kubelet is heard from again.

import Base

/// The node lifecycle controller's timing as the scenario configured it, and the check's slack.
struct NodeLifecycleTiming {
    /// `--node-monitor-grace-period`: how long without a renewal before the node is Unknown.
    var grace: Nanoseconds
    /// `--node-monitor-period`: how often the controller looks.
    var monitorPeriod: Nanoseconds
    /// Covers the runner's poll interval and scheduling noise on the late side.
    var tolerance: Nanoseconds
    /// How soon after the heal the node must be Ready again.
    var readyAfterHeal: Nanoseconds
}

/// One silence and what the polls saw of its node.
struct ObservedSilence {
    var silence: NodeSilence
    /// The node in every poll that saw it, in time order.
    var timeline: [NodeAtPoll]
    /// The last poll's time.
    var runEnd: Nanoseconds
    /// The latest renewal at or before the silence's start that some poll saw.
    var lastRenew: Nanoseconds
    /// The first poll at or after the start (and not long after the end) in which the node was
    /// not Ready=True.
    var mark: NodeAtPoll?
    /// Another node was silent at the same time, so the controller may rate-limit or withhold
    /// the taint (zone disruption, eviction rate).
    var overlapped: Bool

    var start: Nanoseconds { silence.start }
    var end: Nanoseconds { silence.end ?? runEnd }
    var who: String { silence.node }
}

extension Checks {
    // MARK: - Node condition timing

    /// For each silence: a long one (grace + monitorPeriod + tolerance or more) must get its
    /// node marked not Ready no earlier than the last renewal + grace (less a 100 ms clock
    /// slack) and no later than start + grace + monitorPeriod + tolerance, and tainted; a short
    /// one (healed sooner than grace − tolerance after the last renewal) must leave it Ready; a
    /// marked node must be Ready again within `readyAfterHeal` of the heal. Fail if any silence
    /// breaks this; unknown if none was given or any could not be judged; pass otherwise, with
    /// the measured figures per silence.
    public static func nodeConditionTiming(snapshots: [KubeSnapshot], silences: [NodeSilence], grace: Nanoseconds,
        monitorPeriod: Nanoseconds, tolerance: Nanoseconds, readyAfterHeal: Nanoseconds) -> CheckResult
    {
        let timing = NodeLifecycleTiming(grace: grace, monitorPeriod: monitorPeriod, tolerance: tolerance, readyAfterHeal: readyAfterHeal)
        let polls = snapshots.inTimeOrder
        let judgements = silences.sorted { ($0.start, $0.node) < ($1.start, $1.node) }.map { silence in
            judgeNodeCondition(silence, polls: polls, silences: silences, timing)
        }
        return combine("node-condition-timing", judgements, noun: "node silence", none: "the run silenced no node")
    }

    private static func judgeNodeCondition(_ silence: NodeSilence, polls: [KubeSnapshot], silences: [NodeSilence],
        _ timing: NodeLifecycleTiming) -> FaultJudgement
    {
        let unjudged = { (why: String) in
            FaultJudgement(.unknown, "\(silence.node): \(why)", details: [CheckDetail(time: silence.start, "\(silence.node): \(why)")])
        }
        guard let runEnd = polls.last?.time else { return unjudged("no poll was recorded") }
        let timeline = polls.timeline(ofNode: silence.node)
        if let before = timeline.last(where: { $0.time <= silence.start }), before.node.ready != "True" {
            return unjudged("it was \(before.readiness), not Ready, when \(silence.cause) began")
        }
        let searchEnd = silence.end.map { $0 + timing.monitorPeriod + timing.tolerance } ?? Int64.max
        let mark = timeline.first { $0.time >= silence.start && $0.time <= searchEnd && $0.node.ready != "True" }
        // Renewals a poll saw before the mark: the controller had seen them too, so they bound it.
        let renewals = timeline.filter { $0.time <= (mark?.time ?? Int64.max) }.compactMap(\.node.leaseRenewed)
        guard let lastRenew = renewals.filter({ $0 <= silence.start }).max() else {
            return unjudged("no renewal of its lease was seen before \(silence.cause)")
        }
        let overlapped = silences.contains { other in
            other.node != silence.node && other.start < (silence.end ?? Int64.max) && silence.start < (other.end ?? Int64.max)
        }
        let observed = ObservedSilence(silence: silence, timeline: timeline, runEnd: runEnd, lastRenew: lastRenew, mark: mark,
            overlapped: overlapped)
        var judgement = judgeMarking(observed, timing)
        if let mark, judgement.verdict != .fail {
            let readyAgain = judgeReadyAfterHeal(observed, mark: mark, timing, into: &judgement)
            judgeTaint(observed, mark: mark, readyAgain: readyAgain, timing, into: &judgement)
        }
        judgement.figures = "\(silence.node): " + judgement.figures
        return judgement
    }

    /// Whether and when the node was marked, against the bounds.
    private static func judgeMarking(_ observed: ObservedSilence, _ timing: NodeLifecycleTiming) -> FaultJudgement {
        let start = observed.start
        let earliest = observed.lastRenew + timing.grace
        let latest = start + timing.grace + timing.monitorPeriod + timing.tolerance
        let bounds = "last renewal \(Time.describe(start - observed.lastRenew)) before it; "
            + "allowed \(Time.describe(earliest - start))–\(Time.describe(latest - start)) after the fault"
        let lasted = "silent \(Time.describe(observed.end - start))"
        func judged(_ verdict: Verdict, _ figures: String, at time: Nanoseconds) -> FaultJudgement {
            FaultJudgement(verdict, figures, details: [CheckDetail(time: time, "\(observed.who) (\(observed.silence.cause)): \(figures)")])
        }
        if let healed = observed.silence.end, healed - observed.lastRenew < timing.grace - timing.tolerance {
            // Short: the controller must not mark it before it has gone a whole grace period
            // without a renewal; the kubelet renews again after the heal.
            let until = min(healed + timing.monitorPeriod, earliest - kubeClockSlack)
            let renewal = "last renewal \(Time.describe(start - observed.lastRenew)) before it; grace \(Time.describe(timing.grace))"
            if let early = observed.timeline.first(where: { $0.time >= start && $0.time <= until && $0.node.ready != "True" }) {
                return judged(.fail, "marked early: \(early.readiness) \(Time.describe(early.time - start)) after the fault, "
                    + "though \(lasted) (\(renewal))", at: early.time)
            }
            guard observed.runEnd >= until else {
                return judged(.unknown, "the polls end \(Time.describe(observed.runEnd - start)) after the fault, before the "
                    + "\(Time.describe(until - start)) through which it must stay Ready", at: start)
            }
            return judged(.pass, "stayed Ready while \(lasted) (\(renewal))", at: start)
        }
        if let mark = observed.mark, mark.time < earliest - kubeClockSlack {
            return judged(.fail, "marked early: \(mark.readiness) \(Time.describe(mark.time - start)) after the fault (\(bounds))", at: mark.time)
        }
        guard observed.end - start >= timing.grace + timing.monitorPeriod + timing.tolerance else {
            // Neither short nor long: marking it is allowed, not required.
            guard let mark = observed.mark else { return judged(.pass, "stayed Ready while \(lasted) (\(bounds))", at: start) }
            return judged(.pass, "\(mark.readiness) \(Time.describe(mark.time - start)) after the fault (\(bounds))", at: mark.time)
        }
        if let mark = observed.mark {
            let verdict: Verdict = mark.time <= latest ? .pass : .fail
            let late = verdict == .fail ? "marked late: " : ""
            return judged(verdict, "\(late)\(mark.readiness) \(Time.describe(mark.time - start)) after the fault (\(bounds))", at: mark.time)
        }
        guard observed.runEnd >= latest else {
            return judged(.unknown, "the polls end \(Time.describe(observed.runEnd - start)) after the fault, before it had to be marked (\(bounds))",
                at: start)
        }
        return judged(.fail, "never marked: still Ready \(Time.describe(observed.end - start)) after the fault (\(bounds))", at: latest)
    }

    /// After a heal the node must be Ready again within `readyAfterHeal`. Returns the poll that
    /// saw it Ready again.
    @discardableResult
    private static func judgeReadyAfterHeal(_ observed: ObservedSilence, mark: NodeAtPoll, _ timing: NodeLifecycleTiming,
        into judgement: inout FaultJudgement) -> NodeAtPoll?
    {
        guard let healed = observed.silence.end else { return nil }
        let deadline = healed + timing.readyAfterHeal
        let allowed = "allowed \(Time.describe(timing.readyAfterHeal))"
        let again = observed.timeline.first { $0.time >= max(healed, mark.time) && $0.node.ready == "True" }
        let text: String
        let verdict: Verdict
        if let again, again.time <= deadline {
            (verdict, text) = (.pass, "Ready again \(Time.describe(again.time - healed)) after the heal")
        } else if let again {
            (verdict, text) = (.fail, "Ready again only \(Time.describe(again.time - healed)) after the heal (\(allowed))")
        } else if observed.runEnd >= deadline {
            (verdict, text) = (.fail, "never Ready again after the heal (\(allowed); the polls end \(Time.describe(observed.runEnd - healed)) after it)")
        } else {
            (verdict, text) = (.unknown, "not Ready again before the polls end, \(Time.describe(observed.runEnd - healed)) after the heal (\(allowed))")
        }
        judgement.figures += ", " + text
        judgement.details.append(CheckDetail(time: again?.time ?? healed, "\(observed.who): \(text)"))
        if verdict != .pass, judgement.verdict != .fail { judgement.verdict = verdict }
        return again
    }

    /// A node marked for a long silence must carry the unreachable (or not-ready) NoExecute
    /// taint before it is Ready again. Required only when no other node was silent at the same
    /// time: with several, the controller rate-limits the tainting and in a full disruption
    /// withholds it.
    private static func judgeTaint(_ observed: ObservedSilence, mark: NodeAtPoll, readyAgain: NodeAtPoll?,
        _ timing: NodeLifecycleTiming, into judgement: inout FaultJudgement)
    {
        let until = readyAgain?.time ?? observed.runEnd
        if let tainted = observed.timeline.first(where: { $0.time >= mark.time && $0.time <= until && $0.node.noExecuteTaint }) {
            judgement.details.append(CheckDetail(time: tainted.time,
                "\(observed.who): tainted NoExecute \(Time.describe(tainted.time - observed.start)) after the fault"))
            return
        }
        let long = observed.end - observed.start >= timing.grace + timing.monitorPeriod + timing.tolerance
        let required = long && !observed.overlapped && until >= mark.time + timing.monitorPeriod
        let text = "never tainted NoExecute between the mark and \(readyAgain == nil ? "the end of the polls" : "Ready again")"
        judgement.details.append(CheckDetail(time: mark.time, "\(observed.who): \(text)\(required ? "" : " (not required: other nodes were silent too, or it was soon over)")"))
        guard required else { return }
        judgement.figures += ", " + text
        judgement.verdict = .fail
    }
}
