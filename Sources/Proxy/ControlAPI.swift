//! The proxy's control API: HTTP/1.1 with JSON bodies, on its own endpoint.
//!
//!     GET    /health        {"ok": true, "version": 3, "rules": 1, "connections_open": 4}
//!     GET    /rules         {"version": 3, "rules": [{"id": "r1", "kind": "cut", ..., "expires_in_ms": 900}]}
//!     POST   /rules         body: a list of rules, applied atomically
//!                           -> {"ids": ["r2", null], "version": 4, "connections_reset": 0}
//!     DELETE /rules/ID      -> {"removed": "r2", "version": 5}          (404 if no such rule)
//!     DELETE /rules         heal everything -> {"removed": 3, "version": 6}
//!     GET    /links         per-link counters and each link's policy now
//!     POST   /reset         body: {"from": "client", "to": "etcd-1", "probability": 1}
//!                           -> {"connections_reset": 2}
//!
//! Errors are `{"error": "message"}` with status 400 (bad input), 404 (no such rule or path)
//! or 405 (wrong method).

import Base
import Faults
import Net
import Wire

public final class ControlServer: @unchecked Sendable {
    public let proxy: FaultProxy
    private let server: HTTPServer

    public init(proxy: FaultProxy, endpoint: Endpoint) {
        self.proxy = proxy
        var limits = HTTPServer.Limits()
        limits.connectionsMax = 64
        limits.bodyBytesMax = 1 << 20
        server = HTTPServer(endpoint: endpoint, limits: limits) { request, responder in
            let (status, body) = ControlServer.handle(proxy, request)
            responder.respond(status: status, body: Array((JSON.serialize(body) + "\n").utf8))
        }
    }

    public func start() throws(NetError) { try server.start() }
    public func stop() { server.stop() }
    /// The port the control API listens on (the kernel's choice when asked for port 0).
    public var port: UInt16 { server.port }

    static func handle(_ proxy: FaultProxy, _ request: HTTPRequest) -> (Int, JSONValue) {
        let path = request.path.count > 1 && request.path.hasSuffix("/") ? String(request.path.dropLast()) : request.path
        switch (request.method, path) {
        case ("GET", "/health"):
            return (200, .object(["ok": .bool(true), "version": .integer(Int64(proxy.tableVersion)),
                "rules": .integer(Int64(proxy.rules.count)), "connections_open": .integer(Int64(proxy.connectionCount))]))
        case ("GET", "/rules"):
            let now = ProxyClock.now()
            return (200, .object(["version": .integer(Int64(proxy.tableVersion)), "rules": .array(proxy.rules.map { $0.json(now: now) })]))
        case ("POST", "/rules"):
            do {
                let rules = try FaultRule.parseList(body: request.body)
                let (change, reset) = try proxy.apply(rules)
                return (200, .object(["ids": .array(change.ids.map { $0.map(JSONValue.string) ?? .null }),
                    "version": .integer(Int64(proxy.tableVersion)), "connections_reset": .integer(Int64(reset))]))
            } catch {
                return failure(400, error.message)
            }
        case ("DELETE", "/rules"):
            let removed = proxy.heal()
            return (200, .object(["removed": .integer(Int64(removed)), "version": .integer(Int64(proxy.tableVersion))]))
        case ("DELETE", _) where path.hasPrefix("/rules/"):
            let id = String(path.dropFirst("/rules/".count))
            guard proxy.remove(id: id) else { return failure(404, "no active rule '\(id)'") }
            return (200, .object(["removed": .string(id), "version": .integer(Int64(proxy.tableVersion))]))
        case ("GET", "/links"):
            return (200, proxy.linksReport())
        case ("POST", "/reset"):
            do {
                let action = try parseReset(request.body, hosts: proxy.configuration.hosts)
                return (200, .object(["connections_reset": .integer(Int64(proxy.reset(action)))]))
            } catch {
                return failure(400, error.message)
            }
        case (_, "/health"), (_, "/rules"), (_, "/links"), (_, "/reset"):
            return failure(405, "\(request.method) is not allowed on \(path)")
        default:
            return failure(404, "no such path: \(request.method) \(path) (see GET /health, /rules, /links; POST /rules, /reset; DELETE /rules[/ID])")
        }
    }

    private static func failure(_ status: Int, _ message: String) -> (Int, JSONValue) {
        (status, .object(["error": .string(message)]))
    }

    /// A reset body is a reset rule without its kind: `{"from": ..., "to": ..., "probability": ...}`.
    static func parseReset(_ body: [UInt8], hosts: [HostName]) throws(FaultError) -> ResetAction {
        var rules = try FaultRule.parseList(body: body.isEmpty ? Array("{}".utf8) : injectKind(body))
        guard rules.count == 1, case .reset(let from, let to) = rules[0].kind else {
            throw FaultError("POST /reset takes one object like {\"from\": \"client\", \"to\": \"etcd-1\"}")
        }
        try rules[0].validate(hosts: Set(hosts))
        let rule = rules.removeFirst()
        return ResetAction(link: Link(from: from, to: to), probability: rule.probability)
    }

    /// Adds `"kind": "reset"` to a JSON object body (leaving anything else for the parser to refuse).
    private static func injectKind(_ body: [UInt8]) throws(FaultError) -> [UInt8] {
        let value: JSONValue
        do {
            value = try body.withUnsafeBufferPointer { buffer throws(JSONParseError) in try JSON.parse(bytes: buffer) }
        } catch {
            throw FaultError("body is not JSON: \(error)")
        }
        guard case .object(var object) = value else { throw FaultError("POST /reset takes one object like {\"from\": \"client\", \"to\": \"etcd-1\"}") }
        if object["kind"] == nil { object["kind"] = .string("reset") }
        return Array(JSON.serialize(.object(object)).utf8)
    }
}
