//! HAVerify: the promise of an odd-sized etcd cluster, measured. With n members and
//! f = (n-1)/2: losing f members (killed, or isolated) must leave the cluster available and
//! linearizable; losing f+1 must stop every write from being acknowledged — no side without a
//! quorum may commit — and after healing the cluster must recover with every acknowledged write
//! intact. Each row is one real run (`ChaosRun`) on `Topologies/etcd-<n>.yaml`.

import Base
import Foundation
import Linearizability
import Scenario

/// How the members are taken out.
public enum HAFault: String, Sendable, CaseIterable {
    case kill
    case isolate
}

/// Takes `count` members out at `start` (the leader first, then followers in order) and brings
/// them back at `end`.
public struct FailMembers: NemesisDriver {
    public let fault: HAFault
    public let count: Int
    public let start: Nanoseconds
    public let end: Nanoseconds
    public private(set) var victims: [String] = []
    private var healed = false

    public init(fault: HAFault, count: Int, start: Nanoseconds, end: Nanoseconds) {
        self.fault = fault
        self.count = count
        self.start = start
        self.end = end
    }

    public mutating func steps(at time: Nanoseconds, view: ClusterView) -> [NemesisStep] {
        if victims.isEmpty && time >= start {
            let leaderFirst = (view.leader.map { [$0] } ?? []) + view.members.filter { $0 != view.leader }
            victims = Array(leaderFirst.prefix(count))
            return victims.map { host in
                switch fault {
                case .kill:
                    return .process(tag: "ha-\(host)", label: "kill \(host)", verb: "kill", host: host, wipe: false)
                case .isolate:
                    return .rules(tag: "ha-\(host)", label: "isolate \(host)", kind: "isolate", hosts: [host],
                        rules: [["kind": "isolate", "host": host]])
                }
            }
        }
        if !victims.isEmpty && !healed && time >= end {
            healed = true
            return victims.map { host in
                fault == .kill
                    ? .process(tag: "ha-\(host)", label: "restart \(host)", verb: "restart", host: host, wipe: false)
                    : .heal(tag: "ha-\(host)")
            }
        }
        return []
    }
}

/// One row of the table.
public struct HARow: Sendable {
    public var size: Int
    public var fault: HAFault
    public var failed: Int
    /// "available" (f failed) or "no acknowledged write" (f+1 failed).
    public var expected: String
    public var observed: String
    /// f failed: from the fault to the first acknowledged write; f+1: from the heal to it.
    public var recovery: Nanoseconds?
    public var holds: Bool
    public var problems: [String]
}

public enum HAVerify {
    /// Judges one run of `failed` members out of `size`.
    public static func judge(_ record: RunRecord, size: Int, fault: HAFault, failed: Int, faultStart: Nanoseconds,
        faultEnd: Nanoseconds) -> HARow
    {
        let tolerated = (size - 1) / 2
        let quorumLost = failed > tolerated
        let expected = quorumLost ? "no write acknowledged; recovers" : "available"
        if let reason = record.abortReason {
            return HARow(size: size, fault: fault, failed: failed, expected: expected, observed: "run aborted", recovery: nil,
                holds: false, problems: ["the run did not complete: \(reason)"])
        }
        var problems: [String] = []
        let writes = record.operations.filter { $0.kind != .read }
        let okWrites = writes.filter { $0.outcome == .ok }
        let actualStart = record.faults.map(\.start).min() ?? faultStart
        let actualEnd = record.faults.compactMap(\.end).max() ?? faultEnd
        var observed: String
        var recovery: Nanoseconds?
        if quorumLost {
            // A write invoked once the fault was in place (plus a grace for requests already in
            // a leader's pipeline) must not be acknowledged before the heal.
            let grace = 200 * Time.millisecond
            let acknowledged = okWrites.filter { $0.invoke > actualStart + grace && $0.complete < actualEnd }
            observed = acknowledged.isEmpty ? "no write acknowledged" : "\(acknowledged.count) writes acknowledged"
            if !acknowledged.isEmpty {
                let first = acknowledged.min { $0.complete < $1.complete }!
                problems.append("write to \(first.key) invoked at \(seconds(first.invoke)) acknowledged at \(seconds(first.complete)) by \(first.node) without a quorum")
            }
            recovery = okWrites.filter { $0.invoke >= actualEnd }.map { $0.complete - actualEnd }.min()
            if recovery == nil { problems.append("no write was acknowledged after the heal") }
        } else {
            // Available: writes go on during the fault, once an election (if the leader went) is over.
            let during = okWrites.filter { $0.invoke > actualStart && $0.complete < actualEnd }
            recovery = during.map { $0.complete - actualStart }.min()
            observed = during.isEmpty ? "unavailable" : "available (\(during.count) writes during the fault)"
            if during.isEmpty { problems.append("no write was acknowledged while \(failed) of \(size) members were out") }
            if let recovery, recovery > (actualEnd - actualStart) {
                problems.append("the first write during the fault took \(seconds(recovery))")
            }
        }
        // In both cases: linearizable, and every acknowledged insert survives.
        // The scenario runs' own checks: anything short of a pass is a problem.
        for result in [Checks.linearizable(events: record.history), ScenarioRun.noLostWrites(record)] where result.verdict != .pass {
            problems.append("\(result.name): \(result.summary.prefix(300))")
        }
        if record.convergedAfter == nil { problems.append("members did not converge after the heal") }
        return HARow(size: size, fault: fault, failed: failed, expected: expected, observed: observed, recovery: recovery, holds: problems.isEmpty, problems: problems)
    }

    public static func seconds(_ value: Nanoseconds) -> String { Time.seconds(value, decimals: 2) }

    /// The table as printed.
    public static func table(_ rows: [HARow]) -> String {
        var lines = ["size  fault    failed  expected                         observed                                  recovery  verdict"]
        for row in rows {
            let columns: [(String, Int)] = [
                ("\(row.size)", 6), (row.fault.rawValue, 9), ("\(row.failed)", 8), (row.expected, 33),
                (row.observed, 42), (row.recovery.map(seconds) ?? "-", 10), (row.holds ? "holds" : "FAILS", 0),
            ]
            lines.append(columns.map { text, width in text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count) }
                .joined().trimmingCharacters(in: .whitespaces))
            for problem in row.problems { lines.append("      - \(problem)") }
        }
        return lines.joined(separator: "\n")
    }
}
