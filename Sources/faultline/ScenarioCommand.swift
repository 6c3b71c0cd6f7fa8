//! ScenarioCommand: `faultline scenario`, the shell around the Scenario target: it reads the
//! scenario and the topology it names (the target itself does no I/O) and prints what they
//! resolve to. Topology paths are relative to the current directory (run from the repository root).
//!
//!     faultline scenario check FILE...                 # exit 0 if every file is valid, 2 otherwise
//!     faultline scenario show FILE [--topology T]      # workload, probes, the nemesis schedule, checks
//!
//! Errors are `FILE:LINE:COLUMN: message` on standard error; bad usage also exits 2.

import Base
import Foundation
import Runner
import Scenario
import Topology

enum ScenarioCommand {
    static let usage = """
        usage: faultline scenario check FILE... [--topology TOPOLOGY]
               faultline scenario show FILE [--topology TOPOLOGY]

        Scenario files (Chaos/*.yaml) are described in docs/scenarios.md. --topology replaces
        the topology the scenario names.
        """

    /// Runs `faultline scenario`; `arguments` excludes the leading "scenario".
    static func run(_ arguments: [String]) -> Int32 {
        guard let verb = arguments.first else { return usageError("missing a command (check or show)") }
        if ["-h", "--help", "help"].contains(verb) {
            print(usage)
            return 0
        }
        var paths: [String] = []
        var topologyOverride: String?
        var remaining = arguments.dropFirst()
        while let argument = remaining.popFirst() {
            switch argument {
            case "-h", "--help":
                print(usage)
                return 0
            case "--topology":
                guard let value = remaining.popFirst() else { return usageError("--topology needs a FILE") }
                topologyOverride = value
            case _ where argument.hasPrefix("-"): return usageError("unknown option \(argument)")
            default: paths.append(argument)
            }
        }
        switch verb {
        case "check":
            guard !paths.isEmpty else { return usageError("check needs at least one FILE") }
            // Check every file, so one run lists every broken one.
            var status: Int32 = 0
            for path in paths {
                guard let scenario = load(path, topologyOverride: topologyOverride) else {
                    status = 2
                    continue
                }
                print("\(path): ok, \(summary(scenario))")
            }
            return status
        case "show":
            guard paths.count == 1 else { return usageError("show takes one FILE") }
            guard let scenario = load(paths[0], topologyOverride: topologyOverride) else { return 2 }
            print(describe(scenario, path: paths[0]))
            return 0
        default:
            return usageError("unknown command '\(verb)' (available: check, show)")
        }
    }

    static func summary(_ scenario: Scenario) -> String {
        let firings = scenario.nemesis.map { $0.occurrences.count }.reduce(0, +)
        func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }
        return "\(scenario.name) on \(scenario.topology.name): \(count(scenario.nemesis.count, "fault")) (\(count(firings, "firing"))) over \(Time.describe(scenario.duration)), \(count(scenario.checks.count, "check"))"
    }

    static func describe(_ scenario: Scenario, path: String) -> String {
        var lines = ["scenario \(scenario.name) (\(path))"]
        if let description = scenario.description { lines.append("  \(description)") }
        let timing = scenario.timingName.map { ", timing \($0)" } ?? ""
        lines.append("topology: \(scenario.topologyPath) (\(scenario.topology.summary))\(timing)")
        if let seed = scenario.seed { lines.append("seed: \(seed)") }
        if let workload = scenario.workload {
            let mix = workload.mix
            lines.append("workload: \(workload.clients) clients, \(workload.rate == 0 ? "unbounded" : "\(workload.rate) ops/s"), \(workload.keys) keys, \(Time.describe(workload.duration)), timeout \(Time.describe(workload.timeout))"
                + (workload.minimumRate.map { ", min-rate \($0)" } ?? ""))
            lines.append("  mix: read \(mix.read), write \(mix.write), cas \(mix.cas), insert \(mix.insert), delete \(mix.delete)")
        }
        if let kube = scenario.kubernetes {
            let deployment = kube.deployment
            let bounds = deployment.strategy == .recreate ? "Recreate" : "RollingUpdate, max-surge \(deployment.maxSurge), max-unavailable \(deployment.maxUnavailable)"
            lines.append("kubernetes: Deployment \(deployment.name), \(deployment.replicas) replicas of \(deployment.image) (\(bounds)), \(Time.describe(kube.duration)), settle \(Time.describe(kube.settle))")
            if let rollout = kube.rollout { lines.append("  rollout to \(rollout.image) at \(Time.describe(rollout.at))") }
            let timing = ScenarioRun.kubeTiming(scenario)
            lines.append("  timing: node-monitor-grace-period \(timing.nodeMonitorGracePeriod), node-monitor-period \(timing.nodeMonitorPeriod), default toleration \(timing.podEvictionTimeout), node lease renewed every \(timing.nodeLeaseRenewInterval)")
        }
        lines.append("steady state:" + (scenario.steadyState.isEmpty ? " none" : ""))
        for probe in scenario.steadyState {
            lines.append("  \(probe.kind) within \(Time.describe(probe.within))\(probe.during ? ", also during the nemesis" : "")")
        }
        lines.append("nemesis:" + (scenario.nemesis.isEmpty ? " none" : ""))
        for fault in scenario.nemesis { lines.append("  f\(fault.index + 1) (line \(fault.line)): \(fault.summary)") }
        let schedule = NemesisPlanner(scenario: scenario, seed: scenario.seed ?? 1).schedule
        if !schedule.isEmpty { lines.append("schedule:") }
        for occurrence in schedule {
            let end = occurrence.end.map { "–\(Time.describe($0))" } ?? ""
            lines.append("  \(Time.describe(occurrence.start))\(end)  \(occurrence.tag)  \(scenario.nemesis[occurrence.fault].kind)")
        }
        lines.append("checks: " + scenario.checks.map(\.description).joined(separator: ", "))
        lines.append("rollbacks: " + scenario.rollbacks.map(\.rawValue).joined(separator: ", "))
        return lines.joined(separator: "\n")
    }

    // MARK: - Files

    /// The validated scenario in `path`, or nil after printing why it is not one.
    static func load(_ path: String, topologyOverride: String?) -> Scenario? {
        guard let text = read(path) else { return nil }
        do {
            let file = try ScenarioFile.parse(text, file: path)
            let topologyPath = topologyOverride ?? file.topologyPath
            guard FileManager.default.fileExists(atPath: topologyPath) || topologyOverride != nil else {
                printError(file.topologyError(
                    "cannot read the topology '\(topologyPath)'; paths are relative to the repository root, so run from there or pass --topology"
                ).description)
                return nil
            }
            // The topology command's loader prints the topology's own errors.
            guard let topology = TopologyCommand.load(topologyPath) else { return nil }
            return try file.resolve(with: topology)
        } catch {
            printError(error.description)
            return nil
        }
    }

    static func read(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else {
            printError("\(path): no such file")
            return nil
        }
        guard let text = String(data: data, encoding: .utf8) else {
            printError("\(path):1:1: the file is not valid UTF-8")
            return nil
        }
        return text
    }

    static func usageError(_ message: String) -> Int32 {
        printError("faultline scenario: \(message)\n\(usage)")
        return 2
    }

    static func printError(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }
}
