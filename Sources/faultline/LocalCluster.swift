//! A cluster of etcd-compatible members as child processes on loopback: `faultline etcd` or
//! real etcd, started with the same flags. It signals only the processes it started, by PID.

import Base
import EtcdClient
import Foundation
import Glibc

final class LocalCluster: @unchecked Sendable {
    enum Implementation: String {
        case builtin
        case etcd
    }

    struct Member {
        var name: String
        var clientPort: Int
        var peerPort: Int
        var dataDirectory: String
        var logPath: String
        var process: Process?
    }

    let implementation: Implementation
    let directory: String
    let token: String
    private(set) var members: [Member]
    private let lock = NSLock()
    let extraFlags: [String]

    /// Member i (1-based) listens on 127.0.0.1:(clientBase+i) and 127.0.0.1:(peerBase+i).
    init(implementation: Implementation, size: Int, clientBase: Int, peerBase: Int, directory: String,
        token: String = "faultline-local", extraFlags: [String] = [])
    {
        precondition(size >= 1 && size <= 9, "cluster size \(size) is outside 1...9")
        self.implementation = implementation
        self.directory = directory
        self.token = token
        self.extraFlags = extraFlags
        members = (1...size).map { index in
            Member(name: "m\(index)", clientPort: clientBase + index, peerPort: peerBase + index,
                dataDirectory: "\(directory)/m\(index)", logPath: "\(directory)/m\(index).log")
        }
    }

    var endpoints: [String] { members.map { "http://127.0.0.1:\($0.clientPort)" } }
    func endpoint(_ index: Int) -> String { "http://127.0.0.1:\(members[index].clientPort)" }

    private func arguments(for member: Member) -> (String, [String]) {
        let initial = members.map { "\($0.name)=http://127.0.0.1:\($0.peerPort)" }.joined(separator: ",")
        let flags = [
            "--name", member.name, "--data-dir", member.dataDirectory,
            "--listen-client-urls", "http://127.0.0.1:\(member.clientPort)",
            "--advertise-client-urls", "http://127.0.0.1:\(member.clientPort)",
            "--listen-peer-urls", "http://127.0.0.1:\(member.peerPort)",
            "--initial-advertise-peer-urls", "http://127.0.0.1:\(member.peerPort)",
            "--initial-cluster", initial, "--initial-cluster-state", "new", "--initial-cluster-token", token,
        ] + extraFlags
        switch implementation {
        case .builtin:
            return (Self.ownExecutable(), ["etcd"] + flags)
        case .etcd:
            return ("/usr/bin/etcd", flags)
        }
    }

    static func ownExecutable() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    func startAll() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for index in members.indices { try start(index) }
    }

    func start(_ index: Int) throws {
        lock.lock()
        defer { lock.unlock() }
        guard members[index].process == nil else { return }
        let (executable, arguments) = arguments(for: members[index])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !FileManager.default.fileExists(atPath: members[index].logPath) {
            _ = FileManager.default.createFile(atPath: members[index].logPath, contents: nil)
        }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: members[index].logPath))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        members[index].process = process
    }

    /// Sends `signal` to member `index` if it runs; for KILL and TERM, waits for it to exit.
    func signal(_ index: Int, _ signal: Int32) {
        lock.lock()
        let process = members[index].process
        if signal == SIGKILL || signal == SIGTERM { members[index].process = nil }
        lock.unlock()
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, signal)
        if signal == SIGKILL || signal == SIGTERM {
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning && Date() < deadline { usleep(5_000) }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
    }

    func isRunning(_ index: Int) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return members[index].process?.isRunning ?? false
    }

    func pid(_ index: Int) -> Int32? {
        lock.lock()
        defer { lock.unlock() }
        return members[index].process?.processIdentifier
    }

    func stopAll() {
        for index in members.indices { signal(index, SIGTERM) }
    }

    /// Waits until every running member answers /health with true.
    func waitHealthy(timeout: TimeInterval = 30) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        for index in members.indices where isRunning(index) {
            while !Self.healthy(endpoint(index)) {
                if Date() > deadline { return false }
                usleep(100_000)
            }
        }
        return true
    }

    static func healthy(_ endpoint: String) -> Bool {
        EtcdClient.isHealthy(endpoint)
    }
}
