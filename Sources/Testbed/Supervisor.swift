//! The supervisor of one cluster: builds its network, starts the fault proxy in the switch
//! namespace and each host's program in its own namespace (output captured to `logs/HOST.log`),
//! notices exits, carries out process faults (kill, terminate, pause, resume, restart with or
//! without the host's data), appends every process event and fault to `trace.jsonl` with a
//! monotonic timestamp, and tears everything down. It signals only the PIDs it started.

import Base
import Foundation
import Glibc
import Net

public struct SupervisorError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

public final class Supervisor: @unchecked Sendable {
    public let directory: ClusterDirectory
    private let lock = NSLock()
    private var record: ClusterRecord
    private var processes: [String: Process] = [:]
    private var proxyProcess: Process?
    /// Hosts being stopped on purpose: their exit is expected, not a crash.
    private var stopping: Set<String> = []
    private let trace: TraceWriter
    private let log: @Sendable (String) -> Void
    // Explicit heals, so that the rule watcher can tell them from TTL expiries.
    let healedLock = NSLock()
    var healedIDs: Set<String> = []
    public static let proxyControlPort = 7070

    /// The cluster as it is now.
    public var snapshot: ClusterRecord { lock.withLock { record } }

    private init(directory: ClusterDirectory, record: ClusterRecord, log: @escaping @Sendable (String) -> Void) throws {
        self.directory = directory
        self.record = record
        self.log = log
        trace = try TraceWriter(path: directory.tracePath)
    }

    /// Brings a cluster up: network, proxy, hosts. Throws (having removed what it made) when
    /// any step fails; `waitReady` then tells when the hosts serve.
    public static func up(cluster: String, topology: String, plan: NetworkPlan, launches: [HostLaunch],
        faultline: String, log: @escaping @Sendable (String) -> Void) throws -> Supervisor
    {
        let directory = ClusterDirectory(cluster: cluster)
        if FileManager.default.fileExists(atPath: directory.recordPath) {
            throw SupervisorError("cluster '\(cluster)' already exists (\(directory.path)); 'faultline down \(cluster)' removes it")
        }
        try FileManager.default.createDirectory(atPath: directory.logsPath, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: directory.dataPath, withIntermediateDirectories: true)
        let hosts = launches.map { launch in
            HostRecord(name: launch.name, role: launch.role, namespace: plan.processNamespace(launch.name) ?? "",
                serviceAddress: plan.serviceAddress(launch.name), realAddress: plan.realAddress(launch.name),
                ports: launch.ports, pid: nil, state: .starting, restarts: 0, lastExit: nil, launch: launch)
        }
        let record = ClusterRecord(name: cluster, topology: topology, plan: plan, hosts: hosts, proxy: nil,
            proxyControl: "\(plan.controlAddress):\(proxyControlPort)", supervisor: nil, supervisorControl: nil,
            createdAt: ISO8601DateFormatter().string(from: Date()), state: "starting")
        let supervisor = try Supervisor(directory: directory, record: record, log: log)
        do {
            try supervisor.save()
            try Namespaces.create(plan)
            supervisor.trace.append(["kind": "network", "event": "created", "namespaces": plan.hosts.count + 1])
            try supervisor.startProxy(faultline: faultline)
            for launch in launches { try supervisor.start(launch.name) }
            supervisor.update { $0.state = "running" }
        } catch {
            // The caller reports the error and removes the directory (it holds the logs).
            supervisor.down()
            throw error
        }
        return supervisor
    }

    // MARK: - Processes

    private func startProxy(faultline: String) throws {
        let plan = record.plan
        // Pod listeners only where the switch routes pod traffic (namespace mode, see NetworkPlan).
        let podTraffic = !plan.loopback && !plan.podPorts.isEmpty
        var hosts: [String: Any] = [NetworkPlan.clientHost: ["addresses": plan.clientAddresses, "routes": [Any]()]]
        for host in record.hosts {
            let routes = host.ports.map { port in
                ["listen": "\(host.serviceAddress):\(port)", "target": "\(host.realAddress):\(port)"]
            }
            var entry: [String: Any] = ["addresses": [host.realAddress], "routes": routes]
            if podTraffic, let network = plan.podNetwork(host.name) { entry["pod_network"] = network }
            hosts[host.name] = entry
        }
        var configuration: [String: Any] = ["hosts": hosts]
        if podTraffic {
            configuration["pods"] = ["ports": plan.podPorts, "mark": NetworkPlan.podMark]
        }
        let configPath = directory.path + "/proxy.json"
        let config = try JSONSerialization.data(withJSONObject: configuration, options: [.prettyPrinted, .sortedKeys])
        try config.write(to: URL(fileURLWithPath: configPath))
        let logPath = directory.logPath("proxy")
        let command = Namespaces.exec(in: plan.loopback ? nil : plan.switchNamespace)
            + [faultline, "proxy", "--config", configPath, "--control", record.proxyControl]
        let process = try spawn(command, logPath: logPath)
        proxyProcess = process
        update { $0.proxy = ProcessRecord(pid: process.processIdentifier, command: command) }
        trace.append(["kind": "process", "host": "proxy", "event": "start", "pid": Int(process.processIdentifier)])
        // The proxy prints "proxy ready" once it listens on every route and its control port.
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: logPath, encoding: .utf8), text.contains("proxy ready") { return }
            guard process.isRunning else {
                throw SupervisorError("the fault proxy exited at start (status \(process.terminationStatus)); see \(logPath)")
            }
            usleep(5_000)
        }
        throw SupervisorError("the fault proxy did not report ready within 10 s; see \(logPath)")
    }

    /// Starts (or restarts) a host's program in its namespace.
    private func start(_ name: String) throws {
        guard let host = lock.withLock({ record.host(name) }) else { throw SupervisorError("no host '\(name)'") }
        try FileManager.default.createDirectory(atPath: host.launch.dataDirectory, withIntermediateDirectories: true)
        let plan = record.plan
        let command = Namespaces.exec(in: plan.processNamespace(name)) + [host.launch.executable] + host.launch.arguments
        var environment = ["FAULTLINE_CLOCK": clockPath(name)]
        // In loopback mode the proxy knows hosts by the address they dial from.
        if plan.loopback { environment[Socket.sourceAddressVariable] = host.realAddress }
        let process = try spawn(command, logPath: directory.logPath(name), environment: environment)
        process.terminationHandler = { [weak self] ended in self?.exited(name, ended) }
        lock.withLock {
            processes[name] = process
            stopping.remove(name)
        }
        update { record in
            if let index = record.hosts.firstIndex(where: { $0.name == name }) {
                record.hosts[index].pid = process.processIdentifier
                record.hosts[index].state = .running
            }
        }
        trace.append(["kind": "process", "host": name, "event": "start", "pid": Int(process.processIdentifier)])
    }

    /// The clock file a host's own components read (`FaultClock`); external programs ignore it.
    public func clockPath(_ host: String) -> String { directory.path + "/clock-" + host + ".json" }

    private func spawn(_ command: [String], logPath: String, environment: [String: String] = [:]) throws -> Process {
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        guard let output = FileHandle(forWritingAtPath: logPath) else { throw SupervisorError("cannot open \(logPath)") }
        output.seekToEndOfFile()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        do { try process.run() } catch { throw SupervisorError("cannot start \(command.joined(separator: " ")): \(error)") }
        try? output.close()
        return process
    }

    private func exited(_ name: String, _ process: Process) {
        let how = process.terminationReason == .uncaughtSignal ? "signal \(process.terminationStatus)" : "exit \(process.terminationStatus)"
        let expected = lock.withLock { () -> Bool in
            guard processes[name] === process else { return true }
            processes[name] = nil
            return stopping.contains(name)
        }
        update { record in
            guard let index = record.hosts.firstIndex(where: { $0.name == name }), record.hosts[index].pid == process.processIdentifier else { return }
            record.hosts[index].state = expected ? .stopped : .exited
            record.hosts[index].lastExit = how
            record.hosts[index].pid = nil
        }
        trace.append(["kind": "process", "host": name, "event": "exit", "how": how, "expected": expected])
        if !expected { log("\(name) exited unexpectedly (\(how)); see \(directory.logPath(name))") }
    }

    /// A process fault. `restart` stops the host (SIGTERM, then SIGKILL after `grace`) and starts
    /// it again; `wipe` empties its data directory in between.
    public func fault(_ verb: String, host name: String, wipe: Bool = false, grace: Nanoseconds = 2 * Time.second) throws {
        guard let host = lock.withLock({ record.host(name) }) else {
            throw SupervisorError("no host '\(name)' in cluster '\(record.name)' (hosts: \(record.hosts.map(\.name).joined(separator: ", ")))")
        }
        let process = lock.withLock { processes[name] }
        switch verb {
        case "kill", "terminate":
            guard let process, process.isRunning else { throw SupervisorError("\(name) is not running (\(host.state.rawValue))") }
            lock.withLock { _ = stopping.insert(name) }
            trace.append(["kind": "fault", "host": name, "event": verb, "pid": Int(process.processIdentifier)])
            kill(process.processIdentifier, verb == "kill" ? SIGKILL : SIGTERM)
        case "pause", "resume":
            guard let process, process.isRunning else { throw SupervisorError("\(name) is not running (\(host.state.rawValue))") }
            kill(process.processIdentifier, verb == "pause" ? SIGSTOP : SIGCONT)
            update { record in
                if let index = record.hosts.firstIndex(where: { $0.name == name }) { record.hosts[index].state = verb == "pause" ? .paused : .running }
            }
            trace.append(["kind": "fault", "host": name, "event": verb, "pid": Int(process.processIdentifier)])
        case "restart":
            trace.append(["kind": "fault", "host": name, "event": wipe ? "restart-wipe" : "restart"])
            if let process, process.isRunning { stop(name, process, grace: grace) }
            if wipe && host.role == "etcd" {
                // A wiped etcd member rejoins as a new member (see WipeRejoin.swift).
                let others = lock.withLock { record.hosts.filter { $0.role == "etcd" && $0.name != name && processes[$0.name]?.isRunning == true } }
                try replaceMemberForRejoin(host, others: others)
            } else if wipe {
                try? FileManager.default.removeItem(atPath: host.launch.dataDirectory)
            }
            update { record in
                if let index = record.hosts.firstIndex(where: { $0.name == name }) { record.hosts[index].restarts += 1 }
            }
            try start(name)
        default:
            throw SupervisorError("unknown process fault '\(verb)' (kill, terminate, pause, resume, restart, skew)")
        }
    }

    /// Skews the host's wall clock by `offset` and makes its monotonic clock run at `rate`
    /// (our own components only: they read `FaultClock`). Offset 0 and rate 1 undo it.
    public func skew(host name: String, offset: Nanoseconds, rate: Double) throws {
        guard lock.withLock({ record.host(name) }) != nil else {
            throw SupervisorError("no host '\(name)' in cluster '\(record.name)'")
        }
        guard FaultClock.rateRange.contains(rate) else {
            throw SupervisorError("clock rate \(rate) is outside \(FaultClock.rateRange.lowerBound)...\(FaultClock.rateRange.upperBound)")
        }
        try FaultClock.write(FaultClock.Setting(offsetNanoseconds: offset, rate: rate), to: clockPath(name))
        trace.append(["kind": "fault", "host": name, "event": "skew", "offset_ns": Int(offset), "rate": rate])
    }

    /// SIGTERM (after SIGCONT, in case it is paused), then SIGKILL after `grace`; waits for the exit.
    private func stop(_ name: String, _ process: Process, grace: Nanoseconds) {
        lock.withLock { _ = stopping.insert(name) }
        kill(process.processIdentifier, SIGCONT)
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(Double(grace) / 1e9)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Waits until every host with a health port answers healthy through the proxy.
    public func waitReady(timeout: Nanoseconds) -> Bool {
        let deadline = Date().addingTimeInterval(Double(timeout) / 1e9)
        let checks = snapshot.hosts.compactMap { host in
            host.launch.healthPort.map { (Endpoint(host: host.serviceAddress, port: UInt16($0)), host.launch.healthPath ?? "/health") }
        }
        for (endpoint, path) in checks {
            while true {
                let client = HTTPClient(endpoint: endpoint, connectTimeout: 200 * Time.millisecond)
                if let response = try? client.get(path, timeout: Time.second),
                    response.status == 200 && (response.text.contains("\"true\"") || response.text == "ok")
                {
                    break
                }
                if Date() > deadline { return false }
                usleep(20_000)
            }
        }
        trace.append(["kind": "cluster", "event": "ready"])
        return true
    }

    /// Stops every host and the proxy, and removes the network. Safe to call twice.
    public func down() {
        let running = lock.withLock { processes }
        for (name, process) in running.sorted(by: { $0.key < $1.key }) where process.isRunning {
            stop(name, process, grace: 2 * Time.second)
        }
        if let proxy = proxyProcess, proxy.isRunning {
            kill(proxy.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(2)
            while proxy.isRunning && Date() < deadline { usleep(10_000) }
            if proxy.isRunning { kill(proxy.processIdentifier, SIGKILL) }
            proxy.waitUntilExit()
            trace.append(["kind": "process", "host": "proxy", "event": "exit"])
        }
        // Processes the hosts started and left behind — a process-mode kubelet's containers
        // outlive it, as a real node's do — are stopped by the pids the kubelet recorded, and
        // whatever else is left in a host's namespace dies with it.
        for host in lock.withLock({ record.hosts }) where host.role == "kubelet" {
            ContainerPidFiles.stopAll(root: host.launch.dataDirectory, log: log)
        }
        if !record.plan.loopback {
            for host in record.plan.hosts { Cleanup.stopProcesses(inNamespace: record.plan.namespace(host), log: log) }
        }
        Namespaces.destroy(record.plan)
        trace.append(["kind": "network", "event": "removed"])
        update { $0.state = "down" }
    }

    // MARK: - Records

    func update(_ change: (inout ClusterRecord) -> Void) {
        lock.withLock { change(&record) }
        try? save()
    }

    private func save() throws { try directory.save(lock.withLock { record }) }

    /// Appends to the cluster's trace (for faults applied through the proxy).
    public func traceEvent(_ fields: [String: Any]) { trace.append(fields) }
}

/// `trace.jsonl`: one JSON object a line, each with `t_ns` (monotonic, since the writer opened)
/// and `wall` (UTC), in the order things happened.
final class TraceWriter: @unchecked Sendable {
    private let handle: FileHandle
    private let lock = NSLock()
    private let origin = MonotonicClock.now()
    private let formatter = ISO8601DateFormatter()

    init(path: String) throws {
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw SupervisorError("cannot open \(path)") }
        handle.seekToEndOfFile()
        self.handle = handle
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    }

    func append(_ fields: [String: Any]) {
        var line = fields
        line["t_ns"] = Int(MonotonicClock.now() - origin)
        line["wall"] = formatter.string(from: Date())
        guard let data = try? JSONSerialization.data(withJSONObject: line, options: [.sortedKeys]) else { return }
        lock.withLock { handle.write(data + Data([10])) }
    }
}
