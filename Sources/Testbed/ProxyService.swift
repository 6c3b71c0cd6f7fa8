//! `faultline proxy --config FILE --control HOST:PORT`: the fault proxy as a daemon in a
//! cluster's switch namespace, with its control API.
//!
//! Config (written by the supervisor):
//! `{"hosts": {"etcd-1": {"addresses": ["10.200.1.2"], "routes": [{"listen": "10.200.255.1:2379",
//! "target": "10.200.1.2:2379"}]}, "client": {"addresses": ["10.200.0.2"], "routes": []}}}`
//!
//! Control API (JSON): `GET /rules`; `POST /rules` with a list of rules, applied atomically,
//! answering their ids; `DELETE /rules/ID`; `DELETE /rules` (heal all); `GET /links` (per-link
//! counters); `POST /reset` (`{"from":A,"to":B}`: reset the open connections A dialled to B, once);
//! `GET /health`.

import Base
import FaultRules
import Foundation
import Glibc
import Net

public enum ProxyService {
    struct Config: Decodable {
        struct HostEntry: Decodable {
            struct RouteEntry: Decodable {
                var listen: String
                var target: String
            }
            var addresses: [String]
            var routes: [RouteEntry]
        }
        var hosts: [String: HostEntry]
    }

    /// Loads the config into a proxy (not started).
    public static func load(_ path: String) throws -> FaultProxy {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let config = try JSONDecoder().decode(Config.self, from: data)
        var routes: [FaultProxy.Route] = []
        var sources: [String: String] = [:]
        for (name, host) in config.hosts.sorted(by: { $0.key < $1.key }) {
            for address in host.addresses { sources[address] = name }
            for route in host.routes {
                routes.append(FaultProxy.Route(listen: try Endpoint(parsing: route.listen), target: try Endpoint(parsing: route.target), host: name))
            }
        }
        return FaultProxy(routes: routes, sources: sources)
    }

    public static func run(config: String, control: String) -> Int32 {
        let proxy: FaultProxy
        let endpoint: Endpoint
        do {
            proxy = try load(config)
            endpoint = try Endpoint(parsing: control)
            try proxy.start()
        } catch {
            FileHandle.standardError.write(Data("faultline proxy: \(error)\n".utf8))
            return 1
        }
        let server = HTTPServer(endpoint: endpoint) { request, responder in
            let (status, body) = handle(request, proxy)
            responder.respond(status: status, body: Array(body.utf8))
        }
        do { try server.start() } catch {
            FileHandle.standardError.write(Data("faultline proxy: control API on \(control): \(error)\n".utf8))
            return 1
        }
        FileHandle.standardOutput.write(Data("proxy ready control=\(control) routes=\(proxy.routes.count)\n".utf8))
        let finished = DispatchSemaphore(value: 0)
        let signals = TerminationSignals.signal(finished)
        finished.wait()
        _ = signals
        server.stop()
        proxy.stop()
        return 0
    }

    static func handle(_ request: HTTPRequest, _ proxy: FaultProxy) -> (Int, String) {
        func encode<T: Encodable>(_ value: T) -> String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
        }
        func failure(_ status: Int, _ message: String) -> (Int, String) { (status, encode(["error": message])) }
        switch (request.method, request.path) {
        case ("GET", "/health"): return (200, encode(["ok": true]))
        case ("GET", "/rules"): return (200, encode(proxy.rules))
        case ("GET", "/links"): return (200, encode(proxy.links))
        case ("POST", "/rules"):
            let rules: [FaultRule]
            do { rules = try JSONDecoder().decode([FaultRule].self, from: Data(request.body)) } catch {
                return failure(400, "expected a JSON list of rules: \(error)")
            }
            do { return (200, encode(["ids": try proxy.apply(rules)])) } catch { return failure(400, error.description) }
        case ("POST", "/reset"):
            guard let object = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any],
                let from = object["from"] as? String, let to = object["to"] as? String
            else { return failure(400, "expected {\"from\":HOST,\"to\":HOST}") }
            return (200, encode(["reset": proxy.reset(from: from, to: to)]))
        case ("DELETE", "/rules"):
            proxy.heal()
            return (200, encode(["ok": true]))
        case ("DELETE", let path) where path.hasPrefix("/rules/"):
            let id = String(path.dropFirst("/rules/".count))
            return proxy.remove(id) ? (200, encode(["ok": true])) : failure(404, "no rule '\(id)' (see GET /rules)")
        default:
            return failure(404, "no route \(request.method) \(request.path)")
        }
    }
}
