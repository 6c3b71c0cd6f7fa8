//! The gateway's routes. Every v3 RPC is a POST (other methods get 405, unknown paths 404), under
//! /v3/ and its older spellings /v3beta/ and /v3alpha/, as etcd 3.4 serves them.

public enum Route: String, Sendable, CaseIterable {
    case range, put, deleteRange, txn, compaction
    case leaseGrant, leaseRevoke, leaseKeepAlive, leaseTimeToLive, leaseLeases
    case watch
    case memberList
    case status, alarm, hash
    case health, version, metrics
}

public enum RouteMatch: Equatable, Sendable {
    case route(Route)
    case notFound
    case methodNotAllowed
}

extension EtcdAPI {
    static let rpcPaths: [String: Route] = [
        "kv/range": .range, "kv/put": .put, "kv/deleterange": .deleteRange, "kv/txn": .txn, "kv/compaction": .compaction,
        "lease/grant": .leaseGrant, "lease/revoke": .leaseRevoke, "lease/keepalive": .leaseKeepAlive,
        "lease/timetolive": .leaseTimeToLive, "lease/leases": .leaseLeases,
        "kv/lease/revoke": .leaseRevoke, "kv/lease/timetolive": .leaseTimeToLive, "kv/lease/leases": .leaseLeases,
        "watch": .watch, "cluster/member/list": .memberList,
        "maintenance/status": .status, "maintenance/alarm": .alarm, "maintenance/hash": .hash,
    ]

    public static func route(method: String, path: String) -> RouteMatch {
        switch path {
        case "/health": return .route(.health)
        case "/version": return .route(.version)
        case "/metrics": return .route(.metrics)
        default: break
        }
        for prefix in ["/v3/", "/v3beta/", "/v3alpha/"] where path.hasPrefix(prefix) {
            guard let route = rpcPaths[String(path.dropFirst(prefix.count))] else { return .notFound }
            return method == "POST" ? .route(route) : .methodNotAllowed
        }
        return .notFound
    }
}

public enum EtcdAPI {}
