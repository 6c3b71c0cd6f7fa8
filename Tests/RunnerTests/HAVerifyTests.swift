//! HAVerifyTests: the judge of an ha-verify row, fed known-good and known-bad runs.

import Base
import Linearizability
import Runner
import Testing

private func record(writes: [(invoke: Double, complete: Double, outcome: OperationRecord.Outcome)], lostInsert: Bool = false) -> RunRecord {
    var record = RunRecord(plan: RunPlan(scenario: "t", description: "", topologyPath: "", out: "", faultline: "", cluster: "t"), startedAt: "")
    record.operations = writes.enumerated().map { index, write in
        OperationRecord(client: index % 4, kind: .write, key: "r0", invoke: Nanoseconds(write.invoke * 1e9),
            complete: Nanoseconds(write.complete * 1e9), outcome: write.outcome, node: "etcd-1", revision: nil)
    }
    record.faults = [FaultBand(tag: "ha", label: "kill etcd-1", kind: "kill", hosts: ["etcd-1"], start: 3 * Time.second, end: 9 * Time.second)]
    record.inserts = [InsertOutcome(key: "ins/0/1", value: "0-1", outcome: .ok, revision: 5, invoke: 0, complete: 1000)]
    record.finalInserts = lostInsert ? [:] : ["ins/0/1": 5]
    record.convergedAfter = Time.second
    // A register history that is linearizable, so that only the judged aspect can fail.
    record.history = [
        HistoryEvent(process: 0, type: .invoke, f: .write, key: "r0", value: .string("1"), time: 1000),
        HistoryEvent(process: 0, type: .ok, f: .write, key: "r0", value: .string("1"), time: 2000),
    ]
    return record
}

@Suite struct HAVerifyJudgeTests {
    @Test func toleratedFailuresMustStayAvailable() {
        let good = HAVerify.judge(record(writes: [(1, 1.01, .ok), (3.5, 3.6, .ok), (9.5, 9.6, .ok)]), size: 3, fault: .kill, failed: 1,
            faultStart: 3 * Time.second, faultEnd: 9 * Time.second)
        #expect(good.holds, "\(good.problems)")
        #expect(good.recovery == 600 * Time.millisecond)
        let unavailable = HAVerify.judge(record(writes: [(1, 1.01, .ok), (3.5, 4.5, .info), (9.5, 9.6, .ok)]), size: 3, fault: .kill, failed: 1,
            faultStart: 3 * Time.second, faultEnd: 9 * Time.second)
        #expect(!unavailable.holds && unavailable.observed == "unavailable")
    }

    @Test func aWriteAcknowledgedWithoutQuorumFails() {
        let good = HAVerify.judge(record(writes: [(1, 1.01, .ok), (3.5, 4.5, .info), (9.5, 9.7, .ok)]), size: 3, fault: .isolate, failed: 2,
            faultStart: 3 * Time.second, faultEnd: 9 * Time.second)
        #expect(good.holds, "\(good.problems)")
        #expect(good.recovery == 700 * Time.millisecond)
        // Split brain: a write invoked during the fault was acknowledged before the heal.
        let splitBrain = HAVerify.judge(record(writes: [(1, 1.01, .ok), (4, 4.1, .ok), (9.5, 9.7, .ok)]), size: 3, fault: .isolate, failed: 2,
            faultStart: 3 * Time.second, faultEnd: 9 * Time.second)
        #expect(!splitBrain.holds)
        #expect(splitBrain.problems.first?.contains("without a quorum") == true, "\(splitBrain.problems)")
        // No recovery after the heal is a failure too, and so is a lost insert.
        let stuck = HAVerify.judge(record(writes: [(1, 1.01, .ok), (9.5, 11, .info)], lostInsert: true), size: 3, fault: .kill, failed: 2,
            faultStart: 3 * Time.second, faultEnd: 9 * Time.second)
        #expect(!stuck.holds && stuck.problems.contains { $0.contains("after the heal") } && stuck.problems.contains { $0.contains("acknowledged insert lost") })
        var aborted = record(writes: [])
        aborted.abortReason = "the cluster did not come up"
        let row = HAVerify.judge(aborted, size: 3, fault: .kill, failed: 1, faultStart: 3 * Time.second, faultEnd: 9 * Time.second)
        #expect(!row.holds && row.observed == "run aborted" && row.problems.count == 1)
    }
}
