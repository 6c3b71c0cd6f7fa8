//! ClusterControl: a running testbed cluster as the runner drives it — its record (hosts,
//! service addresses), fault rules and process faults through the supervisor's control API,
//! and the client endpoints of its etcd members.

import Base
import Foundation
import Net
import Testbed

public struct ControlError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

public final class ClusterControl: @unchecked Sendable {
    public let directory: ClusterDirectory
    public let record: ClusterRecord
    private let supervisor: Endpoint
    private let lock = NSLock()

    public init(cluster: String) throws {
        directory = ClusterDirectory(cluster: cluster)
        record = try directory.load()
        guard let control = record.supervisorControl, let endpoint = try? Endpoint(parsing: control) else {
            throw ControlError("cluster '\(cluster)' has no supervisor control address")
        }
        supervisor = endpoint
    }

    /// Hosts that run an etcd member, in topology order.
    public var members: [String] { record.hosts.filter { $0.role == "etcd" }.map(\.name) }

    /// A member's client URL: its service address, through the proxy.
    public func clientURL(_ host: String) -> String {
        let record = record.host(host)!
        return "http://\(record.serviceAddress):\(record.launch.ports.first ?? 2379)"
    }

    /// The host a client URL belongs to (history `node` fields name hosts, not addresses).
    public func host(ofURL url: String) -> String? {
        members.first { clientURL($0) == url }
    }

    // MARK: - Faults

    /// Adds rules atomically (the proxy's rule JSON); answers their ids in order.
    @discardableResult
    public func addRules(_ rules: [[String: Any]]) throws -> [String] {
        let answer = try call("POST", "/faults", rules)
        guard let object = answer as? [String: Any], let ids = object["ids"] as? [Any] else {
            throw ControlError("the proxy did not answer rule ids: \(answer)")
        }
        return ids.compactMap { $0 as? String }
    }

    public func heal(_ id: String) throws { _ = try call("DELETE", "/faults/\(id)", nil) }
    public func healAll() throws { _ = try call("DELETE", "/faults", nil) }

    /// Resets the open connections `from` dialled to `to`, once.
    public func reset(from: String, to: String, probability: Double? = nil) throws {
        var body: [String: Any] = ["from": from, "to": to]
        if let probability { body["probability"] = probability }
        _ = try call("POST", "/reset", body)
    }

    /// kill, terminate, pause, resume, restart (with `wipe`).
    public func process(_ verb: String, host: String, wipe: Bool = false) throws {
        _ = try call("POST", "/process", ["verb": verb, "host": host, "wipe": wipe])
    }

    /// Moves a host's wall clock by `offset` and makes its monotonic clock run at `rate`.
    public func skew(host: String, offset: Nanoseconds, rate: Double = 1) throws {
        _ = try call("POST", "/process", ["verb": "skew", "host": host, "offset_ns": Int(offset), "rate": rate])
    }

    /// The supervisor's view of the hosts now (state, PID, restarts).
    public func status() throws -> ClusterRecord {
        let response = try send("GET", "/status", nil)
        return try JSONDecoder().decode(ClusterRecord.self, from: Data(response.body))
    }

    private func call(_ method: String, _ path: String, _ body: Any?) throws -> Any {
        let response = try send(method, path, body)
        return (try? JSONSerialization.jsonObject(with: Data(response.body))) ?? [:]
    }

    private func send(_ method: String, _ path: String, _ body: Any?) throws -> HTTPResponse {
        let bytes = try body.map { Array(try JSONSerialization.data(withJSONObject: $0)) }
        let response: HTTPResponse
        do {
            response = try lock.withLock { () throws(HTTPClientError) -> HTTPResponse in
                try HTTPClient(endpoint: supervisor).request(method, path, body: bytes, timeout: 30 * Time.second)
            }
        } catch {
            throw ControlError("the supervisor of '\(record.name)' did not answer \(method) \(path): \(error)")
        }
        guard response.status == 200 else { throw ControlError("\(method) \(path): \(response.text)") }
        return response
    }
}
