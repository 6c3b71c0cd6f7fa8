//! ChecksTests: every check passes a good run and fails (or says unknown or invalid) on a known
//! bad one, naming the offending item; the overall verdict combines them as documented.

import Base
import Linearizability
import Scenario
import Testing

/// An operation for the checks that read histories.
func op(_ f: OperationKind, _ key: String = "k", invoke: Int64, complete: Int64?, _ outcome: OperationOutcome = .ok,
    value: String = "1") -> Operation
{
    Operation(process: 0, f: f, key: key, input: f == .read ? .null : .string(value), output: .null,
        invokeTime: invoke * millisecond, completionTime: complete.map { $0 * millisecond } ?? Int64.max, outcome: outcome, index: 0)
}

@Suite struct VerdictTests {
    @Test func theOverallVerdict() {
        func result(_ verdict: Verdict) -> CheckResult { CheckResult(name: "x", verdict: verdict, summary: "") }
        #expect(Verdict.overall([result(.pass), result(.pass)]) == .pass)
        #expect(Verdict.overall([result(.pass), result(.unknown)]) == .unknown)
        #expect(Verdict.overall([result(.unknown), result(.fail)]) == .fail)
        #expect(Verdict.overall([result(.fail), result(.invalid)]) == .invalid)
        #expect(Verdict.overall([]) == .unknown)
    }

    @Test func detailsAreBoundedAndOrderedByTime() {
        let details = (0..<30).reversed().map { CheckDetail(time: Int64($0) * second, "item \($0)") }
        let result = CheckResult(name: "x", verdict: .fail, summary: "many", details: details)
        #expect(result.details.count == CheckResult.detailsMax && result.omittedDetails == 10)
        #expect(result.details.first?.text == "item 0")
        #expect(result.description.hasPrefix("FAIL x: many\n  0µs: item 0\n  1s: item 1\n"))
        #expect(result.description.hasSuffix("… and 10 more"))
    }
}

@Suite struct SafetyChecksTests {
    @Test func electionSafety() {
        let good = [
            LeadershipObservation(member: "etcd-1", time: 1 * second, term: 2, leader: "etcd-1", isLeader: true),
            LeadershipObservation(member: "etcd-2", time: 1 * second, term: 2, leader: "etcd-1", isLeader: false),
            LeadershipObservation(member: "etcd-2", time: 5 * second, term: 3, leader: "etcd-2", isLeader: true),
            LeadershipObservation(member: "etcd-3", time: 5 * second, term: 3, leader: nil, isLeader: false),
        ]
        #expect(Checks.electionSafety(observations: good).verdict == .pass)
        // Two leaders of term 3 at once: etcd-2 is still named at 7 s, after etcd-3 claimed it at 6 s.
        let twoClaims = good + [
            LeadershipObservation(member: "etcd-3", time: 6 * second, term: 3, leader: "etcd-3", isLeader: true),
            LeadershipObservation(member: "etcd-2", time: 7 * second, term: 3, leader: "etcd-2", isLeader: true),
        ]
        let result = Checks.electionSafety(observations: twoClaims)
        #expect(result.verdict == .fail)
        #expect(result.details.map(\.text) == [
            "term 3 has 2 leaders at once: etcd-2 (claimed by itself at 5s, last named at 7s), etcd-3 (claimed by itself at 6s, last named at 6s)",
        ])
        let twoReported = good + [
            LeadershipObservation(member: "etcd-1", time: 1 * second, term: 2, leader: "etcd-3", isLeader: false),
        ]
        #expect(Checks.electionSafety(observations: twoReported).details.first?.text.contains("etcd-3 (reported by etcd-1 at 1s") == true)
        // Real etcd's status pairs the new leader with the term of the last applied entry for a
        // moment after an election: a stale label after the old leader's span is not a violation.
        let staleLabel = good + [LeadershipObservation(member: "etcd-3", time: 9 * second, term: 2, leader: "etcd-2", isLeader: false)]
        #expect(Checks.electionSafety(observations: staleLabel).verdict == .pass)
        #expect(Checks.electionSafety(observations: []).verdict == .unknown)
    }

    @Test func noLostWrites() {
        let acknowledged = [InsertRecord(key: "i1", time: second), InsertRecord(key: "i2", time: 2 * second)]
        let indefinite = [InsertRecord(key: "i3", time: 3 * second), InsertRecord(key: "i4", time: 3 * second)]
        let failed = [InsertRecord(key: "i5", time: 4 * second)]
        let good = Checks.noLostWrites(acknowledged: acknowledged, indefinite: indefinite, failed: failed, finalKeys: ["i1", "i2", "i3"])
        #expect(good.verdict == .pass && good.summary == "all 2 acknowledged inserts present; 1 of 2 indefinite took effect")
        let lost = Checks.noLostWrites(acknowledged: acknowledged, indefinite: indefinite, finalKeys: ["i1"])
        #expect(lost.verdict == .fail && lost.summary == "1 of 2 acknowledged inserts lost")
        #expect(lost.details == [CheckDetail(time: 2 * second, "insert i2 was acknowledged but is missing from the final read")])
        let phantom = Checks.noLostWrites(acknowledged: acknowledged, indefinite: [], failed: failed, finalKeys: ["i1", "i2", "i9", "i5"])
        #expect(phantom.verdict == .fail)
        #expect(phantom.details.map(\.text) == [
            "insert i5 failed (certainly not applied) but is in the final read", "key i9 is in the final read but no insert ever wrote it",
        ])
        #expect(Checks.noLostWrites(acknowledged: acknowledged, indefinite: [], finalKeys: nil).verdict == .unknown)
    }

    @Test func recovery() {
        let converged = ["etcd-1", "etcd-2", "etcd-3"].map { MemberState(name: $0, answered: true, revision: 120, hash: 0xbeef) }
        #expect(Checks.recovery(members: converged).verdict == .pass)
        #expect(Checks.recovery(members: converged).summary == "all 3 members at revision 120, hash beef")
        var silent = converged
        silent[1] = MemberState(name: "etcd-2", answered: false)
        let result = Checks.recovery(members: silent)
        #expect(result.verdict == .fail && result.details.map(\.text) == ["etcd-2 did not answer"])
        var diverged = converged
        diverged[2].hash = 0xdead
        let split = Checks.recovery(members: diverged)
        #expect(split.verdict == .fail && split.summary.contains("did not converge"))
        #expect(split.details.contains { $0.text == "etcd-3 is at revision 120 with hash dead" })
        #expect(Checks.recovery(members: []).verdict == .unknown)
    }

    @Test func noMinorityWrites() {
        let window = TimeWindow(start: 5_000 * millisecond, end: 10_000 * millisecond)
        let operations = [
            op(.write, invoke: 4_900, complete: 5_100),  // committed before the window, acknowledged in it
            op(.write, invoke: 5_100, complete: 5_150),  // within the grace
            op(.write, invoke: 6_000, complete: 11_000),  // committed once the quorum came back
            op(.read, invoke: 6_000, complete: 6_100),
            op(.cas, invoke: 7_000, complete: 7_500, .fail),
            op(.write, invoke: 8_000, complete: nil, .info),
        ]
        let good = Checks.noMinorityWrites(operations: operations, windows: [window], grace: 200 * millisecond)
        #expect(good.verdict == .pass)
        let bad = Checks.noMinorityWrites(operations: operations + [op(.write, "x", invoke: 6_000, complete: 6_500)], windows: [window],
            grace: 200 * millisecond)
        #expect(bad.verdict == .fail && bad.details.count == 1)
        #expect(bad.details.first == CheckDetail(time: 6_500 * millisecond, "write x invoked at 6s succeeded without a quorum (window 5s–10s)"))
        #expect(Checks.noMinorityWrites(operations: operations, windows: [], grace: 0).verdict == .unknown)
    }

    @Test func noMinorityWritesOnTheMinoritySideOfAPartition() {
        let side = ["etcd-1": [TimeWindow(start: 5_000 * millisecond, end: 10_000 * millisecond)]]
        let toMajority = op(.write, "a", invoke: 6_000, complete: 6_100)
        var toMinorityTimedOut = op(.write, "b", invoke: 6_000, complete: nil, .info)
        toMinorityTimedOut.index = 1
        let operations = [toMajority, toMinorityTimedOut]
        let nodes = [0: "etcd-3", 1: "etcd-1"]
        let good = Checks.noMinorityWrites(operations: operations, windows: [], hostWindows: side, nodes: nodes, grace: 0)
        #expect(good.verdict == .pass && good.summary.contains("1 write"), "\(good.summary)")
        // The same write acknowledged by the cut-off member is a violation.
        let bad = Checks.noMinorityWrites(operations: operations, windows: [], hostWindows: side, nodes: [0: "etcd-1", 1: "etcd-1"], grace: 0)
        #expect(bad.verdict == .fail)
        #expect(bad.details.first?.text == "write a invoked at 6s succeeded through etcd-1, cut off from a quorum (window 5s–10s)")
    }
}

@Suite struct LivenessChecksTests {
    @Test func availability() {
        let operations = [op(.write, invoke: 15_000, complete: 15_800), op(.read, invoke: 14_000, complete: 14_100)]
        let good = Checks.availability(operations: operations, lastHeal: 15_000 * millisecond, within: 2 * second, historyEnd: 30 * second)
        #expect(good.verdict == .pass && good.summary.hasPrefix("a write succeeded 800ms after the last heal"))
        let slow = Checks.availability(operations: operations, lastHeal: 15_000 * millisecond, within: 500 * millisecond,
            historyEnd: 30 * second)
        #expect(slow.verdict == .fail && slow.summary.contains("the first write succeeded 800ms after it"))
        let none = Checks.availability(operations: [op(.write, invoke: 16_000, complete: 17_000, .fail)], lastHeal: 15 * second,
            within: 2 * second, historyEnd: 30 * second)
        #expect(none.verdict == .fail && none.summary.contains("no write succeeded after it"))
        let short = Checks.availability(operations: [], lastHeal: 15 * second, within: 2 * second, historyEnd: 16 * second)
        #expect(short.verdict == .unknown)
        #expect(Checks.availability(operations: operations, lastHeal: nil, within: second, historyEnd: 30 * second).verdict == .unknown)
    }

    @Test func minimumRate() {
        let busy = (0..<100).map { op(.write, invoke: Int64($0) * 40, complete: Int64($0) * 40 + 10) }
        let good = Checks.minimumRate(operations: busy, firstFault: 4 * second, minimumRate: 20)
        #expect(good.verdict == .pass && good.summary.hasPrefix("100 operations succeeded in 4s before the first fault: 25 ops/s"))
        let idle = Checks.minimumRate(operations: Array(busy.prefix(10)), firstFault: 4 * second, minimumRate: 20)
        #expect(idle.verdict == .invalid && idle.summary.contains("2.5 ops/s, below the 20 ops/s required"))
        #expect(Checks.minimumRate(operations: [], firstFault: second, minimumRate: 1).verdict == .invalid)
    }

    @Test func steadyState() {
        let probes = [Probe(kind: .write, within: second, during: true), Probe(kind: .leader)]
        let good = [
            ProbeOutcome(kind: .write, phase: .before, time: 0, succeeded: true, took: 10 * millisecond),
            ProbeOutcome(kind: .leader, phase: .before, time: 0, succeeded: true, took: 1 * millisecond),
            ProbeOutcome(kind: .write, phase: .during, time: 5 * second, succeeded: true, took: 900 * millisecond),
            ProbeOutcome(kind: .leader, phase: .during, time: 5 * second, succeeded: false, took: 2 * second),  // not a during probe
            ProbeOutcome(kind: .write, phase: .after, time: 20 * second, succeeded: true, took: 10 * millisecond),
            ProbeOutcome(kind: .leader, phase: .after, time: 20 * second, succeeded: true, took: 10 * millisecond),
        ]
        #expect(Checks.steadyState(probes: probes, outcomes: good).verdict == .pass)
        var slow = good
        slow[2].took = 1_500 * millisecond
        let failed = Checks.steadyState(probes: probes, outcomes: slow)
        #expect(failed.verdict == .fail && failed.details.first?.text == "write probe during the nemesis took 1.5s, over its 1s")
        var broken = good
        broken[1] = ProbeOutcome(kind: .leader, phase: .before, time: 0, succeeded: false, took: 2 * second, note: "no leader")
        let invalid = Checks.steadyState(probes: probes, outcomes: broken)
        #expect(invalid.verdict == .invalid && invalid.details.first?.text == "leader probe before the nemesis failed: no leader")
        #expect(Checks.steadyState(probes: probes, outcomes: Array(good.prefix(2))).verdict == .unknown)
    }

    @Test func linearizabilityIsWrapped() {
        let good = [
            HistoryEvent(process: 0, type: .invoke, f: .write, key: "x", value: .string("1"), time: 1),
            HistoryEvent(process: 0, type: .ok, f: .write, key: "x", value: .string("1"), time: 2),
            HistoryEvent(process: 1, type: .invoke, f: .read, key: "x", value: .null, time: 3),
            HistoryEvent(process: 1, type: .ok, f: .read, key: "x", value: .string("1"), time: 4),
        ]
        #expect(Checks.linearizable(events: good).verdict == .pass)
        var stale = good
        stale[3].value = .null
        let result = Checks.linearizable(events: stale)
        #expect(result.verdict == .fail && result.summary.hasPrefix("key x:"))
        #expect(!result.details.isEmpty)
        #expect(Checks.linearizable(events: []).verdict == .unknown)
    }
}

@Suite struct WatchCheckTests {
    static let committed = [
        WatchEvent(revision: 2, key: "a", value: "1", type: .put),
        WatchEvent(revision: 3, key: "a", value: "2", type: .put),
        WatchEvent(revision: 3, key: "b", value: "2", type: .put),
        WatchEvent(revision: 4, key: "a", value: nil, type: .delete),
        WatchEvent(revision: 5, key: "b", value: "3", type: .put),
    ]
    static let events = committed

    func stream(_ segments: [WatchSegment]) -> [WatchStream] { [WatchStream(name: "w1", segments: segments)] }
    func message(_ time: Int64, _ events: [WatchEvent]) -> WatchMessage { WatchMessage(time: time * second, events: events) }

    @Test func aCompleteStreamWithAResumptionPasses() {
        let e = Self.events
        let result = Checks.watchGuarantees(streams: stream([
            WatchSegment(startRevision: 2, messages: [message(1, [e[0]]), message(2, [e[1], e[2]])]),
            WatchSegment(startRevision: 4, messages: [message(3, [e[3]]), message(4, [e[4]])]),
        ]), committed: Self.committed)
        #expect(result.verdict == .pass, "\(result)")
        #expect(result.summary.hasSuffix("(1 resumption)"))
        #expect(Checks.watchGuarantees(streams: [], committed: []).verdict == .unknown)
    }

    @Test func aRevisionSplitAcrossMessagesIsNotAtomic() {
        let e = Self.events
        let result = Checks.watchGuarantees(streams: stream([
            WatchSegment(startRevision: 2, messages: [message(1, [e[0], e[1]]), message(2, [e[2], e[3], e[4]])]),
        ]), committed: Self.committed)
        #expect(result.verdict == .fail)
        #expect(result.details.map(\.text) == ["w1: revision 3 is split across two messages (not atomic)"])
    }

    @Test func backwardsDuplicatesAndMissesAreFound() {
        let e = Self.events
        let backwards = Checks.watchGuarantees(streams: stream([
            WatchSegment(startRevision: 2, messages: [message(1, [e[0], e[3], e[1], e[2]]), message(2, [e[4]])]),
        ]), committed: Self.committed)
        #expect(backwards.details.map(\.text).contains("w1: PUT a@3 after revision 4 goes backwards"))
        let duplicate = Checks.watchGuarantees(streams: stream([
            WatchSegment(startRevision: 2, messages: [message(1, [e[0]]), message(2, [e[0]])]),
        ]), committed: Self.committed)
        #expect(duplicate.details.map(\.text).contains("w1: PUT a@2 delivered twice"))
        let missing = Checks.watchGuarantees(streams: stream([
            WatchSegment(startRevision: 2, messages: [message(1, [e[0]]), message(2, [e[1]]), message(3, [e[4]])]),
        ]), committed: Self.committed)
        #expect(missing.verdict == .fail)
        #expect(missing.details.map(\.text) == [
            "w1: missed PUT b@3 (between its start 2 and revision 5)", "w1: missed DELETE a@4 (between its start 2 and revision 5)",
        ])
        let invented = Checks.watchGuarantees(streams: stream([
            WatchSegment(startRevision: 2, messages: [message(1, [WatchEvent(revision: 2, key: "a", value: "9", type: .put)])]),
        ]), committed: Self.committed)
        #expect(invented.details.map(\.text) == ["w1: PUT a@2 carries 9, committed 1"])
    }

    @Test func aResumptionMustNeitherSkipNorRepeat() {
        let e = Self.events
        let skipping = Checks.watchGuarantees(streams: stream([
            WatchSegment(startRevision: 2, messages: [message(1, [e[0]])]),
            WatchSegment(startRevision: 4, messages: [message(3, [e[3]])]),
        ]), committed: Self.committed)
        #expect(skipping.details.map(\.text).contains("w1: resumption 1 starts at 4, skipping revisions 3–3"))
        #expect(skipping.details.map(\.text).contains("w1: missed PUT a@3 (between its start 2 and revision 4)"))
        let repeating = Checks.watchGuarantees(streams: stream([
            WatchSegment(startRevision: 2, messages: [message(1, [e[0]]), message(2, [e[1], e[2]])]),
            WatchSegment(startRevision: 3, messages: [message(3, [e[1], e[2], e[3]])]),
        ]), committed: Self.committed)
        #expect(repeating.details.map(\.text).contains("w1: resumption 1 starts at 3, repeating revisions up to 3"))
        #expect(repeating.details.map(\.text).contains("w1: PUT a@3 delivered twice"))
    }

    @Test func aPrefixWatchIgnoresOtherKeys() {
        let e = Self.events
        let result = Checks.watchGuarantees(streams: [
            WatchStream(name: "b-only", prefix: "b", segments: [WatchSegment(startRevision: 1, messages: [message(1, [e[2]]), message(2, [e[4]])])]),
        ], committed: Self.committed)
        #expect(result.verdict == .pass, "\(result)")
    }
}
