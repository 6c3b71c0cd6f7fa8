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

    /// The request line and headers, read as bytes: both sides of every hop in the testbed parse
    /// one per request, and working on Characters (grapheme breaking, Foundation's substring
    /// search) cost more than the rest of a small request.
    private func parseHead(_ head: ArraySlice<UInt8>) throws(HTTPParseError) -> HTTPRequest {
        guard String(validating: head, as: UTF8.self) != nil else { throw HTTPParseError(400, "request head is not valid UTF-8") }
        var lines = HTTPHeadBytes.lines(head)[...]
        guard let requestLine = lines.popFirst() else { throw HTTPParseError(400, "empty request") }
        let parts = requestLine.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        let text = { (bytes: ArraySlice<UInt8>) in String(decoding: bytes, as: UTF8.self) }
        guard parts.count == 3, !parts[0].isEmpty, parts[0].allSatisfy({ $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }),
            parts[1].first == UInt8(ascii: "/") || parts[1].elementsEqual([UInt8(ascii: "*")])
        else { throw HTTPParseError(400, "malformed request line '\(text(requestLine).prefix(100))'") }
        let version = text(parts[2])
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else {
            throw HTTPParseError(version.hasPrefix("HTTP/") ? 505 : 400, "unsupported protocol '\(version.prefix(20))'")
        }
        var target = parts[1]
        var query = ""
        if let mark = target.firstIndex(of: UInt8(ascii: "?")) {
            query = text(target[(mark + 1)...])
            target = target[..<mark]
        }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon != line.startIndex else {
                throw HTTPParseError(400, "malformed header line '\(text(line).prefix(100))'")
            }
            let name = line[..<colon]
            guard !name.contains(UInt8(ascii: " ")), !name.contains(UInt8(ascii: "\t")) else {
                throw HTTPParseError(400, "malformed header name '\(text(name).prefix(100))'")
            }
            headers.append(HTTPHeadBytes.field(line, colon: colon))
        }
        let lengths = headers.filter { $0.name == "content-length" }
        if lengths.count > 1 && Set(lengths.map(\.value)).count > 1 { throw HTTPParseError(400, "conflicting Content-Length headers") }
        return HTTPRequest(method: text(parts[0]), path: text(target), query: query, version: version, headers: headers)
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

/// Reading an HTTP head (request or response) as bytes.
enum HTTPHeadBytes {
    /// The CRLF-separated lines of a head (which has no final CRLF: the blank line is cut off).
    static func lines(_ head: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var lines: [ArraySlice<UInt8>] = []
        var lineStart = head.startIndex
        var index = head.startIndex
        while index + 1 < head.endIndex {
            if head[index] == 13 && head[index + 1] == 10 {
                lines.append(head[lineStart..<index])
                index += 2
                lineStart = index
            } else {
                index += 1
            }
        }
        lines.append(head[lineStart..<head.endIndex])
        return lines
    }

    /// A header line split at its colon: the name lowercased (names are ASCII tokens), the
    /// value without surrounding spaces and tabs.
    static func field(_ line: ArraySlice<UInt8>, colon: Int) -> (name: String, value: String) {
        var value = line[(colon + 1)...]
        while let first = value.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") { value = value.dropFirst() }
        while let last = value.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") { value = value.dropLast() }
        let lowered = line[..<colon].map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 + 32 : $0 }
        return (String(decoding: lowered, as: UTF8.self), String(decoding: value, as: UTF8.self))
    }
}
