//! The programs behind Faultline's built-in images, run by `faultline container` — one process
//! per container, started by a kubelet in process mode:
//!
//! - `echo` (also `nginx`, `httpd`, `registry.k8s.io/echoserver`): an HTTP server on each of the
//!   container's ports at the pod's IP. `GET /` answers with the pod's name, so a caller can tell
//!   which replica answered; `GET /healthz` answers `ok` until `GET /fail-health` is called
//!   (then 500: a liveness probe on it fails), `GET /fail-ready` likewise for `/ready`.
//!   SIGTERM closes the listeners and exits 0, as nginx's graceful stop does.
//! - `sleeper` (also `busybox`, `pause`, …): runs the container's command if it has one (its exit
//!   status is the container's, SIGTERM is passed on), else waits for SIGTERM and exits 0.
//! - `crasher`: exits with `CRASH_EXIT_CODE` (default 1) after `CRASH_AFTER` (default 1s), for
//!   restart policies and CrashLoopBackOff.
//!
//! Every container starts its own session (`setsid`), so the kubelet signals its process group
//! and nothing aimed at the kubelet's terminal reaches it. Before exiting, it writes its exit
//! status to `--exit-file` when one is given: a kubelet that restarts and finds its containers
//! gone learns how they ended, as a container runtime keeps exit codes across kubelet restarts.

import Base
import Dispatch
import Foundation
import Glibc
import Net
import Synchronization

public struct BuiltinContainerOptions: Sendable {
    public enum Program: String, Sendable, CaseIterable { case echo, sleeper, crasher }
    public var program: Program
    public var podName: String
    public var podIP: String
    public var ports: [UInt16]
    public var command: [String]
    public var exitFile: String?
    /// The crasher's timing and exit code (its environment's CRASH_AFTER and CRASH_EXIT_CODE).
    public var crashAfter: Nanoseconds = Time.second
    public var crashExitCode: Int32 = 1

    public init(program: Program, podName: String, podIP: String, ports: [UInt16] = [], command: [String] = [], exitFile: String? = nil) {
        self.program = program
        self.podName = podName
        self.podIP = podIP
        self.ports = ports
        self.command = command
        self.exitFile = exitFile
    }
}

public enum BuiltinContainer {
    /// Runs the program until it ends and returns its exit status.
    public static func run(_ options: BuiltinContainerOptions) -> Int32 {
        _ = setsid()
        Socket.ignoreBrokenPipes()
        let status: Int32
        switch options.program {
        case .echo: status = echo(options)
        case .sleeper: status = options.command.isEmpty ? sleepUntilTerminated() : runCommand(options.command)
        case .crasher:
            let deadline = DispatchTime.now() + .nanoseconds(Int(options.crashAfter))
            let terminated = DispatchSemaphore(value: 0)
            TerminationSignals.signal(terminated)
            // SIGTERM before the crash is a clean stop; otherwise it crashes on time.
            status = terminated.wait(timeout: deadline) == .success ? 0 : options.crashExitCode
        }
        if let exitFile = options.exitFile {
            try? Data("\(status)\n".utf8).write(to: URL(fileURLWithPath: exitFile), options: .atomic)
        }
        return status
    }

    private static func sleepUntilTerminated() -> Int32 {
        let terminated = DispatchSemaphore(value: 0)
        TerminationSignals.signal(terminated)
        terminated.wait()
        return 0
    }

    /// Health switches of the echo server; `/fail-health` and `/fail-ready` turn them off for good.
    private struct Health { var live = true; var ready = true }

    private static func echo(_ options: BuiltinContainerOptions) -> Int32 {
        let terminated = DispatchSemaphore(value: 0)
        TerminationSignals.signal(terminated)
        let health = Mutex(Health())
        let name = options.podName
        var servers: [HTTPServer] = []
        for port in options.ports.isEmpty ? [80] : options.ports {
            let server = HTTPServer(endpoint: Endpoint(host: options.podIP, port: port)) { request, responder in
                let text = { (status: Int, body: String) in responder.respond(status: status, body: Array((body + "\n").utf8), contentType: "text/plain") }
                switch request.path {
                case "/healthz": health.withLock { $0.live } ? text(200, "ok") : text(500, "unhealthy")
                case "/ready": health.withLock { $0.ready } ? text(200, "ready") : text(503, "not ready")
                case "/fail-health": health.withLock { $0.live = false }; text(200, "health now fails")
                case "/fail-ready": health.withLock { $0.ready = false }; text(200, "readiness now fails")
                default: text(200, name)
                }
            }
            do { try server.start() } catch {
                FileHandle.standardError.write(Data("echo: cannot listen on \(options.podIP):\(port): \(error)\n".utf8))
                servers.forEach { $0.stop() }
                return 1
            }
            servers.append(server)
        }
        print("echo: \(name) listening on \(options.podIP) port(s) \(servers.map { String($0.port) }.joined(separator: ","))")
        terminated.wait()
        servers.forEach { $0.stop() }
        return 0
    }

    /// Runs `command` (PATH lookup, as a container's entrypoint), passing SIGTERM on, and returns
    /// its exit status (128 + signal when a signal ended it, as a shell reports it).
    private static func runCommand(_ command: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        do { try process.run() } catch {
            FileHandle.standardError.write(Data("sleeper: cannot run \(command): \(error)\n".utf8))
            return 127
        }
        let terminated = DispatchSemaphore(value: 0)
        TerminationSignals.signal(terminated)
        let pid = process.processIdentifier
        DispatchQueue.global().async {
            terminated.wait()
            kill(pid, SIGTERM)
        }
        process.waitUntilExit()
        return process.shellExitStatus
    }
}
