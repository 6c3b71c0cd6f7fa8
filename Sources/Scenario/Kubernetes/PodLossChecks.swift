//! PodLossChecks: what happens to a Deployment's pods when they stop being live. Under a
//! partial fault every pod lost while the Deployment was short must be replaced, in time; under
//! a full disruption (every node unreachable at once) Kubernetes stops evicting, so no pod may
//! be lost at all while the desired count stands.

import Base

extension Checks {
    /// Slack before a loss for its replacement's creationTimestamp: Kubernetes keeps whole
    /// seconds (up to 1 s early), and a poll's lists are read a few milliseconds apart.
    static let creationSlack: Nanoseconds = 1_100 * Time.millisecond

    // MARK: - No pod lost

    /// A pod of the Deployment is lost at the first poll where it is no longer live. A loss
    /// that left fewer live pods than desired needs a replacement: a distinct pod of the
    /// Deployment created (whole seconds, so from 1 s before the loss) no later than loss +
    /// `within`, matched greedily in time order. Unmatched: fail (unknown while the polls end
    /// before the deadline). Unknown when no poll saw a pod of the Deployment.
    public static func noPodLost(snapshots: [KubeSnapshot], deployment: String, within: Nanoseconds) -> CheckResult {
        let name = "no-pod-lost"
        let history = PodHistory(snapshots, deployment: deployment)
        guard !history.seen.isEmpty, let runEnd = history.runEnd else {
            return CheckResult(name: name, verdict: .unknown, summary: "no poll saw a pod of the Deployment \(deployment)")
        }
        let needing = history.losses.filter { $0.liveThen < ($0.desiredThen ?? 0) }
        var candidates = history.seen.values.sorted { ($0.created, $0.name) < ($1.created, $1.name) }
        var details: [CheckDetail] = []
        var slowest: Nanoseconds = 0
        var unmatched = 0
        var unjudged = 0
        for loss in needing {
            let lostUID = loss.pod.uid
            let eligible = candidates.firstIndex { $0.uid != lostUID && $0.created >= loss.time - creationSlack && $0.created <= loss.time + within }
            guard let eligible else {
                if runEnd < loss.time + within {
                    unjudged += 1
                    details.append(CheckDetail(time: loss.time, "\(loss.described): no replacement yet when the polls end, \(Time.describe(runEnd - loss.time)) after the loss (allowed \(Time.describe(within)))"))
                } else {
                    unmatched += 1
                    details.append(CheckDetail(time: loss.time, "\(loss.described) was not replaced within \(Time.describe(within)) (\(loss.liveThen) of \(loss.desiredThen ?? 0) live then)"))
                }
                continue
            }
            let replacement = candidates.remove(at: eligible)
            let delay = max(0, replacement.created - loss.time)
            slowest = max(slowest, delay)
            details.append(CheckDetail(time: loss.time, "\(loss.described) replaced by \(replacement.name), created \(Time.describe(delay)) after the loss"))
        }
        let lost = count(history.losses.count, "pod") + " lost"
        let replaced = needing.count - unmatched - unjudged
        if unmatched > 0 {
            return CheckResult(name: name, verdict: .fail,
                summary: "\(unmatched) of \(count(needing.count, "lost pod")) needing a replacement got none within \(Time.describe(within)) (\(lost))", details: details)
        }
        if unjudged > 0 {
            return CheckResult(name: name, verdict: .unknown,
                summary: "the polls end before \(unjudged) of \(count(needing.count, "lost pod")) needing a replacement had one", details: details)
        }
        guard !needing.isEmpty else {
            return CheckResult(name: name, verdict: .pass, summary: "\(lost), none leaving \(deployment) short", details: details)
        }
        return CheckResult(name: name, verdict: .pass,
            summary: "\(lost), \(needing.count) leaving \(deployment) short; \(replaced) replaced, the slowest created \(Time.describe(slowest)) after its loss (allowed \(Time.describe(within)))",
            details: details)
    }

    // MARK: - No eviction

    /// For a full disruption (every node unreachable at once, when Kubernetes stops evicting):
    /// no pod of the Deployment that was live may stop being live unless the desired count fell
    /// below what it was while the pod was live. Unknown when no poll saw a live pod of it.
    public static func noEviction(snapshots: [KubeSnapshot], deployment: String) -> CheckResult {
        let name = "no-eviction"
        let history = PodHistory(snapshots, deployment: deployment)
        guard history.stayed + history.losses.count > 0 else {
            return CheckResult(name: name, verdict: .unknown, summary: "no poll saw a live pod of the Deployment \(deployment)")
        }
        var details: [CheckDetail] = []
        var excused = 0
        for loss in history.losses {
            if let now = loss.desiredThen, let before = loss.desiredWhileLive, now < before {
                excused += 1
                continue
            }
            details.append(CheckDetail(time: loss.time, "\(loss.described) stopped being live while \(loss.desiredThen ?? 0) were desired"))
        }
        let scaled = excused == 0 ? "" : "; \(excused) removed by a scale-down"
        guard details.isEmpty else {
            return CheckResult(name: name, verdict: .fail,
                summary: "\(count(details.count, "pod")) of \(deployment) evicted or deleted during the disruption\(scaled)", details: details)
        }
        return CheckResult(name: name, verdict: .pass, summary: "\(count(history.stayed, "pod")) of \(deployment) stayed live through the run\(scaled)")
    }
}
