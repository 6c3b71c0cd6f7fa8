//! APIClient: requests to a list of apiservers with failover, for the components (scheduler,
//! controller-manager, kubelets).
//!
//! A request goes to the current apiserver. When it cannot be delivered there (connection
//! refused, reset, timed out) the client moves on to the next one and, if the request is a read
//! (GET), sends it there; a write that was sent and got no answer is not resent — it may have
//! been applied — and fails as `APIError.unreachable`. An HTTP failure status (404, 409, 503…) is
//! an answer: it is returned as `APIError.status` and never moves the client to another server.
//! The current server stays current until it fails (no return to the first): clients spread
//! over servers only as they fail, as client-go with one load-balanced URL would.
//!
//! Timeouts (client-go sets no per-request timeout but bounds dialing and waiting for response
//! headers; here one response timeout covers the whole response): `requestTimeout` 10 s for the
//! answer, `connectTimeout` 2 s for a connection. Both are parameters.
//!
//! Thread-safe: `HTTPClient` is not, so each request checks a connection out of a small pool per
//! apiserver and returns it afterwards; at most `idleConnectionsMax` idle connections are kept
//! per server (more requests at once open more connections, closed when done).

import Base
import KubeAPI
import Net
import Synchronization
import Wire

public struct APIClientConfiguration: Sendable {
    /// Apiserver URLs, `http://host:port`, in the order they are tried.
    public var servers: [String]
    /// How long to wait for a response once a request is sent.
    public var requestTimeout: Nanoseconds = 10 * Time.second
    /// How long to wait for a new connection.
    public var connectTimeout: Nanoseconds = 2 * Time.second
    /// Idle keep-alive connections kept per apiserver.
    public var idleConnectionsMax = 4
    /// An idle connection older than this is closed rather than reused (the apiserver closes
    /// idle connections after 90 s; reusing one it is closing would lose a write's answer).
    public var idleConnectionAgeMax: Nanoseconds = 30 * Time.second
    /// A watch stream silent this long has its apiserver checked (client-go's HTTP/2
    /// ReadIdleTimeout, 30 s)…
    public var watchReadIdleTimeout: Nanoseconds = 30 * Time.second
    /// …and ends when the check gets no answer within this (client-go's PingTimeout, 15 s), so
    /// that a watch on an apiserver behind a blackholed link moves on long before its own idle
    /// limit. The check is a `GET /livez` on a fresh connection along the same path.
    public var watchPingTimeout: Nanoseconds = 15 * Time.second
    /// Who is asking: sent as the User-Agent and written as an Event's `source.component`
    /// (`default-scheduler`, `kubelet`, `node-controller`…).
    public var component: String
    /// The host the component runs on, for an Event's `source.host`; nil leaves it out.
    public var host: String?

    public init(servers: [String], component: String, host: String? = nil) {
        self.servers = servers
        self.component = component
        self.host = host
    }
}

public struct APIClientConfigurationError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

public final class APIClient: Sendable {
    public let configuration: APIClientConfiguration
    public let endpoints: [Endpoint]
    let clock: ClientClock
    private let pool: Mutex<PoolState>
    /// The last Event name's time suffix, so two Events in one nanosecond still differ.
    private let lastEventStamp = Mutex<Int64>(0)

    private struct PoolState {
        /// Index into `endpoints` of the server requests go to first.
        /// Invariant: 0 <= current < endpoints.count.
        var current = 0
        /// Idle connections per endpoint, most recently used last.
        var idle: [[PooledConnection]]
    }

    public init(_ configuration: APIClientConfiguration, clock: ClientClock = .host) throws(APIClientConfigurationError) {
        guard !configuration.servers.isEmpty else { throw APIClientConfigurationError(description: "no apiserver URLs given") }
        var endpoints: [Endpoint] = []
        for server in configuration.servers {
            do { endpoints.append(try Endpoint(parsing: server)) } catch {
                throw APIClientConfigurationError(description: "apiserver URL \(error.message)")
            }
        }
        guard configuration.requestTimeout > 0, configuration.connectTimeout > 0, configuration.idleConnectionsMax >= 0,
            configuration.watchReadIdleTimeout > 0, configuration.watchPingTimeout > 0
        else {
            throw APIClientConfigurationError(description:
                "timeouts must be positive and the pool size not negative (request \(Time.describe(configuration.requestTimeout)), "
                + "connect \(Time.describe(configuration.connectTimeout)), watch read-idle \(Time.describe(configuration.watchReadIdleTimeout)), "
                + "watch ping \(Time.describe(configuration.watchPingTimeout)), pool \(configuration.idleConnectionsMax))")
        }
        self.configuration = configuration
        self.endpoints = endpoints
        self.clock = clock
        pool = Mutex(PoolState(idle: Array(repeating: [], count: endpoints.count)))
    }

    /// The apiserver requests go to first now.
    public var currentEndpoint: Endpoint { endpoints[pool.withLock { $0.current }] }

    // MARK: - Sending with failover

    /// Sends one request, moving on to the next apiserver as this file's header says.
    /// Without `timeout` each attempt may wait `requestTimeout`; with one, it is the budget for
    /// all attempts together (the leader elector must not wait past its renew deadline).
    func send(_ method: String, _ path: String, body: [UInt8]? = nil, contentType: String = "application/json",
        timeout: Nanoseconds? = nil) throws(APIError) -> HTTPResponse
    {
        let retriable = method == "GET"
        let budgetEnd = timeout.map { MonotonicClock.now() + max(Time.millisecond, $0) }
        let first = pool.withLock { $0.current }
        var failures: [String] = []
        for offset in 0..<endpoints.count {
            var attemptTimeout = configuration.requestTimeout
            if let budgetEnd {
                attemptTimeout = min(attemptTimeout, budgetEnd - MonotonicClock.now())
                guard attemptTimeout > 0 else { break }
            }
            let index = (first + offset) % endpoints.count
            let connection = checkOut(index, timeout: attemptTimeout)
            do {
                let response = try connection.http.request(method, path, body: body, timeout: attemptTimeout,
                    contentType: contentType, headers: [("User-Agent", configuration.component), ("Accept", "application/json")])
                checkIn(connection)
                return response
            } catch {
                connection.http.disconnect()
                markFailed(index)
                switch error {
                case .notSent(let why):
                    failures.append("\(endpoints[index]): \(why)")
                case .noAnswer(let why):
                    failures.append("\(endpoints[index]): \(why)")
                    guard retriable else {
                        throw .unreachable("\(method) \(path) was sent to \(endpoints[index]) but got no answer (\(why)); it may have been applied")
                    }
                }
            }
        }
        if failures.isEmpty { failures.append("no time left of the \(Time.describe(timeout ?? 0)) allowed") }
        throw .unreachable("\(method) \(path): no apiserver answered: \(failures.joined(separator: "; "))")
    }

    /// Moves `current` past a server that just failed, unless another request already did.
    func markFailed(_ index: Int) {
        pool.withLock { state in
            if state.current == index { state.current = (index + 1) % endpoints.count }
            precondition((0..<endpoints.count).contains(state.current), "current \(state.current) of \(endpoints.count) endpoints")
            for connection in state.idle[index] { connection.http.disconnect() }
            state.idle[index].removeAll()
        }
    }

    /// The first server a new stream should try, and the order after it.
    func endpointOrder() -> [Int] {
        let first = pool.withLock { $0.current }
        return (0..<endpoints.count).map { (first + $0) % endpoints.count }
    }

    private func checkOut(_ index: Int, timeout: Nanoseconds) -> PooledConnection {
        let now = clock.monotonic()
        let reused = pool.withLock { state -> PooledConnection? in
            while let connection = state.idle[index].popLast() {
                if now - connection.lastUsed <= configuration.idleConnectionAgeMax { return connection }
                connection.http.disconnect()
            }
            return nil
        }
        if let reused { return reused }
        let http = HTTPClient(endpoint: endpoints[index], connectTimeout: min(configuration.connectTimeout, timeout))
        return PooledConnection(http: http, endpointIndex: index, lastUsed: now)
    }

    private func checkIn(_ connection: PooledConnection) {
        connection.lastUsed = clock.monotonic()
        let kept = pool.withLock { state -> Bool in
            guard state.idle[connection.endpointIndex].count < configuration.idleConnectionsMax else { return false }
            state.idle[connection.endpointIndex].append(connection)
            return true
        }
        if !kept { connection.http.disconnect() }
    }

    /// A unique, increasing stamp (nanoseconds of the wall clock) for an Event's name.
    func nextEventStamp(wallMicroseconds: Int64) -> Int64 {
        lastEventStamp.withLock { last in
            last = max(last + 1, wallMicroseconds * 1_000)
            return last
        }
    }
}

/// One keep-alive connection. Audited `@unchecked Sendable`: it is used by one thread at a time,
/// being either idle in the pool (touched only under the pool's lock) or checked out by exactly
/// one request; a watch's connection is also reached by `WatchCancellation.cancel`, which calls
/// only `HTTPClient.interrupt`, the one method made for another thread.
final class PooledConnection: @unchecked Sendable {
    let http: HTTPClient
    let endpointIndex: Int
    var lastUsed: Nanoseconds

    init(http: HTTPClient, endpointIndex: Int, lastUsed: Nanoseconds) {
        self.http = http
        self.endpointIndex = endpointIndex
        self.lastUsed = lastUsed
    }
}
