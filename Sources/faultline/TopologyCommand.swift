//! TopologyCommand: `faultline topology`, the shell around the Topology target: it reads files
//! (the target itself does no I/O) and prints what they resolve to.
//!
//!     faultline topology check FILE...          # exit 0 if every file is valid, 2 otherwise
//!     faultline topology show FILE [-o json]    # hosts, roles, ports and timing, defaults filled in
//!
//! Errors are `FILE:LINE:COLUMN: message` on standard error; bad usage also exits 2.

import Foundation
import Topology

enum TopologyCommand {
    static let usage = """
        usage: faultline topology check FILE...
               faultline topology show FILE [-o text|json]

        Topology files (Topologies/*.yaml, or .json) are described in docs/topology.md.
        """

    /// Runs `faultline topology`; `arguments` excludes the leading "topology".
    static func run(_ arguments: [String]) -> Int32 {
        guard let verb = arguments.first else { return usageError("missing a command (check or show)") }
        let rest = Array(arguments.dropFirst())
        switch verb {
        case "check": return check(rest)
        case "show": return show(rest)
        case "-h", "--help", "help":
            print(usage)
            return 0
        default: return usageError("unknown command '\(verb)' (available: check, show)")
        }
    }

    // MARK: - check

    static func check(_ arguments: [String]) -> Int32 {
        if arguments.contains("-h") || arguments.contains("--help") {
            print(usage)
            return 0
        }
        if let option = arguments.first(where: { $0.hasPrefix("-") }) { return usageError("unknown option \(option)") }
        guard !arguments.isEmpty else { return usageError("check needs at least one FILE") }
        // Check every file, so one run lists every broken one.
        var status: Int32 = 0
        for path in arguments {
            guard let topology = load(path) else {
                status = 2
                continue
            }
            print("\(path): ok, \(topology.summary)")
        }
        return status
    }

    // MARK: - show

    static func show(_ arguments: [String]) -> Int32 {
        var path: String?
        var format = "text"
        var remaining = arguments[...]
        while let argument = remaining.popFirst() {
            switch argument {
            case "-h", "--help":
                print(usage)
                return 0
            case "-o", "--output":
                guard let value = remaining.popFirst() else { return usageError("\(argument) needs a value (text or json)") }
                format = value
            case _ where argument.hasPrefix("--output="):
                format = String(argument.dropFirst("--output=".count))
            case _ where argument.hasPrefix("-"):
                return usageError("unknown option \(argument)")
            default:
                if let path { return usageError("show takes one FILE, got \(path) and \(argument)") }
                path = argument
            }
        }
        guard format == "text" || format == "json" else { return usageError("unknown output format '\(format)' (text or json)") }
        guard let path else { return usageError("show needs a FILE") }
        guard let topology = load(path) else { return 2 }
        if format == "json" {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            do {
                let data = try encoder.encode(topology)
                print(String(decoding: data, as: UTF8.self))
            } catch {
                printError("faultline topology show: cannot encode \(path): \(error)")
                return 1
            }
            return 0
        }
        print(describe(topology, path: path))
        return 0
    }

    static func describe(_ topology: Topology, path: String) -> String {
        var lines = ["topology \(topology.name) (\(path))"]
        if let description = topology.description { lines.append("  \(description)") }
        lines.append("hosts:")
        let rows = topology.hosts.map { host -> [String] in
            let role = host.implements.map { "\(host.role) (implements \($0))" } ?? host.role.rawValue
            var ports: [String] = []
            if let client = host.clientPort { ports.append("client \(client)") }
            if let peer = host.peerPort { ports.append("peer \(peer)") }
            let runs = host.program.map { ([$0.path] + $0.arguments).joined(separator: " ") } ?? "built-in"
            let flags = host.flags.isEmpty ? "" : "  flags: " + host.flags.joined(separator: " ")
            return [host.name, role, ports.isEmpty ? "-" : ports.joined(separator: ", "), host.timingName, runs + flags]
        }
        let header = ["NAME", "ROLE", "PORTS", "TIMING", "RUNS"]
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        for row in [header] + rows {
            let padded = row.enumerated().map { column, cell in
                column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }
            lines.append("  " + padded.joined(separator: "  "))
        }
        let podPorts = topology.podPorts.map(String.init).joined(separator: ", ")
        lines.append("pod ports (pod traffic between hosts, through the proxy): \(podPorts.isEmpty ? "none" : podPorts)")
        lines.append("timing profiles in use:")
        for name in Set(topology.hosts.map(\.timingName)).sorted() {
            guard let profile = topology.timingProfiles[name] else { continue }
            lines.append("  \(name): \(profile.summary)")
        }
        return lines.joined(separator: "\n")
    }

    // MARK: - Files

    /// The validated topology in `path`, or nil after printing why it is not one.
    static func load(_ path: String) -> Topology? {
        guard FileManager.default.fileExists(atPath: path) else {
            printError("\(path): no such file")
            return nil
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            printError("\(path): cannot read: \(error.localizedDescription)")
            return nil
        }
        guard let text = String(data: data, encoding: .utf8) else {
            printError("\(path):1:1: the file is not valid UTF-8")
            return nil
        }
        do {
            return try Topology.load(text, file: path)
        } catch {
            printError(error.description)
            return nil
        }
    }

    static func usageError(_ message: String) -> Int32 {
        printError("faultline topology: \(message)\n\(usage)")
        return 2
    }

    static func printError(_ message: String) {
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }
}
