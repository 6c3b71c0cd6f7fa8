//! Timeline: what the page's SVG draws, worked out before any drawing — the shared time axis, one
//! fault row per host or link with its bands in lanes, the leader/term segments per member, the
//! cluster's term over time, and the bounded, deterministically downsampled operation points.

import Base

/// The caps that bound report.html, whatever the run produced. Each cap says on the page when it
/// cut something.
enum PageLimits {
    /// Operation dots in the latency scatter.
    static let operationPointsMax = 2_500
    /// Fault bands drawn (across all rows).
    static let faultBandsMax = 300
    /// Fault rows (hosts and links).
    static let faultRowsMax = 48
    /// Overlapping bands stacked in one fault row before they overlap.
    static let faultLanesMax = 3
    /// Members with a leader/term row.
    static let leaderMembersMax = 16
    /// Leader/term segments drawn (across all members).
    static let leaderSegmentsMax = 1_500
    /// Term changes labelled in the cluster term row.
    static let termSegmentsMax = 200
    /// Process event markers.
    static let processEventsMax = 300
    /// Checks listed in the table (the overall verdict still counts all of them).
    static let checksMax = 100
    /// Detail lines shown per check.
    static let detailLinesMax = 20
    /// Characters kept of one summary or detail line.
    static let lineCharactersMax = 300
    /// What the page can weigh with every cap reached: `ReportTests` renders such a report and
    /// holds the page to it.
    static let pageBytesMax = 2_000_000
}

/// Maps run time to x coordinates and picks the axis ticks.
struct TimeAxis {
    /// The last instant drawn. Invariant: end > 0.
    let end: Nanoseconds
    let left: Double
    let width: Double

    init(end: Nanoseconds, left: Double, width: Double) {
        precondition(width > 0, "a time axis needs a positive width, got \(width)")
        self.end = max(end, 1)
        self.left = left
        self.width = width
    }

    /// The axis covers the run and anything recorded after its nominal end (a late completion, a
    /// fault healed during shutdown), so nothing is drawn off the page.
    init(report: RunReport, left: Double, width: Double) {
        var end = report.duration
        for operation in report.operations { end = max(end, operation.completionTime ?? operation.invokeTime) }
        for fault in report.faults { end = max(end, fault.end ?? fault.start) }
        for sample in report.leaders { end = max(end, sample.time) }
        for event in report.processEvents { end = max(end, event.time) }
        for check in report.checks { end = max(end, check.failureRange?.end ?? 0) }
        self.init(end: end, left: left, width: width)
    }

    func x(_ time: Nanoseconds) -> Double {
        let clamped = min(max(time, 0), end)
        return left + Double(clamped) / Double(end) * width
    }

    /// Tick times: a round step in seconds giving at most about a dozen ticks.
    var ticks: [Nanoseconds] {
        let steps: [Nanoseconds] = [
            100 * Time.millisecond, 200 * Time.millisecond, 500 * Time.millisecond, Time.second, 2 * Time.second,
            5 * Time.second, 10 * Time.second, 15 * Time.second, 30 * Time.second, 60 * Time.second,
            120 * Time.second, 300 * Time.second, 600 * Time.second, 1_800 * Time.second, 3_600 * Time.second,
        ]
        let hour: Nanoseconds = 3_600 * Time.second
        let step: Nanoseconds = steps.first(where: { end / $0 <= 12 }) ?? (end / 12 / hour + 1) * hour
        var ticks: [Nanoseconds] = []
        var tick: Nanoseconds = 0
        while tick <= end {
            ticks.append(tick)
            tick += step
        }
        return ticks
    }

    /// `0s`, `1.5s`, `90s`: seconds, as the axis is labelled.
    static func label(_ time: Nanoseconds) -> String {
        let tenths = time / (100 * Time.millisecond)
        return tenths % 10 == 0 ? "\(tenths / 10)s" : "\(tenths / 10).\(tenths % 10)s"
    }
}

// MARK: - Fault rows

/// One row of the fault track: a host, a link, or the whole cluster.
struct FaultRow {
    var name: String
    /// Bands in drawing order, each with the lane it sits in (0 at the top).
    var bands: [(band: FaultBand, lane: Int)] = []
    var laneCount: Int { min(max((bands.map(\.lane).max() ?? 0) + 1, 1), PageLimits.faultLanesMax) }
}

/// The fault track's rows: every host (so an unharmed host shows as an empty row), then each
/// faulted link, then a `cluster` row for faults that name neither.
struct FaultTrack {
    var rows: [FaultRow]
    /// Bands not drawn because a cap was reached.
    var bandsOmitted: Int
    var rowsOmitted: Int

    init(report: RunReport) {
        let hostOrder = Dictionary(report.hosts.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        func order(_ host: String) -> Int { hostOrder[host] ?? Int.max }
        var names = report.hosts
        var extraHosts: Set<String> = []
        var links: Set<Link> = []
        var clusterWide = false
        for fault in report.faults {
            for target in fault.targets where hostOrder[target] == nil { extraHosts.insert(target) }
            links.formUnion(fault.links)
            if fault.targets.isEmpty && fault.links.isEmpty { clusterWide = true }
        }
        names += extraHosts.sorted()
        names += links.sorted { (order($0.from), order($0.to), $0.name) < (order($1.from), order($1.to), $1.name) }
            .map(\.name)
        if clusterWide { names.append("cluster") }
        rowsOmitted = max(names.count - PageLimits.faultRowsMax, 0)
        names = Array(names.prefix(PageLimits.faultRowsMax))
        var rows = names.map { FaultRow(name: $0) }
        let index = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        var drawn = 0
        var omitted = 0
        let sorted = report.faults.enumerated().sorted { ($0.element.start, $0.offset) < ($1.element.start, $1.offset) }
        for (_, fault) in sorted {
            var rowNames = fault.targets + fault.links.map(\.name)
            if rowNames.isEmpty { rowNames = ["cluster"] }
            for name in rowNames {
                guard let row = index[name], drawn < PageLimits.faultBandsMax else {
                    omitted += 1
                    continue
                }
                rows[row].bands.append((fault, Self.lane(for: fault, in: rows[row])))
                drawn += 1
            }
        }
        self.rows = rows
        bandsOmitted = omitted
    }

    /// The first lane whose bands have all ended by the time `fault` starts; the last lane when
    /// every lane is busy (the bands then overlap, which the tooltips still tell apart).
    static func lane(for fault: FaultBand, in row: FaultRow) -> Int {
        for lane in 0..<PageLimits.faultLanesMax {
            let busy = row.bands.contains { placed in
                placed.lane == lane && (placed.band.end ?? Nanoseconds.max) > fault.start
            }
            if !busy { return lane }
        }
        return PageLimits.faultLanesMax - 1
    }
}

// MARK: - Leaders and terms

/// What a member was during a stretch of the run.
enum MemberState: Equatable {
    case leader(term: UInt64)
    case follower(term: UInt64)
    case unreachable
}

/// A stretch of one member's row in one state.
struct LeaderSegment: Equatable {
    var start: Nanoseconds
    var end: Nanoseconds
    var state: MemberState
}

/// The leader track: per member, the run cut into segments of one state; and the cluster's term
/// (the highest any member reported so far) over time.
struct LeaderTrack {
    var members: [(name: String, segments: [LeaderSegment])]
    var termSegments: [(start: Nanoseconds, end: Nanoseconds, term: UInt64)]
    var segmentsOmitted: Int
    var membersOmitted: Int

    init(samples: [LeaderSample], hosts: [String], end: Nanoseconds) {
        var byMember: [String: [LeaderSample]] = [:]
        for sample in samples { byMember[sample.member, default: []].append(sample) }
        let hostOrder = Dictionary(hosts.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        var names = byMember.keys.sorted { (hostOrder[$0] ?? Int.max, $0) < (hostOrder[$1] ?? Int.max, $1) }
        membersOmitted = max(names.count - PageLimits.leaderMembersMax, 0)
        names = Array(names.prefix(PageLimits.leaderMembersMax))
        var budget = PageLimits.leaderSegmentsMax
        var omitted = 0
        members = names.map { name in
            let segments = Self.segments(of: byMember[name] ?? [], end: end)
            let kept = Array(segments.prefix(budget))
            omitted += segments.count - kept.count
            budget -= kept.count
            return (name, kept)
        }
        segmentsOmitted = omitted
        termSegments = Self.terms(of: samples, end: end)
    }

    /// A member's samples, in time order, as segments: each sample's state holds until the
    /// member's next sample (or the end of the run), and equal neighbours merge.
    static func segments(of samples: [LeaderSample], end: Nanoseconds) -> [LeaderSegment] {
        let ordered = samples.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }
            .map(\.element)
        var segments: [LeaderSegment] = []
        for (index, sample) in ordered.enumerated() {
            let until = index + 1 < ordered.count ? ordered[index + 1].time : max(end, sample.time)
            let state: MemberState =
                !sample.reachable ? .unreachable
                : sample.isLeader ? .leader(term: sample.term) : .follower(term: sample.term)
            if var last = segments.last, last.state == state {
                last.end = until
                segments[segments.count - 1] = last
            } else if until > sample.time || index + 1 == ordered.count {
                segments.append(LeaderSegment(start: sample.time, end: until, state: state))
            }
        }
        return segments
    }

    /// The highest term reported so far, as segments that change where it rises.
    static func terms(of samples: [LeaderSample], end: Nanoseconds)
        -> [(start: Nanoseconds, end: Nanoseconds, term: UInt64)]
    {
        var changes: [(time: Nanoseconds, term: UInt64)] = []
        for sample in samples.sorted(by: { ($0.time, $0.term) < ($1.time, $1.term) }) where sample.reachable {
            if sample.term > (changes.last?.term ?? 0) {
                if changes.last?.time == sample.time { changes.removeLast() }
                changes.append((sample.time, sample.term))
            }
        }
        if changes.count > PageLimits.termSegmentsMax { changes = Array(changes.suffix(PageLimits.termSegmentsMax)) }
        return changes.enumerated().map { index, change in
            let until = index + 1 < changes.count ? changes[index + 1].time : max(end, change.time)
            return (change.time, until, change.term)
        }
    }
}

// MARK: - Operation points

/// The operations the latency scatter draws: all of them up to the cap; past it, every failed
/// and indefinite one (they are what a reader looks for) and every k-th ok one, in invoke order.
/// The choice depends only on the input, so the page is deterministic.
struct OperationSample {
    var points: [OperationPoint]
    /// For the page: what was kept, when not everything was.
    var note: String?

    init(operations: [OperationPoint], limit: Int = PageLimits.operationPointsMax) {
        precondition(limit >= 2, "the scatter keeps at least two points, got a limit of \(limit)")
        let ordered = operations.enumerated()
            .sorted { ($0.element.invokeTime, $0.element.process, $0.offset) < ($1.element.invokeTime, $1.element.process, $1.offset) }
            .map(\.element)
        guard ordered.count > limit else {
            points = ordered
            note = nil
            return
        }
        let others = ordered.filter { $0.outcome != .ok }
        let ok = ordered.filter { $0.outcome == .ok }
        // Failed and indefinite operations may take up to half the dots when there are many, so
        // the ok latencies that show the run's normal shape always remain visible.
        let otherStride = Self.stride(count: others.count, budget: max(limit - ok.count, limit / 2))
        let keptOthers = others.enumerated().filter { $0.offset % otherStride == 0 }.map(\.element)
        let okStride = Self.stride(count: ok.count, budget: limit - keptOthers.count)
        let keptOk = ok.enumerated().filter { $0.offset % okStride == 0 }.map(\.element)
        points = (keptOthers + keptOk).enumerated()
            .sorted { ($0.element.invokeTime, $0.element.process, $0.offset) < ($1.element.invokeTime, $1.element.process, $1.offset) }
            .map(\.element)
        note = "Showing \(Markup.count(points.count)) of \(Markup.count(ordered.count)) operations: "
            + "\(Self.share(others.count, stride: otherStride, of: "failed or indefinite")), "
            + "\(Self.share(ok.count, stride: okStride, of: "ok")) (cap \(Markup.count(limit)) dots)."
    }

    /// `all 12 ok` or `every 7th ok`.
    static func share(_ count: Int, stride: Int, of kind: String) -> String {
        stride == 1 ? "all \(Markup.count(count)) \(kind)" : "every \(ordinal(stride)) \(kind)"
    }

    /// The smallest k such that every k-th of `count` items fits in `budget`.
    static func stride(count: Int, budget: Int) -> Int {
        guard count > budget, budget > 0 else { return 1 }
        return (count + budget - 1) / budget
    }

    static func ordinal(_ number: Int) -> String {
        let suffix: String
        switch (number % 10, number % 100) {
        case (_, 11...13): suffix = "th"
        case (1, _): suffix = "st"
        case (2, _): suffix = "nd"
        case (3, _): suffix = "rd"
        default: suffix = "th"
        }
        return "\(number)\(suffix)"
    }
}
