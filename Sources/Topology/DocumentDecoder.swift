//! DocumentDecoder: one `Decoder` that turns a DocumentNode tree (from YAML or JSON) into
//! `Decodable` values, strictly: unknown fields, missing fields and type mismatches are errors
//! that name file:line:column. Only plain scalars are numbers, booleans or null, so `"1"` stays a
//! string and only `true`/`false` are booleans (`yes` and `no` are not).

public enum DocumentDecoder {
    /// Decodes `Value` from `root`; `file` names the source in errors.
    public static func decode<Value: Decodable>(_ type: Value.Type, from root: DocumentNode, file: String)
        throws(DocumentError) -> Value
    {
        do {
            return try Value(from: NodeDecoder(node: root, file: file, codingPath: []))
        } catch let error as DocumentError {
            throw error
        } catch let error as DecodingError {
            throw translate(error, root: root, file: file)
        } catch {
            throw DocumentError(file: file, position: root.position, message: "\(error)")
        }
    }

    /// A `DecodingError` thrown by a type's own `init(from:)` carries a coding path, not a
    /// position; find the node the path leads to, so the error still names a line and column.
    static func translate(_ error: DecodingError, root: DocumentNode, file: String) -> DocumentError {
        let path: [any CodingKey]
        let message: String
        switch error {
        case .typeMismatch(let type, let context):
            (path, message) = (context.codingPath, "expected \(type): \(context.debugDescription)")
        case .valueNotFound(let type, let context):
            (path, message) = (context.codingPath, "expected \(type): \(context.debugDescription)")
        case .keyNotFound(let key, let context):
            (path, message) = (context.codingPath, "missing required field '\(key.stringValue)'")
        case .dataCorrupted(let context):
            (path, message) = (context.codingPath, context.debugDescription)
        @unknown default:
            (path, message) = ([], "\(error)")
        }
        var node = root
        for key in path {
            if let index = key.intValue, case .sequence(let items) = node.content, items.indices.contains(index) {
                node = items[index]
            } else if let value = node[key.stringValue] {
                node = value
            } else {
                break
            }
        }
        return DocumentError(file: file, position: node.position, message: message)
    }
}

/// A decoded value and where it was written, so that checks made after decoding (validation)
/// can still point at the line. Two located values are equal when their values are: the same
/// topology written as YAML and as JSON decodes equal although its lines differ.
public struct Located<Value> {
    public var value: Value
    /// Nil when the value was not decoded from a document (built in code, or by another decoder).
    public var position: SourcePosition?

    public init(_ value: Value, at position: SourcePosition? = nil) {
        self.value = value
        self.position = position
    }
}

extension Located: Decodable where Value: Decodable {
    public init(from decoder: any Decoder) throws {
        position = decoder.documentPosition
        value = try Value(from: decoder)
    }
}

extension Located: Equatable where Value: Equatable {
    public static func == (left: Located, right: Located) -> Bool { left.value == right.value }
}

extension Located: Sendable where Value: Sendable {}

extension Decoder {
    /// Where the value being decoded starts, when it comes from a document.
    var documentPosition: SourcePosition? { (self as? NodeDecoder)?.node.position }

    /// An error about the value being decoded: positioned when decoding a document, a plain
    /// `DecodingError` under any other decoder.
    func valueError(_ message: String) -> any Error {
        if let decoder = self as? NodeDecoder { return decoder.error(message) }
        return DecodingError.dataCorrupted(DecodingError.Context(codingPath: codingPath, debugDescription: message))
    }
}

extension DocumentNode {
    var isNull: Bool {
        if case .scalar(let scalar) = content { return scalar.isNull }
        return false
    }
}

// MARK: - The decoder

final class NodeDecoder: Decoder {
    let node: DocumentNode
    let file: String
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(node: DocumentNode, file: String, codingPath: [any CodingKey]) {
        self.node = node
        self.file = file
        self.codingPath = codingPath
    }

    func error(_ message: String, at position: SourcePosition? = nil) -> DocumentError {
        DocumentError(file: file, position: position ?? node.position, message: message)
    }

    func mismatch(expected: String) -> DocumentError { error("expected \(expected), found \(node.kindDescription)") }

    func child(_ node: DocumentNode, key: any CodingKey) -> NodeDecoder {
        NodeDecoder(node: node, file: file, codingPath: codingPath + [key])
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .mapping(let entries) = node.content else { throw mismatch(expected: "a mapping") }
        // Every key present must be one the type knows: a misspelt optional field would otherwise
        // be silently ignored and its default used.
        for entry in entries where Key(stringValue: entry.key) == nil {
            throw error(Self.unknownFieldMessage(entry.key, Key.self), at: entry.keyPosition)
        }
        return KeyedDecodingContainer(NodeKeyedContainer<Key>(decoder: self, entries: entries))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .sequence(let items) = node.content else { throw mismatch(expected: "a sequence") }
        return NodeUnkeyedContainer(decoder: self, items: items)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { NodeSingleValueContainer(decoder: self) }

    // MARK: Scalars

    func scalar(expected: String) throws(DocumentError) -> DocumentNode.Scalar {
        guard case .scalar(let scalar) = node.content, !scalar.isNull else { throw mismatch(expected: expected) }
        return scalar
    }

    /// Any non-null scalar reads as a string, so `args: [--port, 2379]` needs no quotes.
    func string() throws(DocumentError) -> String { try scalar(expected: "a string").text }

    func bool() throws(DocumentError) -> Bool {
        let scalar = try scalar(expected: "true or false")
        guard !scalar.isQuoted else { throw error("expected true or false, found the string \"\(scalar.text)\"; remove the quotes") }
        switch scalar.text {
        case "true": return true
        case "false": return false
        default: throw error("expected true or false, found '\(scalar.text)' (only true and false are booleans; yes, no, on and off are not)")
        }
    }

    func integer<Integer: FixedWidthInteger>(_ type: Integer.Type) throws(DocumentError) -> Integer {
        let scalar = try scalar(expected: "an integer")
        guard !scalar.isQuoted else { throw error("expected an integer, found the string \"\(scalar.text)\"; remove the quotes") }
        let digits = scalar.text.hasPrefix("-") ? scalar.text.dropFirst() : Substring(scalar.text)
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw error("expected an integer, found '\(scalar.text)'")
        }
        guard let value = Integer(scalar.text, radix: 10) else {
            throw error("\(scalar.text) is out of range (\(Integer.min)...\(Integer.max))")
        }
        return value
    }

    func floatingPoint() throws(DocumentError) -> Double {
        let scalar = try scalar(expected: "a number")
        guard !scalar.isQuoted else { throw error("expected a number, found the string \"\(scalar.text)\"; remove the quotes") }
        let allowed = scalar.text.allSatisfy { $0.isASCII && ($0.isNumber || "+-.eE".contains($0)) }
        guard allowed, scalar.text.contains(where: \.isNumber), let value = Double(scalar.text) else {
            throw error("expected a number, found '\(scalar.text)'")
        }
        return value
    }

    // MARK: Unknown fields

    static func unknownFieldMessage<Key: CodingKey>(_ name: String, _ type: Key.Type) -> String {
        guard let iterable = type as? any (CodingKey & CaseIterable).Type else { return "unknown field '\(name)'" }
        let known = fieldNames(iterable)
        var message = "unknown field '\(name)' (known fields: \(known.joined(separator: ", ")))"
        if let suggestion = closest(to: name, among: known) { message += "; did you mean '\(suggestion)'?" }
        return message
    }

    static func fieldNames<Key: CodingKey & CaseIterable>(_ type: Key.Type) -> [String] {
        Key.allCases.map(\.stringValue)
    }

    /// The known name within two edits of `name` (the first such, in declaration order), if any.
    static func closest(to name: String, among known: [String]) -> String? {
        let distances = known.map { (candidate: $0, distance: editDistance(name, $0)) }
        guard let best = distances.min(by: { $0.distance < $1.distance }), best.distance <= 2, best.distance < name.count
        else { return nil }
        return best.candidate
    }

    static func editDistance(_ left: String, _ right: String) -> Int {
        let left = Array(left), right = Array(right)
        var previous = Array(0...right.count)
        for (leftIndex, leftCharacter) in left.enumerated() {
            var current = [leftIndex + 1]
            for (rightIndex, rightCharacter) in right.enumerated() {
                let substitution = previous[rightIndex] + (leftCharacter == rightCharacter ? 0 : 1)
                current.append(min(substitution, previous[rightIndex + 1] + 1, current[rightIndex] + 1))
            }
            previous = current
        }
        return previous[right.count]
    }
}

/// A coding-path element for a sequence index.
struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "\(intValue ?? 0)" }
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { return nil }
    init?(intValue: Int) { self.intValue = intValue }
}

// MARK: - Containers

struct NodeKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: NodeDecoder
    let entries: [DocumentNode.Entry]

    var codingPath: [any CodingKey] { decoder.codingPath }
    var allKeys: [Key] { entries.compactMap { Key(stringValue: $0.key) } }

    func contains(_ key: Key) -> Bool { entries.contains { $0.key == key.stringValue } }

    func child(_ key: Key) throws(DocumentError) -> NodeDecoder {
        guard let entry = entries.first(where: { $0.key == key.stringValue }) else {
            throw decoder.error("missing required field '\(key.stringValue)'")
        }
        return decoder.child(entry.value, key: key)
    }

    func decodeNil(forKey key: Key) throws -> Bool { try child(key).node.isNull }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try T(from: child(key)) }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try child(key).bool() }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try child(key).string() }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try child(key).floatingPoint() }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { Float(try child(key).floatingPoint()) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try child(key).integer(type) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try child(key).integer(type) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try child(key).integer(type) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try child(key).integer(type) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try child(key).integer(type) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try child(key).integer(type) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try child(key).integer(type) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try child(key).integer(type) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try child(key).integer(type) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try child(key).integer(type) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try child(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try child(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { decoder }
    func superDecoder(forKey key: Key) throws -> any Decoder { try child(key) }
}

struct NodeUnkeyedContainer: UnkeyedDecodingContainer {
    let decoder: NodeDecoder
    let items: [DocumentNode]
    /// Invariant: 0 <= currentIndex <= items.count.
    var currentIndex = 0

    init(decoder: NodeDecoder, items: [DocumentNode]) {
        self.decoder = decoder
        self.items = items
    }

    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    mutating func next() throws(DocumentError) -> NodeDecoder {
        guard !isAtEnd else { throw decoder.error("expected more items in this sequence (it has \(items.count))") }
        defer { currentIndex += 1 }
        return decoder.child(items[currentIndex], key: IndexKey(currentIndex))
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd else { throw decoder.error("expected more items in this sequence (it has \(items.count))") }
        guard items[currentIndex].isNull else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: next()) }
    mutating func decode(_ type: Bool.Type) throws -> Bool { try next().bool() }
    mutating func decode(_ type: String.Type) throws -> String { try next().string() }
    mutating func decode(_ type: Double.Type) throws -> Double { try next().floatingPoint() }
    mutating func decode(_ type: Float.Type) throws -> Float { Float(try next().floatingPoint()) }
    mutating func decode(_ type: Int.Type) throws -> Int { try next().integer(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next().integer(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next().integer(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next().integer(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next().integer(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next().integer(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next().integer(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next().integer(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next().integer(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next().integer(type) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }
    mutating func superDecoder() throws -> any Decoder { try next() }
}

struct NodeSingleValueContainer: SingleValueDecodingContainer {
    let decoder: NodeDecoder

    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { decoder.node.isNull }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try T(from: decoder) }
    func decode(_ type: Bool.Type) throws -> Bool { try decoder.bool() }
    func decode(_ type: String.Type) throws -> String { try decoder.string() }
    func decode(_ type: Double.Type) throws -> Double { try decoder.floatingPoint() }
    func decode(_ type: Float.Type) throws -> Float { Float(try decoder.floatingPoint()) }
    func decode(_ type: Int.Type) throws -> Int { try decoder.integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decoder.integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decoder.integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decoder.integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decoder.integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try decoder.integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decoder.integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decoder.integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decoder.integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decoder.integer(type) }
}
