//! HTMLReportTests: report.html as text — deterministic, self-contained (no script, no URL),
//! escaped, carrying the timeline's ids and classes, downsampling past the dot cap while keeping
//! every failed and indefinite operation, and staying under its size cap with every cap reached.

import Base
import Foundation
@testable import Report
import Testing

/// How many times `fragment` occurs in `text`.
func occurrences(of fragment: String, in text: String) -> Int {
    text.components(separatedBy: fragment).count - 1
}

@Suite struct HTMLReportTests {
    @Test func sameReportSameBytes() {
        #expect(renderAll(SampleReport.build()).html == renderAll(SampleReport.build()).html)
    }

    @Test func selfContained() {
        let html = renderAll(SampleReport.build()).html
        #expect(!html.contains("<script"))
        #expect(!html.contains("http:") && !html.contains("https:"))
        #expect(!html.contains("src=") && !html.contains("href=") && !html.contains("@import") && !html.contains("url(http"))
        #expect(html.contains("Content-Security-Policy"))
    }

    @Test func bannerChecksAndTimelineElements() {
        let html = renderAll(SampleReport.build()).html
        #expect(html.contains("class=\"banner verdict-fail\""))
        #expect(html.contains("<div class=\"verdict-word\">FAIL</div>"))
        #expect(html.contains("<h1>etcd-leader-isolation</h1>"))
        #expect(html.contains("1 fail, 1 unknown of 4 checks"))
        #expect(html.contains("<svg id=\"timeline\""))
        #expect(occurrences(of: "class=\"fault-band\"", in: html) == 3)
        #expect(occurrences(of: "class=\"leader-span\"", in: html) == 2)
        #expect(occurrences(of: "class=\"unreachable-span\"", in: html) == 2)
        #expect(html.contains(">term 2</text>") && html.contains(">term 3</text>"))
        #expect(occurrences(of: "class=\"check-failure\"", in: html) == 1)
        #expect(occurrences(of: "class=\"process-event ", in: html) == 3)
        let report = SampleReport.build()
        #expect(occurrences(of: "class=\"op ok\"", in: html) == report.statistics.operationsOk)
        #expect(occurrences(of: "class=\"op fail\"", in: html) == report.statistics.operationsFailed)
        #expect(occurrences(of: "class=\"op info\"", in: html) == report.statistics.operationsIndefinite)
        // The failed check sorts first in the table.
        let failRow = html.range(of: "<tr class=\"check fail\">")
        let passRow = html.range(of: "<tr class=\"check pass\">")
        #expect(failRow != nil && passRow != nil && failRow!.lowerBound < passRow!.lowerBound)
    }

    @Test func escapesEverythingItWrites() {
        var report = SampleReport.build()
        report.scenario = "<script>alert(1)</script>"
        report.hosts.append("<img src=x>")
        report.checks[0].details = ["\"quoted\" & <b>bold</b>"]
        report.faults[0].label = "isolate <etcd-1> & 'friends'"
        let html = renderAll(report).html
        #expect(!html.contains("<script>") && !html.contains("<img") && !html.contains("<b>"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("&quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt;"))
    }

    @Test func downsamplesPastTheCapKeepingEveryNonOkOperation() {
        var report = SampleReport.build()
        var operations: [OperationPoint] = []
        for index in 0..<20_000 {
            let time = Nanoseconds(index) * Time.millisecond
            let outcome: OperationOutcome = index % 100 == 0 ? .fail : index % 150 == 0 ? .info : .ok
            operations.append(OperationPoint(
                process: index % 8, kind: .write, key: "k", invokeTime: time, completionTime: time + 3 * Time.millisecond,
                outcome: outcome))
        }
        report.operations = operations
        let html = renderAll(report).html
        let dots = occurrences(of: "class=\"op ", in: html)
        #expect(dots <= 2_500 && dots > 2_000, "\(dots) dots")
        #expect(occurrences(of: "class=\"op fail\"", in: html) == 200)
        #expect(occurrences(of: "class=\"op info\"", in: html) == operations.filter { $0.outcome == .info }.count)
        #expect(html.contains("Showing \(Markup.count(dots)) of 20,000 operations: all "))
        #expect(html == renderAll(report).html)
    }

    @Test func staysUnderItsSizeCapWithEveryCapReached() {
        let long = String(repeating: "x", count: 5_000)
        let hosts = (0..<100).map { "host-\($0)-" + String(repeating: "h", count: 40) }
        var faults: [FaultBand] = []
        var leaders: [LeaderSample] = []
        var events: [ProcessEvent] = []
        for index in 0..<2_000 {
            let time = Nanoseconds(index) * 10 * Time.millisecond
            faults.append(FaultBand(
                label: long, kind: "kind-\(index % 20)", targets: [hosts[index % 100]],
                links: [Link(from: hosts[index % 100], to: hosts[(index + 1) % 100])], start: time, end: time + Time.second))
            for member in hosts.prefix(30) {
                leaders.append(LeaderSample(time: time, member: member, term: UInt64(index), isLeader: index % 2 == 0,
                    reachable: index % 3 != 0))
            }
            events.append(ProcessEvent(time: time, host: hosts[index % 100], kind: .killed))
        }
        let operations = (0..<100_000).map { index in
            OperationPoint(process: index, kind: .cas, key: long, invokeTime: Nanoseconds(index) * Time.microsecond,
                completionTime: nil, outcome: index % 2 == 0 ? .info : .fail, node: long)
        }
        let checks = (0..<500).map { _ in CheckVerdict(name: long, verdict: .fail, summary: long, details: Array(repeating: long, count: 100),
            failureRange: TimeRange(start: 0, end: Time.second)) }
        let report = RunReport(
            scenario: long, scenarioDescription: long, topology: long, implementation: .builtin, seed: .max,
            startedAt: long, duration: 20 * Time.second, faultlineVersion: long, commandLine: Array(repeating: long, count: 50),
            checks: checks, operations: operations, faults: faults, leaders: leaders, processEvents: events, hosts: hosts)
        // The page alone: report.json and junit.xml are not capped, and rendering them here would
        // write hundreds of megabytes.
        let html = HTMLReport.render(report)
        #expect(html.utf8.count < PageLimits.pageBytesMax, "\(html.utf8.count) bytes")
        #expect(occurrences(of: "class=\"op ", in: html) <= 2_500)
        #expect(occurrences(of: "class=\"fault-band\"", in: html) <= 300)
    }
}
