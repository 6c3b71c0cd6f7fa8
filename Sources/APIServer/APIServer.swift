//! APIServer: a Kubernetes apiserver over the etcd-compatible store, enough for real kubectl
//! and for the controllers and kubelets of this project.
//!
//! A thin shell: the HTTP server (a thread per connection) hands each request to `route`, which
//! reads the path (`KubeAPI.APIPath`) and calls the verb's handler. The handlers do the I/O —
//! objects in the store (`ObjectStore`), watches (`WatchHub`) — and leave every decision that
//! needs no I/O to `KubeAPI`: selectors, patches, defaults, validation, tables, discovery.
//! Several apiservers can share one store: they keep no state of their own beyond connections.

import Base
import EtcdClient
import Foundation
import KubeAPI
import Net
import Synchronization
import Wire

public struct APIServerConfiguration: Sendable {
    /// Where to listen (plain HTTP: kubectl sends no credentials over it, so none are checked).
    public var listen = Endpoint(host: "127.0.0.1", port: 6443)
    /// The address clients are told to use (discovery's serverAddressByClientCIDRs).
    public var advertise: String?
    /// Store endpoints, `http://host:port`; requests fail over between them.
    public var etcdServers: [String] = ["http://127.0.0.1:2379"]
    public var etcdPrefix = "/registry"
    /// Cluster IPs for Services come from this range.
    public var serviceClusterIPRange = "10.96.0.0/12"
    /// How long one store request may take before it is given up (and a read tried on the next
    /// member). Short, so that an isolated member costs a request seconds rather than a minute.
    public var storeRequestTimeout: Nanoseconds = 5 * Time.second
    /// A watch without `timeoutSeconds` ends after this (kube-apiserver: 30–60 min, randomised).
    public var watchTimeout: Nanoseconds = 30 * 60 * Time.second
    /// How long a quiet watch that allows bookmarks goes without one (kube-apiserver: about a
    /// minute). A bookmark carries the newest revision the store has said the watch has seen.
    public var watchBookmarkInterval: Nanoseconds = 60 * Time.second
    /// How often a store member that carries watches is checked for life, and how long it has to
    /// answer before its watches are cut and started on the next member: kube-apiserver's etcd
    /// client keepalive (30 s and 10 s), which finds a blackholed link or a paused member.
    public var storeKeepaliveTime: Nanoseconds = 30 * Time.second
    public var storeKeepaliveTimeout: Nanoseconds = 10 * Time.second
    /// How long the tolerations of `node.kubernetes.io/not-ready` and `…/unreachable` NoExecute
    /// taints that DefaultTolerationSeconds adds to pods last, in whole seconds, at least 0
    /// (kube-apiserver's `--default-not-ready-toleration-seconds` and
    /// `--default-unreachable-toleration-seconds`): how long pods stay on a failing node.
    public var defaultNotReadyTolerationSeconds = DefaultTolerationSeconds.kubernetesDefaultSeconds
    public var defaultUnreachableTolerationSeconds = DefaultTolerationSeconds.kubernetesDefaultSeconds
    /// How often this apiserver checks that the `kubernetes` Service exists (recreating it) and
    /// renews its record in the Service's Endpoints (kube-apiserver's
    /// `DefaultEndpointReconcilerInterval`, 10 s).
    public var endpointReconcilerInterval: Nanoseconds = 10 * Time.second
    /// How long this apiserver stays in the `kubernetes` Endpoints once it stops renewing: the TTL
    /// of the store lease its record is attached to, in whole seconds (kube-apiserver's
    /// `MasterEndpointReconcileTTL`, `DefaultEndpointReconcilerTTL` 15 s). Longer than the
    /// interval, so that a renewal a little late does not drop a live apiserver.
    public var masterEndpointReconcileTTL: Nanoseconds = 15 * Time.second
    /// How often the cluster-IP claims are checked against the Services (kube-apiserver's
    /// `RepairServicesInterval`, 3 min); a claim no Service holds is freed after
    /// `ClusterIPRepair.passesBeforeLeakCleanup` such checks in a row.
    public var repairServicesInterval: Nanoseconds = 3 * 60 * Time.second
    /// Grace for a pod that has no node when deleted: none, as the real server does.
    public var log: @Sendable (String) -> Void = { print($0) }

    public init() {}
}

public final class APIServer: Sendable {
    public let configuration: APIServerConfiguration
    let store: ObjectStore
    let watches: WatchHub
    let namespaces = NamespaceCache()
    let clusterIPs: IPv4Range
    /// The configuration's toleration seconds, checked.
    let tolerationSeconds: DefaultTolerationSeconds
    /// Set once the system namespaces exist (`/readyz` waits for it).
    let bootstrapped = Atomic<Bool>(false)
    /// Stops the background loops (bootstrap, `Bootstrap.swift`; the store keepalive) and waits
    /// for their clean-up.
    let background = StopSignal()
    private let server: HTTPServer

    public init(configuration: APIServerConfiguration) throws(APIServerError) {
        self.configuration = configuration
        guard configuration.storeKeepaliveTime > 0, configuration.storeKeepaliveTimeout > 0 else {
            throw APIServerError("the store keepalive time (\(Time.describe(configuration.storeKeepaliveTime))) and timeout (\(Time.describe(configuration.storeKeepaliveTimeout))) must be positive")
        }
        store = ObjectStore(endpoints: configuration.etcdServers, prefix: configuration.etcdPrefix,
            requestTimeout: configuration.storeRequestTimeout, keepaliveTime: configuration.storeKeepaliveTime,
            keepaliveTimeout: configuration.storeKeepaliveTimeout)
        guard let allocator = IPv4Range(cidr: configuration.serviceClusterIPRange) else {
            throw APIServerError("--service-cluster-ip-range '\(configuration.serviceClusterIPRange)' is not an IPv4 CIDR like 10.96.0.0/12")
        }
        clusterIPs = allocator
        watches = WatchHub(bookmarkInterval: configuration.watchBookmarkInterval)
        for (flag, seconds) in [("--default-not-ready-toleration-seconds", configuration.defaultNotReadyTolerationSeconds),
            ("--default-unreachable-toleration-seconds", configuration.defaultUnreachableTolerationSeconds)] where seconds < 0 {
            throw APIServerError("\(flag) must be at least 0 seconds (got \(seconds))")
        }
        guard configuration.endpointReconcilerInterval > 0, configuration.repairServicesInterval > 0 else {
            throw APIServerError("the endpoint reconciler interval (\(Time.describe(configuration.endpointReconcilerInterval))) and the services repair interval (\(Time.describe(configuration.repairServicesInterval))) must be positive")
        }
        guard configuration.masterEndpointReconcileTTL >= Time.second,
            configuration.masterEndpointReconcileTTL > configuration.endpointReconcilerInterval
        else {
            throw APIServerError("the master endpoint reconcile TTL (\(Time.describe(configuration.masterEndpointReconcileTTL))) must be at least 1 s and longer than the endpoint reconciler interval (\(Time.describe(configuration.endpointReconcilerInterval))), or a live apiserver's record lapses between renewals")
        }
        tolerationSeconds = DefaultTolerationSeconds(notReady: configuration.defaultNotReadyTolerationSeconds,
            unreachable: configuration.defaultUnreachableTolerationSeconds)
        var limits = HTTPServer.Limits()
        limits.bodyBytesMax = 3 << 20  // kube-apiserver's default max request body
        limits.idleTimeout = 90 * Time.second
        let box = WeakServer()
        server = HTTPServer(endpoint: configuration.listen, limits: limits) { request, responder in
            box.server?.route(request, responder)
        }
        box.server = self
    }

    public var port: UInt16 { server.port }

    public func start() throws(NetError) {
        watches.start()
        store.keepalive.start(until: background)
        namespaces.start(store, log: configuration.log)
        try server.start()
        configuration.log("apiserver ready on http://\(configuration.listen.host):\(server.port), store \(configuration.etcdServers.joined(separator: ","))")
    }

    public func stop() {
        // First, while the store is still reachable: the bootstrap loop takes this apiserver out
        // of the `kubernetes` Endpoints. Bounded, as the real one (2 intervals), so that a store
        // out of reach does not hold the stop. The store keepalive ends with it (after the
        // probe under way, which its own timeout bounds).
        if !background.stop(waitingUpTo: 2 * configuration.endpointReconcilerInterval) {
            configuration.log("the background loops (bootstrap, store keepalive) did not finish within \(Time.describe(2 * configuration.endpointReconcilerInterval)); stopping anyway")
        }
        namespaces.stop()
        watches.stop()
        server.stop()
    }

    /// Wall-clock now (the host's `FaultClock`, so clock-skew faults reach the apiserver), whole seconds.
    func now() -> Int64 { Int64(FaultClock.shared.wallNow().timeIntervalSince1970) }

    // MARK: - Routing

    func route(_ request: HTTPRequest, _ responder: HTTPResponder) {
        let reply = Reply(responder)
        switch APIPath.parse(request.path) {
        case .version:
            reply.json(200, KubeCore.versionDocument)
        case .health(let kind):
            // Ready means the store answers and the system namespaces exist; alive means serving.
            if kind == "readyz" {
                guard bootstrapped.load(ordering: .sequentiallyConsistent) else {
                    return reply.text(500, "[-]poststarthook/bootstrap-namespaces failed: not finished\nreadyz check failed")
                }
                guard (try? store.get(store.key(resource: "namespaces", namespace: nil, name: "default"))) != nil else {
                    return reply.text(500, "[-]etcd failed: the store does not answer\nreadyz check failed")
                }
            }
            reply.text(200, "ok")
        case .coreVersions:
            reply.json(200, KubeCore.coreVersions(serverAddress: advertisedAddress(request)))
        case .groups:
            reply.json(200, KubeCore.groupList)
        case .group(let group):
            guard let document = KubeCore.group(group) else { return reply.failure(.unknownPath) }
            reply.json(200, document)
        case .groupVersion(let group, let version):
            guard let document = KubeCore.resourceList(group: group, version: version) else { return reply.failure(.unknownPath) }
            reply.json(200, document)
        case .openAPIIndex:
            reply.json(200, KubeCore.openAPIIndex)
        case .openAPI(let group, let version):
            guard let document = KubeCore.openAPI(group: group, version: version) else { return reply.failure(.unknownPath) }
            reply.json(200, document)
        case .resource(let target):
            guard let resource = KubeCore.resource(group: target.group, version: target.version, plural: target.resource),
                target.namespace == nil || resource.namespaced
            else { return reply.failure(.unknownPath) }
            let context = RequestContext(request: request, target: target, resource: resource, server: self)
            do {
                try handle(context, reply)
            } catch {
                reply.failure(error)
            }
        case .unknown:
            reply.failure(.unknownPath)
        }
    }

    private func advertisedAddress(_ request: HTTPRequest) -> String {
        configuration.advertise ?? request.header("Host") ?? "\(configuration.listen.host):\(server.port)"
    }

    private func handle(_ context: RequestContext, _ reply: Reply) throws(APIFailure) {
        let target = context.target
        switch (context.request.method, target.name, target.subresource) {
        case ("GET", nil, nil):
            if context.query.flag("watch") { return try watch(context, reply) }
            try list(context, reply)
        case ("GET", .some, nil):
            try get(context, reply)
        case ("GET", .some, .some(let subresource)):
            try getSubresource(subresource, context, reply)
        case ("POST", nil, nil):
            try create(context, reply)
        case ("POST", .some, .some(let subresource)):
            try postSubresource(subresource, context, reply)
        case ("PUT", .some, let subresource):
            try update(context, reply, subresource: subresource)
        case ("PATCH", .some, let subresource):
            try patch(context, reply, subresource: subresource)
        case ("DELETE", .some, nil):
            try delete(context, reply)
        case ("DELETE", nil, nil):
            try deleteCollection(context, reply)
        default:
            throw .methodNotAllowed(context.request.method)
        }
    }
}

public struct APIServerError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Lets the HTTP handler reach the server without a retain cycle.
private final class WeakServer: @unchecked Sendable {
    weak var server: APIServer?
}

/// What one resource request is about, read once.
struct RequestContext {
    let request: HTTPRequest
    let target: ResourceTarget
    let resource: ResourceDescriptor
    let query: QueryParameters
    let server: APIServer

    init(request: HTTPRequest, target: ResourceTarget, resource: ResourceDescriptor, server: APIServer) {
        self.request = request
        self.target = target
        self.resource = resource
        self.server = server
        query = QueryParameters(request.query)
    }

    var store: ObjectStore { server.store }
    var wantsTable: Bool { ResponseShape.from(accept: request.header("Accept")) == .table }
    var dryRun: Bool { query["dryRun"] == "All" }

    /// The request's Content-Type without its parameters (`; charset=utf-8`), or `fallback`.
    func mediaType(default fallback: String) -> String {
        guard let header = request.header("Content-Type") else { return fallback }
        return header.split(separator: ";", omittingEmptySubsequences: false).first?.trimmingSpaces ?? ""
    }

    /// The key of the object the path names.
    var key: String {
        precondition(target.name != nil, "key of a collection request \(request.path)")
        return store.key(resource: resource.plural, namespace: target.namespace, name: target.name!)
    }

    /// The key prefix of the collection the path names (all namespaces when none is given).
    var collectionPrefix: String { store.collectionPrefix(resource: resource.plural, namespace: target.namespace) }
}
