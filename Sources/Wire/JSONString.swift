//! JSON string literals: unescaping, `\u` escapes with surrogate pairs, and UTF-8 validation.
//!
//! Most strings in a history have no escapes, so the reader first scans for the closing quote
//! and builds the `String` straight from the bytes; only strings with a backslash are decoded
//! byte by byte into a scratch buffer.

extension JSONReader {
    /// Reads a string literal starting at the opening quote.
    mutating func readString() throws(JSONParseError) -> String {
        precondition(bytes[index] == UInt8(ascii: "\""), "readString at byte \(index) which is not a quote")
        let start = index
        index += 1
        let contentStart = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = try decodeUTF8(from: contentStart, to: index, literalStart: start)
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { return try readEscapedString(contentStart: contentStart, literalStart: start) }
            if byte < 0x20 { throw error("control character 0x\(String(byte, radix: 16)) in a string; escape it", at: index) }
            index += 1
        }
        throw error("unterminated string", at: start)
    }

    private func decodeUTF8(from start: Int, to end: Int, literalStart: Int) throws(JSONParseError) -> String {
        let slice = UnsafeBufferPointer(rebasing: bytes[start..<end])
        guard let text = String(validating: slice, as: UTF8.self) else {
            throw error("invalid UTF-8 in string", at: literalStart)
        }
        return text
    }

    /// The slow path: decodes escapes into a buffer. `index` is at the first backslash.
    private mutating func readEscapedString(contentStart: Int, literalStart: Int) throws(JSONParseError) -> String {
        var buffer = Array(UnsafeBufferPointer(rebasing: bytes[contentStart..<index]))
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                guard let text = String(validating: buffer, as: UTF8.self) else {
                    throw error("invalid UTF-8 in string", at: literalStart)
                }
                return text
            }
            if byte < 0x20 { throw error("control character 0x\(String(byte, radix: 16)) in a string; escape it", at: index) }
            if byte != UInt8(ascii: "\\") {
                buffer.append(byte)
                index += 1
                continue
            }
            let escapeStart = index
            index += 1
            guard index < bytes.count else { break }
            let code = bytes[index]
            index += 1
            switch code {
            case UInt8(ascii: "\""): buffer.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): buffer.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "/"): buffer.append(UInt8(ascii: "/"))
            case UInt8(ascii: "b"): buffer.append(0x08)
            case UInt8(ascii: "f"): buffer.append(0x0C)
            case UInt8(ascii: "n"): buffer.append(UInt8(ascii: "\n"))
            case UInt8(ascii: "r"): buffer.append(UInt8(ascii: "\r"))
            case UInt8(ascii: "t"): buffer.append(UInt8(ascii: "\t"))
            case UInt8(ascii: "u"):
                let scalar = try readUnicodeEscape(escapeStart: escapeStart)
                buffer.append(contentsOf: UTF8.encode(scalar)!)
            default:
                throw error("unknown escape '\\\(Character(Unicode.Scalar(code)))'", at: escapeStart)
            }
        }
        throw error("unterminated string", at: literalStart)
    }

    /// Reads the hex digits after `\u` (and a second `\uXXXX` for a surrogate pair).
    private mutating func readUnicodeEscape(escapeStart: Int) throws(JSONParseError) -> Unicode.Scalar {
        let first = try readHex4(escapeStart: escapeStart)
        if first >= 0xDC00 && first <= 0xDFFF {
            throw error("lone low surrogate \\u\(String(first, radix: 16))", at: escapeStart)
        }
        if first >= 0xD800 && first <= 0xDBFF {
            // A high surrogate is only half a character: the low half must follow immediately.
            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                throw error("high surrogate \\u\(String(first, radix: 16)) not followed by a low surrogate", at: escapeStart)
            }
            index += 2
            let second = try readHex4(escapeStart: index - 2)
            guard second >= 0xDC00 && second <= 0xDFFF else {
                throw error("high surrogate \\u\(String(first, radix: 16)) not followed by a low surrogate", at: escapeStart)
            }
            let combined = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            return Unicode.Scalar(combined)!
        }
        return Unicode.Scalar(first)!
    }

    private mutating func readHex4(escapeStart: Int) throws(JSONParseError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard index < bytes.count else { throw error("expected 4 hex digits after \\u", at: escapeStart) }
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error("expected 4 hex digits after \\u", at: escapeStart)
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }
}
