//! An incremental HTTP/1.1 request parser: bytes in, whole requests out, with limits on header
//! and body size. Pure (no I/O), so it is fuzzed directly. Any input yields a request, "need more
//! bytes", or an error carrying the status to answer with; it never traps.

public struct HTTPRequest: Sendable {
    public var method: String
    /// The path without the query string.
    public var path: String
    public var query: String
    public var version: String
    /// Header names lower-cased, in arrival order.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(method: String, path: String, query: String = "", version: String = "HTTP/1.1",
        headers: [(name: String, value: String)] = [], body: [UInt8] = [])
    {
        self.method = method
        self.path = path
        self.query = query
        self.version = version
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.name == lowered }?.value
    }

    /// HTTP/1.1 keeps the connection unless told to close; HTTP/1.0 closes unless told to keep.
    public var keepAlive: Bool {
        let connection = header("connection")?.lowercased() ?? ""
        if version == "HTTP/1.0" { return connection.contains("keep-alive") }
        return !connection.contains("close")
    }
}

public struct HTTPParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public var status: Int
    public var message: String
    public init(_ status: Int, _ message: String) {
        self.status = status
        self.message = message
    }
    public var description: String { "\(status): \(message)" }
}

public struct HTTPRequestParser: Sendable {
    public let headerBytesMax: Int
    public let bodyBytesMax: Int
    private var buffer: [UInt8] = []
    private var start = 0
    /// Where the search for the end of the headers resumes (so slow clients cost O(n), not O(n²)).
    private var scanned = 0

    public init(headerBytesMax: Int = 64 << 10, bodyBytesMax: Int = 2 << 20) {
        precondition(headerBytesMax > 0 && bodyBytesMax >= 0, "limits must be positive")
        self.headerBytesMax = headerBytesMax
        self.bodyBytesMax = bodyBytesMax
    }

    public var bufferedByteCount: Int { buffer.count - start }

    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            scanned = max(0, scanned - start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        append(bytes.bindMemory(to: UInt8.self))
    }

    /// The next whole request, nil if more bytes are needed.
    public mutating func next() throws(HTTPParseError) -> HTTPRequest? {
        // Tolerate blank lines between requests (RFC 9112 §2.2).
        while start + 1 < buffer.count, buffer[start] == 13, buffer[start + 1] == 10 { start += 2 }
        guard let headerEnd = findHeaderEnd() else {
            if buffer.count - start > headerBytesMax { throw HTTPParseError(431, "request headers exceed \(headerBytesMax) bytes") }
            return nil
        }
        guard headerEnd - start <= headerBytesMax else { throw HTTPParseError(431, "request headers exceed \(headerBytesMax) bytes") }
        var request = try parseHead(buffer[start..<headerEnd])
        let bodyStart = headerEnd + 4
        let transferEncoding = request.header("transfer-encoding")?.lowercased()
        if let transferEncoding {
            guard transferEncoding == "chunked" else {
                throw HTTPParseError(501, "transfer-encoding '\(transferEncoding)' is not supported (only chunked)")
            }
            guard let (body, end) = try parseChunked(from: bodyStart) else { return nil }
            request.body = body
            finish(at: end)
            return request
        }
        var length = 0
        if let text = request.header("content-length") {
            guard let value = Int(text.trimmingSpaces), value >= 0 else { throw HTTPParseError(400, "bad Content-Length '\(text)'") }
            guard value <= bodyBytesMax else { throw HTTPParseError(413, "request body of \(value) bytes exceeds \(bodyBytesMax)") }
            length = value
        }
        guard buffer.count - bodyStart >= length else { return nil }
        request.body = Array(buffer[bodyStart..<(bodyStart + length)])
        finish(at: bodyStart + length)
        return request
    }

    private mutating func finish(at end: Int) {
        start = end
        scanned = end
    }

    private mutating func findHeaderEnd() -> Int? {
        var index = max(start, scanned - 3)
        while index + 3 < buffer.count {
            if buffer[index] == 13 && buffer[index + 1] == 10 && buffer[index + 2] == 13 && buffer[index + 3] == 10 {
                return index
            }
            index += 1
        }
        scanned = max(start, buffer.count)
        return nil
    }

    private func parseHead(_ head: ArraySlice<UInt8>) throws(HTTPParseError) -> HTTPRequest {
        guard let text = String(validating: head, as: UTF8.self) else { throw HTTPParseError(400, "request head is not valid UTF-8") }
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)[...]
        guard let requestLine = lines.popFirst() else { throw HTTPParseError(400, "empty request") }
        let parts = requestLine.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[0].allSatisfy({ $0.isLetter && $0.isUppercase }),
            parts[1].hasPrefix("/") || parts[1] == "*"
        else { throw HTTPParseError(400, "malformed request line '\(requestLine.prefix(100))'") }
        let version = String(parts[2])
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else {
            throw HTTPParseError(version.hasPrefix("HTTP/") ? 505 : 400, "unsupported protocol '\(version.prefix(20))'")
        }
        var target = parts[1]
        var query = ""
        if let mark = target.firstIndex(of: "?") {
            query = String(target[target.index(after: mark)...])
            target = target[..<mark]
        }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
                throw HTTPParseError(400, "malformed header line '\(line.prefix(100))'")
            }
            let name = line[..<colon]
            guard !name.contains(" "), !name.contains("\t") else { throw HTTPParseError(400, "malformed header name '\(name.prefix(100))'") }
            headers.append((name.lowercased(), String(line[line.index(after: colon)...]).trimmingSpaces))
        }
        let lengths = headers.filter { $0.name == "content-length" }
        if lengths.count > 1 && Set(lengths.map(\.value)).count > 1 { throw HTTPParseError(400, "conflicting Content-Length headers") }
        return HTTPRequest(method: String(parts[0]), path: String(target), query: query, version: version, headers: headers)
    }

    /// Decodes a chunked body starting at `position`; nil when incomplete.
    private func parseChunked(from position: Int) throws(HTTPParseError) -> ([UInt8], Int)? {
        var body: [UInt8] = []
        var index = position
        while true {
            guard let lineEnd = findLineEnd(from: index) else {
                if buffer.count - index > 1024 { throw HTTPParseError(400, "chunk size line too long") }
                return nil
            }
            let line = buffer[index..<lineEnd]
            let sizeText = line.prefix { $0 != UInt8(ascii: ";") }
            guard !sizeText.isEmpty, sizeText.count <= 8,
                let size = Int(String(decoding: sizeText, as: UTF8.self).trimmingSpaces, radix: 16), size >= 0
            else { throw HTTPParseError(400, "bad chunk size") }
            index = lineEnd + 2
            if size == 0 {
                // Trailers, then an empty line.
                while true {
                    guard let end = findLineEnd(from: index) else { return nil }
                    let empty = end == index
                    index = end + 2
                    if empty { return (body, index) }
                }
            }
            guard body.count + size <= bodyBytesMax else { throw HTTPParseError(413, "request body exceeds \(bodyBytesMax) bytes") }
            guard buffer.count - index >= size + 2 else { return nil }
            body.append(contentsOf: buffer[index..<(index + size)])
            guard buffer[index + size] == 13, buffer[index + size + 1] == 10 else { throw HTTPParseError(400, "chunk not followed by CRLF") }
            index += size + 2
        }
    }

    private func findLineEnd(from index: Int) -> Int? {
        var position = index
        while position + 1 < buffer.count {
            if buffer[position] == 13 && buffer[position + 1] == 10 { return position }
            position += 1
        }
        return nil
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs (how HTTP header values are read).
    package var trimmingSpaces: String {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return String(text)
    }
}

/// Status lines' reason phrases, as Go's net/http spells them.
public func httpReason(_ status: Int) -> String {
    switch status {
    case 101: return "Switching Protocols"
    case 200: return "OK"
    case 204: return "No Content"
    case 400: return "Bad Request"
    case 401: return "Unauthorized"
    case 403: return "Forbidden"
    case 404: return "Not Found"
    case 405: return "Method Not Allowed"
    case 408: return "Request Timeout"
    case 409: return "Conflict"
    case 410: return "Gone"
    case 413: return "Request Entity Too Large"
    case 422: return "Unprocessable Entity"
    case 429: return "Too Many Requests"
    case 431: return "Request Header Fields Too Large"
    case 500: return "Internal Server Error"
    case 501: return "Not Implemented"
    case 503: return "Service Unavailable"
    case 504: return "Gateway Timeout"
    case 505: return "HTTP Version Not Supported"
    default: return "Status \(status)"
    }
}
