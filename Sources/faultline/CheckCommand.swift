//! CheckCommand: `faultline check` and `faultline bench check`, the shells around Linearizability.
//!
//!     faultline check [--model kv] FILE        # FILE may be - for standard input
//!     faultline bench check [--ops 100000] [--keys 32] [--clients 32] [--seed S]
//!
//! `check` exits 0 when the history is linearizable, 1 when it is not (printing the key and the
//! operations that cannot be ordered), and 2 for bad usage, an unreadable file or a malformed
//! history (`FILE:LINE: message`). `bench check` generates a healthy history and times the
//! checker on it; it exits 1 if that history is reported non-linearizable, which is a bug.

import Foundation
import Linearizability

enum CheckCommand {
    static let usage = "usage: faultline check [--model kv] FILE"

    /// Runs `faultline check`; `arguments` excludes the leading "check".
    static func run(_ arguments: [String]) -> Int32 {
        var path: String?
        var remaining = arguments[...]
        while let argument = remaining.popFirst() {
            switch argument {
            case "-h", "--help":
                print(usage)
                return 0
            case _ where argument == "--model" || argument.hasPrefix("--model="):
                let model = argument == "--model" ? remaining.popFirst() : String(argument.dropFirst("--model=".count))
                guard let model else { return usageError("--model needs a value") }
                guard model == "kv" else { return usageError("unknown model \"\(model)\" (only kv is supported)") }
            case _ where argument.hasPrefix("-") && argument != "-":
                return usageError("unknown option \(argument)")
            default:
                guard path == nil else { return usageError("more than one FILE: \(path!) and \(argument)") }
                path = argument
            }
        }
        guard let path else { return usageError("missing FILE") }
        guard let text = readText(path) else { return 2 }
        return check(text, path: path)
    }

    static func check(_ text: String, path: String) -> Int32 {
        let parseStart = DispatchTime.now().uptimeNanoseconds
        let events: [HistoryEvent]
        do throws(HistoryParseError) {
            events = try parseHistory(text)
        } catch {
            printError("\(path):\(error.line): \(error.message)")
            return 2
        }
        let checkStart = DispatchTime.now().uptimeNanoseconds
        let report = checkLinearizability(events)
        let checkEnd = DispatchTime.now().uptimeNanoseconds
        let summary =
            "\(report.operationCount) \(plural(report.operationCount, "operation")) on \(report.keyCount) "
            + "\(plural(report.keyCount, "key")) checked in \(milliseconds(checkEnd - checkStart)) "
            + "(parsed in \(milliseconds(checkStart - parseStart)))"
        if report.linearizable {
            print("linearizable: \(summary)")
            return 0
        }
        print(report.description)
        print(summary)
        return 1
    }

    /// The file's text, or nil after printing why it cannot be read.
    static func readText(_ path: String) -> String? {
        let data: Data
        do {
            if path == "-" {
                data = FileHandle.standardInput.readDataToEndOfFile()
            } else {
                data = try Data(contentsOf: URL(fileURLWithPath: path))
            }
        } catch {
            printError("faultline check: cannot read \(path): \(error.localizedDescription)")
            return nil
        }
        guard let text = String(data: data, encoding: .utf8) else {
            printError("\(path):1: file is not valid UTF-8")
            return nil
        }
        return text
    }

    static func usageError(_ message: String) -> Int32 {
        printError("faultline check: \(message)\n\(usage)")
        return 2
    }
}

enum BenchCheckCommand {
    static let usage = "usage: faultline bench check [--ops 100000] [--keys 32] [--clients 32] [--seed S]"

    /// Runs `faultline bench check`; `arguments` excludes "bench check" (a leading "check" is skipped).
    static func run(_ arguments: [String]) -> Int32 {
        var settings = ["--ops": 100_000, "--keys": 32, "--clients": 32, "--seed": 1]
        var remaining = arguments.first == "check" ? arguments.dropFirst() : arguments[...]
        while let argument = remaining.popFirst() {
            if argument == "-h" || argument == "--help" {
                print(usage)
                return 0
            }
            let parts = argument.split(separator: "=", maxSplits: 1).map(String.init)
            guard settings[parts[0]] != nil else { return usageError("unknown option \(argument)") }
            guard let text = parts.count == 2 ? parts[1] : remaining.popFirst(), let value = Int(text) else {
                return usageError("\(parts[0]) needs an integer")
            }
            guard value >= 0, parts[0] == "--ops" || parts[0] == "--seed" || value > 0 else {
                return usageError("\(parts[0]) must be positive, got \(value)")
            }
            settings[parts[0]] = value
        }
        let (operations, keys, clients) = (settings["--ops"]!, settings["--keys"]!, settings["--clients"]!)
        let events = generateHealthyHistory(
            operations: operations, keys: keys, clients: clients, seed: UInt64(settings["--seed"]!))
        let start = DispatchTime.now().uptimeNanoseconds
        let report = checkLinearizability(events)
        let elapsed = DispatchTime.now().uptimeNanoseconds - start
        let rate = elapsed == 0 ? 0 : Double(report.operationCount) / (Double(elapsed) / 1e9)
        print(
            "checked \(report.operationCount) operations over \(keys) keys from \(clients) clients "
                + "in \(milliseconds(elapsed)) (\(String(format: "%.0f", rate)) ops/s)")
        guard report.linearizable else {
            printError("bug: a generated healthy history was reported non-linearizable\n\(report.description)")
            return 1
        }
        return 0
    }

    static func usageError(_ message: String) -> Int32 {
        printError("faultline bench check: \(message)\n\(usage)")
        return 2
    }
}

private func milliseconds(_ nanoseconds: UInt64) -> String {
    String(format: "%.1f ms", Double(nanoseconds) / 1e6)
}

private func plural(_ count: Int, _ word: String) -> String { count == 1 ? word : word + "s" }

private func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
