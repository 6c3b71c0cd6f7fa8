//! RunFiles: what a run leaves in its output directory besides the report, and how `replay`
//! reads it back. `run.json` holds the plan (scenario, topology, implementation, timing, seed,
//! duration, workload) and `schedule.jsonl` every nemesis step with its time, so a run can be
//! driven again step for step; `history.jsonl` is the register history in the shared format.

import Base
import Foundation
import Linearizability
import Scenario

public enum RunFiles {
    public static func write(_ record: RunRecord, to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try Data(serializeHistory(record.history).utf8).write(to: URL(fileURLWithPath: directory + "/history.jsonl"))
        var schedule = ""
        for entry in record.schedule {
            var object = entry.step.json
            object["t_ns"] = Int(entry.time)
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            schedule += String(decoding: data, as: UTF8.self) + "\n"
        }
        try Data(schedule.utf8).write(to: URL(fileURLWithPath: directory + "/schedule.jsonl"))
        let data = try JSONSerialization.data(withJSONObject: planJSON(record.plan), options: [.prettyPrinted, .sortedKeys])
        try data.write(to: URL(fileURLWithPath: directory + "/run.json"))
        var leaders = ""
        for sample in record.leaders {
            var object: [String: Any] = ["t_ns": Int(sample.time), "member": sample.member]
            if let term = sample.term { object["term"] = Int(term) }
            if let leader = sample.leader { object["leader"] = leader }
            let line = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            leaders += String(decoding: line, as: UTF8.self) + "\n"
        }
        try Data(leaders.utf8).write(to: URL(fileURLWithPath: directory + "/leaders.jsonl"))
    }

    /// The status poller's samples of a finished run (`leaders.jsonl`).
    public static func readLeaders(_ directory: String) throws -> [LeaderObservation] {
        guard let text = try? String(contentsOfFile: directory + "/leaders.jsonl", encoding: .utf8) else {
            throw ControlError("\(directory): no leaders.jsonl")
        }
        return try text.split(separator: "\n").enumerated().map { number, line in
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any],
                let time = object["t_ns"] as? Int, let member = object["member"] as? String
            else { throw ControlError("\(directory)/leaders.jsonl:\(number + 1): not a leader sample") }
            return LeaderObservation(time: Nanoseconds(time), member: member, term: (object["term"] as? Int).map(Int64.init),
                leader: object["leader"] as? String)
        }
    }

    static func planJSON(_ plan: RunPlan) -> [String: Any] {
        let workload = plan.workload
        return [
            "scenario": plan.scenario, "scenario_file": plan.scenarioFile ?? NSNull(), "description": plan.description, "topology": plan.topologyPath, "impl": plan.impl,
            "timing": plan.timing ?? NSNull(), "loopback": plan.loopback, "seed": Int(plan.seed), "duration_ns": Int(plan.duration),
            "minimum_rate": plan.minimumRate, "watchers": plan.watchers, "recovery_timeout_ns": Int(plan.recoveryTimeout),
            "probes": plan.probes.map { ["probe": $0.kind.rawValue, "within_ns": Int($0.within), "during": $0.during] },
            "workload": [
                "clients": workload.clients, "rate": workload.rate, "keys": workload.keys, "read": workload.read, "write": workload.write,
                "cas": workload.cas, "insert": workload.insert, "delete": workload.delete, "timeout_ns": Int(workload.timeout), "sticky": workload.sticky,
            ] as [String: Any],
        ]
    }

    /// The plan and schedule of a finished run, to run again into `out` on cluster `cluster`.
    public static func read(_ directory: String, out: String, faultline: String, cluster: String) throws -> (RunPlan, [ScheduledStep]) {
        func fail(_ message: String) -> ControlError { ControlError("\(directory): \(message)") }
        guard let data = FileManager.default.contents(atPath: directory + "/run.json"),
            let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        else { throw fail("no readable run.json (is this a run's output directory?)") }
        guard let scenario = object["scenario"] as? String, let topology = object["topology"] as? String,
            let duration = object["duration_ns"] as? Int, let seed = object["seed"] as? Int,
            let workload = object["workload"] as? [String: Any]
        else { throw fail("run.json lacks scenario, topology, duration_ns, seed or workload") }
        var plan = RunPlan(scenario: scenario, description: object["description"] as? String ?? "", topologyPath: topology,
            out: out, faultline: faultline, cluster: cluster)
        plan.scenarioFile = object["scenario_file"] as? String
        plan.impl = object["impl"] as? String ?? "builtin"
        plan.timing = object["timing"] as? String
        plan.loopback = object["loopback"] as? Bool ?? false
        plan.seed = UInt64(seed)
        plan.duration = Nanoseconds(duration)
        plan.minimumRate = object["minimum_rate"] as? Double ?? 0
        plan.watchers = object["watchers"] as? Int ?? 2
        plan.recoveryTimeout = Nanoseconds(object["recovery_timeout_ns"] as? Int ?? 30_000_000_000)
        for probe in object["probes"] as? [[String: Any]] ?? [] {
            guard let kind = (probe["probe"] as? String).flatMap(ProbeKind.init(rawValue:)) else { continue }
            plan.probes.append((kind, Nanoseconds(probe["within_ns"] as? Int ?? 0), probe["during"] as? Bool ?? false))
        }
        plan.workload.clients = workload["clients"] as? Int ?? plan.workload.clients
        plan.workload.rate = workload["rate"] as? Double ?? plan.workload.rate
        plan.workload.keys = workload["keys"] as? Int ?? plan.workload.keys
        plan.workload.read = workload["read"] as? Double ?? plan.workload.read
        plan.workload.write = workload["write"] as? Double ?? plan.workload.write
        plan.workload.cas = workload["cas"] as? Double ?? plan.workload.cas
        plan.workload.insert = workload["insert"] as? Double ?? plan.workload.insert
        plan.workload.delete = workload["delete"] as? Double ?? plan.workload.delete
        plan.workload.timeout = Nanoseconds(workload["timeout_ns"] as? Int ?? Int(plan.workload.timeout))
        plan.workload.sticky = workload["sticky"] as? Bool ?? true
        var schedule: [ScheduledStep] = []
        let text = (try? String(contentsOfFile: directory + "/schedule.jsonl", encoding: .utf8)) ?? ""
        for (number, line) in text.split(separator: "\n").enumerated() {
            guard let entry = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any],
                let time = entry["t_ns"] as? Int, let step = NemesisStep(json: entry)
            else { throw fail("schedule.jsonl:\(number + 1): not a nemesis step") }
            schedule.append(ScheduledStep(time: Nanoseconds(time), step: step))
        }
        return (plan, schedule)
    }
}
