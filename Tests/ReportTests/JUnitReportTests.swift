//! JUnitReportTests: junit.xml parses as XML, counts a fail as a failure and unknown and invalid
//! as errors (never as passes), writes times in seconds, and escapes whatever the names and
//! details contain (markup, quotes, control characters XML cannot carry).

import Base
import Foundation
import Report
import Testing

#if canImport(FoundationXML)
    import FoundationXML
#endif

@Suite struct JUnitReportTests {
    func parse(_ xml: String) throws -> XMLDocument {
        try XMLDocument(data: Data(xml.utf8), options: [])
    }

    func attribute(_ element: XMLElement?, _ name: String) -> String? {
        element?.attribute(forName: name)?.stringValue
    }

    /// The first element `xpath` finds, or nil.
    func first(_ xpath: String, in document: XMLDocument) throws -> XMLElement? {
        try document.nodes(forXPath: xpath).first as? XMLElement
    }

    @Test func countsFailuresAndErrors() throws {
        let document = try parse(renderAll(SampleReport.build()).junit)
        let suites = try document.nodes(forXPath: "//testsuite").compactMap { $0 as? XMLElement }
        #expect(suites.count == 1)
        let suite = suites.first
        #expect(attribute(suite, "name") == "faultline.etcd-leader-isolation")
        #expect(attribute(suite, "tests") == "4")
        #expect(attribute(suite, "failures") == "1")
        #expect(attribute(suite, "errors") == "1")
        #expect(attribute(suite, "time") == "30.000")
        #expect(try document.nodes(forXPath: "//testcase").count == 4)
        let failure = try first("//testcase[@name='linearizable']/failure", in: document)
        #expect(attribute(failure, "message")?.hasPrefix("fail: No linearization of key k7") == true)
        #expect(failure?.stringValue?.contains("at 7.200s to 7.900s") == true)
        #expect(failure?.stringValue?.contains("stale: isolated leader served it") == true)
        let error = try first("//testcase[@name='lease-safety']/error", in: document)
        #expect(attribute(error, "type") == "unknown")
        let linearizable = try first("//testcase[@name='linearizable']", in: document)
        #expect(attribute(linearizable, "time") == "0.412")
        let seed = try first("//property[@name='seed']", in: document)
        #expect(attribute(seed, "value") == "42")
    }

    @Test func invalidIsAnErrorNeverAPass() throws {
        var report = SampleReport.build()
        report.checks = [CheckVerdict(name: "history-well-formed", verdict: .invalid, summary: "line 3: no invoke")]
        let document = try parse(renderAll(report).junit)
        let suite = try first("//testsuite", in: document)
        #expect(attribute(suite, "errors") == "1")
        #expect(attribute(suite, "failures") == "0")
        #expect(try document.nodes(forXPath: "//testcase/error[@type='invalid']").count == 1)
    }

    @Test func escapesMarkupQuotesAndControlCharacters() throws {
        var report = SampleReport.build()
        let name = "a<b>&\"c\" 'd'\u{1}\u{7}"
        report.scenario = "weird <&> \"scenario\""
        report.checks = [
            CheckVerdict(name: name, verdict: .fail, summary: "line one\nline <two>", details: ["]]> & <![CDATA[", "\u{0}nul"])
        ]
        let document = try parse(renderAll(report).junit)
        let testcase = try first("//testcase", in: document)
        #expect(attribute(testcase, "name") == "a<b>&\"c\" 'd'\u{FFFD}\u{FFFD}")
        let suite = try first("//testsuite", in: document)
        #expect(attribute(suite, "name") == "faultline.weird <&> \"scenario\"")
        let failure = try first("//failure", in: document)
        #expect(attribute(failure, "message") == "fail: line one\nline <two>")
        #expect(failure?.stringValue?.contains("]]> & <![CDATA[") == true)
    }

    @Test func allPassingHasNoFailureElements() throws {
        var report = SampleReport.build()
        report.checks = report.checks.filter { $0.verdict == .pass }
        let document = try parse(renderAll(report).junit)
        #expect(try document.nodes(forXPath: "//failure | //error").isEmpty)
        #expect(try document.nodes(forXPath: "//testcase").count == 2)
    }
}
