//! RunReports: the verdicts of a run for machines — `report.json` (the checks, the run's
//! figures, its faults) and `junit.xml` for CI (a test case per check; `unknown` and `invalid`
//! are errors, never passes).

import Base
import Foundation
import Scenario

public enum RunReports {
    public static func write(_ record: RunRecord, _ results: [CheckResult], to directory: String) throws {
        let overall = Verdict.overall(results)
        let checks: [[String: Any]] = results.map { result in
            var object: [String: Any] = ["name": result.name, "verdict": result.verdict.rawValue, "summary": result.summary,
                "details": result.details.map(\.description)]
            if result.omittedDetails > 0 { object["omitted_details"] = result.omittedDetails }
            return object
        }
        let ok = record.operations.filter { $0.outcome == .ok }
        let latencies = ok.map { $0.complete - $0.invoke }.sorted()
        func percentile(_ p: Double) -> Int { latencies.isEmpty ? 0 : Int(latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]) }
        let report: [String: Any] = [
            "scenario": record.plan.scenario, "description": record.plan.description, "topology": record.plan.topologyPath,
            "impl": record.plan.impl, "seed": Int(record.plan.seed), "started_at": record.startedAt, "verdict": overall.rawValue,
            "checks": checks,
            "statistics": [
                "operations": record.operations.count, "ok": ok.count,
                "fail": record.operations.filter { $0.outcome == .fail }.count,
                "info": record.operations.filter { $0.outcome == .info }.count,
                "duration_ns": Int(record.workloadEnd), "latency_p50_ns": percentile(0.5), "latency_p99_ns": percentile(0.99),
                "watch_messages": record.watch.count, "watch_resumes": record.watchResumes,
            ] as [String: Any],
            "faults": record.faults.map { ["label": $0.label, "kind": $0.kind, "hosts": $0.hosts, "start_ns": Int($0.start), "end_ns": $0.end.map { Int($0) } ?? NSNull()] as [String: Any] },
            "abort_reason": record.abortReason ?? NSNull(),
        ]
        let data = try JSONSerialization.data(withJSONObject: report, options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: directory + "/report.json"))
        try Data(junit(record, results).utf8).write(to: URL(fileURLWithPath: directory + "/junit.xml"))
    }

    /// One test suite, a test case per check.
    public static func junit(_ record: RunRecord, _ results: [CheckResult]) -> String {
        func escape(_ text: String) -> String {
            var escaped = ""
            for character in text {
                switch character {
                case "&": escaped += "&amp;"
                case "<": escaped += "&lt;"
                case ">": escaped += "&gt;"
                case "\"": escaped += "&quot;"
                case "'": escaped += "&apos;"
                default:
                    // XML 1.0 cannot carry most control characters at all.
                    if let scalar = character.unicodeScalars.first, scalar.value < 0x20 && scalar != "\n" && scalar != "\t" { escaped += " " } else { escaped.append(character) }
                }
            }
            return escaped
        }
        let failures = results.filter { $0.verdict == .fail }.count
        let errors = results.filter { $0.verdict == .unknown || $0.verdict == .invalid }.count
        let seconds = String(format: "%.3f", Double(record.workloadEnd) / 1e9)
        var xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        xml += "<testsuite name=\"faultline.\(escape(record.plan.scenario))\" tests=\"\(results.count)\" failures=\"\(failures)\" errors=\"\(errors)\" time=\"\(seconds)\">\n"
        for result in results {
            xml += "  <testcase classname=\"faultline.\(escape(record.plan.scenario))\" name=\"\(escape(result.name))\">"
            let body = escape(([result.summary] + result.details.map(\.description)).joined(separator: "\n"))
            switch result.verdict {
            case .pass: break
            case .fail: xml += "\n    <failure message=\"\(escape(result.summary))\">\(body)</failure>\n  "
            case .unknown, .invalid:
                xml += "\n    <error type=\"\(result.verdict.rawValue)\" message=\"\(escape(result.summary))\">\(body)</error>\n  "
            }
            xml += "</testcase>\n"
        }
        return xml + "</testsuite>\n"
    }

    /// A finished run's verdict per check, from its report.json.
    public static func verdicts(in directory: String) -> [String: String] {
        guard let data = FileManager.default.contents(atPath: directory + "/report.json"),
            let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
            let checks = object["checks"] as? [[String: Any]]
        else { return [:] }
        var verdicts: [String: String] = [:]
        for check in checks {
            if let name = check["name"] as? String, let verdict = check["verdict"] as? String { verdicts[name] = verdict }
        }
        return verdicts
    }
}
