//! JSONPatch: RFC 6902 JSON patch with RFC 6901 JSON pointers, the format of `kubectl rollout undo`.
//!
//! A patch is decoded first (`init`), so a malformed document (not an array, an unknown op, a
//! missing member, a pointer without its leading `/`) is told apart from a well-formed patch that
//! does not apply to this object (`apply`): the shell answers 400 for the first and 422 for the
//! second, as Kubernetes does. Operations apply in order to a working copy, so a failing patch
//! changes nothing. Every error names the operation's index, its op and the path.
//!
//! Values compare as RFC 6902 §4.6 says: numbers by value (`1` equals `1.0`), objects by their
//! members regardless of order, arrays element by element.
import Wire

/// An RFC 6901 JSON pointer: `/spec/containers/0/image`, with `~1` for `/` and `~0` for `~`.
public struct JSONPointer: Sendable, Equatable, CustomStringConvertible {
    /// The reference tokens, unescaped; empty for the whole document.
    public let tokens: [String]

    public init(tokens: [String]) {
        self.tokens = tokens
    }

    /// Parses a pointer; it must be empty or start with `/`, and `~` may only begin `~0` or `~1`.
    public init(parsing text: String) throws(PatchError) {
        guard !text.isEmpty else {
            self.init(tokens: [])
            return
        }
        guard text.hasPrefix("/") else {
            throw .malformed("invalid JSON pointer \(JSON.quoted(text)): it must be empty or start with '/'")
        }
        var tokens: [String] = []
        for rawToken in text.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            var token = ""
            var afterTilde = false
            for character in rawToken {
                if afterTilde {
                    switch character {
                    case "0": token.append("~")
                    case "1": token.append("/")
                    default: throw .malformed("invalid JSON pointer \(JSON.quoted(text)): '~\(character)' is not an escape (use ~0 or ~1)")
                    }
                    afterTilde = false
                } else if character == "~" {
                    afterTilde = true
                } else {
                    token.append(character)
                }
            }
            if afterTilde { throw .malformed("invalid JSON pointer \(JSON.quoted(text)): it ends in an unfinished '~'") }
            tokens.append(token)
        }
        self.init(tokens: tokens)
    }

    /// The pointer's text, escaped again.
    public var description: String {
        tokens.map { "/" + $0.replacing("~", with: "~0").replacing("/", with: "~1") }.joined()
    }

    /// Whether `other` lies strictly inside the value this pointer names.
    public func isProperPrefix(of other: JSONPointer) -> Bool {
        other.tokens.count > tokens.count && Array(other.tokens.prefix(tokens.count)) == tokens
    }
}

/// A decoded RFC 6902 patch.
public struct JSONPatch: Sendable, Equatable {
    /// One operation of the patch.
    public enum Operation: Sendable, Equatable {
        case add(path: JSONPointer, value: JSONValue)
        case remove(path: JSONPointer)
        case replace(path: JSONPointer, value: JSONValue)
        case move(from: JSONPointer, path: JSONPointer)
        case copy(from: JSONPointer, path: JSONPointer)
        case test(path: JSONPointer, value: JSONValue)

        /// The `op` member: `add`, `remove`...
        public var name: String {
            switch self {
            case .add: "add"
            case .remove: "remove"
            case .replace: "replace"
            case .move: "move"
            case .copy: "copy"
            case .test: "test"
            }
        }

        /// The `path` member.
        public var path: JSONPointer {
            switch self {
            case .add(let path, _), .remove(let path), .replace(let path, _), .move(_, let path), .copy(_, let path),
                .test(let path, _):
                path
            }
        }
    }

    public let operations: [Operation]

    public init(operations: [Operation]) {
        self.operations = operations
    }

    /// Decodes a patch document: an array of objects with `op`, `path`, and `value` (add,
    /// replace, test) or `from` (move, copy). Unknown members are ignored, as RFC 6902 asks.
    public init(_ document: JSONValue) throws(PatchError) {
        guard case .array(let elements) = document else {
            throw .malformed("a JSON patch must be an array of operations, found \(document.kindName)")
        }
        var operations: [Operation] = []
        for (index, element) in elements.enumerated() {
            operations.append(try Self.decodeOperation(element, index: index))
        }
        self.init(operations: operations)
    }

    private static func decodeOperation(_ element: JSONValue, index: Int) throws(PatchError) -> Operation {
        guard case .object(let members) = element else {
            throw .malformed("operation \(index): must be an object, found \(element.kindName)")
        }
        guard case .string(let name)? = members["op"] else {
            throw .malformed("operation \(index): missing \"op\" (a string)")
        }
        func pointer(_ key: String) throws(PatchError) -> JSONPointer {
            guard case .string(let text)? = members[key] else {
                throw .malformed("operation \(index) (\(name)): missing \(JSON.quoted(key)) (a string)")
            }
            do {
                return try JSONPointer(parsing: text)
            } catch {
                throw .malformed("operation \(index) (\(name)): \(error.message)")
            }
        }
        func value() throws(PatchError) -> JSONValue {
            // `"value": null` is a value; only an absent member is missing.
            guard let value = members["value"] else {
                throw .malformed("operation \(index) (\(name)): missing \"value\"")
            }
            return value
        }
        switch name {
        case "add": return .add(path: try pointer("path"), value: try value())
        case "remove": return .remove(path: try pointer("path"))
        case "replace": return .replace(path: try pointer("path"), value: try value())
        case "move": return .move(from: try pointer("from"), path: try pointer("path"))
        case "copy": return .copy(from: try pointer("from"), path: try pointer("path"))
        case "test": return .test(path: try pointer("path"), value: try value())
        default:
            throw .malformed("operation \(index): unknown op \(JSON.quoted(name)) (expected add, remove, replace, move, copy or test)")
        }
    }

    /// The document after every operation, in order; the first failing operation throws and
    /// nothing is changed.
    public func apply(to document: JSONValue) throws(PatchError) -> JSONValue {
        var working = document
        for (index, operation) in operations.enumerated() {
            do {
                try Self.perform(operation, on: &working)
            } catch {
                throw .notApplicable("operation \(index) (\(operation.name)): \(error.message)")
            }
        }
        return working
    }

    /// RFC 6902 §4.6 equality: numbers by value, objects regardless of member order.
    public static func valuesEqual(_ left: JSONValue, _ right: JSONValue) -> Bool {
        switch (left, right) {
        case (.integer(let a), .number(let b)), (.number(let b), .integer(let a)):
            return Double(a) == b
        case (.object(let a), .object(let b)):
            guard a.count == b.count else { return false }
            return a.members.allSatisfy { key, value in b[key].map { valuesEqual(value, $0) } ?? false }
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { valuesEqual($0, $1) }
        default:
            return left == right
        }
    }

    /// The value at `pointer`, or nil when the document has none there.
    public static func value(at pointer: JSONPointer, in document: JSONValue) -> JSONValue? {
        var current = document
        for token in pointer.tokens {
            switch current {
            case .object(let members):
                guard let child = members[token] else { return nil }
                current = child
            case .array(let elements):
                guard let position = arrayIndex(token), position < elements.count else { return nil }
                current = elements[position]
            default:
                return nil
            }
        }
        return current
    }

    // MARK: - Applying

    /// Why one operation failed; `apply` prefixes the operation.
    private struct Failure: Error {
        var message: String
    }

    private enum Edit {
        case add(JSONValue)
        case remove
        case replace(JSONValue)
    }

    private static func perform(_ operation: Operation, on document: inout JSONValue) throws(Failure) {
        switch operation {
        case .add(let path, let value):
            try edit(.add(value), at: path, in: &document)
        case .remove(let path):
            try edit(.remove, at: path, in: &document)
        case .replace(let path, let value):
            try edit(.replace(value), at: path, in: &document)
        case .move(let from, let path):
            if from == path {
                guard value(at: from, in: document) != nil else { throw Failure(message: "doc is missing from path: \(from)") }
                return
            }
            if from.isProperPrefix(of: path) {
                throw Failure(message: "cannot move \(from) into its own child \(path)")
            }
            guard let moved = value(at: from, in: document) else { throw Failure(message: "doc is missing from path: \(from)") }
            try edit(.remove, at: from, in: &document)
            try edit(.add(moved), at: path, in: &document)
        case .copy(let from, let path):
            guard let copied = value(at: from, in: document) else { throw Failure(message: "doc is missing from path: \(from)") }
            try edit(.add(copied), at: path, in: &document)
        case .test(let path, let expected):
            guard let actual = value(at: path, in: document) else { throw Failure(message: "doc is missing path: \(path)") }
            guard valuesEqual(actual, expected) else {
                throw Failure(message: "testing value \(path) failed: expected \(JSON.serialize(expected)), found \(JSON.serialize(actual))")
            }
        }
    }

    private static func edit(_ change: Edit, at pointer: JSONPointer, in document: inout JSONValue) throws(Failure) {
        guard !pointer.tokens.isEmpty else {
            switch change {
            case .add(let value), .replace(let value): document = value
            case .remove: throw Failure(message: "cannot remove the whole document")
            }
            return
        }
        try edit(change, tokens: pointer.tokens[...], in: &document, pointer: pointer)
    }

    /// Walks to the container of the last token and changes it there. Each level takes its child
    /// out of the parent before descending, so the child is uniquely referenced and is changed in
    /// place rather than copied.
    private static func edit(
        _ change: Edit, tokens: ArraySlice<String>, in node: inout JSONValue, pointer: JSONPointer
    ) throws(Failure) {
        precondition(!tokens.isEmpty, "edit below \(pointer) ran out of tokens")
        let token = tokens[tokens.startIndex]
        if tokens.count == 1 {
            try editContainer(change, token: token, in: &node, pointer: pointer)
            return
        }
        switch node {
        case .object(var members):
            guard var child = members[token] else { throw Failure(message: "doc is missing path: \(pointer)") }
            node = .null
            members[token] = .null
            try edit(change, tokens: tokens.dropFirst(), in: &child, pointer: pointer)
            members[token] = child
            node = .object(members)
        case .array(var elements):
            let position = try existingIndex(token, count: elements.count, pointer: pointer)
            var child = elements[position]
            node = .null
            elements[position] = .null
            try edit(change, tokens: tokens.dropFirst(), in: &child, pointer: pointer)
            elements[position] = child
            node = .array(elements)
        default:
            throw Failure(message: "doc is missing path: \(pointer)")
        }
    }

    private static func editContainer(_ change: Edit, token: String, in node: inout JSONValue, pointer: JSONPointer) throws(Failure) {
        switch node {
        case .object(var members):
            node = .null
            switch change {
            case .add(let value):
                members[token] = value
            case .remove:
                guard members[token] != nil else { throw Failure(message: "doc is missing path: \(pointer)") }
                members[token] = nil
            case .replace(let value):
                guard members[token] != nil else { throw Failure(message: "doc is missing path: \(pointer)") }
                members[token] = value
            }
            node = .object(members)
        case .array(var elements):
            node = .null
            switch change {
            case .add(let value):
                if token == "-" {
                    elements.append(value)
                } else {
                    guard let position = arrayIndex(token) else { throw Failure(message: "invalid array index \(JSON.quoted(token)) in \(pointer)") }
                    guard position <= elements.count else {
                        throw Failure(message: "index \(position) is out of bounds in \(pointer): the array has \(elements.count) elements")
                    }
                    elements.insert(value, at: position)
                }
            case .remove:
                elements.remove(at: try existingIndex(token, count: elements.count, pointer: pointer))
            case .replace(let value):
                elements[try existingIndex(token, count: elements.count, pointer: pointer)] = value
            }
            node = .array(elements)
        default:
            throw Failure(message: "doc is missing path: \(pointer)")
        }
    }

    private static func existingIndex(_ token: String, count: Int, pointer: JSONPointer) throws(Failure) -> Int {
        guard let position = arrayIndex(token) else {
            throw Failure(message: "invalid array index \(JSON.quoted(token)) in \(pointer)")
        }
        guard position < count else {
            throw Failure(message: "index \(position) is out of bounds in \(pointer): the array has \(count) elements")
        }
        return position
    }

    /// A decimal array index without leading zeros (RFC 6901 §4), or nil.
    private static func arrayIndex(_ token: String) -> Int? {
        guard !token.isEmpty, token.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            token == "0" || !token.hasPrefix("0")
        else { return nil }
        return Int(token)
    }
}
