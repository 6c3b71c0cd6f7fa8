//! `faultline run SCENARIO` and `faultline replay OUT_DIR`: a chaos scenario on a real cluster,
//! its checks, and the files it leaves; a finished run driven again step for step.

import Base
import Foundation
import Glibc
import Linearizability
import Runner
import Scenario

enum RunCommand {
    static let help = """
        usage: faultline run SCENARIO [--topology T] [--impl builtin|etcd] [--seed S] [--out DIR] [--loopback] [--quiet]

        Brings the scenario's cluster up (its topology, or --topology), checks the steady-state
        hypothesis, runs the workload and the nemesis, rolls every fault back, checks, takes the
        cluster down, and exits 0 only when every check passes (1 when one fails or cannot be
        decided, 3 when the run is invalid, 2 for bad usage). --impl etcd runs real etcd 3.4 in
        the same places. --seed overrides the scenario's (default 1). The output directory
        (default runs/<scenario>/<time>) gets history.jsonl, trace.jsonl, schedule.jsonl,
        leaders.jsonl, run.json, report.json, junit.xml, report.html and the hosts' logs.
        """

    static let replayHelp = """
        usage: faultline replay OUT_DIR [--out DIR] [--quiet]

        Runs a finished run again on a fresh cluster: the same plan (scenario, topology,
        implementation, seed, workload) and the recorded fault schedule at the recorded times.
        Reports where the new run parts from the old: the leader timeline and the verdicts.
        Exit 0 when they agree, 1 when they diverge.
        """

    struct Settings {
        var scenario = ""
        var topology: String?
        var impl = "builtin"
        var seed: UInt64?
        var out: String?
        var loopback = false
        var quiet = false
    }

    static func parse(_ arguments: [String], replay: Bool) throws(CommandError) -> Settings {
        var settings = Settings()
        var flags = FlagReader(arguments)
        while let flag = flags.next() {
            switch flag {
            case "-h", "--help": throw CommandError("")
            case "--topology" where !replay: settings.topology = try flags.value(flag)
            case "--impl" where !replay:
                let text = try flags.value(flag)
                guard ["builtin", "etcd"].contains(text) else { throw CommandError("--impl takes builtin or etcd (got '\(text)')") }
                settings.impl = text
            case "--seed" where !replay:
                let text = try flags.value(flag)
                guard let seed = UInt64(text) else { throw CommandError("--seed takes a non-negative integer (got '\(text)')") }
                settings.seed = seed
            case "--out": settings.out = try flags.value(flag)
            case "--loopback" where !replay: settings.loopback = true
            case "--quiet": settings.quiet = true
            case _ where flag.hasPrefix("-"): throw CommandError("unknown option \(flag)")
            default:
                guard settings.scenario.isEmpty else { throw CommandError("one \(replay ? "run directory" : "scenario") at a time (got \(settings.scenario) and \(flag))") }
                settings.scenario = flag
            }
        }
        guard !settings.scenario.isEmpty else { throw CommandError(replay ? "missing OUT_DIR (a run's output directory)" : "missing SCENARIO (for example Chaos/etcd-leader-isolation.yaml)") }
        return settings
    }

    static func log(_ quiet: Bool) -> @Sendable (String) -> Void {
        { line in if !quiet { FileHandle.standardError.write(Data("\(line)\n".utf8)) } }
    }

    static func clusterName() -> String { "run-\(String(UInt32(getpid()) & 0xffff, radix: 16))" }

    static func run(_ arguments: [String]) -> Int32 {
        let settings: Settings
        switch parsedOrExitCode({ () throws(CommandError) in try parse(arguments, replay: false) }, command: "run", help: help) {
        case .success(let parsed): settings = parsed
        case .failure(let exit): return exit.code
        }
        guard let scenario = ScenarioCommand.load(settings.scenario, topologyOverride: settings.topology) else { return 2 }
        let stamp = ISO8601DateFormatter.string(from: Date(), timeZone: .gmt, formatOptions: [.withYear, .withMonth, .withDay, .withTime])
        let out = settings.out ?? "runs/\(scenario.name)/\(stamp)"
        do {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        } catch {
            return TestbedCommand.fail("run: cannot create \(out): \(error)", code: 2)
        }
        let seed = settings.seed ?? scenario.seed ?? 1
        var plan = ScenarioRun.plan(scenario, topologyPath: settings.topology ?? scenario.topologyPath, impl: settings.impl, seed: seed,
            out: out, faultline: TestbedCommand.executablePath(), cluster: clusterName(), loopback: settings.loopback)
        plan.scenarioFile = settings.scenario
        log(settings.quiet)("run: \(scenario.name) on \(plan.topologyPath) (\(plan.impl), seed \(seed)) → \(out)")
        var nemesis = PlannerNemesis(scenario: scenario, seed: seed)
        let record = ChaosRun(plan: plan, log: log(settings.quiet)).run(nemesis: &nemesis)
        for firing in nemesis.skipped { log(settings.quiet)("nemesis: \(firing)") }
        let results = ScenarioRun.evaluate(scenario, record)
        return finish(record, results, out: out)
    }

    /// Writes the run's files, prints the verdicts, answers the exit code.
    static func finish(_ record: RunRecord, _ results: [CheckResult], out: String) -> Int32 {
        do {
            try RunFiles.write(record, to: out)
            try RunReports.write(record, results, to: out)
            try RunReports.writeKubernetesTimeline(record, to: out)
        } catch {
            FileHandle.standardError.write(Data("faultline run: cannot write the run's files to \(out): \(error)\n".utf8))
        }
        for result in results {
            print(result.description)
        }
        let overall = Verdict.overall(results)
        let operations = record.operations.count
        let seconds = Double(record.workloadEnd) / 1e9
        if let kube = record.kube {
            print(String(format: "%@: %@ — Kubernetes workload for %.1f s, %d polls, %d faults; %@", record.plan.scenario,
                overall.rawValue.uppercased(), seconds, kube.snapshots.count, record.faults.count, out))
        } else {
            print(String(format: "%@: %@ — %d operations in %.1f s (%.0f/s), %d faults; %@", record.plan.scenario, overall.rawValue.uppercased(),
            operations, seconds, seconds > 0 ? Double(operations) / seconds : 0, record.faults.count, out))
        }
        switch overall {
        case .pass: return 0
        case .invalid: return 3
        case .fail, .unknown: return 1
        }
    }

    static func replay(_ arguments: [String]) -> Int32 {
        let settings: Settings
        switch parsedOrExitCode({ () throws(CommandError) in try parse(arguments, replay: true) }, command: "replay", help: replayHelp) {
        case .success(let parsed): settings = parsed
        case .failure(let exit): return exit.code
        }
        let original = settings.scenario
        let out = settings.out ?? original.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + "-replay"
        var plan: RunPlan
        let schedule: [ScheduledStep]
        let oldLeaders: [LeaderObservation]
        do {
            (plan, schedule) = try RunFiles.read(original, out: out, faultline: TestbedCommand.executablePath(), cluster: clusterName())
            oldLeaders = try RunFiles.readLeaders(original)
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        } catch {
            return TestbedCommand.fail("replay: \(error)", code: 2)
        }
        // Start under the leader the original started with, so the schedule hits the same roles.
        plan.initialLeader = LeaderTimeline.changes(oldLeaders, members: max(1, Set(oldLeaders.map(\.member)).count)).compactMap(\.leader).first
        // The checks come from the scenario file the run names, when it is still there.
        let scenario = plan.scenarioFile.flatMap { ScenarioCommand.load($0, topologyOverride: plan.topologyPath) }
        plan.kubernetes = scenario?.kubernetes
        log(settings.quiet)("replay: \(plan.scenario) from \(original): \(schedule.count) steps at their recorded times → \(out)")
        var nemesis = RecordedNemesis(schedule)
        let record = ChaosRun(plan: plan, log: log(settings.quiet)).run(nemesis: &nemesis)
        let results = scenario.map { ScenarioRun.evaluate($0, record) } ?? []
        _ = finish(record, results, out: out)
        // Where the two runs part.
        let members = max(1, record.members.count)
        let divergence = LeaderTimeline.divergence(LeaderTimeline.changes(oldLeaders, members: members),
            LeaderTimeline.changes(record.leaders, members: members))
        var differences: [String] = divergence.map { ["leaders: \($0)"] } ?? []
        let oldVerdicts = RunReports.verdicts(in: original)
        for result in results where oldVerdicts[result.name].map({ $0 != result.verdict.rawValue }) ?? false {
            differences.append("\(result.name): \(oldVerdicts[result.name]!) originally, \(result.verdict.rawValue) in the replay")
        }
        if differences.isEmpty {
            print("replay agrees with \(original): the same leader changes (within 1 s) and the same verdicts")
            return 0
        }
        print("replay diverges from \(original):")
        for difference in differences { print("  \(difference)") }
        return 1
    }
}
