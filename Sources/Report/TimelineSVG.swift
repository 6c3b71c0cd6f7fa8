//! TimelineSVG: draws the Timeline as one inline SVG on a shared time axis — fault bands per host
//! or link, the cluster's term and each member's leader/follower/unreachable segments with process
//! event markers, the operation latency scatter, and failed checks' time ranges as red overlays
//! across every track. Groups carry stable ids and classes (`timeline`, `fault-band`,
//! `leader-span`, `op ok|fail|info`, `check-failure`) that tests and readers can find.

import Base
import Foundation

struct TimelineSVG {
    static let width = 1200.0
    static let gutter = 170.0
    static let rightMargin = 24.0
    static let rowHeight = 22.0
    static let laneHeight = 16.0
    static let scatterHeight = 220.0
    /// The strip above the scatter where operations that never completed are drawn.
    static let pendingStrip = 22.0
    /// Room a section's title takes above its first row.
    static let sectionTitleHeight = 16.0

    let report: RunReport
    let axis: TimeAxis
    let faults: FaultTrack
    let leaders: LeaderTrack
    let sample: OperationSample
    let markers: [ProcessEvent]
    let markersOmitted: Int

    init(report: RunReport) {
        self.report = report
        axis = TimeAxis(report: report, left: Self.gutter, width: Self.width - Self.gutter - Self.rightMargin)
        faults = FaultTrack(report: report)
        leaders = LeaderTrack(samples: report.leaders, hosts: report.hosts, end: axis.end)
        sample = OperationSample(operations: report.operations)
        // An event of a host with no row (not in `hosts`, no leader samples) has nowhere to go.
        let rows = Set(faults.rows.map(\.name)).union(leaders.members.map(\.name))
        let events = report.processEvents.enumerated()
            .sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }.map(\.element)
            .filter { rows.contains($0.host) }
        markers = Array(events.prefix(PageLimits.processEventsMax))
        markersOmitted = report.processEvents.count - markers.count
    }

    /// Notes for the page about anything a cap left out of the drawing.
    var omissions: [String] {
        var notes: [String] = []
        if let note = sample.note { notes.append(note) }
        if faults.bandsOmitted > 0 { notes.append("\(Markup.count(faults.bandsOmitted)) fault bands not drawn (cap \(PageLimits.faultBandsMax)).") }
        if faults.rowsOmitted > 0 { notes.append("\(faults.rowsOmitted) fault rows not drawn (cap \(PageLimits.faultRowsMax)).") }
        if leaders.membersOmitted > 0 { notes.append("\(leaders.membersOmitted) members not drawn (cap \(PageLimits.leaderMembersMax)).") }
        if leaders.segmentsOmitted > 0 { notes.append("\(Markup.count(leaders.segmentsOmitted)) leader segments not drawn (cap \(Markup.count(PageLimits.leaderSegmentsMax))).") }
        if markersOmitted > 0 { notes.append("\(markersOmitted) process events not drawn (cap \(PageLimits.processEventsMax)).") }
        return notes
    }

    // MARK: - Whole picture

    func render() -> String {
        var body = ""
        var y = 22.0  // Room above the tracks for the names of failed checks.
        let tracksTop = y
        // Where each host's marker row is: its fault row, replaced by its leader row if it has one.
        var markerRows: [String: Double] = [:]
        body += faultSection(top: &y, rowTops: &markerRows)
        body += leaderSection(top: &y, rowTops: &markerRows)
        body += processMarkers(rowTops: markerRows)
        let scatterTop = y + 8
        body += latencySection(top: scatterTop)
        let tracksBottom = scatterTop + Self.sectionTitleHeight + Self.pendingStrip + Self.scatterHeight
        let height = tracksBottom + 30
        // Inline SVG in HTML needs no xmlns; leaving it out keeps the page free of any URL at all.
        var svg = "<svg id=\"timeline\" viewBox=\"0 0 \(Markup.coordinate(Self.width)) \(Markup.coordinate(height))\""
        svg += " width=\"\(Markup.coordinate(Self.width))\" height=\"\(Markup.coordinate(height))\" role=\"img\""
        svg += " aria-label=\"Timeline of faults, leaders and operation latency\">\n"
        svg += Self.definitions
        svg += grid(top: tracksTop, bottom: tracksBottom)
        svg += body
        svg += checkFailures(top: tracksTop, bottom: tracksBottom)
        svg += "</svg>\n"
        return svg
    }

    static let definitions = """
        <defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">\
        <rect width="6" height="6" fill="#e5e7eb"/><line x1="0" y1="0" x2="0" y2="6" stroke="#6b7280" stroke-width="2.5"/>\
        </pattern></defs>

        """

    /// Vertical second lines through every track, with the seconds written underneath.
    func grid(top: Double, bottom: Double) -> String {
        var svg = "<g id=\"time-axis\">\n"
        for tick in axis.ticks {
            let x = Markup.coordinate(axis.x(tick))
            svg += "<line class=\"tick\" x1=\"\(x)\" y1=\"\(Markup.coordinate(top))\" x2=\"\(x)\" y2=\"\(Markup.coordinate(bottom))\"/>"
            svg += "<text class=\"tick-label\" x=\"\(x)\" y=\"\(Markup.coordinate(bottom + 16))\" text-anchor=\"middle\">\(TimeAxis.label(tick))</text>\n"
        }
        svg += "<text class=\"axis-title\" x=\"\(Markup.coordinate(Self.gutter - 18))\" y=\"\(Markup.coordinate(bottom + 16))\" text-anchor=\"end\">time since start</text>\n"
        return svg + "</g>\n"
    }

    /// A row's name in the gutter and its light background.
    func rowFrame(name: String, top: Double, height: Double, kind: String) -> String {
        let label = Markup.escape(Markup.truncated(name, to: 24))
        var svg = "<rect class=\"row \(kind)\" x=\"\(Markup.coordinate(axis.left))\" y=\"\(Markup.coordinate(top))\""
        svg += " width=\"\(Markup.coordinate(axis.width))\" height=\"\(Markup.coordinate(height))\"/>"
        svg += "<text class=\"row-label\" x=\"\(Markup.coordinate(Self.gutter - 8))\" y=\"\(Markup.coordinate(top + height / 2 + 4))\" text-anchor=\"end\">\(label)</text>\n"
        return svg
    }

    /// A hover text; cut short, since names and labels in a report can be any length.
    static func tooltip(_ text: String) -> String {
        "<title>\(Markup.escape(Markup.truncated(text, to: 200)))</title>"
    }

    /// A section's group: its title, then `body`'s rows from below the title, moving `y` past it.
    /// A section with nothing to draw says so in one row instead.
    func section(
        id: String, title: String, top y: inout Double, emptyNote: String?, body: (inout Double) -> String
    ) -> String {
        var svg = "<g id=\"\(id)\">\n"
        svg += "<text class=\"section-title\" x=\"8\" y=\"\(Markup.coordinate(y + 12))\">\(Markup.escape(title))</text>\n"
        y += Self.sectionTitleHeight
        if let emptyNote {
            svg += "<text class=\"empty\" x=\"\(Markup.coordinate(axis.left + 6))\" y=\"\(Markup.coordinate(y + 14))\">\(emptyNote)</text>\n"
            y += Self.rowHeight
        }
        svg += body(&y)
        return svg + "</g>\n"
    }

    // MARK: - Faults

    func faultSection(top: inout Double, rowTops: inout [String: Double]) -> String {
        let emptyNote = faults.rows.isEmpty ? "no faults injected" : nil
        return section(id: "fault-track", title: "FAULTS", top: &top, emptyNote: emptyNote) { y in
            var svg = ""
            for row in faults.rows {
                let height = Double(row.laneCount) * Self.laneHeight + 6
                svg += rowFrame(name: row.name, top: y, height: height, kind: "fault-row")
                rowTops[row.name] = y + height / 2 - Self.rowHeight / 2
                for (band, lane) in row.bands {
                    svg += faultBand(band, top: y + 3 + Double(lane) * Self.laneHeight)
                }
                y += height + 2
            }
            y += 10
            return svg
        }
    }

    func faultBand(_ band: FaultBand, top: Double) -> String {
        let start = axis.x(band.start)
        let end = axis.x(band.end ?? axis.end)
        let width = max(end - start, 2)
        let until = band.end.map { Markup.seconds($0) + "s" } ?? "the end"
        let tooltip = "\(band.label) (\(band.kind)): \(Markup.seconds(band.start))s to \(until)"
        var svg = "<g class=\"fault-band\" data-kind=\"\(Markup.escape(Markup.truncated(band.kind, to: 40)))\">"
        svg += "<rect x=\"\(Markup.coordinate(start))\" y=\"\(Markup.coordinate(top))\" width=\"\(Markup.coordinate(width))\""
        svg += " height=\"\(Markup.coordinate(Self.laneHeight - 2))\" rx=\"3\" fill=\"\(FaultColours.colour(of: band.kind))\">"
        svg += "\(Self.tooltip(tooltip))</rect>"
        // About 6.5 px a character at the band's font size; a label that does not fit is cut.
        let characters = Int((width - 8) / 6.5)
        if characters >= 4 {
            let label = Markup.escape(Markup.truncated(band.label, to: characters))
            svg += "<text class=\"band-label\" x=\"\(Markup.coordinate(start + 4))\" y=\"\(Markup.coordinate(top + 11))\">\(label)</text>"
        }
        return svg + "</g>\n"
    }

    // MARK: - Leaders

    func leaderSection(top: inout Double, rowTops: inout [String: Double]) -> String {
        let emptyNote = leaders.members.isEmpty ? "no leader samples" : nil
        return section(id: "leader-track", title: "LEADER / TERM", top: &top, emptyNote: emptyNote) { y in
            guard !leaders.members.isEmpty else { return "" }
            var svg = termRow(top: y)
            y += Self.rowHeight + 2
            for (name, segments) in leaders.members {
                svg += rowFrame(name: name, top: y, height: Self.rowHeight, kind: "member-row")
                for segment in segments { svg += leaderSegment(segment, member: name, top: y) }
                rowTops[name] = y
                y += Self.rowHeight + 2
            }
            return svg
        }
    }

    /// The cluster's term: alternating shades, labelled with the term number where it rises.
    func termRow(top: Double) -> String {
        var svg = rowFrame(name: "cluster term", top: top, height: Self.rowHeight, kind: "term-row")
        for (index, segment) in leaders.termSegments.enumerated() {
            let start = axis.x(segment.start)
            let width = max(axis.x(segment.end) - start, 1)
            let shade = index % 2 == 0 ? "even" : "odd"
            svg += "<rect class=\"term-span \(shade)\" x=\"\(Markup.coordinate(start))\" y=\"\(Markup.coordinate(top))\""
            svg += " width=\"\(Markup.coordinate(width))\" height=\"\(Markup.coordinate(Self.rowHeight))\">"
            svg += "\(Self.tooltip("term \(segment.term) from \(Markup.seconds(segment.start))s"))</rect>"
            let text = width >= 52 ? "term \(segment.term)" : width >= 16 ? "\(segment.term)" : ""
            if !text.isEmpty {
                svg += "<text class=\"term-label\" x=\"\(Markup.coordinate(start + 4))\" y=\"\(Markup.coordinate(top + 15))\">\(text)</text>"
            }
            svg += "\n"
        }
        return svg
    }

    func leaderSegment(_ segment: LeaderSegment, member: String, top: Double) -> String {
        let start = axis.x(segment.start)
        let width = max(axis.x(segment.end) - start, 1)
        let range = "\(Markup.seconds(segment.start))s to \(Markup.seconds(segment.end))s"
        let (className, inset, tooltip, label): (String, Double, String, String)
        switch segment.state {
        case .leader(let term):
            (className, inset, tooltip) = ("leader-span", 2, "\(member) leader, term \(term): \(range)")
            label = width >= 60 ? "leader · term \(term)" : width >= 16 ? "\(term)" : ""
        case .follower(let term):
            (className, inset, tooltip, label) = ("follower-span", 7, "\(member) follower, term \(term): \(range)", "")
        case .unreachable:
            (className, inset, tooltip) = ("unreachable-span", 2, "\(member) unreachable: \(range)")
            label = width >= 80 ? "unreachable" : ""
        }
        var svg = "<rect class=\"\(className)\" x=\"\(Markup.coordinate(start))\" y=\"\(Markup.coordinate(top + inset))\""
        svg += " width=\"\(Markup.coordinate(width))\" height=\"\(Markup.coordinate(Self.rowHeight - 2 * inset))\">"
        svg += "\(Self.tooltip(tooltip))</rect>"
        if !label.isEmpty {
            svg += "<text class=\"\(className)-label\" x=\"\(Markup.coordinate(start + 5))\" y=\"\(Markup.coordinate(top + 15))\">\(label)</text>"
        }
        return svg + "\n"
    }

    /// Process events sit on their member's leader row, or on the host's fault row otherwise.
    func processMarkers(rowTops: [String: Double]) -> String {
        var svg = "<g id=\"process-events\">\n"
        // A kill and the exit it causes land milliseconds apart; a marker that would cover the
        // one before it on its row is nudged right so both show (the tooltip keeps the exact time).
        var lastX: [String: Double] = [:]
        for event in markers {
            guard let top = rowTops[event.host] else { continue }
            let x = max(axis.x(event.time), (lastX[event.host] ?? -Double.infinity) + 12)
            lastX[event.host] = x
            let y = top + Self.rowHeight / 2
            let tooltip = "\(event.host) \(event.description) at \(Markup.seconds(event.time))s"
            svg += "<g class=\"process-event \(event.kind.rawValue)\">\(Self.tooltip(tooltip))"
            svg += Self.markerShape(event.kind, x: x, y: y) + "</g>\n"
        }
        return svg + "</g>\n"
    }

    /// A small shape per kind: a cross for killed, a square for exited, bars for paused, a
    /// triangle for started, restarted and resumed.
    static func markerShape(_ kind: ProcessEventKind, x: Double, y: Double) -> String {
        func point(_ dx: Double, _ dy: Double) -> String { "\(Markup.coordinate(x + dx)),\(Markup.coordinate(y + dy))" }
        switch kind {
        case .killed:
            return "<path d=\"M\(point(-5, -5))L\(point(5, 5))M\(point(-5, 5))L\(point(5, -5))\" class=\"marker-cross\"/>"
        case .exited:
            return "<rect x=\"\(Markup.coordinate(x - 5))\" y=\"\(Markup.coordinate(y - 5))\" width=\"10\" height=\"10\" class=\"marker\"/>"
        case .paused:
            return "<path d=\"M\(point(-4, -6))V\(Markup.coordinate(y + 6))M\(point(2, -6))V\(Markup.coordinate(y + 6))\" class=\"marker-bars\"/>"
        case .started, .restarted, .resumed:
            return "<path d=\"M\(point(-5, -6))L\(point(6, 0))L\(point(-5, 6))Z\" class=\"marker\"/>"
        }
    }

    // MARK: - Latency scatter

    func latencySection(top: Double) -> String {
        let stripTop = top + Self.sectionTitleHeight
        let plotTop = stripTop + Self.pendingStrip
        let scale = LatencyScale(latencies: sample.points.compactMap(\.latency), top: plotTop, height: Self.scatterHeight)
        var svg = "<g id=\"latency\">\n"
        svg += "<text class=\"section-title\" x=\"8\" y=\"\(Markup.coordinate(top + 12))\">OP LATENCY</text>\n"
        svg += "<text class=\"row-label\" x=\"\(Markup.coordinate(Self.gutter - 8))\" y=\"\(Markup.coordinate(stripTop + 9))\" text-anchor=\"end\">never completed</text>\n"
        svg += "<rect class=\"row pending-row\" x=\"\(Markup.coordinate(axis.left))\" y=\"\(Markup.coordinate(stripTop))\" width=\"\(Markup.coordinate(axis.width))\" height=\"\(Markup.coordinate(Self.pendingStrip - 10))\"/>\n"
        svg += "<rect class=\"plot\" x=\"\(Markup.coordinate(axis.left))\" y=\"\(Markup.coordinate(plotTop))\" width=\"\(Markup.coordinate(axis.width))\" height=\"\(Markup.coordinate(Self.scatterHeight))\"/>\n"
        for decade in scale.decades {
            let y = Markup.coordinate(scale.y(decade.latency))
            svg += "<line class=\"decade\" x1=\"\(Markup.coordinate(axis.left))\" y1=\"\(y)\" x2=\"\(Markup.coordinate(axis.left + axis.width))\" y2=\"\(y)\"/>"
            svg += "<text class=\"row-label\" x=\"\(Markup.coordinate(Self.gutter - 8))\" y=\"\(y)\" dy=\"4\" text-anchor=\"end\">\(Time.describe(decade.latency))</text>\n"
        }
        // Ok dots first, so the rarer failed and indefinite ones are drawn on top of them.
        for outcome in [OperationOutcome.ok, .info, .fail] {
            for point in sample.points where point.outcome == outcome {
                svg += dot(point, scale: scale, pendingY: stripTop + (Self.pendingStrip - 10) / 2)
            }
        }
        return svg + "</g>\n"
    }

    func dot(_ point: OperationPoint, scale: LatencyScale, pendingY: Double) -> String {
        let x = Markup.coordinate(axis.x(point.invokeTime))
        let y = Markup.coordinate(point.latency.map { scale.y($0) } ?? pendingY)
        let outcome = point.outcome.rawValue
        guard point.outcome != .ok else {
            return "<circle class=\"op ok\" cx=\"\(x)\" cy=\"\(y)\" r=\"2\"/>\n"
        }
        // Only the rarer dots carry a tooltip: it costs bytes, and they are the ones people hover.
        let latency = point.latency.map(Time.describe) ?? "never completed"
        let tooltip = "\(outcome) \(point.kind.rawValue) \(point.key) by process \(point.process)"
            + (point.node.map { " via \($0)" } ?? "") + ", invoked at \(Markup.seconds(point.invokeTime))s, \(latency)"
        return "<circle class=\"op \(outcome)\" cx=\"\(x)\" cy=\"\(y)\" r=\"3.2\">\(Self.tooltip(tooltip))</circle>\n"
    }

    // MARK: - Failed checks

    /// A red band across every track for each failed check that says where it failed.
    func checkFailures(top: Double, bottom: Double) -> String {
        var svg = "<g id=\"check-failures\">\n"
        for check in report.checks.prefix(PageLimits.checksMax) where check.verdict == .fail {
            guard let range = check.failureRange else { continue }
            let start = axis.x(range.start)
            let width = max(axis.x(range.end) - start, 3)
            let tooltip = "\(check.name) failed: \(Markup.seconds(range.start))s to \(Markup.seconds(range.end))s"
            svg += "<g class=\"check-failure\">\(Self.tooltip(tooltip))"
            svg += "<rect class=\"check-failure-area\" x=\"\(Markup.coordinate(start))\" y=\"\(Markup.coordinate(top))\""
            svg += " width=\"\(Markup.coordinate(width))\" height=\"\(Markup.coordinate(bottom - top))\"/>"
            svg += "<text class=\"check-failure-label\" x=\"\(Markup.coordinate(start))\" y=\"\(Markup.coordinate(top - 6))\">✗ \(Markup.escape(Markup.truncated(check.name, to: 40)))</text></g>\n"
        }
        return svg + "</g>\n"
    }
}

/// The scatter's vertical scale: log10 of latency over whole decades, at least two of them.
struct LatencyScale {
    let lowDecade: Int
    let highDecade: Int
    let top: Double
    let height: Double

    init(latencies: [Nanoseconds], top: Double, height: Double) {
        // Below a microsecond nothing is measured meaningfully; clamping also keeps log10 finite.
        let positive = latencies.map { max($0, Time.microsecond) }
        let low = positive.min().map { Int(floor(log10(Double($0)))) } ?? 5
        // A little headroom, so a latency of exactly a decade (a 1 s timeout) is not drawn on
        // the plot's top edge, where it would read as part of the never-completed strip.
        let high = positive.max().map { Int(ceil(log10(Double($0)) + 0.05)) } ?? 9
        lowDecade = low
        highDecade = max(high, low + 2)
        self.top = top
        self.height = height
    }

    func y(_ latency: Nanoseconds) -> Double {
        let value = log10(Double(max(latency, Time.microsecond)))
        let fraction = (value - Double(lowDecade)) / Double(highDecade - lowDecade)
        return top + height - min(max(fraction, 0), 1) * height
    }

    var decades: [(decade: Int, latency: Nanoseconds)] {
        (lowDecade...highDecade).map { decade in
            var latency: Nanoseconds = 1
            for _ in 0..<decade { latency *= 10 }
            return (decade, latency)
        }
    }
}

/// Colours of fault kinds: fixed ones for the kinds scenarios use, a stable pick from a palette
/// (FNV-1a of the name, never Swift's per-process hash) for any other.
enum FaultColours {
    static let known: [String: String] = [
        "isolate": "#7c3aed", "partition": "#7c3aed", "blackhole": "#475569", "cut": "#475569", "drop": "#475569",
        "latency": "#0284c7", "jitter": "#0284c7", "bandwidth": "#0d9488", "reject": "#db2777", "reset": "#db2777",
        "kill": "#92400e", "crash": "#92400e", "pause": "#a16207", "restart": "#92400e", "clock-skew": "#4d7c0f",
        "skew": "#4d7c0f",
    ]
    static let palette = ["#7c3aed", "#0284c7", "#0d9488", "#db2777", "#4d7c0f", "#a16207", "#475569", "#9333ea"]

    static func colour(of kind: String) -> String {
        if let colour = known[kind.lowercased()] { return colour }
        var hash = FNV1a()
        hash.combine(kind)
        return palette[Int(hash.value % UInt64(palette.count))]
    }
}
