//! `faultline ha-verify --sizes 3,5,7 [--impl builtin|etcd]`: for each odd size n (f = (n-1)/2),
//! fail f members (kill, and separately isolate): the cluster must stay available and
//! linearizable; fail f+1: no write may be acknowledged, and after healing the cluster recovers
//! with every acknowledged write intact. Prints a table; exits 0 only when every row holds.

import Base
import Foundation
import Linearizability
import Runner

enum HAVerifyCommand {
    static let help = """
        usage: faultline ha-verify [--sizes 3,5,7] [--impl builtin|etcd] [--faults kill,isolate]
                                   [--topologies DIR] [--out DIR] [--seed S] [--loopback]

        For each size n (odd, 3 to 7; the topology is DIR/etcd-<n>.yaml, default Topologies) and
        f = (n-1)/2, four runs on the fast timing profile: kill f members (the leader first),
        isolate f, kill f+1, isolate f+1. Each run writes for 12 s with 4 clients; the fault
        lasts from 3 s to 9 s. f out: writes must go on during the fault. f+1 out: no write
        invoked during the fault may be acknowledged before the heal, and one must be after it.
        Every run: the register history linearizable, every acknowledged insert present, the
        members converged. Histories and logs go to DIR/<n>-<fault>-<failed>/ (default
        ha-verify-out). Needs root for namespaces (else loopback mode).
        """

    struct Settings {
        var sizes = [3, 5, 7]
        var impl = "builtin"
        var faults = HAFault.allCases
        var topologies = "Topologies"
        var out = "ha-verify-out"
        var seed: UInt64 = 1
        var loopback = false
    }

    static func parse(_ arguments: [String]) throws(CommandError) -> Settings {
        var settings = Settings()
        var flags = FlagReader(arguments)
        while let flag = flags.next() {
            switch flag {
            case "--sizes":
                let text = try flags.value(flag)
                let sizes = text.split(separator: ",").map { Int($0) }
                guard !sizes.isEmpty, sizes.allSatisfy({ $0.map { $0 >= 3 && $0 <= 7 && $0 % 2 == 1 } ?? false }) else {
                    throw CommandError("--sizes takes odd sizes from 3 to 7 like 3,5,7 (got '\(text)')")
                }
                settings.sizes = sizes.compactMap { $0 }
            case "--impl":
                let text = try flags.value(flag)
                guard ["builtin", "etcd"].contains(text) else { throw CommandError("--impl takes builtin or etcd (got '\(text)')") }
                settings.impl = text
            case "--faults":
                let text = try flags.value(flag)
                let faults = text.split(separator: ",").map { HAFault(rawValue: String($0)) }
                guard !faults.isEmpty, faults.allSatisfy({ $0 != nil }) else {
                    throw CommandError("--faults takes kill, isolate or both like kill,isolate (got '\(text)')")
                }
                settings.faults = faults.compactMap { $0 }
            case "--topologies": settings.topologies = try flags.value(flag)
            case "--out": settings.out = try flags.value(flag)
            case "--loopback": settings.loopback = true
            case "-h", "--help": throw CommandError("")
            case "--seed":
                let text = try flags.value(flag)
                guard let seed = UInt64(text) else { throw CommandError("--seed takes a non-negative integer (got '\(text)')") }
                settings.seed = seed
            default:
                throw CommandError("unknown option \(flag)")
            }
        }
        for size in settings.sizes where !FileManager.default.fileExists(atPath: "\(settings.topologies)/etcd-\(size).yaml") {
            throw CommandError("no topology \(settings.topologies)/etcd-\(size).yaml (run from the repository, or give --topologies DIR)")
        }
        return settings
    }

    static func run(_ arguments: [String]) -> Int32 {
        let settings: Settings
        switch parsedOrExitCode({ () throws(CommandError) in try parse(arguments) }, command: "ha-verify", help: help) {
        case .success(let parsed): settings = parsed
        case .failure(let exit): return exit.code
        }
        let faultStart = 3 * Time.second
        let faultEnd = 9 * Time.second
        var rows: [HARow] = []
        for size in settings.sizes {
            let tolerated = (size - 1) / 2
            for fault in settings.faults {
                for failed in [tolerated, tolerated + 1] {
                    let name = "\(size)-\(fault.rawValue)-\(failed)"
                    let out = settings.out + "/" + name
                    try? FileManager.default.removeItem(atPath: out)
                    try? FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
                    var plan = RunPlan(scenario: "ha-verify \(name)", description: "\(fault.rawValue) \(failed) of \(size) members",
                        topologyPath: "\(settings.topologies)/etcd-\(size).yaml", out: out,
                        faultline: TestbedCommand.executablePath(), cluster: "ha-\(name)")
                    plan.impl = settings.impl
                    plan.timing = "fast"
                    plan.loopback = settings.loopback
                    plan.seed = settings.seed
                    plan.duration = 12 * Time.second
                    plan.workload.clients = 4
                    plan.workload.rate = 200
                    plan.workload.read = 40
                    plan.workload.write = 30
                    plan.workload.cas = 10
                    plan.workload.insert = 20
                    plan.recoveryTimeout = 30 * Time.second
                    print("ha-verify: \(size) members, \(fault.rawValue) \(failed) …")
                    var nemesis = FailMembers(fault: fault, count: failed, start: faultStart, end: faultEnd)
                    let record = ChaosRun(plan: plan, log: { _ in }).run(nemesis: &nemesis)
                    _ = FileManager.default.createFile(atPath: out + "/history.jsonl", contents: Data(serializeHistory(record.history).utf8))
                    let row = HAVerify.judge(record, size: size, fault: fault, failed: failed, faultStart: faultStart, faultEnd: faultEnd)
                    print("  \(row.holds ? "holds" : "FAILS"): \(row.observed)\(row.recovery.map { ", recovery \(HAVerify.seconds($0))" } ?? "")")
                    rows.append(row)
                }
            }
        }
        print("")
        print(HAVerify.table(rows))
        let holding = rows.filter(\.holds).count
        print("\n\(holding) of \(rows.count) rows hold (\(settings.impl); runs in \(settings.out))")
        return holding == rows.count ? 0 : 1
    }
}
