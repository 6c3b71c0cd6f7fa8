//! RunReport: everything a chaos run hands the report renderer — what ran, what the checks said,
//! and the time lines (operations, faults, leaders, process events) the page draws. Times are
//! nanoseconds since the start of the run, on the same monotonic line as history.jsonl.

import Base

/// What a check concluded. The cases are ordered by severity, so the overall verdict of a run is
/// the most severe verdict of its checks.
public enum Verdict: String, Sendable, Codable, CaseIterable, Comparable {
    /// The property held.
    case pass
    /// The check could not decide (a search ran out of budget, an outcome is indefinite). Never a
    /// pass: CI must not go green on it.
    case unknown
    /// The property was violated.
    case fail
    /// The run itself is broken (bad input, the testbed failed), so nothing it says can be trusted.
    case invalid

    var severity: Int {
        switch self {
        case .pass: 0
        case .unknown: 1
        case .fail: 2
        case .invalid: 3
        }
    }

    public static func < (left: Verdict, right: Verdict) -> Bool { left.severity < right.severity }
}

/// A closed interval of run time, in nanoseconds since the start of the run.
public struct TimeRange: Sendable, Codable, Hashable {
    /// Invariant: start <= end.
    public var start: Nanoseconds
    public var end: Nanoseconds

    public init(start: Nanoseconds, end: Nanoseconds) {
        precondition(start <= end, "a time range runs forward, got \(start)...\(end)")
        self.start = start
        self.end = end
    }
}

/// One checker's conclusion.
public struct CheckVerdict: Sendable, Codable, Hashable {
    public var name: String
    public var verdict: Verdict
    /// One line for people: what held, or what broke.
    public var summary: String
    /// Evidence lines: the operations involved, the values seen.
    public var details: [String]
    /// Where in the run it failed, when the checker can point at it; the page draws it in red.
    public var failureRange: TimeRange?
    /// How long the checker itself ran; JUnit's testcase time.
    public var checkDuration: Nanoseconds?

    public init(
        name: String, verdict: Verdict, summary: String, details: [String] = [], failureRange: TimeRange? = nil,
        checkDuration: Nanoseconds? = nil
    ) {
        self.name = name
        self.verdict = verdict
        self.summary = summary
        self.details = details
        self.failureRange = failureRange
        self.checkDuration = checkDuration
    }
}

/// Which store the run drove.
public enum Implementation: String, Sendable, Codable, CaseIterable {
    /// Faultline's own Raft store.
    case builtin
    /// Real etcd, the reference.
    case etcd
}

/// The operation a client performed (history.jsonl's `f`, plus `insert` for workloads that add keys).
public enum OperationKind: String, Sendable, Codable, CaseIterable {
    case read, write, cas, delete, insert
}

/// How an operation ended, with history.jsonl's meanings.
public enum OperationOutcome: String, Sendable, Codable, CaseIterable {
    /// It completed and took effect.
    case ok
    /// It certainly did not take effect.
    case fail
    /// Unknown: it may take effect at any time after its invoke, or never.
    case info
}

/// One client operation, from invoke to completion.
public struct OperationPoint: Sendable, Codable, Hashable {
    /// The client process that issued it (history.jsonl's `process`).
    public var process: Int
    public var kind: OperationKind
    public var key: String
    public var invokeTime: Nanoseconds
    /// Nil when the operation never completed (the run ended or the client gave up).
    /// Invariant: completionTime >= invokeTime.
    public var completionTime: Nanoseconds?
    public var outcome: OperationOutcome
    /// The endpoint the client used, when known.
    public var node: String?

    public init(
        process: Int, kind: OperationKind, key: String, invokeTime: Nanoseconds, completionTime: Nanoseconds?,
        outcome: OperationOutcome, node: String? = nil
    ) {
        if let completionTime {
            precondition(completionTime >= invokeTime, "operation completes at \(completionTime) before its invoke \(invokeTime)")
        }
        self.process = process
        self.kind = kind
        self.key = key
        self.invokeTime = invokeTime
        self.completionTime = completionTime
        self.outcome = outcome
        self.node = node
    }

    /// Invoke to completion; nil when it never completed.
    public var latency: Nanoseconds? { completionTime.map { $0 - invokeTime } }
}

/// A directed link between two hosts, as the fault proxy sees it.
public struct Link: Sendable, Codable, Hashable {
    public var from: String
    public var to: String

    public init(from: String, to: String) {
        self.from = from
        self.to = to
    }

    /// `etcd-1→etcd-2`: how rows and labels name a link.
    public var name: String { "\(from)→\(to)" }
}

/// A fault that was in force for a while: the page draws it as a band on each target's row.
public struct FaultBand: Sendable, Codable, Hashable {
    /// For people: `isolate etcd-1`, `latency etcd-1→etcd-2 200ms`.
    public var label: String
    /// The fault's kind as the scenario names it (`isolate`, `partition`, `latency`, `blackhole`…);
    /// it picks the band's colour.
    public var kind: String
    /// Hosts the fault acts on as a whole (an isolation, a pause).
    public var targets: [String]
    /// Directed links the fault acts on (a latency, a one-way cut).
    public var links: [Link]
    public var start: Nanoseconds
    /// Nil when the fault was still in force when the run ended.
    /// Invariant: end >= start.
    public var end: Nanoseconds?

    public init(
        label: String, kind: String, targets: [String] = [], links: [Link] = [], start: Nanoseconds, end: Nanoseconds?
    ) {
        if let end { precondition(end >= start, "fault \(label) ends at \(end) before it starts at \(start)") }
        self.label = label
        self.kind = kind
        self.targets = targets
        self.links = links
        self.start = start
        self.end = end
    }
}

/// What one member said about itself when the testbed asked (or could not ask) it.
public struct LeaderSample: Sendable, Codable, Hashable {
    public var time: Nanoseconds
    public var member: String
    public var term: UInt64
    public var isLeader: Bool
    /// False when the testbed could not reach the member; term and isLeader then repeat the last
    /// known values and the page hatches the row.
    public var reachable: Bool

    public init(time: Nanoseconds, member: String, term: UInt64, isLeader: Bool, reachable: Bool = true) {
        self.time = time
        self.member = member
        self.term = term
        self.isLeader = isLeader
        self.reachable = reachable
    }
}

/// What the supervisor did to, or saw of, a process.
public enum ProcessEventKind: String, Sendable, Codable, CaseIterable {
    case started, killed, restarted, paused, resumed, exited
}

/// One process event: a marker on the host's row.
public struct ProcessEvent: Sendable, Codable, Hashable {
    public var time: Nanoseconds
    public var host: String
    public var kind: ProcessEventKind
    /// The exit status, for `exited`.
    public var exitCode: Int32?

    public init(time: Nanoseconds, host: String, kind: ProcessEventKind, exitCode: Int32? = nil) {
        self.time = time
        self.host = host
        self.kind = kind
        self.exitCode = exitCode
    }

    /// `killed`, `exited 137`: how markers and tooltips name it.
    public var description: String {
        if let exitCode { return "\(kind.rawValue) \(exitCode)" }
        return kind.rawValue
    }
}

/// Counts and latencies of a run's operations.
public struct RunStatistics: Sendable, Codable, Hashable {
    public var operationsTotal: Int
    public var operationsOk: Int
    public var operationsFailed: Int
    public var operationsIndefinite: Int
    /// Completed (ok) operations per second of run time.
    public var operationsPerSecond: Double
    /// Latency percentiles of the ok operations (nearest rank); nil when there are none.
    public var latencyP50: Nanoseconds?
    public var latencyP99: Nanoseconds?

    public init(
        operationsTotal: Int, operationsOk: Int, operationsFailed: Int, operationsIndefinite: Int,
        operationsPerSecond: Double, latencyP50: Nanoseconds?, latencyP99: Nanoseconds?
    ) {
        self.operationsTotal = operationsTotal
        self.operationsOk = operationsOk
        self.operationsFailed = operationsFailed
        self.operationsIndefinite = operationsIndefinite
        self.operationsPerSecond = operationsPerSecond
        self.latencyP50 = latencyP50
        self.latencyP99 = latencyP99
    }

    /// Computes the statistics of `operations` over a run of `duration`.
    public init(operations: [OperationPoint], duration: Nanoseconds) {
        var latencies: [Nanoseconds] = []
        var failed = 0
        var indefinite = 0
        for operation in operations {
            switch operation.outcome {
            case .ok: if let latency = operation.latency { latencies.append(latency) }
            case .fail: failed += 1
            case .info: indefinite += 1
            }
        }
        latencies.sort()
        let ok = operations.count - failed - indefinite
        let seconds = Double(duration) / Double(Time.second)
        // Rounded to milli-operations so the JSON never carries a long binary fraction.
        let rate = seconds > 0 ? (Double(ok) / seconds * 1000).rounded() / 1000 : 0
        self.init(
            operationsTotal: operations.count, operationsOk: ok, operationsFailed: failed,
            operationsIndefinite: indefinite, operationsPerSecond: rate,
            latencyP50: Self.percentile(latencies, 50), latencyP99: Self.percentile(latencies, 99))
    }

    /// The nearest-rank percentile of sorted values: the smallest value with at least `percent`%
    /// of the values at or below it.
    static func percentile(_ sorted: [Nanoseconds], _ percent: Int) -> Nanoseconds? {
        guard !sorted.isEmpty else { return nil }
        precondition((1...100).contains(percent), "percentile \(percent) is outside 1...100")
        let rank = (sorted.count * percent + 99) / 100
        return sorted[max(rank, 1) - 1]
    }
}

/// Everything the report files say about one run.
public struct RunReport: Sendable, Hashable {
    public var scenario: String
    public var scenarioDescription: String
    public var topology: String
    public var implementation: Implementation
    public var seed: UInt64
    /// When the run started, ISO 8601, as the caller formatted it (the renderer reads no clock).
    public var startedAt: String
    public var duration: Nanoseconds
    public var faultlineVersion: String
    /// The command that ran it, one argument an element.
    public var commandLine: [String]
    public var checks: [CheckVerdict]
    public var operations: [OperationPoint]
    public var faults: [FaultBand]
    public var leaders: [LeaderSample]
    public var processEvents: [ProcessEvent]
    /// Hosts in display order: the timeline's rows follow it.
    public var hosts: [String]
    public var statistics: RunStatistics

    /// Builds a report; `statistics` defaults to the ones computed from `operations`.
    public init(
        scenario: String, scenarioDescription: String, topology: String, implementation: Implementation, seed: UInt64,
        startedAt: String, duration: Nanoseconds, faultlineVersion: String, commandLine: [String],
        checks: [CheckVerdict], operations: [OperationPoint] = [], faults: [FaultBand] = [],
        leaders: [LeaderSample] = [], processEvents: [ProcessEvent] = [], hosts: [String] = [],
        statistics: RunStatistics? = nil
    ) {
        precondition(duration >= 0, "a run lasts a non-negative time, got \(duration)ns")
        self.scenario = scenario
        self.scenarioDescription = scenarioDescription
        self.topology = topology
        self.implementation = implementation
        self.seed = seed
        self.startedAt = startedAt
        self.duration = duration
        self.faultlineVersion = faultlineVersion
        self.commandLine = commandLine
        self.checks = checks
        self.operations = operations
        self.faults = faults
        self.leaders = leaders
        self.processEvents = processEvents
        self.hosts = hosts
        self.statistics = statistics ?? RunStatistics(operations: operations, duration: duration)
    }

    /// The run's verdict: the most severe of its checks' (invalid, then fail, then unknown, then
    /// pass). A run with no checks is unknown, not a pass: nothing was shown to hold.
    public var verdict: Verdict {
        checks.map(\.verdict).max() ?? .unknown
    }
}

// MARK: - Codable

/// report.json carries the overall verdict too, so CI can read it without recomputing; it is
/// derived, so decoding ignores it.
extension RunReport: Codable {
    enum CodingKeys: String, CodingKey {
        case scenario, scenarioDescription, topology, implementation, seed, startedAt, duration, faultlineVersion
        case commandLine, checks, operations, faults, leaders, processEvents, hosts, statistics, verdict
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            scenario: try container.decode(String.self, forKey: .scenario),
            scenarioDescription: try container.decode(String.self, forKey: .scenarioDescription),
            topology: try container.decode(String.self, forKey: .topology),
            implementation: try container.decode(Implementation.self, forKey: .implementation),
            seed: try container.decode(UInt64.self, forKey: .seed),
            startedAt: try container.decode(String.self, forKey: .startedAt),
            duration: try container.decode(Nanoseconds.self, forKey: .duration),
            faultlineVersion: try container.decode(String.self, forKey: .faultlineVersion),
            commandLine: try container.decode([String].self, forKey: .commandLine),
            checks: try container.decode([CheckVerdict].self, forKey: .checks),
            operations: try container.decode([OperationPoint].self, forKey: .operations),
            faults: try container.decode([FaultBand].self, forKey: .faults),
            leaders: try container.decode([LeaderSample].self, forKey: .leaders),
            processEvents: try container.decode([ProcessEvent].self, forKey: .processEvents),
            hosts: try container.decode([String].self, forKey: .hosts),
            statistics: try container.decode(RunStatistics.self, forKey: .statistics))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(scenario, forKey: .scenario)
        try container.encode(scenarioDescription, forKey: .scenarioDescription)
        try container.encode(topology, forKey: .topology)
        try container.encode(implementation, forKey: .implementation)
        try container.encode(seed, forKey: .seed)
        try container.encode(startedAt, forKey: .startedAt)
        try container.encode(duration, forKey: .duration)
        try container.encode(faultlineVersion, forKey: .faultlineVersion)
        try container.encode(commandLine, forKey: .commandLine)
        try container.encode(checks, forKey: .checks)
        try container.encode(operations, forKey: .operations)
        try container.encode(faults, forKey: .faults)
        try container.encode(leaders, forKey: .leaders)
        try container.encode(processEvents, forKey: .processEvents)
        try container.encode(hosts, forKey: .hosts)
        try container.encode(statistics, forKey: .statistics)
        try container.encode(verdict, forKey: .verdict)
    }
}
