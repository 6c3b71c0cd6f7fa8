//! JSONReader: the recursive-descent parser behind `JSON.parse`, over raw UTF-8 bytes.
//!
//! It works on an `UnsafeBufferPointer` so reading a 100,000-line history costs no per-byte
//! bounds-checked collection overhead. Line and column are only computed when an error is
//! thrown, by rescanning the bytes before the error, so the happy path does no bookkeeping.

struct JSONReader {
    let bytes: UnsafeBufferPointer<UInt8>
    /// Invariant: `0 <= index <= bytes.count`.
    var index = 0

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    // MARK: - Errors

    /// An error at byte `offset`, with the 1-based line and character column of that byte.
    func error(_ message: String, at offset: Int) -> JSONParseError {
        precondition(offset >= 0 && offset <= bytes.count, "error offset \(offset) outside 0...\(bytes.count)")
        var line = 1
        var column = 1
        for position in 0..<offset {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                // Count characters, not bytes: UTF-8 continuation bytes do not start a column.
                column += 1
            }
        }
        return JSONParseError(line: line, column: column, message: message)
    }

    /// "expected X, found Y" at the current byte.
    func unexpected(_ expected: String) -> JSONParseError {
        error("expected \(expected), found \(describeCurrent())", at: index)
    }

    func describeCurrent() -> String {
        guard index < bytes.count else { return "end of input" }
        let byte = bytes[index]
        if byte >= 0x20 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x\(String(byte, radix: 16))"
    }

    // MARK: - Values

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): index += 1
            default: return
            }
        }
    }

    mutating func readValue(depth: Int) throws(JSONParseError) -> JSONValue {
        guard index < bytes.count else { throw unexpected("a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try readObject(depth: depth + 1)
        case UInt8(ascii: "["): return try readArray(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try readString())
        case UInt8(ascii: "t"): try readLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try readLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try readLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try readNumber()
        default: throw unexpected("a value")
        }
    }

    mutating func readLiteral(_ word: StaticString) throws(JSONParseError) {
        let start = index
        let count = word.utf8CodeUnitCount
        let matches = word.withUTF8Buffer { expected in
            index + count <= bytes.count && (0..<count).allSatisfy { bytes[index + $0] == expected[$0] }
        }
        guard matches else { throw error("expected '\(word)'", at: start) }
        index += count
    }

    mutating func readObject(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= JSON.depthMax else { throw error("nesting deeper than \(JSON.depthMax)", at: index) }
        index += 1  // '{'
        var object = JSONObject()
        skipWhitespace()
        if index < bytes.count && bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(object)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw unexpected("a member name") }
            let keyOffset = index
            let key = try readString()
            // Duplicate names make the document ambiguous; refuse rather than pick one silently.
            if object.keys.contains(key) { throw error("duplicate member \"\(key)\"", at: keyOffset) }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw unexpected("':'") }
            index += 1
            skipWhitespace()
            object.appendUnique(key, try readValue(depth: depth))
            skipWhitespace()
            guard index < bytes.count else { throw unexpected("',' or '}'") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(object)
            } else {
                throw unexpected("',' or '}'")
            }
        }
    }

    mutating func readArray(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= JSON.depthMax else { throw error("nesting deeper than \(JSON.depthMax)", at: index) }
        index += 1  // '['
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count && bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try readValue(depth: depth))
            skipWhitespace()
            guard index < bytes.count else { throw unexpected("',' or ']'") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
            } else if bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            } else {
                throw unexpected("',' or ']'")
            }
        }
    }

    // MARK: - Numbers

    mutating func readNumber() throws(JSONParseError) -> JSONValue {
        let start = index
        var negative = false
        if bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        guard index < bytes.count, isDigit(bytes[index]) else { throw unexpected("a digit") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
            if index < bytes.count && isDigit(bytes[index]) { throw error("leading zero in a number", at: start) }
        } else {
            while index < bytes.count && isDigit(bytes[index]) { index += 1 }
        }
        let integralEnd = index
        var isIntegral = true
        if index < bytes.count && bytes[index] == UInt8(ascii: ".") {
            isIntegral = false
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw unexpected("a digit after '.'") }
            while index < bytes.count && isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count && (bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E")) {
            isIntegral = false
            index += 1
            if index < bytes.count && (bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")) {
                index += 1
            }
            guard index < bytes.count, isDigit(bytes[index]) else { throw unexpected("a digit in the exponent") }
            while index < bytes.count && isDigit(bytes[index]) { index += 1 }
        }
        if isIntegral, let exact = exactInteger(from: negative ? start + 1 : start, to: integralEnd, negative: negative) {
            return .integer(exact)
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let number = Double(text), number.isFinite else { throw error("number \(text) out of range", at: start) }
        return .number(number)
    }

    /// The digits in `start..<end` as an `Int64`, or nil when they overflow it. Accumulating
    /// negatively reaches `Int64.min`, which has no positive counterpart.
    func exactInteger(from start: Int, to end: Int, negative: Bool) -> Int64? {
        var value: Int64 = 0
        for position in start..<end {
            let digit = Int64(bytes[position] &- UInt8(ascii: "0"))
            let (shifted, overflowMultiply) = value.multipliedReportingOverflow(by: 10)
            if overflowMultiply { return nil }
            let (next, overflowAdd) = shifted.subtractingReportingOverflow(digit)
            if overflowAdd { return nil }
            value = next
        }
        if negative { return value }
        let (positive, overflow) = (0 as Int64).subtractingReportingOverflow(value)
        return overflow ? nil : positive
    }

    func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
}
