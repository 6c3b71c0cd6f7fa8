//! JSONReader: reads RFC 8259 JSON into the same positioned DocumentNode tree as the YAML subset,
//! so `.json` topology files decode through the same decoder with the same file:line:column
//! errors. Strings become double-quoted scalars; numbers, true, false and null become plain ones.

public enum JSONReader {
    /// Arrays and objects nest at most this deep, so a hostile file cannot exhaust the stack.
    public static let depthMax = 128

    public static func parse(_ text: String, file: String) throws(DocumentError) -> DocumentNode {
        var reader = JSONTextReader(characters: Array(text.unicodeScalars), file: file)
        reader.skipWhitespace()
        guard !reader.isAtEnd else { throw reader.error("the document is empty; expected a JSON object") }
        let root = try reader.readValue(depth: 1)
        reader.skipWhitespace()
        guard reader.isAtEnd else { throw reader.error("unexpected text after the JSON value") }
        return root
    }
}

struct JSONTextReader {
    let characters: [Unicode.Scalar]
    let file: String
    /// Invariant: 0 <= offset <= characters.count; line and column describe `offset`.
    var offset = 0
    var line = 1
    var column = 1

    init(characters: [Unicode.Scalar], file: String) {
        self.characters = characters
        self.file = file
        if characters.first == "\u{FEFF}" { offset = 1 }
    }

    var isAtEnd: Bool { offset >= characters.count }
    var current: Unicode.Scalar? { isAtEnd ? nil : characters[offset] }
    var position: SourcePosition { SourcePosition(line: line, column: column) }

    mutating func advance() {
        precondition(offset < characters.count, "advance past the end at \(line):\(column)")
        if characters[offset] == "\n" {
            line += 1
            column = 1
        } else {
            column += 1
        }
        offset += 1
    }

    mutating func skipWhitespace() {
        while let character = current, character == " " || character == "\t" || character == "\n" || character == "\r" {
            advance()
        }
    }

    func error(_ message: String, at position: SourcePosition? = nil) -> DocumentError {
        DocumentError(file: file, position: position ?? self.position, message: message)
    }

    mutating func readValue(depth: Int) throws(DocumentError) -> DocumentNode {
        guard depth <= JSONReader.depthMax else { throw error("JSON nests deeper than \(JSONReader.depthMax) levels") }
        let start = position
        guard let character = current else { throw error("unexpected end of the file; a value is missing") }
        switch character {
        case "{": return try readObject(depth: depth)
        case "[": return try readArray(depth: depth)
        case "\"": return .scalar(try readString(), .doubleQuoted, at: start)
        case "-", "0"..."9": return .scalar(try readNumber(), at: start)
        default:
            for word in ["true", "false", "null"] where matches(word) {
                for _ in word.unicodeScalars { advance() }
                return .scalar(word, at: start)
            }
            throw error("unexpected '\(character)'; expected a JSON value (object, array, string, number, true, false or null)")
        }
    }

    func matches(_ word: String) -> Bool {
        let scalars = Array(word.unicodeScalars)
        guard offset + scalars.count <= characters.count else { return false }
        return Array(characters[offset..<offset + scalars.count]) == scalars
    }

    mutating func readObject(depth: Int) throws(DocumentError) -> DocumentNode {
        let start = position
        advance()
        var entries: [DocumentNode.Entry] = []
        var firstSeen: [String: SourcePosition] = [:]
        skipWhitespace()
        if current == "}" {
            advance()
            return DocumentNode(.mapping([]), at: start)
        }
        while true {
            skipWhitespace()
            let keyPosition = position
            guard current == "\"" else { throw error("expected a string key in double quotes") }
            let key = try readString()
            if let first = firstSeen[key] {
                throw error("duplicate key \"\(key)\" (first at line \(first.line), column \(first.column)); remove one of them",
                    at: keyPosition)
            }
            firstSeen[key] = keyPosition
            skipWhitespace()
            guard current == ":" else { throw error("expected ':' after the key \"\(key)\"") }
            advance()
            skipWhitespace()
            let value = try readValue(depth: depth + 1)
            entries.append(DocumentNode.Entry(key: key, keyPosition: keyPosition, value: value))
            skipWhitespace()
            switch current {
            case ",": advance()
            case "}":
                advance()
                return DocumentNode(.mapping(entries), at: start)
            default: throw error("expected ',' or '}' in the object that starts at \(start)")
            }
        }
    }

    mutating func readArray(depth: Int) throws(DocumentError) -> DocumentNode {
        let start = position
        advance()
        var items: [DocumentNode] = []
        skipWhitespace()
        if current == "]" {
            advance()
            return DocumentNode(.sequence([]), at: start)
        }
        while true {
            skipWhitespace()
            items.append(try readValue(depth: depth + 1))
            skipWhitespace()
            switch current {
            case ",": advance()
            case "]":
                advance()
                return DocumentNode(.sequence(items), at: start)
            default: throw error("expected ',' or ']' in the array that starts at \(start)")
            }
        }
    }

    mutating func readString() throws(DocumentError) -> String {
        let start = position
        advance()
        var text = String.UnicodeScalarView()
        while let character = current {
            switch character {
            case "\"":
                advance()
                return String(text)
            case "\\":
                text.append(try readEscape())
            case "\n":
                throw error("this string is not closed on its line; close it with \"", at: start)
            case _ where character.value < 0x20:
                throw error("control character U+\(hex(character.value)) in a string; write it as an escape such as \\n or \\u00XX")
            default:
                text.append(character)
                advance()
            }
        }
        throw error("this string is not closed; close it with \"", at: start)
    }

    mutating func readEscape() throws(DocumentError) -> Unicode.Scalar {
        let start = position
        advance()
        guard let letter = current else { throw error("unexpected end of the file in an escape", at: start) }
        advance()
        switch letter {
        case "\"": return "\""
        case "\\": return "\\"
        case "/": return "/"
        case "b": return "\u{8}"
        case "f": return "\u{C}"
        case "n": return "\n"
        case "r": return "\r"
        case "t": return "\t"
        case "u":
            let high = try readHex4(escapeStart: start)
            if (0xD800..<0xDC00).contains(high) {
                // A high surrogate must be followed by an escaped low surrogate (UTF-16 pair).
                guard current == "\\" else { throw error("a high surrogate \\u\(hex(high)) must be followed by a low one", at: start) }
                advance()
                guard current == "u" else { throw error("a high surrogate \\u\(hex(high)) must be followed by a low one", at: start) }
                advance()
                let low = try readHex4(escapeStart: start)
                guard (0xDC00..<0xE000).contains(low), let scalar = Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)) else {
                    throw error("\\u\(hex(high)) is not followed by a low surrogate", at: start)
                }
                return scalar
            }
            guard let scalar = Unicode.Scalar(high) else { throw error("\\u\(hex(high)) is a lone low surrogate", at: start) }
            return scalar
        default:
            throw error("unknown escape '\\\(letter)'; JSON allows \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX", at: start)
        }
    }

    mutating func readHex4(escapeStart: SourcePosition) throws(DocumentError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let character = current, let digit = UInt32(String(character), radix: 16) else {
                throw error("\\u needs 4 hexadecimal digits", at: escapeStart)
            }
            value = value * 16 + digit
            advance()
        }
        return value
    }

    /// A number as written, checked against JSON's grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
    mutating func readNumber() throws(DocumentError) -> String {
        let start = position
        var text = String.UnicodeScalarView()
        func isDigit(_ character: Unicode.Scalar?) -> Bool { character.map { ("0"..."9").contains($0) } ?? false }
        func bad() -> DocumentError { error("malformed number; JSON numbers look like 12, -3, 0.5 or 1e6", at: start) }
        if current == "-" { text.append("-"); advance() }
        guard isDigit(current) else { throw bad() }
        if current == "0" {
            text.append("0")
            advance()
            if isDigit(current) { throw error("numbers cannot have leading zeros", at: start) }
        } else {
            while isDigit(current), let digit = current { text.append(digit); advance() }
        }
        if current == "." {
            text.append(".")
            advance()
            guard isDigit(current) else { throw bad() }
            while isDigit(current), let digit = current { text.append(digit); advance() }
        }
        if current == "e" || current == "E", let exponent = current {
            text.append(exponent)
            advance()
            if current == "+" || current == "-", let sign = current { text.append(sign); advance() }
            guard isDigit(current) else { throw bad() }
            while isDigit(current), let digit = current { text.append(digit); advance() }
        }
        return String(text)
    }

    func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
