//! HTMLReport: report.html, one self-contained page a person reads in ten seconds — a verdict
//! banner, the checks, the operation statistics, then the timeline. Inline CSS and SVG only: no
//! script, no external URL (a Content-Security-Policy forbids loading anything), so the page
//! opens the same from a CI artifact, a mail attachment or a laptop offline.

import Base

enum HTMLReport {
    static func render(_ report: RunReport) -> String {
        let timeline = TimelineSVG(report: report)
        var html = head(report)
        html += "<body>\n"
        html += banner(report)
        html += "<main>\n"
        html += metadata(report)
        html += checksTable(report)
        html += statistics(report)
        html += timelineSection(report, timeline: timeline)
        html += "</main>\n"
        html += footer(report)
        html += "</body>\n</html>\n"
        return html
    }

    static func head(_ report: RunReport) -> String {
        let title = "\(report.verdict.rawValue.uppercased()) · \(Markup.truncated(report.scenario, to: 200)) — faultline"
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(Markup.escape(title))</title>
            <style>
            \(stylesheet)</style>
            </head>

            """
    }

    // MARK: - Banner and metadata

    static func banner(_ report: RunReport) -> String {
        let verdict = report.verdict
        let failing = report.checks.filter { $0.verdict != .pass }
        let headline: String
        switch verdict {
        case .pass: headline = "All \(report.checks.count) checks passed"
        case .fail, .unknown, .invalid:
            let counts = Verdict.allCases.reversed().compactMap { kind -> String? in
                let count = failing.filter { $0.verdict == kind }.count
                return count > 0 ? "\(count) \(kind.rawValue)" : nil
            }
            headline = report.checks.isEmpty ? "No checks ran: nothing was shown to hold"
                : "\(counts.joined(separator: ", ")) of \(report.checks.count) checks"
        }
        var html = "<header class=\"banner verdict-\(verdict.rawValue)\" id=\"verdict\">\n"
        html += "<div class=\"verdict-word\">\(verdict.rawValue.uppercased())</div>\n"
        html += "<div class=\"banner-text\"><h1>\(Markup.escape(Markup.truncated(report.scenario, to: 200)))</h1>\n"
        html += "<p class=\"headline\">\(Markup.escape(headline))</p>\n"
        if !report.scenarioDescription.isEmpty {
            html += "<p class=\"description\">\(Markup.escape(Markup.truncated(report.scenarioDescription, to: 600)))</p>\n"
        }
        html += "</div>\n</header>\n"
        return html
    }

    static func metadata(_ report: RunReport) -> String {
        let fields: [(String, String)] = [
            ("Topology", report.topology),
            ("Implementation", report.implementation.rawValue),
            ("Seed", String(report.seed)),
            ("Started", report.startedAt),
            ("Duration", Markup.seconds(report.duration) + " s"),
            ("Faultline", report.faultlineVersion),
        ]
        var html = "<section class=\"metadata\">\n<dl>\n"
        for (name, value) in fields {
            html += "<div><dt>\(name)</dt><dd>\(Markup.escape(Markup.truncated(value, to: 200)))</dd></div>\n"
        }
        html += "</dl>\n"
        let command = Markup.truncated(CommandLineText.render(report.commandLine), to: 2_000)
        html += "<p class=\"command\"><span>Reproduce:</span> <code>\(Markup.escape(command))</code></p>\n"
        return html + "</section>\n"
    }

    // MARK: - Checks

    static func checksTable(_ report: RunReport) -> String {
        var html = "<section>\n<h2>Checks</h2>\n"
        guard !report.checks.isEmpty else {
            return html + "<p class=\"empty\">No checks ran.</p>\n</section>\n"
        }
        // The worst verdicts first, so the reason for the banner is the first row.
        let ordered = report.checks.enumerated()
            .sorted { ($1.element.verdict, $0.offset) < ($0.element.verdict, $1.offset) }.map(\.element)
        html += "<table class=\"checks\">\n<thead><tr><th>Verdict</th><th>Check</th><th>Summary</th></tr></thead>\n<tbody>\n"
        for check in ordered.prefix(PageLimits.checksMax) {
            html += checkRow(check)
        }
        html += "</tbody>\n</table>\n"
        if ordered.count > PageLimits.checksMax {
            html += "<p class=\"note\">\(ordered.count - PageLimits.checksMax) more checks not listed (cap \(PageLimits.checksMax)); report.json has them all.</p>\n"
        }
        return html + "</section>\n"
    }

    static func checkRow(_ check: CheckVerdict) -> String {
        let verdict = check.verdict.rawValue
        var html = "<tr class=\"check \(verdict)\"><td><span class=\"pill \(verdict)\">\(verdict.uppercased())</span></td>"
        html += "<td class=\"check-name\">\(Markup.escape(Markup.truncated(check.name, to: 120)))</td><td>"
        html += "<div>\(Markup.escape(Markup.truncated(check.summary, to: PageLimits.lineCharactersMax)))</div>"
        if let range = check.failureRange {
            html += "<div class=\"range\">at \(Markup.seconds(range.start)) s – \(Markup.seconds(range.end)) s (red on the timeline)</div>"
        }
        if !check.details.isEmpty {
            let open = check.verdict == .pass ? "" : " open"
            html += "<details\(open)><summary>\(check.details.count) detail line\(check.details.count == 1 ? "" : "s")</summary><pre>"
            let lines = check.details.prefix(PageLimits.detailLinesMax)
                .map { Markup.escape(Markup.truncated($0, to: PageLimits.lineCharactersMax)) }
            html += lines.joined(separator: "\n")
            if check.details.count > PageLimits.detailLinesMax {
                html += "\n… \(check.details.count - PageLimits.detailLinesMax) more in report.json"
            }
            html += "</pre></details>"
        }
        return html + "</td></tr>\n"
    }

    // MARK: - Statistics and timeline

    static func statistics(_ report: RunReport) -> String {
        let statistics = report.statistics
        let fields: [(String, String, String)] = [
            ("Operations", Markup.count(statistics.operationsTotal), ""),
            ("ok", Markup.count(statistics.operationsOk), "ok"),
            ("fail", Markup.count(statistics.operationsFailed), "fail"),
            ("info (indefinite)", Markup.count(statistics.operationsIndefinite), "info"),
            ("ok ops/s", Markup.fixed(statistics.operationsPerSecond, digits: 1), ""),
            ("p50 latency", statistics.latencyP50.map(Time.describe) ?? "–", ""),
            ("p99 latency", statistics.latencyP99.map(Time.describe) ?? "–", ""),
        ]
        var html = "<section>\n<h2>Operations</h2>\n<div class=\"stats\">\n"
        for (name, value, kind) in fields {
            html += "<div class=\"stat \(kind)\"><span class=\"value\">\(value)</span><span class=\"name\">\(name)</span></div>\n"
        }
        return html + "</div>\n</section>\n"
    }

    static func timelineSection(_ report: RunReport, timeline: TimelineSVG) -> String {
        var html = "<section>\n<h2>Timeline</h2>\n"
        html += legend(report)
        html += "<div class=\"timeline-frame\">\n" + timeline.render() + "</div>\n"
        for note in timeline.omissions {
            html += "<p class=\"note\">\(Markup.escape(note))</p>\n"
        }
        return html + "</section>\n"
    }

    /// Swatches for what the timeline uses, including each fault kind present in this run.
    static func legend(_ report: RunReport) -> String {
        var html = "<ul class=\"legend\">\n"
        var kinds: [String] = []
        for fault in report.faults where !kinds.contains(fault.kind) { kinds.append(fault.kind) }
        for kind in kinds.prefix(12) {
            html += "<li><span class=\"swatch\" style=\"background:\(FaultColours.colour(of: kind))\"></span>\(Markup.escape(Markup.truncated(kind, to: 30)))</li>\n"
        }
        html += """
            <li><span class="swatch leader"></span>leader</li>
            <li><span class="swatch follower"></span>follower</li>
            <li><span class="swatch unreachable"></span>unreachable</li>
            <li><span class="dot ok"></span>ok</li>
            <li><span class="dot fail"></span>fail</li>
            <li><span class="dot info"></span>info (indefinite)</li>
            <li><span class="swatch failure"></span>failed check</li>
            <li>✕ killed · ▶ started · ▮▮ paused · ■ exited</li>
            </ul>

            """
        return html
    }

    static func footer(_ report: RunReport) -> String {
        """
        <footer>
        <p>Written by faultline \(Markup.escape(Markup.truncated(report.faultlineVersion, to: 200))). report.json holds every operation and \
        detail; junit.xml holds the checks for CI. Page caps: \(Markup.count(PageLimits.operationPointsMax)) \
        operation dots, \(PageLimits.faultBandsMax) fault bands in \(PageLimits.faultRowsMax) rows, \
        \(PageLimits.leaderMembersMax) members, \(Markup.count(PageLimits.leaderSegmentsMax)) leader segments, \
        \(PageLimits.processEventsMax) process events, \(PageLimits.checksMax) checks of \
        \(PageLimits.detailLinesMax) detail lines.</p>
        </footer>

        """
    }
}
