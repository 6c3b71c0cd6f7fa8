//! LeaderTimelineTests: the agreed leader over time, and where two runs' timelines part.

import Base
import Runner
import Testing

/// Three members polled every 100 ms; `leaderAt` says whom they name at each poll.
private func samples(seconds: Int, _ leaderAt: (Nanoseconds) -> String?) -> [LeaderObservation] {
    var result: [LeaderObservation] = []
    let end: Nanoseconds = Nanoseconds(seconds) * Time.second
    var time: Nanoseconds = 0
    while time < end {
        for member in ["etcd-1", "etcd-2", "etcd-3"] {
            result.append(LeaderObservation(time: time + 5 * Time.millisecond, member: member, term: 2, leader: leaderAt(time)))
        }
        time += 100 * Time.millisecond
    }
    return result
}

@Suite struct LeaderTimelineTests {
    @Test func changesFollowTheMajority() {
        let timeline = LeaderTimeline.changes(samples(seconds: 6) { $0 < 2 * Time.second ? "etcd-1" : $0 < 2_500 * Time.millisecond ? nil : "etcd-2" }, members: 3)
        #expect(timeline == [LeaderChange(time: 0, leader: "etcd-1"), LeaderChange(time: 2 * Time.second, leader: nil),
            LeaderChange(time: 2_500 * Time.millisecond, leader: "etcd-2")])
        // One member naming another leader is not a majority.
        var minority = samples(seconds: 1) { _ in "etcd-1" }
        for index in minority.indices where minority[index].member == "etcd-3" { minority[index].leader = "etcd-3" }
        #expect(LeaderTimeline.changes(minority, members: 3) == [LeaderChange(time: 0, leader: "etcd-1")])
    }

    @Test func aBucketWithTooFewSamplesIsSkippedNotReadAsNoLeader() {
        // Polling stopped mid-bucket: only etcd-1's last sample made it into the final bucket.
        var cutOff = samples(seconds: 1) { _ in "etcd-1" }
        cutOff.append(LeaderObservation(time: 1_005 * Time.millisecond, member: "etcd-1", term: 2, leader: "etcd-1"))
        #expect(LeaderTimeline.changes(cutOff, members: 3) == [LeaderChange(time: 0, leader: "etcd-1")])
        // Two of three members unreachable in a full bucket is still "no leader agreed".
        var killed = samples(seconds: 1) { _ in "etcd-1" }
        for index in killed.indices where killed[index].member != "etcd-1" && killed[index].time > 500 * Time.millisecond {
            killed[index].leader = nil
        }
        #expect(LeaderTimeline.changes(killed, members: 3) == [LeaderChange(time: 0, leader: "etcd-1"), LeaderChange(time: 500 * Time.millisecond, leader: nil)])
    }

    @Test func divergenceNamesTheFirstDifference() {
        let original = LeaderTimeline.changes(samples(seconds: 6) { $0 < 2 * Time.second ? "etcd-1" : "etcd-2" }, members: 3)
        let sameLater = LeaderTimeline.changes(samples(seconds: 6) { $0 < 2_400 * Time.millisecond ? "etcd-1" : "etcd-2" }, members: 3)
        #expect(LeaderTimeline.divergence(original, sameLater) == nil)
        let other = LeaderTimeline.changes(samples(seconds: 6) { $0 < 2 * Time.second ? "etcd-1" : "etcd-3" }, members: 3)
        #expect(LeaderTimeline.divergence(original, other) == "leader change 2: originally etcd-2 at 2.0s, in the replay etcd-3 at 2.0s")
        let late = LeaderTimeline.changes(samples(seconds: 6) { $0 < 4 * Time.second ? "etcd-1" : "etcd-2" }, members: 3)
        #expect(LeaderTimeline.divergence(original, late)?.contains("at 2.0s originally, 4.0s in the replay") == true)
        let none = LeaderTimeline.changes(samples(seconds: 6) { _ in "etcd-1" }, members: 3)
        #expect(LeaderTimeline.divergence(original, none)?.contains("fewer leader change") == true)
    }
}
