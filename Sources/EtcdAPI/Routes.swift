//! The gateway's routes, as etcd 3.4 serves them: every v3 RPC is a POST under /v3/ or /v3beta/
//! (other methods get 405; an unknown RPC gets the gateway's 404 "Not Found"); /health, /version
//! and /metrics are GETs; any other path gets Go's 404 "404 page not found".

public enum Route: String, Sendable, CaseIterable {
    case range, put, deleteRange, txn, compaction
    case leaseGrant, leaseRevoke, leaseKeepAlive, leaseTimeToLive, leaseLeases
    case watch
    case memberList, memberAdd, memberRemove, memberUpdate, memberPromote
    case status, alarm, hash, moveLeader
    case health, version, metrics
}

public enum RouteMatch: Equatable, Sendable {
    case route(Route)
    /// An unknown RPC under /v3/ (the gateway's "Not Found").
    case notFound
    /// An unknown path anywhere else (Go's mux: "404 page not found").
    case pageNotFound
    case methodNotAllowed
}

extension EtcdAPI {
    static let rpcPaths: [String: Route] = [
        "kv/range": .range, "kv/put": .put, "kv/deleterange": .deleteRange, "kv/txn": .txn, "kv/compaction": .compaction,
        "lease/grant": .leaseGrant, "lease/revoke": .leaseRevoke, "lease/keepalive": .leaseKeepAlive,
        "lease/timetolive": .leaseTimeToLive, "lease/leases": .leaseLeases,
        "kv/lease/revoke": .leaseRevoke, "kv/lease/timetolive": .leaseTimeToLive, "kv/lease/leases": .leaseLeases,
        "watch": .watch, "cluster/member/list": .memberList, "cluster/member/add": .memberAdd,
        "cluster/member/remove": .memberRemove, "cluster/member/update": .memberUpdate, "cluster/member/promote": .memberPromote,
        "maintenance/status": .status, "maintenance/alarm": .alarm, "maintenance/hash": .hash,
        "maintenance/transfer-leadership": .moveLeader,
    ]

    public static func route(method: String, path: String) -> RouteMatch {
        let plain: [String: Route] = ["/health": .health, "/version": .version, "/metrics": .metrics]
        if let route = plain[path] { return method == "GET" || method == "HEAD" ? .route(route) : .methodNotAllowed }
        // etcd 3.4 serves the gateway under /v3/ and /v3beta/ (not /v3alpha/).
        for prefix in ["/v3/", "/v3beta/"] where path.hasPrefix(prefix) {
            guard let route = rpcPaths[String(path.dropFirst(prefix.count))] else { return .notFound }
            return method == "POST" ? .route(route) : .methodNotAllowed
        }
        return .pageNotFound
    }
}

public enum EtcdAPI {}
