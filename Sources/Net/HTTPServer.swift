//! An HTTP/1.1 server: one thread per connection (simple, and the handler may block while the
//! store commits), a bounded number of connections, keep-alive with an idle timeout, a deadline
//! for slow clients to finish their request head, chunked streaming responses for watch and
//! lease keepalive. A malformed or oversized request gets its status and the connection closes;
//! nothing a client sends can take the server down.

import Base
import Foundation
import Glibc
import Synchronization
import Wire

public final class HTTPServer: @unchecked Sendable {
    public typealias Handler = @Sendable (HTTPRequest, HTTPResponder) -> Void

    public struct Limits: Sendable {
        public var connectionsMax = 1024
        public var headerBytesMax = 64 << 10
        public var bodyBytesMax = 2 << 20
        /// A request must be complete this long after its first byte (slowloris).
        public var requestTimeout: Nanoseconds = 10 * Time.second
        /// A keep-alive connection with no request for this long is closed.
        public var idleTimeout: Nanoseconds = 60 * Time.second
        /// A response write that makes no progress for this long fails.
        public var writeTimeout: Nanoseconds = 10 * Time.second
        public init() {}
    }

    public let endpoint: Endpoint
    public let limits: Limits
    private let handler: Handler
    private var listener: Int32 = -1
    public private(set) var port: UInt16 = 0
    private let state = Mutex(ServerState())
    private let drained = DispatchSemaphore(value: 0)

    struct ServerState {
        var stopping = false
        var connections: Set<Int32> = []
        var acceptorRunning = false
    }

    public init(endpoint: Endpoint, limits: Limits = Limits(), handler: @escaping Handler) {
        self.endpoint = endpoint
        self.limits = limits
        self.handler = handler
    }

    public var connectionCount: Int { state.withLock { $0.connections.count } }

    public func start() throws(NetError) {
        Socket.ignoreBrokenPipes()
        listener = try Socket.listen(endpoint)
        port = Socket.localPort(listener)
        state.withLock { $0.acceptorRunning = true }
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "http-accept"
        thread.start()
    }

    /// Closes the listener and every connection, and waits for their threads to end.
    public func stop() {
        let (connections, wasRunning) = state.withLock { state -> (Set<Int32>, Bool) in
            let running = !state.stopping
            state.stopping = true
            return (state.connections, running)
        }
        guard wasRunning, listener >= 0 else { return }
        shutdown(listener, Int32(SHUT_RDWR))
        for fd in connections { shutdown(fd, Int32(SHUT_RDWR)) }
        // Each connection thread and the acceptor signal once as they finish.
        while state.withLock({ !$0.connections.isEmpty || $0.acceptorRunning }) {
            _ = drained.wait(timeout: .now() + .milliseconds(50))
        }
        close(listener)
        listener = -1
    }

    private func acceptLoop() {
        while let fd = Socket.accept(listener) {
            let admitted = state.withLock { state -> Bool in
                guard !state.stopping, state.connections.count < limits.connectionsMax else { return false }
                state.connections.insert(fd)
                return true
            }
            guard admitted else {
                let stopping = state.withLock { $0.stopping }
                if !stopping {
                    _ = Socket.sendAll(fd, Array("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8))
                }
                close(fd)
                if stopping { break }
                continue
            }
            let thread = Thread { [self] in
                serve(fd)
                state.withLock { _ = $0.connections.remove(fd) }
                close(fd)
                drained.signal()
            }
            thread.name = "http-conn"
            thread.stackSize = 1 << 20
            thread.start()
            if state.withLock({ $0.stopping }) { break }
        }
        state.withLock { $0.acceptorRunning = false }
        drained.signal()
    }

    private var stopping: Bool { state.withLock { $0.stopping } }

    private func serve(_ fd: Int32) {
        // Reads wake at least every 250 ms so timeouts and stop() are noticed.
        Socket.setReceiveTimeout(fd, 250 * Time.millisecond)
        Socket.setSendTimeout(fd, limits.writeTimeout)
        var parser = HTTPRequestParser(headerBytesMax: limits.headerBytesMax, bodyBytesMax: limits.bodyBytesMax)
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        var idleSince = MonotonicClock.now()
        var requestStarted: Nanoseconds?
        while !stopping {
            let request: HTTPRequest?
            do {
                request = try parser.next()
            } catch {
                let body = Array((error.message + "\n").utf8)
                _ = Socket.sendAll(fd, HTTPResponder.head(status: error.status, contentType: "text/plain; charset=utf-8",
                    contentLength: body.count, close: true) + body)
                return
            }
            if let request {
                let responder = HTTPResponder(fd: fd, request: request)
                handler(request, responder)
                responder.finishIfNeeded()
                guard responder.connectionUsable, request.keepAlive, !stopping else { return }
                idleSince = MonotonicClock.now()
                requestStarted = parser.bufferedByteCount > 0 ? idleSince : nil
                continue
            }
            let result = buffer.withUnsafeMutableBytes { Socket.receive(fd, into: $0) }
            let now = MonotonicClock.now()
            switch result {
            case .data(let count):
                if requestStarted == nil { requestStarted = now }
                buffer.withUnsafeBytes { parser.append(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            case .closed, .failed:
                return
            case .timedOut:
                if let requestStarted, now - requestStarted > limits.requestTimeout {
                    let body = Array("request not completed within \(Time.describe(limits.requestTimeout))\n".utf8)
                    _ = Socket.sendAll(fd, HTTPResponder.head(status: 408, contentType: "text/plain; charset=utf-8",
                        contentLength: body.count, close: true) + body)
                    return
                }
                if requestStarted == nil, now - idleSince > limits.idleTimeout { return }
            }
        }
    }
}

/// The monotonic clock (Net's own reading; the server's event loop has the same).
public enum MonotonicClock {
    public static func now() -> Nanoseconds {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Nanoseconds(spec.tv_sec) * Time.second + Nanoseconds(spec.tv_nsec)
    }
}

/// Answers one request: either once with `respond`, or as a chunked stream.
public final class HTTPResponder: @unchecked Sendable {
    private let fd: Int32
    public let request: HTTPRequest
    private var responded = false
    private var streaming = false
    private var failed = false
    private var closeAfter = false

    init(fd: Int32, request: HTTPRequest) {
        self.fd = fd
        self.request = request
    }

    static func head(status: Int, contentType: String?, contentLength: Int?, close: Bool,
        extraHeaders: [(String, String)] = []) -> [UInt8]
    {
        var text = "HTTP/1.1 \(status) \(HTTPStatus.reason(status))\r\n"
        if let contentType { text += "Content-Type: \(contentType)\r\n" }
        for (name, value) in extraHeaders { text += "\(name): \(value)\r\n" }
        if let contentLength { text += "Content-Length: \(contentLength)\r\n" } else { text += "Transfer-Encoding: chunked\r\n" }
        if close { text += "Connection: close\r\n" }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// Whether the connection can carry another request after this one.
    var connectionUsable: Bool { !failed && !closeAfter }

    public func respond(status: Int, body: [UInt8], contentType: String = "application/json",
        headers: [(String, String)] = [], close: Bool = false)
    {
        precondition(!responded, "responded twice to \(request.method) \(request.path)")
        responded = true
        closeAfter = close || !request.keepAlive
        var bytes = Self.head(status: status, contentType: contentType, contentLength: body.count, close: closeAfter,
            extraHeaders: headers)
        if request.method != "HEAD" { bytes += body }
        if !Socket.sendAll(fd, bytes) { failed = true }
    }

    /// Starts a chunked response; then `write` each message and `finish`.
    public func startStream(status: Int = 200, contentType: String = "application/json") -> Bool {
        precondition(!responded, "responded twice to \(request.method) \(request.path)")
        responded = true
        streaming = true
        if !Socket.sendAll(fd, Self.head(status: status, contentType: contentType, contentLength: nil, close: false)) {
            failed = true
        }
        return !failed
    }

    /// Sends one chunk; false once the client is gone.
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        precondition(streaming, "write before startStream on \(request.path)")
        guard !failed, !bytes.isEmpty else { return !failed }
        var chunk = Array((String(bytes.count, radix: 16) + "\r\n").utf8)
        chunk += bytes
        chunk += [13, 10]
        if !Socket.sendAll(fd, chunk) { failed = true }
        return !failed
    }

    public func finish() {
        guard streaming, !failed else { return }
        streaming = false
        if !Socket.sendAll(fd, Array("0\r\n\r\n".utf8)) { failed = true }
    }

    /// True when the client closed or reset the connection (checked without blocking).
    public var clientGone: Bool { failed || Socket.peerClosed(fd) }

    func finishIfNeeded() {
        if streaming { finish() }
        if !responded {
            respond(status: 500, body: Array("handler gave no response\n".utf8), contentType: "text/plain; charset=utf-8", close: true)
        }
    }
}
