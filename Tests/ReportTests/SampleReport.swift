//! SampleReport: a realistic run to render — three etcd members for 30 s, the leader (etcd-1,
//! term 2) isolated from 5 s to 15 s, etcd-2 elected in term 3, 200 ms latency on etcd-2→etcd-3
//! from 18 s to 24 s, etcd-3 killed at 20 s and restarted at 22 s, about 2,000 operations with
//! some fail and info, and a linearizability check that fails at 7.2–7.9 s. Seeded, so every test
//! sees the same report.

import Base
import Report

enum SampleReport {
    static let members = ["etcd-1", "etcd-2", "etcd-3"]
    static let duration = 30 * Time.second
    static let isolation = (start: 5 * Time.second, end: 15 * Time.second)
    /// When etcd-2 wins the election in term 3.
    static let newLeaderElected = 6_200 * Time.millisecond
    static let failureRange = TimeRange(start: 7_200 * Time.millisecond, end: 7_900 * Time.millisecond)

    static func build() -> RunReport {
        RunReport(
            scenario: "etcd-leader-isolation",
            scenarioDescription: "Isolate the leader for 10 s, then heal; a new leader must take over and no acknowledged write may be lost.",
            topology: "etcd-3", implementation: .builtin, seed: 42, startedAt: "2025-03-14T09:26:53Z",
            duration: duration, faultlineVersion: "0.9.0-dev",
            commandLine: ["faultline", "run", "Chaos/etcd-leader-isolation.yaml", "--seed", "42", "--out", "out/run 1"],
            checks: checks, operations: operations(), faults: faults, leaders: leaders(), processEvents: processEvents,
            hosts: members)
    }

    static let checks: [CheckVerdict] = [
        CheckVerdict(name: "single-leader-per-term", verdict: .pass, summary: "Terms 2 and 3 each had one leader.",
            checkDuration: 3 * Time.millisecond),
        CheckVerdict(
            name: "linearizable", verdict: .fail,
            summary: "No linearization of key k7: a read saw a value the write before it had overwritten.",
            details: [
                "process 3: write k7 = \"41\" ok at 7.204s–7.231s via etcd-2",
                "process 1: read k7 → \"40\" ok at 7.512s–7.880s via etcd-1 (stale: isolated leader served it)",
            ],
            failureRange: failureRange, checkDuration: 412 * Time.millisecond),
        CheckVerdict(name: "new-leader-within-5s", verdict: .pass, summary: "etcd-2 led term 3 1.2 s after the isolation began.",
            checkDuration: 1 * Time.millisecond),
        CheckVerdict(
            name: "lease-safety", verdict: .unknown, summary: "Search budget exhausted after 1,000,000 states.",
            details: ["64 leases had overlapping holders within the clock-skew bound; raise the budget to decide."],
            checkDuration: 2 * Time.second),
    ]

    static let faults: [FaultBand] = [
        FaultBand(label: "isolate etcd-1", kind: "isolate", targets: ["etcd-1"], start: isolation.start, end: isolation.end),
        FaultBand(
            label: "latency etcd-2→etcd-3 200ms", kind: "latency", links: [Link(from: "etcd-2", to: "etcd-3")],
            start: 18 * Time.second, end: 24 * Time.second),
        FaultBand(label: "kill etcd-3", kind: "kill", targets: ["etcd-3"], start: 20 * Time.second, end: 22 * Time.second),
    ]

    static let processEvents: [ProcessEvent] = [
        ProcessEvent(time: 20 * Time.second, host: "etcd-3", kind: .killed),
        ProcessEvent(time: 20 * Time.second + 40 * Time.millisecond, host: "etcd-3", kind: .exited, exitCode: 137),
        ProcessEvent(time: 22 * Time.second, host: "etcd-3", kind: .restarted),
    ]

    /// Every member sampled every 250 ms: etcd-1 leads term 2 until it is isolated (and, cut off,
    /// cannot be asked), etcd-2 leads term 3 from 6.2 s; etcd-3 is down from 20 s to 22 s.
    static func leaders() -> [LeaderSample] {
        var samples: [LeaderSample] = []
        for time in stride(from: Nanoseconds(0), through: duration, by: Int(250 * Time.millisecond)) {
            for member in members {
                let isolated = member == "etcd-1" && time >= isolation.start && time < isolation.end
                let down = member == "etcd-3" && time >= 20 * Time.second && time < 22 * Time.second
                let term: UInt64 = time < newLeaderElected ? 2 : 3
                let leader = time < newLeaderElected ? "etcd-1" : "etcd-2"
                samples.append(LeaderSample(
                    time: time, member: member, term: isolated ? 2 : term, isLeader: member == leader && !isolated,
                    reachable: !isolated && !down))
            }
        }
        return samples
    }

    /// Eight client processes, one operation every ~75 ms each (fewer while they wait out timeouts), spread over the members.
    static func operations() -> [OperationPoint] {
        var random = SeededRandom(seed: 42)
        var operations: [OperationPoint] = []
        for process in 0..<8 {
            var time = Nanoseconds(process) * 13 * Time.millisecond
            while time < duration - 200 * Time.millisecond {
                let node = members[(process + operations.count) % members.count]
                let kind = random.pick([OperationKind.read, .read, .write, .write, .cas, .delete])
                let key = "k\(random.int(in: 0...9))"
                let (latency, outcome) = outcome(at: time, node: node, random: &random)
                operations.append(OperationPoint(
                    process: process, kind: kind, key: key, invokeTime: time,
                    completionTime: latency.map { time + $0 }, outcome: outcome, node: node))
                time += (latency ?? Time.second) + random.int64(in: 40...90) * Time.millisecond
            }
        }
        return operations
    }

    /// Latency and outcome of an operation started at `time` against `node`.
    static func outcome(at time: Nanoseconds, node: String, random: inout SeededRandom)
        -> (latency: Nanoseconds?, outcome: OperationOutcome)
    {
        // Lognormal-ish around 3 ms: most fast, a tail to tens of milliseconds.
        let base = Nanoseconds(Double(2 * Time.millisecond) * (1 + random.unit() * random.unit() * 12))
        let isolated = node == "etcd-1" && time >= isolation.start && time < isolation.end
        if isolated || (time >= isolation.start && time < newLeaderElected) {
            // No quorum through etcd-1 (or no leader yet): time out as indefinite, or fail fast.
            if random.chance(0.5) { return (Time.second, .info) }
            return (base + 20 * Time.millisecond, .fail)
        }
        if node == "etcd-3" && time >= 20 * Time.second && time < 22 * Time.second {
            return (base, .fail)
        }
        if time >= 18 * Time.second && time < 24 * Time.second && node != "etcd-1" {
            return (base + 200 * Time.millisecond + random.int64(in: 0...40) * Time.millisecond, .ok)
        }
        if time > duration - 400 * Time.millisecond && random.chance(0.3) {
            return (nil, .info)  // Still in flight when the run stopped.
        }
        if random.chance(0.004) { return (base, .fail) }
        return (base, .ok)
    }
}
