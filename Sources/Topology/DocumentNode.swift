//! DocumentNode: the positioned tree that both the YAML subset parser and the JSON reader build,
//! so one decoder (DocumentDecoder) serves both formats and every error can name file:line:column.

/// A place in a source text. Lines and columns start at 1; a column counts Unicode scalars, so a
/// tab or a multi-byte character is one column.
public struct SourcePosition: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        precondition(line >= 1 && column >= 1, "positions start at 1:1, got \(line):\(column)")
        self.line = line
        self.column = column
    }

    public static func < (left: SourcePosition, right: SourcePosition) -> Bool {
        (left.line, left.column) < (right.line, right.column)
    }

    public var description: String { "\(line):\(column)" }
}

/// An error in a document: what went wrong, where (file:line:column), and, in the message, how to
/// fix it. Parsing, decoding and validation all report this one type.
public struct DocumentError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var position: SourcePosition
    public var message: String

    public init(file: String, position: SourcePosition, message: String) {
        self.file = file
        self.position = position
        self.message = message
    }

    public var line: Int { position.line }
    public var column: Int { position.column }

    /// `file:line:column: message`, the shape compilers use, so editors can jump to it.
    public var description: String { "\(file):\(position.line):\(position.column): \(message)" }
}

/// A node of a parsed document: a scalar, a sequence or a mapping, with the position where it
/// starts. Mappings keep their entries in file order; keys are strings.
public struct DocumentNode: Sendable, Equatable {
    public enum Content: Sendable, Equatable {
        case scalar(Scalar)
        case sequence([DocumentNode])
        case mapping([Entry])
    }

    /// How a scalar was written. Only plain scalars can be null, numbers or booleans: `"1"` and
    /// `'true'` are strings.
    public enum ScalarStyle: Sendable, Equatable {
        case plain
        case singleQuoted
        case doubleQuoted
    }

    public struct Scalar: Sendable, Equatable {
        /// The value after unquoting and unescaping.
        public var text: String
        public var style: ScalarStyle

        public init(_ text: String, style: ScalarStyle) {
            self.text = text
            self.style = style
        }

        public var isQuoted: Bool { style != .plain }

        /// `null`, `~` and an empty plain value are null, as in YAML 1.2's core schema (JSON's
        /// `null` arrives as a plain scalar too). `Null` and `NULL` are not: this subset keeps
        /// one spelling per value.
        public var isNull: Bool { style == .plain && (text.isEmpty || text == "null" || text == "~") }
    }

    public struct Entry: Sendable, Equatable {
        public var key: String
        public var keyPosition: SourcePosition
        public var value: DocumentNode

        public init(key: String, keyPosition: SourcePosition, value: DocumentNode) {
            self.key = key
            self.keyPosition = keyPosition
            self.value = value
        }
    }

    public var content: Content
    public var position: SourcePosition

    public init(_ content: Content, at position: SourcePosition) {
        self.content = content
        self.position = position
    }

    public static func scalar(_ text: String, _ style: ScalarStyle = .plain, at position: SourcePosition) -> DocumentNode {
        DocumentNode(.scalar(Scalar(text, style: style)), at: position)
    }

    /// The entry for `key`, if this is a mapping that has it.
    public subscript(key: String) -> DocumentNode? {
        guard case .mapping(let entries) = content else { return nil }
        return entries.first { $0.key == key }?.value
    }

    /// What this node is, for error messages: "a mapping", "a sequence", "null", "the string "x"".
    public var kindDescription: String {
        switch content {
        case .mapping: return "a mapping"
        case .sequence: return "a sequence"
        case .scalar(let scalar):
            if scalar.isNull { return scalar.text.isEmpty ? "an empty value (null)" : "null" }
            return scalar.isQuoted ? "the string \"\(scalar.text)\"" : "'\(scalar.text)'"
        }
    }
}

/// Parses a document, choosing the reader by the file name: `.json` files are read as JSON,
/// everything else as the YAML subset (see docs/topology.md).
public enum Document {
    public static func parse(_ text: String, file: String) throws(DocumentError) -> DocumentNode {
        if file.lowercased().hasSuffix(".json") { return try JSONReader.parse(text, file: file) }
        return try YAMLSubset.parse(text, file: file)
    }
}
