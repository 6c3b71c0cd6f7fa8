//! The supervisor as a daemon (`faultline supervise DIR`), and the client the other verbs use to
//! talk to it. `faultline up` writes `launch.json` (the network plan and every host's command)
//! into the cluster's directory and starts the daemon detached; the daemon brings the cluster up,
//! serves a control API on loopback (its address goes into `cluster.json`), and tears everything
//! down on `POST /down`, SIGTERM or SIGINT.
//!
//! Control API (JSON): `GET /status` (the cluster record), `POST /process`
//! (`{"verb":"kill|terminate|pause|resume|restart","host":H,"wipe":bool}`), `POST /down`, and
//! `/faults…` passed through to the fault proxy's control API with every change traced.

import Base
import Foundation
import Glibc
import Net

/// What `up` hands to the daemon.
public struct LaunchSpec: Codable, Sendable {
    public var cluster: String
    public var topology: String
    public var plan: NetworkPlan
    public var launches: [HostLaunch]
    public var faultline: String

    public init(cluster: String, topology: String, plan: NetworkPlan, launches: [HostLaunch], faultline: String) {
        self.cluster = cluster
        self.topology = topology
        self.plan = plan
        self.launches = launches
        self.faultline = faultline
    }

    public static func path(in directory: ClusterDirectory) -> String { directory.path + "/launch.json" }
}

public enum SupervisorService {
    /// Runs the daemon until the cluster is taken down; the exit status.
    public static func run(directory: ClusterDirectory, log: @escaping @Sendable (String) -> Void) -> Int32 {
        let spec: LaunchSpec
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: LaunchSpec.path(in: directory)))
            spec = try JSONDecoder().decode(LaunchSpec.self, from: data)
        } catch {
            log("cannot read \(LaunchSpec.path(in: directory)): \(error)")
            return 2
        }
        let supervisor: Supervisor
        do {
            supervisor = try Supervisor.up(cluster: spec.cluster, topology: spec.topology, plan: spec.plan,
                launches: spec.launches, faultline: spec.faultline, log: log)
        } catch {
            log("cannot bring cluster '\(spec.cluster)' up: \(error)")
            return 1
        }
        let finished = DispatchSemaphore(value: 0)
        let server = HTTPServer(endpoint: Endpoint(host: "127.0.0.1", port: 0)) { request, responder in
            let (status, body) = handle(request, supervisor, finished: finished)
            responder.respond(status: status, body: Array(body.utf8))
        }
        do { try server.start() } catch {
            log("cannot serve the control API: \(error)")
            supervisor.down()
            return 1
        }
        supervisor.setControl("127.0.0.1:\(server.port)", pid: getpid(), command: CommandLine.arguments)
        let signals = TerminationSignals.signal(finished)
        // Rules that heal themselves (TTL) go into the trace too: watch the proxy's rule list.
        Thread {
            var known: Set<String> = []
            while finished.wait(timeout: .now() + .milliseconds(100)) == .timedOut {
                let (status, text) = supervisor.forwardToProxy(method: "GET", path: "/faults", body: [])
                guard status == 200, let rules = ProxyAnswer.list("rules", in: text) else { continue }
                let current = Set(rules.compactMap { $0["id"] as? String })
                for id in known.subtracting(current).sorted() where !supervisor.wasHealed(id) {
                    supervisor.traceEvent(["kind": "fault", "event": "expired", "rule": id])
                }
                known = current
            }
            finished.signal()  // pass the wake-up on to the main wait
        }.start()
        let ready = supervisor.waitReady(timeout: 60 * Time.second)
        supervisor.markReady(ready)
        log(ready ? "cluster '\(spec.cluster)' is ready" : "cluster '\(spec.cluster)' did not become ready within 60 s")
        finished.wait()
        _ = signals
        log("taking cluster '\(spec.cluster)' down")
        supervisor.down()
        server.stop()
        return 0
    }

    static func handle(_ request: HTTPRequest, _ supervisor: Supervisor, finished: DispatchSemaphore) -> (Int, String) {
        func json(_ value: Any) -> String {
            (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        }
        func failure(_ status: Int, _ message: String) -> (Int, String) { (status, json(["error": message])) }
        switch (request.method, request.path) {
        case ("GET", "/status"):
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            guard let data = try? encoder.encode(supervisor.snapshot) else { return failure(500, "cannot encode the record") }
            return (200, String(decoding: data, as: UTF8.self))
        case ("POST", "/process"):
            guard let object = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any],
                let verb = object["verb"] as? String, let host = object["host"] as? String
            else { return failure(400, "expected {\"verb\":…,\"host\":…}") }
            do {
                if verb == "skew" {
                    try supervisor.skew(host: host, offset: Nanoseconds(object["offset_ns"] as? Int ?? 0), rate: object["rate"] as? Double ?? 1)
                    return (200, json(["ok": true]))
                }
                try supervisor.fault(verb, host: host, wipe: object["wipe"] as? Bool ?? false)
                return (200, json(["ok": true]))
            } catch {
                return failure(400, "\(error)")
            }
        case ("POST", "/down"):
            finished.signal()
            return (200, json(["ok": true]))
        case (_, let path) where path.hasPrefix("/faults") || path.hasPrefix("/links") || path.hasPrefix("/rules") || path == "/reset":
            return supervisor.forwardToProxy(method: request.method, path: path, body: request.body)
        default:
            return failure(404, "no route \(request.method) \(request.path)")
        }
    }
}

extension Supervisor {
    /// Rules healed by a DELETE (of one, or of all that were active), remembered so that the
    /// rule watcher does not report them as expired. Rule ids are never reused by a proxy.
    func noteHealed(_ ids: [String]) { healedLock.withLock { healedIDs.formUnion(ids) } }

    func wasHealed(_ id: String) -> Bool { healedLock.withLock { healedIDs.contains(id) } }

    func setControl(_ address: String, pid: Int32, command: [String]) {
        update {
            $0.supervisorControl = address
            $0.supervisor = ProcessRecord(pid: pid, command: command)
        }
    }

    func markReady(_ ready: Bool) { update { $0.state = ready ? "ready" : "unready" } }

    /// Passes a fault-rule call to the proxy's control API (`/faults…` becomes `/rules…`) and
    /// traces every change it accepts.
    func forwardToProxy(method: String, path: String, body: [UInt8]) -> (Int, String) {
        let record = snapshot
        guard let endpoint = try? Endpoint(parsing: record.proxyControl) else { return (500, "{\"error\":\"bad proxy address\"}") }
        let proxyPath = path.hasPrefix("/faults") ? "/rules" + path.dropFirst("/faults".count) : path
        let client = HTTPClient(endpoint: endpoint)
        if method == "DELETE" {
            // Learn which rules this heals before they are gone.
            if proxyPath == "/rules", let listing = try? client.get("/rules", timeout: 5 * Time.second),
                let rules = ProxyAnswer.list("rules", in: listing.text)
            {
                noteHealed(rules.compactMap { $0["id"] as? String })
            } else if proxyPath.hasPrefix("/rules/") {
                noteHealed([String(proxyPath.dropFirst("/rules/".count))])
            }
        }
        do {
            let response = try client.request(method, proxyPath, body: method == "GET" ? nil : body, timeout: 5 * Time.second)
            if method != "GET" && response.status == 200 {
                let rules = (try? JSONSerialization.jsonObject(with: Data(body))) ?? NSNull()
                traceEvent(["kind": "fault", "event": method == "DELETE" ? "heal" : "apply", "path": proxyPath,
                    "request": rules, "answer": (try? JSONSerialization.jsonObject(with: Data(response.text.utf8))) ?? response.text])
            }
            return (response.status, response.text)
        } catch {
            return (502, "{\"error\":\"the fault proxy did not answer: \(error)\"}")
        }
    }
}

/// Reads the proxy control API's answers, which wrap their lists with the table version:
/// `{"version": 3, "rules": [...]}`, `{"version": 3, "links": [...], ...}`.
public enum ProxyAnswer {
    /// The list under `member`, or nil when the text is not such an answer.
    public static func list(_ member: String, in text: String) -> [[String: Any]]? {
        let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
        return object?[member] as? [[String: Any]]
    }
}
