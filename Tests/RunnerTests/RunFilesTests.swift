//! RunFilesTests: a run's plan and schedule survive the trip through run.json and schedule.jsonl,
//! and a recorded schedule is driven again step for step at its times.

import Base
import Foundation
import Runner
import Scenario
import Testing

@Suite struct RunFilesTests {
    @Test func planAndScheduleRoundTrip() throws {
        let directory = NSTemporaryDirectory() + "fl-runfiles-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var plan = RunPlan(scenario: "s", description: "d", topologyPath: "Topologies/etcd-3.yaml", out: directory, faultline: "/x", cluster: "c")
        plan.impl = "etcd"
        plan.timing = "fast"
        plan.seed = 42
        plan.duration = 7 * Time.second
        plan.workload.clients = 6
        plan.workload.rate = 123
        plan.workload.sticky = false
        plan.probes = [(.write, 2 * Time.second, true)]
        var record = RunRecord(plan: plan, startedAt: "now")
        record.schedule = [
            ScheduledStep(time: 2 * Time.second, step: .rules(tag: "a", label: "isolate etcd-1", kind: "isolate", hosts: ["etcd-1"],
                rules: [["kind": "isolate", "host": "etcd-1"]])),
            ScheduledStep(time: 3 * Time.second, step: .process(tag: "b", label: "kill etcd-2", verb: "kill", host: "etcd-2", wipe: true)),
            ScheduledStep(time: 5 * Time.second, step: .heal(tag: "a")),
        ]
        try RunFiles.write(record, to: directory)
        let (read, schedule) = try RunFiles.read(directory, out: "/o", faultline: "/f", cluster: "again")
        #expect(read.scenario == "s" && read.impl == "etcd" && read.timing == "fast" && read.seed == 42 && read.duration == 7 * Time.second)
        #expect(read.workload.clients == 6 && read.workload.rate == 123 && !read.workload.sticky)
        #expect(read.probes.count == 1 && read.probes[0].kind == .write && read.probes[0].during)
        #expect(read.cluster == "again" && read.out == "/o")
        #expect(schedule.map(\.time) == [2, 3, 5].map { $0 * Time.second })
        guard case .process(_, _, "kill", "etcd-2", true) = schedule[1].step else {
            Issue.record("step 2 came back as \(schedule[1].step.json)")
            return
        }
        // Replayed: nothing before 2 s, the first step at 2 s, the next two by 5 s.
        var nemesis = RecordedNemesis(schedule)
        let view = ClusterView(members: ["etcd-1", "etcd-2", "etcd-3"], leader: nil, down: [])
        #expect(nemesis.steps(at: Time.second, view: view).isEmpty)
        #expect(nemesis.steps(at: 2 * Time.second, view: view).count == 1)
        #expect(nemesis.steps(at: 6 * Time.second, view: view).count == 2)
        // A damaged schedule is refused with its line.
        try Data("{\"step\":\"bogus\",\"t_ns\":1}\n".utf8).write(to: URL(fileURLWithPath: directory + "/schedule.jsonl"))
        #expect(throws: ControlError.self) { try RunFiles.read(directory, out: "/o", faultline: "/f", cluster: "c") }
    }
}
