//! RunReports: a run's record and verdicts in the report's model (target `Report`), which
//! renders `report.json`, `junit.xml` (a test case per check; `unknown` and `invalid` are
//! errors, never passes) and `report.html` (the verdicts and an SVG timeline).

import Base
import Foundation
import Report
import Scenario

public enum RunReports {
    public static func write(_ record: RunRecord, _ results: [CheckResult], to directory: String) throws {
        try writeReport(report(record, results), to: URL(fileURLWithPath: directory))
    }

    /// The run in the report's model.
    public static func report(_ record: RunRecord, _ results: [CheckResult]) -> RunReport {
        let checks = results.map { result -> CheckVerdict in
            let times = result.details.compactMap(\.time)
            let range = result.verdict == .pass ? nil : times.min().map { TimeRange(start: $0, end: max($0, times.max()!)) }
            return CheckVerdict(name: result.name, verdict: Report.Verdict(rawValue: result.verdict.rawValue) ?? .unknown,
                summary: result.summary, details: result.details.map(\.description)
                    + (result.omittedDetails > 0 ? ["… and \(result.omittedDetails) more"] : []),
                failureRange: range)
        }
        let operations = record.operations.map { operation in
            OperationPoint(process: operation.client, kind: Report.OperationKind(rawValue: operation.kind.rawValue) ?? .read,
                key: operation.key, invokeTime: operation.invoke,
                completionTime: operation.outcome == .info ? nil : max(operation.invoke, operation.complete),
                outcome: Report.OperationOutcome(rawValue: operation.outcome.rawValue) ?? .info, node: operation.node)
        }
        let faults = record.faults.map { band in
            Report.FaultBand(label: band.label, kind: band.kind, targets: band.hosts, start: band.start,
                end: band.end.map { max($0, band.start) })
        }
        let leaders = record.leaders.map { sample in
            LeaderSample(time: sample.time, member: sample.member, term: UInt64(max(0, sample.term ?? 0)), isLeader: sample.isLeader,
                reachable: sample.reachable)
        }
        let kinds: [String: ProcessEventKind] = ["kill": .killed, "terminate": .killed, "restart": .restarted, "restart --wipe": .restarted,
            "pause": .paused, "resume": .resumed]
        let events = record.processEvents.compactMap { event in
            kinds[event.event].map { Report.ProcessEvent(time: event.time, host: event.host, kind: $0) }
        }
        return RunReport(scenario: record.plan.scenario, scenarioDescription: record.plan.description, topology: record.plan.topologyPath,
            implementation: record.plan.impl == "etcd" ? .etcd : .builtin, seed: record.plan.seed, startedAt: record.startedAt,
            duration: max(0, record.workloadEnd), faultlineVersion: "0.4", commandLine: CommandLine.arguments,
            checks: checks, operations: operations, faults: faults, leaders: leaders, processEvents: events, hosts: hosts(record))
    }

    /// The timeline's lanes: the store's members, then (Kubernetes runs) the workers and every
    /// other host a fault touched.
    static func hosts(_ record: RunRecord) -> [String] {
        guard let kube = record.kube else { return record.members }
        var hosts = record.members + kube.kubelets
        for band in record.faults { for host in band.hosts where !hosts.contains(host) && host != "client" { hosts.append(host) } }
        return hosts
    }

    /// A Kubernetes run's changes, one per line, in `kube-timeline.txt` (nothing for other runs).
    public static func writeKubernetesTimeline(_ record: RunRecord, to directory: String) throws {
        try KubeTimeline.write(record, to: directory)
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
