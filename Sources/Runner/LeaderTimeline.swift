//! LeaderTimeline: who led the cluster when, from the status poller's samples — the leader a
//! majority of the members' answers name, in 100 ms buckets, collapsed into changes — and where
//! two runs' timelines part (what `replay` reports). Pure: samples in, changes out.

import Base

public struct LeaderChange: Sendable, Equatable {
    /// Start of the bucket where the change was first seen (ns since the workload began).
    public var time: Nanoseconds
    /// Nil while no leader is agreed on.
    public var leader: String?

    public init(time: Nanoseconds, leader: String?) {
        self.time = time
        self.leader = leader
    }
}

public enum LeaderTimeline {
    /// The agreed leader over time: a change whenever the majority's answer changes.
    public static func changes(_ samples: [LeaderObservation], members: Int, bucket: Nanoseconds = 100 * Time.millisecond) -> [LeaderChange] {
        precondition(bucket > 0 && members > 0, "bucket \(bucket) and members \(members) must be positive")
        var byBucket: [Nanoseconds: [String?]] = [:]
        for sample in samples { byBucket[sample.time / bucket, default: []].append(sample.reachable ? sample.leader : nil) }
        var result: [LeaderChange] = []
        for index in byBucket.keys.sorted() {
            // A bucket that holds samples from fewer than a majority of the members (the last
            // one, cut off when polling stopped) says nothing about who leads: skip it.
            guard byBucket[index]!.count > members / 2 else { continue }
            let named = byBucket[index]!.compactMap { $0 }
            let counts = Dictionary(grouping: named, by: { $0 }).mapValues(\.count)
            // Ties break by name so that the timeline is the same for the same samples.
            let top = counts.max { ($0.value, $1.key) < ($1.value, $0.key) }
            let leader = top.flatMap { $0.value > members / 2 ? $0.key : nil }
            if result.last?.leader != leader || result.isEmpty { result.append(LeaderChange(time: index * bucket, leader: leader)) }
        }
        return result
    }

    /// The first place two timelines disagree: a different leader, or the same change more than
    /// `tolerance` apart. Nil when they agree. Changes to "no leader" shorter than `tolerance`
    /// are ignored on both sides (a poll that raced an election).
    public static func divergence(_ old: [LeaderChange], _ new: [LeaderChange], tolerance: Nanoseconds = 1 * Time.second) -> String? {
        func settled(_ changes: [LeaderChange]) -> [LeaderChange] {
            var kept: [LeaderChange] = []
            for (index, change) in changes.enumerated() {
                let next = index + 1 < changes.count ? changes[index + 1].time : Nanoseconds.max
                if change.leader == nil && next - change.time < tolerance { continue }
                if kept.last?.leader == change.leader { continue }
                kept.append(change)
            }
            return kept
        }
        let (a, b) = (settled(old), settled(new))
        for index in 0..<max(a.count, b.count) {
            guard index < a.count else { return "the replay saw \(b.count - a.count) more leader change(s), first \(show(b[index]))" }
            guard index < b.count else { return "the replay saw \(a.count - b.count) fewer leader change(s); the original next had \(show(a[index]))" }
            if a[index].leader != b[index].leader {
                return "leader change \(index + 1): originally \(show(a[index])), in the replay \(show(b[index]))"
            }
            if abs(a[index].time - b[index].time) > tolerance {
                return "leader change \(index + 1) (\(a[index].leader ?? "none")): at \(seconds(a[index].time)) originally, \(seconds(b[index].time)) in the replay"
            }
        }
        return nil
    }

    static func show(_ change: LeaderChange) -> String { "\(change.leader ?? "no leader") at \(seconds(change.time))" }
    static func seconds(_ time: Nanoseconds) -> String { Time.seconds(time, decimals: 1) }
}
