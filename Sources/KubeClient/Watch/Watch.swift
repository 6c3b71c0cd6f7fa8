//! `APIClient.watch`: one watch stream (`?watch=true`) from a resourceVersion, on its own
//! connection (never a pooled one: it is held for minutes, and `WatchCancellation` must be able
//! to interrupt it from another thread). The stream starts on the client's current apiserver and
//! moves on to the next one when it cannot be opened there; a stream that breaks afterwards
//! marks its server failed, so the caller's next watch opens elsewhere.

import Base
import KubeAPI
import Net
import Synchronization

/// Ends a watch from another thread (`Informer.stop`).
public final class WatchCancellation: Sendable {
    private let state = Mutex<(cancelled: Bool, connection: PooledConnection?)>((false, nil))

    public init() {}

    public var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Interrupts the stream being read (if any) and every later one through this cancellation.
    public func cancel() {
        let connection = state.withLock { state -> PooledConnection? in
            state.cancelled = true
            return state.connection
        }
        connection?.http.interrupt()
    }

    /// Registers the stream's connection; false when already cancelled.
    func attach(_ connection: PooledConnection?) -> Bool {
        state.withLock { state in
            state.connection = connection
            return !state.cancelled
        }
    }
}

/// How a watch ended without an error.
public enum WatchEnd: Sendable, Equatable {
    /// The server closed the stream (its timeout, or it is shutting down): watch again.
    case closed
    /// `onEvent` returned false.
    case stoppedByHandler
    case cancelled
}

extension APIClient {
    /// Watches `resource` from `resourceVersion`, calling `onEvent` (on this thread) for each event
    /// until it returns false, the server ends the stream, or `cancellation` fires.
    /// `timeoutSeconds` asks the server to end the stream then; `idleTimeout` gives up on a
    /// stream that sent nothing for that long (the apiserver sends a BOOKMARK a minute apart).
    /// Before that, a stream silent for the configuration's `watchReadIdleTimeout` has its
    /// apiserver checked, and breaks when the check goes unanswered (`watchPingTimeout`).
    /// Throws `.status` when the server refused the watch, `.unreachable` when no server could
    /// be reached or the stream broke.
    public func watch(
        _ resource: APIResource, namespace: String? = nil, labelSelector: String? = nil, fieldSelector: String? = nil,
        resourceVersion: String, timeoutSeconds: Int64? = nil, allowBookmarks: Bool = true,
        idleTimeout: Nanoseconds = 90 * Time.second, cancellation: WatchCancellation = WatchCancellation(),
        onEvent: (WatchEvent) -> Bool
    ) throws(APIError) -> WatchEnd {
        let query = QueryString.build([
            ("watch", "true"), ("resourceVersion", resourceVersion.isEmpty ? nil : resourceVersion),
            ("allowWatchBookmarks", allowBookmarks ? "true" : nil), ("timeoutSeconds", timeoutSeconds.map(String.init)),
            ("labelSelector", labelSelector), ("fieldSelector", fieldSelector),
        ])
        let path = resource.path(namespace: namespace) + query
        var failures: [String] = []
        for index in endpointOrder() {
            let connection = PooledConnection(
                http: HTTPClient(endpoint: endpoints[index], connectTimeout: configuration.connectTimeout), endpointIndex: index,
                lastUsed: clock.monotonic())
            defer { connection.http.disconnect() }
            guard cancellation.attach(connection) else { return .cancelled }
            defer { _ = cancellation.attach(nil) }
            let healthCheck = StreamHealthCheck(readIdle: configuration.watchReadIdleTimeout) { [endpoint = endpoints[index], timeout = configuration.watchPingTimeout] in
                guard !cancellation.isCancelled else { return false }
                let probe = HTTPClient(endpoint: endpoint, connectTimeout: timeout)
                defer { probe.disconnect() }
                // Any answer will do, an error status too: the question is whether the path lives.
                return (try? probe.get("/livez", timeout: timeout)) != nil
            }
            var splitter = LineSplitter()
            var stoppedByHandler = false
            var oversized = false
            var opened = false
            let status: Int
            do {
                status = try connection.http.stream(path, method: "GET", body: [], idleTimeout: idleTimeout, healthCheck: healthCheck) { chunk in
                    opened = true
                    guard let lines = splitter.append(chunk) else {
                        oversized = true
                        return false
                    }
                    for line in lines where !onEvent(WatchEvent.decode(line)) {
                        stoppedByHandler = true
                        return false
                    }
                    return true
                }
            } catch {
                if cancellation.isCancelled { return .cancelled }
                markFailed(index)
                switch error {
                case .notSent(let why):
                    failures.append("\(endpoints[index]): \(why)")
                    continue
                case .noAnswer(let why):
                    // Broken before it opened: a watch is a read, so the next server may serve it.
                    guard opened else {
                        failures.append("\(endpoints[index]): \(why)")
                        continue
                    }
                    throw .unreachable("the watch stream from \(endpoints[index]) broke: \(why)")
                }
            }
            if cancellation.isCancelled { return .cancelled }
            if oversized {
                throw .status(code: 500, reason: .internalError, message: "a watch event line exceeded \(splitter.lineBytesMax) bytes")
            }
            if stoppedByHandler { return .stoppedByHandler }
            guard status == 200 else { throw APIError.from(code: status, status: nil) }
            return .closed
        }
        throw .unreachable("watch \(path): no apiserver answered: \(failures.joined(separator: "; "))")
    }
}
