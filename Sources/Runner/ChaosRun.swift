//! ChaosRun: one chaos run against a real cluster, start to finish. It brings the cluster up
//! (`faultline up`, the same binary), checks the steady-state hypothesis, starts the workload,
//! the status poller and the watchers, drives the nemesis on a 20 ms tick, rolls every fault
//! back, waits for the members to converge, reads the final state, and takes the cluster down —
//! also when interrupted. What it gathered (`RunRecord`) goes to the checks and the report.

import Base
import EtcdClient
import Foundation
import Glibc
import Linearizability
import Net
import Scenario
import Testbed

/// What a run is asked to do (a scenario file, resolved, plus the command line's overrides).
public struct RunPlan: Sendable {
    public var scenario: String
    public var description: String
    /// The scenario file, when the run came from one (replay evaluates its checks again).
    public var scenarioFile: String?
    public var topologyPath: String
    public var impl = "builtin"
    public var timing: String?
    public var loopback = false
    public var seed: UInt64 = 1
    /// How long the workload runs; the nemesis schedule lives inside it.
    public var duration: Nanoseconds = 30 * Time.second
    public var workload = WorkloadSettings()
    /// Operations per second the workload must reach before the first fault, else the run is invalid.
    public var minimumRate = 0.0
    public var probes: [(kind: ProbeKind, within: Nanoseconds, during: Bool)] = []
    public var watchers = 2
    /// How long the members get to agree once every fault is rolled back.
    public var recoveryTimeout: Nanoseconds = 30 * Time.second
    public var out: String
    /// The `faultline` binary that runs `up` and `down`.
    public var faultline: String
    public var cluster: String
    /// The member to hand leadership to before anything else (replay: the original's first leader).
    public var initialLeader: String?
    /// The Kubernetes workload, instead of the key-value clients.
    public var kubernetes: KubeWorkload?

    public init(scenario: String, description: String, topologyPath: String, out: String, faultline: String, cluster: String) {
        self.scenario = scenario
        self.description = description
        self.topologyPath = topologyPath
        self.out = out
        self.faultline = faultline
        self.cluster = cluster
    }
}

/// One thing the nemesis does, with a tag that later undoes it.
public enum NemesisStep: @unchecked Sendable {
    /// Add proxy rules atomically (the proxy's rule JSON); `label` names the fault in the report.
    case rules(tag: String, label: String, kind: String, hosts: [String], rules: [[String: Any]])
    /// Remove the rules added under `tag`.
    case heal(tag: String)
    /// kill, terminate, pause, resume, restart (wipe) a host.
    case process(tag: String, label: String, verb: String, host: String, wipe: Bool)
    case skew(tag: String, label: String, host: String, offset: Nanoseconds, rate: Double)
    /// One-shot reset of the connections `from` dialled to `to`.
    case reset(label: String, from: String, to: String)
}

extension NemesisStep {
    /// The tag of `.heal` that removes every rule.
    public static let everything = "*"

    /// The step as one JSON object (the run's `schedule.jsonl`, which `replay` drives again).
    public var json: [String: Any] {
        switch self {
        case .rules(let tag, let label, let kind, let hosts, let rules):
            return ["step": "rules", "tag": tag, "label": label, "kind": kind, "hosts": hosts, "rules": rules]
        case .heal(let tag):
            return ["step": "heal", "tag": tag]
        case .process(let tag, let label, let verb, let host, let wipe):
            return ["step": "process", "tag": tag, "label": label, "verb": verb, "host": host, "wipe": wipe]
        case .skew(let tag, let label, let host, let offset, let rate):
            return ["step": "skew", "tag": tag, "label": label, "host": host, "offset_ns": Int(offset), "rate": rate]
        case .reset(let label, let from, let to):
            return ["step": "reset", "label": label, "from": from, "to": to]
        }
    }

    /// Reads a step back from `json`; nil when the object is not one.
    public init?(json object: [String: Any]) {
        let tag = object["tag"] as? String ?? ""
        let label = object["label"] as? String ?? ""
        switch object["step"] as? String {
        case "rules":
            guard let rules = object["rules"] as? [[String: Any]] else { return nil }
            self = .rules(tag: tag, label: label, kind: object["kind"] as? String ?? "", hosts: object["hosts"] as? [String] ?? [], rules: rules)
        case "heal":
            self = .heal(tag: tag)
        case "process":
            guard let verb = object["verb"] as? String, let host = object["host"] as? String else { return nil }
            self = .process(tag: tag, label: label, verb: verb, host: host, wipe: object["wipe"] as? Bool ?? false)
        case "skew":
            guard let host = object["host"] as? String else { return nil }
            self = .skew(tag: tag, label: label, host: host, offset: Nanoseconds(object["offset_ns"] as? Int ?? 0), rate: object["rate"] as? Double ?? 1)
        case "reset":
            guard let from = object["from"] as? String, let to = object["to"] as? String else { return nil }
            self = .reset(label: label, from: from, to: to)
        default:
            return nil
        }
    }
}

/// A step as it was carried out, at its time since the workload began.
public struct ScheduledStep: @unchecked Sendable {
    public var time: Nanoseconds
    public var step: NemesisStep
    public init(time: Nanoseconds, step: NemesisStep) {
        self.time = time
        self.step = step
    }
}

/// Drives a recorded schedule again: each step at its recorded time, whatever the cluster does.
public struct RecordedNemesis: NemesisDriver {
    private var pending: ArraySlice<ScheduledStep>
    public init(_ schedule: [ScheduledStep]) { pending = schedule.sorted { $0.time < $1.time }[...] }

    public mutating func steps(at time: Nanoseconds, view: ClusterView) -> [NemesisStep] {
        var due: [NemesisStep] = []
        while let next = pending.first, next.time <= time {
            due.append(next.step)
            pending.removeFirst()
        }
        return due
    }
}

/// Decides the faults; the scenario's planner sits behind this.
public protocol NemesisDriver {
    /// Steps due by `time` (nanoseconds since the workload began).
    mutating func steps(at time: Nanoseconds, view: ClusterView) -> [NemesisStep]
}

/// A fault as it was applied, for the checks and the report.
public struct FaultBand: Sendable {
    public var tag: String
    public var label: String
    public var kind: String
    public var hosts: [String]
    public var start: Nanoseconds
    public var end: Nanoseconds?
    /// A partition's groups (hosts in none form one more group); empty for other kinds.
    public var groups: [[String]] = []

    public init(tag: String, label: String, kind: String, hosts: [String], start: Nanoseconds, end: Nanoseconds?, groups: [[String]] = []) {
        (self.tag, self.label, self.kind, self.hosts, self.start, self.end) = (tag, label, kind, hosts, start, end)
        self.groups = groups
    }
}

public struct ProcessEvent: Sendable {
    public var time: Nanoseconds
    public var host: String
    public var event: String
}

/// Everything a run gathered.
public struct RunRecord: Sendable {
    public var plan: RunPlan
    public var startedAt: String
    public var history: [HistoryEvent] = []
    public var operations: [OperationRecord] = []
    public var inserts: [InsertOutcome] = []
    /// Every inserted key the final read found, with its mod revision and value.
    public var finalInserts: [String: Int64]? = nil
    public var finalInsertValues: [String: String] = [:]
    public var finalInsertsError: String?
    public var watch: [WatchDelivery] = []
    public var watchResumes = 0
    public var watchStartRevision: Int64 = 0
    public var leaders: [LeaderObservation] = []
    public var faults: [FaultBand] = []
    public var processEvents: [ProcessEvent] = []
    public var probes: [ProbeResult] = []
    /// Every nemesis step carried out, rollbacks included, in order (for replay).
    public var schedule: [ScheduledStep] = []
    public var memberStates: [MemberSnapshot] = []
    /// How long after the rollback the members agreed (nil: they never did within the timeout).
    public var convergedAfter: Nanoseconds?
    public var firstFault: Nanoseconds?
    public var lastHeal: Nanoseconds?
    /// When the workload stopped (ns since it began).
    public var workloadEnd: Nanoseconds = 0
    /// Set when the run could not be carried out (the cluster did not come up, …).
    public var abortReason: String?
    public var members: [String] = []
    /// What a Kubernetes run gathered; nil for a key-value run.
    public var kube: KubeRunRecord?

    public init(plan: RunPlan, startedAt: String) {
        self.plan = plan
        self.startedAt = startedAt
    }
}

public final class ChaosRun: @unchecked Sendable {
    public let plan: RunPlan
    let log: @Sendable (String) -> Void
    private let interrupted = DispatchSemaphore(value: 0)
    private let interruptLock = NSLock()
    private var interruptSeen = false

    public init(plan: RunPlan, log: @escaping @Sendable (String) -> Void) {
        self.plan = plan
        self.log = log
    }

    /// Runs it; the cluster is down again when this returns.
    public func run(nemesis: inout some NemesisDriver) -> RunRecord {
        var record = RunRecord(plan: plan, startedAt: ISO8601DateFormatter().string(from: Date()))
        let signals = TerminationSignals.signal(interrupted)
        defer { _ = signals }
        var upArguments = ["up", plan.topologyPath, "--name", plan.cluster, "--impl", plan.impl]
        if let timing = plan.timing { upArguments += ["--timing", timing] }
        if plan.loopback { upArguments.append("--loopback") }
        let up = Self.execute([plan.faultline] + upArguments)
        guard up.status == 0 else {
            record.abortReason = "the cluster did not come up: \(up.output.trimmingCharacters(in: .whitespacesAndNewlines))"
            _ = Self.execute([plan.faultline, "down", plan.cluster])
            return record
        }
        defer {
            copyTrace()
            _ = Self.execute([plan.faultline, "down", plan.cluster])
        }
        do {
            if let kubernetes = plan.kubernetes {
                try driveKubernetes(&record, workload: kubernetes, nemesis: &nemesis, interrupted: { self.wasInterrupted })
            } else {
                try drive(&record, nemesis: &nemesis)
            }
        } catch {
            record.abortReason = "\(error)"
        }
        return record
    }

    private func copyTrace() {
        let source = ClusterDirectory(cluster: plan.cluster).tracePath
        let target = plan.out + "/trace.jsonl"
        try? FileManager.default.removeItem(atPath: target)
        try? FileManager.default.copyItem(atPath: source, toPath: target)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: ClusterDirectory(cluster: plan.cluster).logsPath)) ?? [] {
            try? FileManager.default.createDirectory(atPath: plan.out + "/logs", withIntermediateDirectories: true)
            try? FileManager.default.copyItem(atPath: ClusterDirectory(cluster: plan.cluster).logsPath + "/" + name, toPath: plan.out + "/logs/" + name)
        }
    }

    /// Whether SIGINT or SIGTERM arrived; once true, true for good (every loop must stop).
    private var wasInterrupted: Bool {
        interruptLock.withLock {
            if !interruptSeen && interrupted.wait(timeout: .now()) == .success { interruptSeen = true }
            return interruptSeen
        }
    }

    private func drive(_ record: inout RunRecord, nemesis: inout some NemesisDriver) throws {
        let control = try ClusterControl(cluster: plan.cluster)
        let members = control.members.map { (name: $0, url: control.clientURL($0)) }
        record.members = members.map(\.name)
        let history = HistoryRecorder()
        let clock: @Sendable () -> Nanoseconds = { history.now() }
        var probeSequence = 0
        func probe(_ phase: String, onlyDuring: Bool) {
            for entry in plan.probes where !onlyDuring || entry.during {
                probeSequence += 1
                let began = clock()
                let (held, detail) = Probes.check(entry.kind, within: entry.within, members: members, sequence: probeSequence)
                record.probes.append(ProbeResult(probe: entry.kind.rawValue, phase: phase, time: began, held: held, took: clock() - began,
                    detail: detail))
                log("probe \(entry.kind.rawValue) (\(phase)): \(held ? "holds" : "FAILS") — \(detail)")
            }
        }

        if let leader = plan.initialLeader {
            let (moved, detail) = LeaderAlignment.move(to: leader, members: members)
            log(moved ? detail : "warning: \(detail)")
        }
        // Before: the hypothesis must hold on the healthy cluster.
        probe("before", onlyDuring: false)

        let poller = StatusPoller(members: members, clock: clock)
        poller.start()
        defer { poller.stop() }
        let seedClient = EtcdClient(endpoints: members.map(\.url), timeout: 5 * Time.second)
        let startRevision = try seedClient.put(plan.workload.insertPrefix + "~start", "0") + 1
        record.watchStartRevision = startRevision
        let watches = WatchRecorder(prefix: plan.workload.insertPrefix, endpoints: members.map(\.url), startRevision: startRevision, clock: clock)
        watches.start(watchers: plan.watchers)

        var settings = plan.workload
        settings.seed = plan.seed
        let hostOfURL = Dictionary(uniqueKeysWithValues: members.map { ($0.url, $0.name) })
        let workload = ClientWorkload(settings: settings, endpoints: members.map(\.url), history: history,
            hostOfEndpoint: { hostOfURL[$0] ?? $0 })
        workload.start()

        // The nemesis on a tick; a progress line every second.
        let executor = NemesisExecutor(control: control, clock: clock, log: log)
        var nextProgress: Nanoseconds = Time.second
        var duringProbed = false
        while clock() < plan.duration && !wasInterrupted {
            let view = executor.view(members: record.members, leader: poller.currentLeader)
            for step in nemesis.steps(at: clock(), view: view) { executor.execute(step) }
            if executor.anyOpen && !duringProbed {
                duringProbed = true
                probe("during", onlyDuring: true)
            }
            if clock() >= nextProgress {
                nextProgress += Time.second
                let operations = workload.operationLog.count
                let active = executor.activeLabels
                log(String(format: "%5.1fs  %6d ops  leader %@  faults: %@", Double(clock()) / 1e9, operations,
                    poller.currentLeader ?? "none", active.isEmpty ? "none" : active.joined(separator: "; ")))
            }
            usleep(20_000)
        }
        workload.stop()
        record.workloadEnd = clock()

        // Roll back: every rule healed, every stopped or paused host back.
        executor.rollBack(skewHosts: record.members)
        executor.fill(&record)

        // After: the hypothesis again, then convergence and the final reads.
        probe("after", onlyDuring: false)
        let converged = Convergence.await(members, timeout: plan.recoveryTimeout)
        record.memberStates = converged.states
        record.convergedAfter = converged.after
        // The final reads go to a member that serves linearizable reads now (a member that never
        // recovered must not make them fail).
        let serving = members.map(\.url).first { url in (try? EtcdClient(endpoints: [url], timeout: 2 * Time.second).value(of: "probe/final")) != nil }
        let finalEndpoints = (serving.map { [$0] } ?? []) + members.map(\.url).filter { $0 != serving }
        let finalClient = EtcdClient(endpoints: finalEndpoints, timeout: 5 * Time.second)
        let finalProcess = history.newProcess()
        for key in (0..<plan.workload.keys).map({ "r\($0)" }) {
            history.record(finalProcess, .invoke, .read, key, .null)
            do {
                let value = try finalClient.value(of: key)
                history.record(finalProcess, .ok, .read, key, value.map { .string($0) } ?? .null)
            } catch {
                history.record(finalProcess, error.isDefinite ? .fail : .info, .read, key, .null, error: "\(error)")
                break
            }
        }
        do {
            let range = try finalClient.get(plan.workload.insertPrefix, prefix: true)
            var present: [String: Int64] = [:]
            for kv in range.kvs where !kv.keyString.hasSuffix("~start") {
                present[kv.keyString] = kv.modRevision
                record.finalInsertValues[kv.keyString] = kv.valueString
            }
            record.finalInserts = present
        } catch {
            record.finalInsertsError = "\(error)"
        }
        // Stop the watchers: each returns once it sees the stop key (a stuck one is left behind).
        watches.stop()
        _ = try? finalClient.put(watches.stopKey, "stop")
        let watchDeadline = MonotonicClock.now() + 3 * Time.second
        while watches.stoppedCount < plan.watchers && MonotonicClock.now() < watchDeadline { usleep(50_000) }
        record.watch = watches.recorded
        record.watchResumes = watches.resumeCount
        record.history = history.snapshot
        record.operations = workload.operationLog
        record.inserts = workload.insertLog
        record.leaders = poller.observations
    }

    /// Runs a command to its end; answers its status and combined output.
    static func execute(_ command: [String]) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do {
            try process.run()
        } catch {
            return (127, "cannot run \(command[0]): \(error)")
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
