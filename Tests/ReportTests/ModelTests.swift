//! ModelTests: the overall verdict (the most severe check wins; no checks is not a pass), the
//! statistics (counts, rate, nearest-rank percentiles of ok operations), and report.json (sorted
//! keys, stable bytes, round trip, the derived verdict included).

import Base
import Foundation
import Report
import Testing

@Suite struct VerdictTests {
    func report(_ verdicts: [Verdict]) -> RunReport {
        RunReport(
            scenario: "s", scenarioDescription: "", topology: "t", implementation: .etcd, seed: 1, startedAt: "",
            duration: Time.second, faultlineVersion: "v", commandLine: [],
            checks: verdicts.enumerated().map { CheckVerdict(name: "c\($0.offset)", verdict: $0.element, summary: "") })
    }

    @Test func theMostSevereVerdictWins() {
        #expect(report([.pass, .pass]).verdict == .pass)
        #expect(report([.pass, .unknown]).verdict == .unknown)
        #expect(report([.unknown, .fail, .pass]).verdict == .fail)
        #expect(report([.fail, .invalid, .unknown]).verdict == .invalid)
        #expect(report([.invalid, .pass]).verdict == .invalid)
    }

    @Test func noChecksIsUnknownNotAPass() {
        #expect(report([]).verdict == .unknown)
    }
}

@Suite struct StatisticsTests {
    func operation(_ latency: Nanoseconds?, _ outcome: OperationOutcome, at time: Nanoseconds = 0) -> OperationPoint {
        OperationPoint(process: 0, kind: .read, key: "k", invokeTime: time, completionTime: latency.map { time + $0 }, outcome: outcome)
    }

    @Test func countsRateAndPercentilesOfOkOperations() {
        var operations = (1...100).map { operation(Nanoseconds($0) * Time.millisecond, .ok) }
        operations.append(operation(5 * Time.second, .fail))  // Not an ok latency: left out of percentiles.
        operations.append(operation(nil, .info))
        let statistics = RunStatistics(operations: operations, duration: 10 * Time.second)
        #expect(statistics.operationsTotal == 102)
        #expect(statistics.operationsOk == 100)
        #expect(statistics.operationsFailed == 1)
        #expect(statistics.operationsIndefinite == 1)
        #expect(statistics.operationsPerSecond == 10)
        #expect(statistics.latencyP50 == 50 * Time.millisecond)
        #expect(statistics.latencyP99 == 99 * Time.millisecond)
    }

    @Test func noOperationsHaveNoPercentiles() {
        let statistics = RunStatistics(operations: [], duration: 0)
        #expect(statistics.latencyP50 == nil)
        #expect(statistics.operationsPerSecond == 0)
    }

    @Test func theSampleRunLooksLikeItsDescription() {
        let report = SampleReport.build()
        #expect((1_800...2_400).contains(report.operations.count), "\(report.operations.count) operations")
        #expect(report.statistics.operationsFailed > 0)
        #expect(report.statistics.operationsIndefinite > 0)
        #expect(report.operations.contains { $0.completionTime == nil })
        #expect(report.verdict == .fail)
    }
}

@Suite struct JSONReportTests {
    @Test func sameReportSameBytes() {
        #expect(renderAll(SampleReport.build()).json == renderAll(SampleReport.build()).json)
    }

    @Test func roundTripsAndCarriesTheVerdict() throws {
        let report = SampleReport.build()
        let json = renderAll(report).json
        #expect(try JSONDecoder().decode(RunReport.self, from: Data(json.utf8)) == report)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["verdict"] as? String == "fail")
        #expect(object["scenario"] as? String == "etcd-leader-isolation")
    }

    @Test func keysAreSorted() {
        let json = renderAll(SampleReport.build()).json
        // Top-level keys sit at two spaces of indentation; they must appear in sorted order.
        let keys = json.split(separator: "\n").filter { $0.hasPrefix("  \"") }
            .map { $0.dropFirst(3).prefix { $0 != "\"" } }.map(String.init)
        #expect(keys == keys.sorted())
        #expect(keys.contains("checks") && keys.contains("verdict") && keys.contains("statistics"))
    }
}
