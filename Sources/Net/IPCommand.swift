//! IPCommand: runs iproute2's `ip`, optionally inside a network namespace. It is the one runner
//! for both users: the testbed builds and removes a cluster's namespaces, links and routes with
//! it, and a kubelet puts its pods' addresses on `lo` with it.

import Foundation

/// Why `ip` did not succeed: it is not installed, it did not start, or it exited non-zero.
/// The description names the command and carries what `ip` wrote to stderr.
public struct IPCommandError: Error, CustomStringConvertible, Sendable {
    /// `ip`'s exit status; nil when it never ran.
    public var status: Int32?
    public var description: String

    public init(status: Int32?, description: String) {
        self.status = status
        self.description = description
    }
}

public enum IPCommand {
    /// Where `ip` is installed (the first of the usual places); nil when it is not.
    public static let path: String? = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    /// The words after `ip` for `arguments`, inside `namespace` when given (`ip -n NAMESPACE`).
    public static func words(_ arguments: [String], namespace: String?) -> [String] {
        guard let namespace else { return arguments }
        precondition(!namespace.isEmpty && !namespace.hasPrefix("-"), "namespace name '\(namespace)' would read as an option of ip")
        return ["-n", namespace] + arguments
    }

    /// Runs `ip [-n NAMESPACE] ARGUMENTS` with `input` on stdin and returns its stdout. Throws
    /// with the exit status and stderr when it exits non-zero, and without a status when it
    /// cannot run at all.
    @discardableResult
    public static func run(_ arguments: [String], namespace: String? = nil, input: String? = nil) throws(IPCommandError) -> String {
        let words = words(arguments, namespace: namespace)
        let command = "ip " + words.joined(separator: " ")
        guard let path else {
            throw IPCommandError(status: nil, description: "\(command): 'ip' (iproute2) is not installed; run Scripts/setup")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = words
        let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        do { try process.run() } catch {
            throw IPCommandError(status: nil, description: "\(command) did not run (\(path)): \(error)")
        }
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try? stdin.fileHandleForWriting.close()
        // stdout to its end, then stderr: `ip` writes a few lines to stderr at most (one per
        // failed batch line), far below a pipe's buffer, so it cannot block on a full stderr.
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let message = String(decoding: errors, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw IPCommandError(status: process.terminationStatus, description: "\(command) failed: \(message)")
        }
        return String(decoding: output, as: UTF8.self)
    }
}
