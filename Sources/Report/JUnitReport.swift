//! JUnitReport: junit.xml for CI. One testsuite per run (`faultline.<scenario>`), one testcase per
//! check. A failed check is a `<failure>`; unknown and invalid are `<error>`s, because CI must
//! never count an undecided or broken check as passed.

import Base

enum JUnitReport {
    static func render(_ report: RunReport) -> String {
        let suiteName = "faultline." + report.scenario
        let failures = report.checks.filter { $0.verdict == .fail }.count
        let errors = report.checks.filter { $0.verdict == .unknown || $0.verdict == .invalid }.count
        let counts = "tests=\"\(report.checks.count)\" failures=\"\(failures)\" errors=\"\(errors)\" skipped=\"0\""
        let time = "time=\"\(Markup.seconds(report.duration))\""
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml += "<testsuites name=\"faultline\" \(counts) \(time)>\n"
        xml += "  <testsuite name=\"\(Markup.escape(suiteName))\" \(counts) \(time)"
        xml += " timestamp=\"\(Markup.escape(report.startedAt))\">\n"
        xml += "    <properties>\n"
        for (name, value) in properties(of: report) {
            xml += "      <property name=\"\(name)\" value=\"\(Markup.escape(value))\"/>\n"
        }
        xml += "    </properties>\n"
        for check in report.checks {
            xml += testcase(check, suiteName: suiteName)
        }
        xml += "  </testsuite>\n"
        xml += "</testsuites>\n"
        return xml
    }

    /// The run's metadata, so a CI page shows how to reproduce it.
    static func properties(of report: RunReport) -> [(String, String)] {
        [
            ("verdict", report.verdict.rawValue),
            ("scenario", report.scenario),
            ("topology", report.topology),
            ("implementation", report.implementation.rawValue),
            ("seed", String(report.seed)),
            ("faultline.version", report.faultlineVersion),
            ("command", CommandLineText.render(report.commandLine)),
        ]
    }

    static func testcase(_ check: CheckVerdict, suiteName: String) -> String {
        let name = Markup.escape(check.name)
        let time = Markup.seconds(check.checkDuration ?? 0)
        var xml = "    <testcase classname=\"\(Markup.escape(suiteName))\" name=\"\(name)\" time=\"\(time)\""
        let element: String
        switch check.verdict {
        case .pass:
            return xml + "/>\n"
        case .fail: element = "failure"
        case .unknown, .invalid: element = "error"
        }
        var body = check.details
        if let range = check.failureRange {
            body.insert("at \(Markup.seconds(range.start))s to \(Markup.seconds(range.end))s of the run", at: 0)
        }
        let message = Markup.escape("\(check.verdict.rawValue): \(check.summary)")
        xml += ">\n      <\(element) message=\"\(message)\" type=\"\(check.verdict.rawValue)\">"
        xml += Markup.escapeText(body.joined(separator: "\n"))
        xml += "</\(element)>\n    </testcase>\n"
        return xml
    }
}

/// A command line as one string a person can paste into a shell: arguments with spaces or
/// shell metacharacters are single-quoted.
enum CommandLineText {
    static func render(_ arguments: [String]) -> String {
        arguments.map(quote).joined(separator: " ")
    }

    static func quote(_ argument: String) -> String {
        let plain = !argument.isEmpty && argument.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "-", "_", ".", "/", ":", "=", ",", "+", "@", "%": true
            default: false
            }
        }
        return plain ? argument : "'" + argument.replacingEvery("'", with: "'\\''") + "'"
    }
}
