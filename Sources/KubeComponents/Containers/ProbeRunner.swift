//! Runs one probe as the kubelet's prober does: an HTTP GET succeeds with a status from 200 to
//! 399, a TCP probe when the connection opens, an exec probe when its command exits 0 — each
//! within the probe's timeout. The answer's message is what the kubelet puts in its events.

import Base
import Dispatch
import Foundation
import Glibc
import KubeNode
import Net

enum ProbeRunner {
    static func run(_ action: ProbeAction, timeout: Nanoseconds) -> (success: Bool, message: String?) {
        switch action {
        case .httpGet(let host, let port, let path):
            guard let port = UInt16(exactly: port) else { return (false, "port \(port) is out of range") }
            let client = HTTPClient(endpoint: Endpoint(host: host, port: port), connectTimeout: timeout, responseBytesMax: 10 << 10)
            defer { client.disconnect() }
            do {
                let response = try client.get(path.hasPrefix("/") ? path : "/" + path, timeout: timeout)
                if (200..<400).contains(response.status) { return (true, nil) }
                return (false, "HTTP probe failed with statuscode: \(response.status)")
            } catch {
                return (false, "Get \"http://\(host):\(port)\(path)\": \(error)")
            }
        case .tcpSocket(let host, let port):
            guard let port = UInt16(exactly: port) else { return (false, "port \(port) is out of range") }
            do {
                let fd = try Socket.connect(Endpoint(host: host, port: port), timeout: timeout)
                close(fd)
                return (true, nil)
            } catch {
                return (false, "dial tcp \(host):\(port): \(error.message)")
            }
        case .exec(let command):
            guard !command.isEmpty else { return (false, "exec probe has no command") }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = command
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            let done = DispatchSemaphore(value: 0)
            process.terminationHandler = { _ in done.signal() }
            do { try process.run() } catch { return (false, "exec \(command): \(error)") }
            guard done.wait(timeout: .now() + .nanoseconds(Int(timeout))) == .success else {
                kill(process.processIdentifier, SIGKILL)
                done.wait()
                return (false, "command timed out after \(Time.describe(timeout))")
            }
            let status = process.terminationStatus
            return status == 0 ? (true, nil) : (false, "command \(command) exited with \(status)")
        }
    }
}
