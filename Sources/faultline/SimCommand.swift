//! `faultline sim`: the simulator from the command line.
//!
//!     faultline sim --seed 42 --nodes 5            one run; prints SEED=42 first and a verdict last
//!     faultline sim --seed 42 --check-determinism  runs twice and compares the traces
//!     faultline sim --seeds 1..1000 --nodes 5      a sweep: "N passed, M failed" and the time ratio

import Base
import Foundation
import Linearizability
import Raft
import Simulator

enum SimCommand {
    static let help = """
        usage: faultline sim (--seed S | --seeds A..B) [options]

          --seed S               run one seed (default: 1)
          --seeds A..B           run every seed from A to B inclusive
          --nodes N              cluster size, 1 to 9 (default 3)
          --duration D           safety phase in virtual time (default 30s), e.g. 10s, 2m
          --check-determinism    run each seed twice and compare trace hashes byte for byte
          --no-faults            disable the nemesis (a healthy run)
          --lease-reads          serve reads from leader leases (unsafe under clock drift)
          --mutation M           break a Raft rule on purpose (tests only): \(Raft.Mutation.allCases.map(\.rawValue).joined(separator: ", "))
          --out DIR              where a failing seed writes its trace and history (default .)
          --trace FILE           write the trace of a single-seed run to FILE, pass or fail
          --quiet                in a sweep, print only failures and the totals
        """

    struct Settings {
        var seeds: ClosedRange<UInt64> = 1...1
        var nodes = 3
        var duration: Nanoseconds = 30 * Time.second
        var checkDeterminism = false
        var noFaults = false
        var leaseReads = false
        var mutation: Raft.Mutation?
        var outputDirectory = "."
        var quiet = false
        var sweep = false
        var traceFile: String?
    }

    static func parse(_ arguments: [String]) throws(CommandError) -> Settings {
        var settings = Settings()
        var flags = FlagReader(arguments)
        while let flag = flags.next() {
            switch flag {
            case "--seed":
                let text = try flags.value(flag)
                guard let seed = UInt64(text) else { throw CommandError("--seed takes a whole number (got '\(text)')") }
                settings.seeds = seed...seed
            case "--seeds":
                let text = try flags.value(flag)
                let parts = text.components(separatedBy: "..")
                guard parts.count == 2, let low = UInt64(parts[0]), let high = UInt64(parts[1]), low <= high else {
                    throw CommandError("--seeds takes A..B with A <= B (got '\(text)')")
                }
                settings.seeds = low...high
                settings.sweep = true
            case "--nodes":
                let text = try flags.value(flag)
                guard let nodes = Int(text), (1...9).contains(nodes) else {
                    throw CommandError("--nodes takes 1 to 9 (got '\(text)')")
                }
                settings.nodes = nodes
            case "--duration":
                let text = try flags.value(flag)
                guard let duration = Time.parse(text), duration >= Time.second else {
                    throw CommandError("--duration takes a duration of at least 1s such as 30s or 2m (got '\(text)')")
                }
                settings.duration = duration
            case "--check-determinism": settings.checkDeterminism = true
            case "--no-faults": settings.noFaults = true
            case "--lease-reads": settings.leaseReads = true
            case "--quiet": settings.quiet = true
            case "--out": settings.outputDirectory = try flags.value(flag)
            case "--trace": settings.traceFile = try flags.value(flag)
            case "--mutation":
                let text = try flags.value(flag)
                guard let mutation = Raft.Mutation(rawValue: text) else {
                    throw CommandError("unknown mutation '\(text)' (known: \(Raft.Mutation.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                settings.mutation = mutation
            case "--help", "-h":
                throw CommandError("")
            default:
                throw CommandError("unknown option '\(flag)'")
            }
        }
        return settings
    }

    static func options(for seed: UInt64, _ settings: Settings) -> SimulationOptions {
        var options = SimulationOptions.swarm(seed: seed, nodes: settings.nodes)
        options.duration = settings.duration
        options.leaseReads = settings.leaseReads
        options.mutation = settings.mutation
        if settings.noFaults { options.faults = .none }
        return options
    }

    static func run(_ arguments: [String]) -> Int32 {
        let settings: Settings
        switch parsedOrExitCode({ () throws(CommandError) in try parse(arguments) }, command: "sim", help: help) {
        case .success(let parsed): settings = parsed
        case .failure(let exit): return exit.code
        }
        if settings.sweep && settings.traceFile != nil {
            FileHandle.standardError.write(Data("faultline sim: --trace takes a single --seed, not --seeds\n".utf8))
            return 2
        }
        if !settings.sweep { print("SEED=\(settings.seeds.lowerBound)") }
        var passed = 0
        var failed: [UInt64] = []
        var simulated: Nanoseconds = 0
        let started = DispatchTime.now().uptimeNanoseconds
        for seed in settings.seeds {
            var options = options(for: seed, settings)
            options.recordTrace = settings.traceFile != nil
            let result = Simulation(options: options).run()
            if let traceFile = settings.traceFile {
                do {
                    try (result.trace.joined(separator: "\n") + "\n").write(toFile: traceFile, atomically: true, encoding: .utf8)
                } catch {
                    FileHandle.standardError.write(Data("faultline sim: cannot write the trace to \(traceFile): \(error)\n".utf8))
                    return 2
                }
            }
            simulated += result.virtualTime
            var ok = result.passed
            if ok && settings.checkDeterminism {
                let again = Simulation(options: options).run()
                if again.traceHash != result.traceHash {
                    ok = false
                    print("seed \(seed): NOT deterministic: trace hash \(hex(result.traceHash)) then \(hex(again.traceHash))")
                } else if !settings.sweep {
                    print("deterministic: both runs gave trace hash \(hex(result.traceHash))")
                }
            }
            if ok {
                passed += 1
                if !settings.sweep { describe(result) } else if !settings.quiet {
                    print("seed \(seed): pass (\(Time.describe(result.virtualTime)) simulated, hash \(hex(result.traceHash)))")
                }
            } else {
                failed.append(seed)
                if settings.sweep { print("SEED=\(seed)") }
                describe(result)
                writeArtifacts(seed: seed, options: options, directory: settings.outputDirectory)
            }
            fflush(nil)  // A long sweep shows progress even when its output goes to a file.
        }
        let wall = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        let ratio = Double(simulated) / 1e9 / max(wall, 1e-9)
        if settings.sweep {
            print(String(format: "simulated %.0fs in %.1fs wall: %.0fx real time, %.0f seeds/minute",
                Double(simulated) / 1e9, wall, ratio, Double(settings.seeds.count) / wall * 60))
            print("\(passed) passed, \(failed.count) failed")
            if !failed.isEmpty { print("failing seeds: \(failed.map(String.init).joined(separator: " "))") }
        } else {
            print(String(format: "simulated %.1fs in %.2fs wall (%.0fx real time)", Double(simulated) / 1e9, wall, ratio))
            print(failed.isEmpty ? "PASS" : "FAIL")
        }
        return failed.isEmpty ? 0 : 1
    }

    private static func describe(_ result: SimulationResult) {
        print("  \(result.summary)")
        print("  " + result.stats.map { "\($0.0)=\($0.1)" }.joined(separator: " "))
        for failure in result.failures { print("  FAILED \(failure)") }
    }

    /// Replays the failing seed with the trace recorded (the run is deterministic) and writes it.
    private static func writeArtifacts(seed: UInt64, options: SimulationOptions, directory: String) {
        var recording = options
        recording.recordTrace = true
        let replay = Simulation(options: recording).run()
        let base = (directory as NSString).appendingPathComponent("sim-\(seed)")
        let tracePath = base + ".trace.log"
        let historyPath = base + ".history.jsonl"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try (replay.trace.joined(separator: "\n") + "\n").write(toFile: tracePath, atomically: true, encoding: .utf8)
            try (replay.history.map { $0.jsonLine() }.joined(separator: "\n") + "\n")
                .write(toFile: historyPath, atomically: true, encoding: .utf8)
            print("  trace: \(tracePath)\n  history: \(historyPath) (faultline check \(historyPath))")
        } catch {
            FileHandle.standardError.write(Data("faultline sim: could not write artifacts to \(directory): \(error)\n".utf8))
        }
    }

    private static func hex(_ value: UInt64) -> String { String(value, radix: 16) }
}

struct CommandError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// A command's parsed options; or, when parsing stopped, the exit code after printing the help
/// (asked for with an empty message: 0) or the error and the help (2).
func parsedOrExitCode<Settings>(_ parse: () throws(CommandError) -> Settings, command: String, help: String) -> Result<Settings, ExitCode> {
    do throws(CommandError) {
        return .success(try parse())
    } catch {
        if error.message.isEmpty {
            print(help)
            return .failure(ExitCode(0))
        }
        FileHandle.standardError.write(Data("faultline \(command): \(error.message)\n\n\(help)\n".utf8))
        return .failure(ExitCode(2))
    }
}

struct ExitCode: Error {
    let code: Int32
    init(_ code: Int32) { self.code = code }
}

/// A command's arguments, read flag by flag: `while let flag = flags.next() { … flags.value(flag) … }`.
struct FlagReader {
    private var rest: ArraySlice<String>
    init(_ arguments: [String]) { rest = arguments[...] }

    /// The next argument, nil when none is left.
    mutating func next() -> String? { rest.popFirst() }

    /// The value that must follow `flag`.
    mutating func value(_ flag: String) throws(CommandError) -> String {
        guard let next = rest.popFirst() else { throw CommandError("\(flag) needs a value") }
        return next
    }

    /// The whole number in `range` that must follow `flag`.
    mutating func integer(_ flag: String, _ range: ClosedRange<Int>) throws(CommandError) -> Int {
        let text = try value(flag)
        guard let number = Int(text), range.contains(number) else {
            throw CommandError("\(flag) takes a number from \(range.lowerBound) to \(range.upperBound) (got '\(text)')")
        }
        return number
    }

    /// The comma-separated http:// URLs that must follow `flag` (`example` shows one).
    mutating func httpURLs(_ flag: String, example: String) throws(CommandError) -> [String] {
        let urls = try value(flag).split(separator: ",").map(String.init)
        guard !urls.isEmpty, urls.allSatisfy({ $0.hasPrefix("http://") }) else {
            throw CommandError("\(flag) takes http:// URLs, comma-separated (e.g. \(example))")
        }
        return urls
    }
}
