//! An HTTP/1.1 client holding one keep-alive connection to one endpoint. Used by our etcdctl,
//! the benchmark (each client its own connection), the crash test and the integration tests.
//! It tells apart "the request was certainly not sent" from "sent, no answer": only the first
//! may be retried elsewhere without risking a double write.

import Base
import Glibc
import Synchronization

public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name == lowered }?.value
    }
    public var text: String { String(decoding: body, as: UTF8.self) }
}

public enum HTTPClientError: Error, CustomStringConvertible, Sendable {
    /// Nothing of the request left this client: safe to retry anywhere.
    case notSent(String)
    /// The request may have reached the server; no (complete) answer came.
    case noAnswer(String)

    public var description: String {
        switch self {
        case .notSent(let why): return "not sent: \(why)"
        case .noAnswer(let why): return "no answer: \(why)"
        }
    }
}

/// What a stream does when it goes quiet, as client-go's HTTP/2 health check (ReadIdleTimeout
/// 30 s, then a ping with PingTimeout 15 s) does for a watch: after `readIdle` without a byte,
/// `isAlive` is asked, on the stream's own thread; it may block, typically probing the server
/// on a fresh connection along the same path. False ends the stream as failed, so its caller
/// moves on; true keeps waiting. A quiet stream on a live server is left alone.
public struct StreamHealthCheck: Sendable {
    public var readIdle: Nanoseconds
    public var isAlive: @Sendable () -> Bool

    public init(readIdle: Nanoseconds, isAlive: @escaping @Sendable () -> Bool) {
        precondition(readIdle > 0, "a stream health check needs a positive read-idle time (got \(readIdle) ns)")
        self.readIdle = readIdle
        self.isAlive = isAlive
    }
}

public final class HTTPClient {
    public let endpoint: Endpoint
    public let connectTimeout: Nanoseconds
    public let responseBytesMax: Int
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []
    private var start = 0
    /// The descriptor a `stream` call is reading, for `interrupt` from another thread.
    private let streamingFD = Atomic<Int32>(-1)

    public init(endpoint: Endpoint, connectTimeout: Nanoseconds = 2 * Time.second, responseBytesMax: Int = 64 << 20) {
        self.endpoint = endpoint
        self.connectTimeout = connectTimeout
        self.responseBytesMax = responseBytesMax
        Socket.ignoreBrokenPipes()
    }

    deinit { disconnect() }

    /// Ends a `stream` call blocked on another thread: its read fails at once (shutdown, not
    /// close — the streaming thread still owns and closes the descriptor). Safe from any thread.
    public func interrupt() {
        let current = streamingFD.load(ordering: .sequentiallyConsistent)
        if current >= 0 { shutdown(current, Int32(SHUT_RDWR)) }
    }

    public func disconnect() {
        if fd >= 0 { close(fd) }
        fd = -1
        buffer.removeAll()
        start = 0
    }

    private func connectIfNeeded() throws(HTTPClientError) {
        guard fd < 0 else { return }
        do {
            fd = try Socket.connect(endpoint, timeout: connectTimeout)
        } catch {
            throw .notSent(error.message)
        }
    }

    public func post(_ path: String, body: [UInt8], timeout: Nanoseconds, contentType: String = "application/json") throws(HTTPClientError) -> HTTPResponse {
        try request("POST", path, body: body, timeout: timeout, contentType: contentType)
    }

    public func get(_ path: String, timeout: Nanoseconds) throws(HTTPClientError) -> HTTPResponse {
        try request("GET", path, body: nil, timeout: timeout)
    }

    public func request(_ method: String, _ path: String, body: [UInt8]?, timeout: Nanoseconds,
        contentType: String = "application/json", headers: [(String, String)] = []) throws(HTTPClientError) -> HTTPResponse
    {
        // A kept-alive connection the server closed meanwhile is found out before sending.
        if fd >= 0 && Socket.peerClosed(fd) { disconnect() }
        try connectIfNeeded()
        try send(method, path, body: body, contentType: contentType, headers: headers)
        return try readResponse(timeout: timeout, method: method)
    }

    private func send(_ method: String, _ path: String, body: [UInt8]?, contentType: String, headers: [(String, String)]) throws(HTTPClientError) {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(endpoint)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if let body {
            head += "Content-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n"
        }
        head += "\r\n"
        var bytes = Array(head.utf8)
        if let body { bytes += body }
        Socket.setSendTimeout(fd, 10 * Time.second)
        guard Socket.sendAll(fd, bytes) else {
            disconnect()
            // A failed send of a request on a fresh or reused socket may still have delivered part
            // of it; only a refused connection is "not sent".
            throw .noAnswer("sending to \(endpoint) failed: \(String(cString: strerror(errno)))")
        }
    }

    private func readResponse(timeout: Nanoseconds, method: String) throws(HTTPClientError) -> HTTPResponse {
        let deadline = MonotonicClock.now() + timeout
        let headEnd = try readUntilHeadEnd(deadline: deadline)
        var lines = HTTPHeadBytes.lines(buffer[start..<headEnd])[...]
        start = headEnd + 4
        guard let statusLine = lines.popFirst(), !statusLine.isEmpty else { throw fail("empty response") }
        let parts = statusLine.split(separator: UInt8(ascii: " "), maxSplits: 2)
        guard parts.count >= 2, parts[0].starts(with: Array("HTTP/1.".utf8)), let status = Int(String(decoding: parts[1], as: UTF8.self)) else {
            throw fail("malformed status line '\(String(decoding: statusLine, as: UTF8.self).prefix(80))'")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            headers.append(HTTPHeadBytes.field(line, colon: colon))
        }
        var response = HTTPResponse(status: status, headers: headers, body: [])
        if method == "HEAD" || status == 204 || status == 304 { return response }
        if response.header("transfer-encoding")?.lowercased() == "chunked" {
            while let chunk = try readChunk(deadline: deadline) { response.body += chunk }
        } else if let lengthText = response.header("content-length"), let length = Int(lengthText) {
            guard length <= responseBytesMax else { throw fail("response of \(length) bytes is too large") }
            try fill(upTo: start + length, deadline: deadline)
            response.body = Array(buffer[start..<(start + length)])
            start += length
        } else {
            // Body until close.
            while true {
                if !(try receiveMore(deadline: deadline)) { break }
            }
            response.body = Array(buffer[start...])
            disconnect()
            return response
        }
        if response.header("connection")?.lowercased() == "close" { disconnect() }
        compact()
        return response
    }

    /// Streams a chunked response body: calls `onChunk` for each chunk until the server ends the
    /// stream, `onChunk` returns false, or the connection fails. Watch and lease keepalive use it.
    /// A stream that sends nothing for `idleTimeout` fails; with a `healthCheck`, one silent for
    /// its `readIdle` has its server checked, and fails at once when the check does.
    public func stream(_ path: String, method: String = "POST", body: [UInt8], headers: [(String, String)] = [],
        idleTimeout: Nanoseconds, healthCheck: StreamHealthCheck? = nil, onChunk: ([UInt8]) -> Bool) throws(HTTPClientError) -> Int
    {
        if fd >= 0 && Socket.peerClosed(fd) { disconnect() }
        try connectIfNeeded()
        // Interruptible from here: a server that never answers the head (a paused process, a
        // blackholed link) must not hold the caller past a cancel.
        streamingFD.store(fd, ordering: .sequentiallyConsistent)
        defer { streamingFD.store(-1, ordering: .sequentiallyConsistent) }
        try send(method, path, body: method == "GET" ? nil : body, contentType: "application/json", headers: headers)
        let headEnd = try readUntilHeadEnd(deadline: MonotonicClock.now() + idleTimeout)
        let headText = String(decoding: buffer[start..<headEnd], as: UTF8.self)
        start = headEnd + 4
        let statusParts = headText.split(separator: "\r\n").first?.split(separator: " ") ?? []
        let status = statusParts.count >= 2 ? Int(statusParts[1]) ?? 0 : 0
        guard headText.lowercased().contains("transfer-encoding: chunked") else {
            disconnect()
            return status
        }
        while true {
            if let healthCheck, start == buffer.count { try awaitBytes(idleTimeout: idleTimeout, healthCheck) }
            guard let chunk = try readChunk(deadline: MonotonicClock.now() + idleTimeout) else { break }
            if !onChunk(chunk) {
                disconnect()
                break
            }
        }
        return status
    }

    /// Waits for the stream's next bytes, checking the server's health each `readIdle` of silence.
    private func awaitBytes(idleTimeout: Nanoseconds, _ check: StreamHealthCheck) throws(HTTPClientError) {
        let idleDeadline = MonotonicClock.now() + idleTimeout
        while true {
            let remaining = idleDeadline - MonotonicClock.now()
            guard remaining > 0 else { throw fail("timed out waiting for the response") }
            if Socket.waitReadable(fd, timeout: min(check.readIdle, remaining)) { return }
            if MonotonicClock.now() < idleDeadline && !check.isAlive() {
                throw fail("silent for \(Time.describe(check.readIdle)) and the server did not answer a health check")
            }
        }
    }

    private func fail(_ why: String) -> HTTPClientError {
        disconnect()
        return .noAnswer("\(endpoint): \(why)")
    }

    private func compact() {
        if start > 0 {
            buffer.removeFirst(start)
            start = 0
        }
    }

    /// Reads more bytes; false on orderly close.
    private func receiveMore(deadline: Nanoseconds) throws(HTTPClientError) -> Bool {
        let remaining = deadline - MonotonicClock.now()
        guard remaining > 0 else { throw fail("timed out waiting for the response") }
        Socket.setReceiveTimeout(fd, max(Time.millisecond, remaining))
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        let result = chunk.withUnsafeMutableBytes { Socket.receive(fd, into: $0) }
        switch result {
        case .data(let count):
            guard buffer.count - start + count <= responseBytesMax + (64 << 10) else { throw fail("response too large") }
            buffer.append(contentsOf: chunk[..<count])
            return true
        case .closed: return false
        case .timedOut: throw fail("timed out waiting for the response")
        case .failed(let code): throw fail("receive failed: \(String(cString: strerror(code)))")
        }
    }

    private func fill(upTo end: Int, deadline: Nanoseconds) throws(HTTPClientError) {
        while buffer.count < end {
            guard try receiveMore(deadline: deadline) else { throw fail("connection closed mid-response") }
        }
    }

    private func readUntilHeadEnd(deadline: Nanoseconds) throws(HTTPClientError) -> Int {
        var searchFrom = start
        while true {
            var index = searchFrom
            while index + 3 < buffer.count {
                if buffer[index] == 13 && buffer[index + 1] == 10 && buffer[index + 2] == 13 && buffer[index + 3] == 10 { return index }
                index += 1
            }
            searchFrom = max(start, buffer.count - 3)
            guard buffer.count - start < 64 << 10 else { throw fail("response head too large") }
            guard try receiveMore(deadline: deadline) else { throw fail("connection closed before a response") }
        }
    }

    /// The next chunk of a chunked body; nil at its end.
    private func readChunk(deadline: Nanoseconds) throws(HTTPClientError) -> [UInt8]? {
        let lineEnd = try readLine(deadline: deadline)
        let sizeText = String(decoding: buffer[start..<lineEnd], as: UTF8.self).split(separator: ";").first.map(String.init) ?? ""
        guard let size = Int(sizeText.trimmingSpaces, radix: 16), size >= 0, size <= responseBytesMax else {
            throw fail("bad chunk size '\(sizeText.prefix(20))'")
        }
        start = lineEnd + 2
        if size == 0 {
            // Trailers until an empty line.
            while true {
                let end = try readLine(deadline: deadline)
                let empty = end == start
                start = end + 2
                if empty { break }
            }
            compact()
            return nil
        }
        try fill(upTo: start + size + 2, deadline: deadline)
        let chunk = Array(buffer[start..<(start + size)])
        start += size + 2
        compact()
        return chunk
    }

    private func readLine(deadline: Nanoseconds) throws(HTTPClientError) -> Int {
        var searchFrom = start
        while true {
            var index = searchFrom
            while index + 1 < buffer.count {
                if buffer[index] == 13 && buffer[index + 1] == 10 { return index }
                index += 1
            }
            searchFrom = max(start, buffer.count - 1)
            guard try receiveMore(deadline: deadline) else { throw fail("connection closed mid-stream") }
        }
    }
}
