//! Reading request bodies the way etcd's JSON gateway (Go's encoding/json under jsonpb) does,
//! down to its error messages, which clients and tests match on: the first JSON value is read
//! and anything after it ignored; an empty body is an empty request; a syntax error reads
//! "invalid character 'x' looking for beginning of object key string", a cut-off body
//! "unexpected EOF". Nesting is bounded, and no input traps.

import Wire

enum GoJSON {
    static let depthMax = 128

    /// The request body as an object; `{}` for an empty body.
    static func object(_ body: [UInt8]) throws(APIError) -> JSONObject {
        var parser = Parser(bytes: body)
        parser.skipSpace()
        if parser.atEnd { return JSONObject() }
        let value = try parser.value(depth: 0)
        guard case .object(let object) = value else {
            throw APIError.invalidArgument("json: cannot unmarshal \(goKind(value)) into Go value of type map[string]json.RawMessage")
        }
        return object
    }

    /// The JSON values of a streamed request body (the gateway reads a bidirectional stream's
    /// messages one after another from the body), each as its own bytes, in order. A value that
    /// does not parse ends the list: it comes last, with everything after it, so decoding it
    /// gives Go's error. An empty or blank body has no messages.
    static func messages(_ body: [UInt8]) -> [[UInt8]] {
        var parser = Parser(bytes: body)
        var messages: [[UInt8]] = []
        while true {
            parser.skipSpace()
            if parser.atEnd { return messages }
            let start = parser.index
            do {
                _ = try parser.value(depth: 0)
            } catch {
                messages.append(Array(body[start...]))
                return messages
            }
            messages.append(Array(body[start..<parser.index]))
        }
    }

    static func goKind(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "bool"
        case .integer, .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    struct Parser {
        let bytes: [UInt8]
        var index = 0

        var atEnd: Bool { index >= bytes.count }

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x09, 0x0a, 0x0d].contains(bytes[index]) { index += 1 }
        }

        func invalid(_ context: String) -> APIError {
            guard index < bytes.count else { return APIError.invalidArgument("unexpected EOF") }
            return APIError.invalidArgument("invalid character \(Self.quoteCharacter(bytes[index])) \(context)")
        }

        /// Go quotes the offending character like this: 'x', '\n', '"', '\x01'.
        static func quoteCharacter(_ byte: UInt8) -> String {
            switch byte {
            case UInt8(ascii: "'"): return "'\\''"
            case UInt8(ascii: "\""): return "'\"'"
            case 0x0a: return "'\\n'"
            case 0x0d: return "'\\r'"
            case 0x09: return "'\\t'"
            case 0x20...0x7e: return "'\(Character(UnicodeScalar(byte)))'"
            default: return "'\\x\(String(byte, radix: 16).count == 1 ? "0" : "")\(String(byte, radix: 16))'"
            }
        }

        mutating func value(depth: Int) throws(APIError) -> JSONValue {
            guard depth < GoJSON.depthMax else { throw APIError.invalidArgument("exceeded max depth") }
            skipSpace()
            guard index < bytes.count else { throw APIError.invalidArgument("unexpected EOF") }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "n"): return try literal("null", .null)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw invalid("looking for beginning of value")
            }
        }

        mutating func literal(_ word: String, _ result: JSONValue) throws(APIError) -> JSONValue {
            for expected in word.utf8 {
                guard index < bytes.count else { throw APIError.invalidArgument("unexpected EOF") }
                guard bytes[index] == expected else { throw invalid("in literal \(word) (expecting '\(Character(UnicodeScalar(expected)))')") }
                index += 1
            }
            return result
        }

        mutating func object(depth: Int) throws(APIError) -> JSONValue {
            index += 1
            var object = JSONObject()
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return .object(object)
            }
            while true {
                skipSpace()
                guard index < bytes.count else { throw APIError.invalidArgument("unexpected EOF") }
                guard bytes[index] == UInt8(ascii: "\"") else { throw invalid("looking for beginning of object key string") }
                let key = try string()
                skipSpace()
                guard index < bytes.count else { throw APIError.invalidArgument("unexpected EOF") }
                guard bytes[index] == UInt8(ascii: ":") else { throw invalid("after object key") }
                index += 1
                let member = try value(depth: depth + 1)
                // Go keeps the last of duplicate keys.
                object[key] = member
                skipSpace()
                guard index < bytes.count else { throw APIError.invalidArgument("unexpected EOF") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                guard bytes[index] == UInt8(ascii: "}") else { throw invalid("after object key:value pair") }
                index += 1
                return .object(object)
            }
        }

        mutating func array(depth: Int) throws(APIError) -> JSONValue {
            index += 1
            var elements: [JSONValue] = []
            skipSpace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return .array(elements)
            }
            while true {
                elements.append(try value(depth: depth + 1))
                skipSpace()
                guard index < bytes.count else { throw APIError.invalidArgument("unexpected EOF") }
                if bytes[index] == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                guard bytes[index] == UInt8(ascii: "]") else { throw invalid("after array element") }
                index += 1
                return .array(elements)
            }
        }

        mutating func number() throws(APIError) -> JSONValue {
            let start = index
            if bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count else { throw APIError.invalidArgument("unexpected EOF") }
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else { throw invalid("in numeric literal") }
            if bytes[index] == UInt8(ascii: "0") { index += 1 } else {
                while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            }
            var isInteger = true
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                isInteger = false
                index += 1
                guard index < bytes.count else { throw APIError.invalidArgument("unexpected EOF") }
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else { throw invalid("after decimal point in numeric literal") }
                while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                isInteger = false
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard index < bytes.count else { throw APIError.invalidArgument("unexpected EOF") }
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else { throw invalid("in exponent of numeric literal") }
                while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            }
            let text = String(decoding: bytes[start..<index], as: UTF8.self)
            if isInteger, let integer = Int64(text) { return .integer(integer) }
            // Kept as text so the field decoder can report it as Go does ("number 1.5").
            return .number(Double(text) ?? 0)
        }

        mutating func string() throws(APIError) -> String {
            index += 1
            var output: [UInt8] = []
            while true {
                guard index < bytes.count else { throw APIError.invalidArgument("unexpected EOF") }
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    return String(decoding: output, as: UTF8.self)
                }
                if byte < 0x20 { throw invalid("in string literal") }
                if byte != UInt8(ascii: "\\") {
                    output.append(byte)
                    index += 1
                    continue
                }
                index += 1
                guard index < bytes.count else { throw APIError.invalidArgument("unexpected EOF") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(escape)
                case UInt8(ascii: "b"): output.append(0x08)
                case UInt8(ascii: "f"): output.append(0x0c)
                case UInt8(ascii: "n"): output.append(0x0a)
                case UInt8(ascii: "r"): output.append(0x0d)
                case UInt8(ascii: "t"): output.append(0x09)
                case UInt8(ascii: "u"):
                    guard let scalar = try hex4() else { throw invalid("in \\u hexadecimal character escape") }
                    var code = scalar
                    if (0xD800..<0xDC00).contains(code), index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                        index += 2
                        if let low = try hex4(), (0xDC00..<0xE000).contains(low) {
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        } else { code = 0xFFFD }
                    }
                    output.append(contentsOf: String(Character(UnicodeScalar(code) ?? "\u{FFFD}")).utf8)
                default:
                    index -= 1
                    throw invalid("in string escape code")
                }
            }
        }

        mutating func hex4() throws(APIError) -> UInt32? {
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard index < bytes.count else { throw APIError.invalidArgument("unexpected EOF") }
                guard let digit = UInt32(String(UnicodeScalar(bytes[index])), radix: 16) else { return nil }
                value = value * 16 + digit
                index += 1
            }
            return value
        }
    }
}
