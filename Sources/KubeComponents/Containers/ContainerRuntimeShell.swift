//! The shell around `PodRuntime` (KubeNode) for a kubelet in process mode: it carries out the
//! runtime's directives — starts each container as a `faultline container` process, signals
//! its process group, runs probes, configures pod addresses, sends status reports — and hands
//! back what happened (a container started, failed to start or exited; a probe's result).
//!
//! Directives run in order on one serial queue, so a container's address is configured before
//! it starts and a status report never overtakes an earlier one. Probes run beside it, bounded.
//! The core is touched only under `runtime`'s lock and never waits for I/O.

import Base
import Dispatch
import Foundation
import Glibc
import KubeAPI
import KubeNode
import Net
import Synchronization
import Wire

public struct ProcessRuntimeSettings: Sendable {
    /// The `faultline` executable the containers run (default: this process's own).
    public var executable: String
    /// Where container logs and exit files go.
    public var rootDirectory: String
    public var pods = PodRuntimeSettings()
    /// Probes in flight at once.
    public var probesInFlightMax = 32

    public init(rootDirectory: String, executable: String = ProcessRuntimeSettings.ownExecutable) {
        self.rootDirectory = rootDirectory
        self.executable = executable
    }

    /// This process's executable, as /proc/self/exe names it.
    public static var ownExecutable: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}

public final class ContainerRuntimeShell: Sendable {
    private let settings: ProcessRuntimeSettings
    private let runtime: Mutex<PodRuntime>
    private let processes = Mutex<[ContainerKey: Process]>([:])
    private let stopped = Mutex(false)
    private let directives = DispatchQueue(label: "kubelet-runtime")
    private let probes = DispatchQueue(label: "kubelet-probes", attributes: .concurrent)
    private let probeSlots: DispatchSemaphore
    private let send: @Sendable (ObjectAction) -> Void
    private let log: @Sendable (String) -> Void
    /// Called after every event the core saw, so the kubelet's loop re-reads `nextWakeup`.
    private let wake: @Sendable () -> Void

    struct ContainerKey: Hashable, Sendable { let podUID: String, container: String }

    init(node: NodeIdentity, settings: ProcessRuntimeSettings, send: @escaping @Sendable (ObjectAction) -> Void,
        log: @escaping @Sendable (String) -> Void, wake: @escaping @Sendable () -> Void)
    {
        self.settings = settings
        runtime = Mutex(PodRuntime(node: node.name, hostIP: node.internalIP, podCIDR: node.podCIDR, settings: settings.pods))
        probeSlots = DispatchSemaphore(value: settings.probesInFlightMax)
        self.send = send
        self.log = log
        self.wake = wake
        try? FileManager.default.createDirectory(atPath: ContainerPidFiles.directory(root: settings.rootDirectory), withIntermediateDirectories: true)
        // Containers an earlier kubelet of this node left running are stopped, and their pods'
        // containers start afresh. (A real kubelet adopts them from the container runtime; this
        // runtime keeps no state a new kubelet could adopt them from.)
        ContainerPidFiles.stopAll(root: settings.rootDirectory, log: log)
    }

    var nextWakeup: Nanoseconds? { runtime.withLock { $0.nextWakeup } }

    /// The pods bound to this node, as the kubelet's cache holds them now.
    func sync(pods: [JSONValue], now: Nanoseconds, wallNow: Int64) {
        execute(runtime.withLock { $0.sync(pods: pods, now: now, wallNow: wallNow) })
    }

    func tick(now: Nanoseconds, wallNow: Int64) {
        execute(runtime.withLock { $0.tick(now: now, wallNow: wallNow) })
    }

    /// Leaves the containers running, as a kubelet that stops does (its pods are not its life);
    /// nothing more is started, signalled or reported, and the queue drains.
    func stop() {
        stopped.withLock { $0 = true }
        directives.sync {}
    }

    /// Kills every container this shell started (tests and `--kill-containers-on-exit`).
    func killAll() {
        for (_, process) in processes.withLock({ $0 }) { Self.signal(process.processIdentifier, SIGKILL) }
    }

    // MARK: - Directives

    private func execute(_ list: [RuntimeDirective]) {
        guard !list.isEmpty else { return }
        directives.async { [self] in
            for directive in list where !stopped.withLock({ $0 }) { perform(directive) }
        }
    }

    private func perform(_ directive: RuntimeDirective) {
        switch directive {
        case .start(let launch): start(launch)
        case .signal(let podUID, let container, let signal):
            guard let process = processes.withLock({ $0[ContainerKey(podUID: podUID, container: container)] }) else { return }
            Self.signal(process.processIdentifier, signal == .kill ? SIGKILL : SIGTERM)
        case .probe(let podUID, let container, let kind, let action, let timeout):
            probeSlots.wait()
            probes.async { [self] in
                let (success, message) = ProbeRunner.run(action, timeout: timeout)
                probeSlots.signal()
                event { $0.probeFinished(podUID: podUID, container: container, kind: kind, success: success, message: message,
                    now: MonotonicClock.now(), wallNow: Self.wallNow()) }
            }
        case .report(let action): send(action)
        case .addAddress(let address): PodAddressSetup.add(address, log: log)
        case .removeAddress(let address): PodAddressSetup.remove(address, log: log)
        }
    }

    private func start(_ launch: ContainerLaunch) {
        let key = ContainerKey(podUID: launch.podUID, container: launch.containerName)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: settings.executable)
        var arguments = ["container", "--program", launch.image.programName, "--pod-name", launch.podName, "--pod-ip", launch.podIP,
            "--exit-file", exitFile(key)]
        for port in launch.ports { arguments += ["--port", String(port)] }
        let command = launch.command + launch.args
        if !command.isEmpty { arguments += ["--"] + command }
        process.arguments = arguments
        var environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        for (name, value) in launch.env { environment[name] = value }
        process.environment = environment
        let logPath = settings.rootDirectory + "/containers/\(launch.namespace)_\(launch.podName)_\(launch.containerName).log"
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        if let output = FileHandle(forWritingAtPath: logPath) {
            output.seekToEndOfFile()
            process.standardOutput = output
            process.standardError = output
        }
        process.standardInput = FileHandle.nullDevice
        process.terminationHandler = { [self] ended in
            let current = processes.withLock { processes -> Bool in
                guard processes[key] === ended else { return false }
                processes[key] = nil
                return true
            }
            if current { try? FileManager.default.removeItem(atPath: pidFile(key)) }
            event { $0.containerExited(podUID: key.podUID, container: key.container, exitCode: ended.shellExitStatus,
                signal: ended.terminatingSignal,
                now: MonotonicClock.now(), wallNow: Self.wallNow()) }
        }
        try? FileManager.default.removeItem(atPath: exitFile(key))
        do {
            try process.run()
        } catch {
            log("container \(launch.namespace)/\(launch.podName)/\(launch.containerName) did not start: \(error)")
            event { $0.containerStartFailed(podUID: key.podUID, container: key.container, message: "\(error)",
                now: MonotonicClock.now(), wallNow: Self.wallNow()) }
            return
        }
        processes.withLock { $0[key] = process }
        // The pid file lets whoever brought the node up stop containers that outlived their
        // kubelet (`faultline down` does), by pid; it goes when the container ends.
        try? Data("\(process.processIdentifier)\n".utf8).write(to: URL(fileURLWithPath: pidFile(key)), options: .atomic)
        event { $0.containerStarted(podUID: key.podUID, container: key.container, now: MonotonicClock.now(), wallNow: Self.wallNow()) }
    }

    private func pidFile(_ key: ContainerKey) -> String {
        ContainerPidFiles.directory(root: settings.rootDirectory) + "/\(key.podUID)_\(key.container)" + ContainerPidFiles.suffix
    }

    private func exitFile(_ key: ContainerKey) -> String {
        settings.rootDirectory + "/containers/\(key.podUID)_\(key.container).exit"
    }

    /// Tells the core what happened and carries out its answer.
    private func event(_ happened: (inout PodRuntime) -> [RuntimeDirective]) {
        execute(runtime.withLock { happened(&$0) })
        wake()
    }

    /// The container's whole process group (it called setsid), else the process alone (it has
    /// not got that far yet).
    private static func signal(_ pid: Int32, _ number: Int32) {
        if kill(-pid, number) != 0 { kill(pid, number) }
    }

    static func wallNow() -> Int64 { Int64(FaultClock.shared.wallNow().timeIntervalSince1970) }
}

extension BuiltinImage {
    /// The `faultline container --program` that runs the image.
    var programName: String {
        switch self {
        case .echo: "echo"
        case .sleeper: "sleeper"
        case .crasher: "crasher"
        }
    }
}
