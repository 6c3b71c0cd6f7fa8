//! NodeTimingChecks: what the node lifecycle controller promises about a node whose kubelet
//! falls silent. It marks the node Ready=Unknown (and taints it unreachable:NoExecute) once
//! the grace period has passed since it last saw the node's lease renewed, checking every
//! monitor period; it puts nothing on a node silent for less; the node is Ready again soon
//! after the kubelet is heard. And the taint eviction controller deletes the node's pods when
//! their toleration of the taint runs out, counted from the taint.

import Base

extension Checks {
    /// Slack for putting the cluster's wall-clock times on the run's clock (one machine, one clock).
    static let clockSlack: Nanoseconds = 100 * Time.millisecond

    /// The node's last lease renewal at or before `time`, as any snapshot saw it (a renewal just
    /// before a fault may only be read by a poll after it).
    static func lastRenewal(of node: String, atOrBefore time: Nanoseconds, in snapshots: [KubeSnapshot]) -> Nanoseconds? {
        snapshots.compactMap { $0.node(node)?.leaseRenewed }.filter { $0 <= time + clockSlack }.max()
    }

    /// Node-condition timing: see the file's header. `readyAfterHeal` bounds the return.
    public static func nodeConditionTiming(snapshots: [KubeSnapshot], silences: [NodeSilence], grace: Nanoseconds,
        monitorPeriod: Nanoseconds, tolerance: Nanoseconds, readyAfterHeal: Nanoseconds) -> CheckResult
    {
        let name = "node-condition-timing"
        guard let lastTime = snapshots.last?.time else {
            return CheckResult(name: name, verdict: .unknown, summary: "no snapshot of the cluster was taken")
        }
        guard !silences.isEmpty else {
            return CheckResult(name: name, verdict: .unknown, summary: "no fault silenced a kubelet, so there was no grace period to time")
        }
        var failures: [CheckDetail] = []
        var figures: [CheckDetail] = []
        var incomplete: [String] = []  // could not be judged: the verdict is unknown
        var notes: [String] = []  // silences that say nothing either way
        for silence in silences {
            let node = silence.node
            let end = silence.end ?? lastTime
            guard let lastRenew = lastRenewal(of: node, atOrBefore: silence.start, in: snapshots) else {
                incomplete.append("\(node): no lease renewal seen before \(silence.cause)")
                continue
            }
            let marked = snapshots.first { $0.time >= silence.start && ($0.node(node).map { $0.ready != "True" } ?? false) }
            let earliest = lastRenew + grace - clockSlack
            let latest = silence.start + grace + monitorPeriod + tolerance
            if end - silence.start >= grace + monitorPeriod + tolerance {
                guard let marked, marked.time <= max(latest, end) else {
                    failures.append(CheckDetail(time: latest,
                        "\(node): still Ready \(Time.describe(latest - silence.start)) after \(silence.cause) (grace \(Time.describe(grace)) + monitor period \(Time.describe(monitorPeriod)) + tolerance \(Time.describe(tolerance)))"))
                    continue
                }
                let delay = marked.time - silence.start
                let window = "allowed \(Time.describe(max(0, earliest - silence.start)))–\(Time.describe(latest - silence.start)) after the fault; last renewal \(Time.describe(silence.start - lastRenew)) before it"
                if marked.time < earliest {
                    failures.append(CheckDetail(time: marked.time,
                        "\(node): \(marked.node(node)?.ready ?? "?") \(Time.describe(delay)) after \(silence.cause), \(Time.describe(marked.time - lastRenew)) after its last lease renewal — before the \(Time.describe(grace)) grace period was over (\(window))"))
                    continue
                }
                if marked.time > latest {
                    failures.append(CheckDetail(time: marked.time,
                        "\(node): \(marked.node(node)?.ready ?? "?") only \(Time.describe(delay)) after \(silence.cause) (\(window))"))
                    continue
                }
                var text = "\(node): \(marked.node(node)?.ready ?? "?") \(Time.describe(delay)) after \(silence.cause) (\(window))"
                if let tainted = snapshots.first(where: { $0.time >= marked.time && $0.time <= end && ($0.node(node)?.noExecuteTaint ?? false) }) {
                    text += ", tainted NoExecute \(Time.describe(tainted.time - silence.start)) after it"
                } else {
                    failures.append(CheckDetail(time: marked.time, "\(node): marked \(marked.node(node)?.ready ?? "?") but never tainted NoExecute while silent"))
                    continue
                }
                if let healed = silence.end {
                    let deadline = healed + readyAfterHeal
                    if let back = snapshots.first(where: { $0.time >= healed && $0.node(node)?.ready == "True" }), back.time <= deadline {
                        text += "; Ready again \(Time.describe(back.time - healed)) after the heal"
                    } else if lastTime < deadline {
                        incomplete.append("\(node): the run ended \(Time.describe(lastTime - healed)) after the heal, before it was Ready again")
                        continue
                    } else {
                        failures.append(CheckDetail(time: deadline, "\(node): not Ready again within \(Time.describe(readyAfterHeal)) of the heal"))
                        continue
                    }
                }
                figures.append(CheckDetail(time: marked.time, text))
            } else if end - lastRenew < grace - tolerance {
                // Too short to mark: the node must stay Ready through the silence and a monitor period after.
                let watchedUntil = end + monitorPeriod
                if let flapped = snapshots.first(where: { $0.time >= silence.start && $0.time <= watchedUntil && ($0.node(node).map { $0.ready != "True" } ?? false) }) {
                    failures.append(CheckDetail(time: flapped.time,
                        "\(node): marked \(flapped.node(node)?.ready ?? "?") after a silence of only \(Time.describe(end - silence.start)) (\(Time.describe(end - lastRenew)) since its last renewal, grace \(Time.describe(grace)))"))
                } else {
                    figures.append(CheckDetail(time: silence.start, "\(node): stayed Ready through a \(Time.describe(end - silence.start)) silence (shorter than the grace period)"))
                }
            } else {
                notes.append("\(node): a silence of \(Time.describe(end - silence.start)) is too close to the grace period to say either way")
            }
        }
        if !failures.isEmpty {
            return CheckResult(name: name, verdict: .fail,
                summary: "\(count(failures.count, "violation")) of the node lifecycle's timing (grace \(Time.describe(grace)), monitor period \(Time.describe(monitorPeriod)))",
                details: failures + figures)
        }
        if !incomplete.isEmpty || figures.isEmpty {
            let reasons = incomplete + notes
            return CheckResult(name: name, verdict: .unknown,
                summary: reasons.isEmpty ? "no silence could be judged" : reasons.joined(separator: "; "), details: figures)
        }
        let noted = notes.isEmpty ? "" : " (" + notes.joined(separator: "; ") + ")"
        return CheckResult(name: name, verdict: .pass, summary: figures.map(\.text).joined(separator: "; ") + noted, details: figures)
    }

    /// Eviction timing: see the file's header.
    public static func evictionTiming(snapshots: [KubeSnapshot], silences: [NodeSilence], toleration: Nanoseconds,
        tolerance: Nanoseconds) -> CheckResult
    {
        let name = "eviction-timing"
        guard let lastTime = snapshots.last?.time else {
            return CheckResult(name: name, verdict: .unknown, summary: "no snapshot of the cluster was taken")
        }
        var failures: [CheckDetail] = []
        var figures: [CheckDetail] = []
        for silence in silences {
            let node = silence.node
            let end = silence.end ?? lastTime
            guard let taintedAt = snapshots.firstIndex(where: { $0.time >= silence.start && $0.time <= end && ($0.node(node)?.noExecuteTaint ?? false) })
            else { continue }
            let tainted = snapshots[taintedAt]
            let due = tainted.time + toleration
            let pods = tainted.pods.filter { $0.node == node && $0.isLive }
            guard !pods.isEmpty else { continue }
            let mustEvict = end >= due + tolerance
            let mayEvict = end >= due - tolerance
            var delays: [Nanoseconds] = []
            for pod in pods {
                let stopped = snapshots[taintedAt...].first { snapshot in
                    guard let now = snapshot.pods.first(where: { $0.uid == pod.uid }) else { return true }
                    return !now.isLive
                }
                if let stopped, stopped.time <= end + tolerance {
                    let delay = stopped.time - tainted.time
                    if !mayEvict || stopped.time < due - tolerance {
                        failures.append(CheckDetail(time: stopped.time,
                            "\(pod.name) on \(node): evicted \(Time.describe(delay)) after the taint, before its \(Time.describe(toleration)) toleration ran out"))
                    } else if stopped.time > due + tolerance {
                        failures.append(CheckDetail(time: stopped.time,
                            "\(pod.name) on \(node): evicted only \(Time.describe(delay)) after the taint (toleration \(Time.describe(toleration)), tolerance \(Time.describe(tolerance)))"))
                    } else {
                        delays.append(delay)
                    }
                } else if mustEvict {
                    failures.append(CheckDetail(time: due + tolerance,
                        "\(pod.name) on \(node): not evicted \(Time.describe(due + tolerance - tainted.time)) after the taint (toleration \(Time.describe(toleration)))"))
                }
            }
            if !delays.isEmpty {
                figures.append(CheckDetail(time: tainted.time,
                    "\(node): \(count(delays.count, "pod")) evicted \(Time.describe(delays.min()!))–\(Time.describe(delays.max()!)) after the taint (toleration \(Time.describe(toleration)))"))
            } else if !mustEvict && mayEvict == false {
                figures.append(CheckDetail(time: tainted.time, "\(node): healed before the toleration ran out; its \(count(pods.count, "pod")) stayed"))
            }
        }
        if !failures.isEmpty {
            return CheckResult(name: name, verdict: .fail, summary: "\(count(failures.count, "pod")) not evicted on time", details: failures + figures)
        }
        guard !figures.isEmpty else {
            return CheckResult(name: name, verdict: .unknown, summary: "no node with pods was tainted, so no eviction could be timed")
        }
        return CheckResult(name: name, verdict: .pass, summary: figures.map(\.text).joined(separator: "; "), details: figures)
    }
}
