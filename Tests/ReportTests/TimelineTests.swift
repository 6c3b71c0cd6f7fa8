//! TimelineTests: the timeline's layout before drawing — axis ticks in round seconds, leader
//! segments merged from samples, the cluster term rising, fault rows and lanes, deterministic
//! downsampling — and the page for a run with nothing to draw, plus the writer's three files.

import Base
import Foundation
@testable import Report
import Testing

@Suite struct TimelineTests {
    @Test func ticksAreRoundSeconds() {
        let axis = TimeAxis(end: 30 * Time.second, left: 0, width: 300)
        #expect(axis.ticks == stride(from: 0, through: 30, by: 5).map { Nanoseconds($0) * Time.second })
        #expect(axis.x(15 * Time.second) == 150)
        #expect(axis.x(-Time.second) == 0 && axis.x(60 * Time.second) == 300)
        #expect(TimeAxis(end: 900 * Time.millisecond, left: 0, width: 1).ticks.count == 10)
        #expect(TimeAxis.label(1_500 * Time.millisecond) == "1.5s")
        #expect(TimeAxis(end: 0, left: 0, width: 1).end == 1)
    }

    @Test func samplesMergeIntoSegmentsOfOneState() {
        let samples = [
            LeaderSample(time: 0, member: "a", term: 2, isLeader: true),
            LeaderSample(time: 10, member: "a", term: 2, isLeader: true),
            LeaderSample(time: 20, member: "a", term: 2, isLeader: true, reachable: false),
            LeaderSample(time: 30, member: "a", term: 3, isLeader: false),
        ]
        // Out of order on purpose: the track sorts by time.
        let segments = LeaderTrack.segments(of: samples.reversed(), end: 50)
        #expect(segments == [
            LeaderSegment(start: 0, end: 20, state: .leader(term: 2)),
            LeaderSegment(start: 20, end: 30, state: .unreachable),
            LeaderSegment(start: 30, end: 50, state: .follower(term: 3)),
        ])
    }

    @Test func clusterTermRisesAndNeverFalls() {
        let samples = [
            LeaderSample(time: 0, member: "a", term: 2, isLeader: true),
            LeaderSample(time: 5, member: "b", term: 3, isLeader: true),
            LeaderSample(time: 6, member: "a", term: 2, isLeader: true),  // A stale leader does not lower it.
            LeaderSample(time: 9, member: "c", term: 7, isLeader: false, reachable: false),  // Unreachable: not evidence.
        ]
        let terms = LeaderTrack.terms(of: samples, end: 10).map { [$0.start, $0.end, Int64($0.term)] }
        #expect(terms == [[0, 5, 2], [5, 10, 3]])
    }

    @Test func membersFollowHostOrder() {
        let samples = ["z", "b", "a"].map { LeaderSample(time: 0, member: $0, term: 1, isLeader: false) }
        let track = LeaderTrack(samples: samples, hosts: ["b", "a"], end: 10)
        #expect(track.members.map(\.name) == ["b", "a", "z"])
    }

    @Test func faultRowsAndLanes() {
        var report = SampleReport.build()
        report.faults.append(FaultBand(label: "pause etcd-1", kind: "pause", targets: ["etcd-1"], start: 6 * Time.second, end: 7 * Time.second))
        report.faults.append(FaultBand(label: "clock", kind: "skew", start: 0, end: nil))
        let track = FaultTrack(report: report)
        #expect(track.rows.map(\.name) == ["etcd-1", "etcd-2", "etcd-3", "etcd-2→etcd-3", "cluster"])
        // The pause overlaps the isolation, so it takes the second lane.
        #expect(track.rows[0].bands.map(\.lane) == [0, 1])
        #expect(track.rows[0].laneCount == 2)
        #expect(track.rows[4].bands.count == 1)
    }

    @Test func downsamplingIsDeterministicAndKeepsFailures() {
        let operations = (0..<10_000).map { index in
            OperationPoint(process: index % 3, kind: .read, key: "k", invokeTime: Nanoseconds(10_000 - index),
                completionTime: Nanoseconds(10_000 - index + 5), outcome: index % 97 == 0 ? .fail : .ok)
        }
        let sample = OperationSample(operations: operations, limit: 1_000)
        #expect(sample.points.count <= 1_000)
        #expect(sample.points.filter { $0.outcome == .fail }.count == operations.filter { $0.outcome == .fail }.count)
        #expect(sample.points.map(\.invokeTime) == sample.points.map(\.invokeTime).sorted())
        #expect(sample.points == OperationSample(operations: operations, limit: 1_000).points)
        #expect(OperationSample(operations: Array(operations.prefix(10)), limit: 1_000).note == nil)
    }

    @Test func aRunWithNothingToDrawStillRenders() throws {
        let report = RunReport(
            scenario: "empty", scenarioDescription: "", topology: "etcd-1", implementation: .etcd, seed: 0,
            startedAt: "2025-01-01T00:00:00Z", duration: 0, faultlineVersion: "v", commandLine: ["faultline"], checks: [])
        let files = renderAll(report)
        #expect(files.html.contains("class=\"banner verdict-unknown\""))
        #expect(files.html.contains("no faults injected") && files.html.contains("no leader samples"))
        #expect(files.html.contains("No checks ran"))
        #expect(!files.html.contains("=\"nan") && !files.html.contains("=\"inf") && !files.html.contains("=\"-inf"))
        #expect(files.junit.contains("tests=\"0\""))
    }

    @Test func writesTheThreeFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("faultline-report-write-\(getpid())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let report = SampleReport.build()
        try writeReport(report, to: directory.appendingPathComponent("nested"))
        let files = renderAll(report)
        for (name, text) in [("report.json", files.json), ("junit.xml", files.junit), ("report.html", files.html)] {
            let written = try String(contentsOf: directory.appendingPathComponent("nested/\(name)"), encoding: .utf8)
            #expect(written == text, "\(name) differs from what renderAll returns")
        }
    }
}

@Suite struct MarkupTests {
    @Test func fixedAndCounts() {
        #expect(Markup.fixed(12.345, digits: 2) == "12.35")
        #expect(Markup.fixed(-0.5, digits: 1) == "-0.5")
        #expect(Markup.fixed(3, digits: 0) == "3")
        #expect(Markup.coordinate(411.0) == "411")
        #expect(Markup.seconds(7_200_000_000) == "7.200")
        #expect(Markup.count(1_234_567) == "1,234,567")
        #expect(Markup.count(999) == "999")
    }

    @Test func commandLinesQuoteForAShell() {
        #expect(CommandLineText.render(["faultline", "run", "out/run 1", "it's", ""]) == "faultline run 'out/run 1' 'it'\\''s' ''")
    }
}
