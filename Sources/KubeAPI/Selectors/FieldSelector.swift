//! FieldSelector: Kubernetes field selectors (`fieldSelector=spec.nodeName=node1,status.phase!=Failed`).
//!
//! kubectl filters by fields in `describe` (events by `involvedObject.*`), `drain` (pods by
//! `spec.nodeName`), `delete` and `rollout status` (`metadata.name`). The grammar is
//! Kubernetes': comma-separated terms `field=value`, `field==value` or `field!=value`. The field
//! is taken as written (no escapes, no trimming) up to the first operator; in the value a
//! backslash escapes `\`, `,` and `=`, and an unescaped `,` splits terms. Terms are sorted, as
//! Kubernetes sorts them, so `description` is canonical.
//!
//! Matching reads the field from the object by its dotted path: a missing field (or one that is
//! an object or array) reads as "", booleans and numbers as their JSON text. Which fields a
//! resource supports is the shell's decision, not this type's.
import Wire

/// A conjunction of field equalities and inequalities.
public struct FieldSelector: Sendable, Equatable, CustomStringConvertible {
    /// One term: `field=value` (also written `==`) or `field!=value`.
    public struct Requirement: Sendable, Equatable, CustomStringConvertible {
        public let field: String
        /// True for `!=`.
        public let negated: Bool
        /// The value, unescaped.
        public let value: String

        public init(field: String, negated: Bool, value: String) {
            self.field = field
            self.negated = negated
            self.value = value
        }

        /// Whether a field whose text is `actual` satisfies the term.
        public func matches(_ actual: String) -> Bool {
            (actual == value) != negated
        }

        /// `field=value` or `field!=value`, the value escaped again.
        public var description: String {
            field + (negated ? "!=" : "=") + FieldSelector.escape(value)
        }
    }

    /// The terms, in sorted order; all must hold.
    public let requirements: [Requirement]

    public init(requirements: [Requirement]) {
        self.requirements = requirements
    }

    /// Matches every object (the empty query string).
    public static let everything = FieldSelector(requirements: [])

    /// True when the selector has no term and so matches everything.
    public var isEverything: Bool { requirements.isEmpty }

    /// Parses the query-string form.
    public init(parsing text: String) throws(SelectorError) {
        var requirements: [Requirement] = []
        for term in Self.splitTerms(text).sorted() where !term.isEmpty {
            guard let (field, negated, rawValue) = Self.splitTerm(term) else {
                throw SelectorError("invalid selector: '\(text)'; can't understand '\(term)'")
            }
            requirements.append(Requirement(field: field, negated: negated, value: try Self.unescape(rawValue, in: term)))
        }
        self.init(requirements: requirements)
    }

    /// Whether every term holds for `object`.
    public func matches(object: JSONValue) -> Bool {
        requirements.allSatisfy { $0.matches(Self.fieldText($0.field, in: object)) }
    }

    /// Whether every term holds for a prepared field set (a missing field reads as "").
    public func matches(fields: [String: String]) -> Bool {
        requirements.allSatisfy { $0.matches(fields[$0.field] ?? "") }
    }

    /// The text of the field at the dotted `path` of `object`: strings as they are, booleans and
    /// numbers as their JSON text, anything else (missing, null, object, array) as "".
    public static func fieldText(_ path: String, in object: JSONValue) -> String {
        var current = object
        for component in path.split(separator: ".", omittingEmptySubsequences: false) {
            guard let child = current[String(component)] else { return "" }
            current = child
        }
        switch current {
        case .string(let text): return text
        case .bool, .integer, .number: return JSON.serialize(current)
        case .null, .array, .object: return ""
        }
    }

    /// The terms joined by commas.
    public var description: String {
        requirements.map(\.description).joined(separator: ",")
    }

    /// `value` with `\`, `,` and `=` escaped by a backslash, so it can stand in a selector.
    public static func escape(_ value: String) -> String {
        var escaped = ""
        for character in value {
            if character == "\\" || character == "," || character == "=" { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }

    /// Splits at commas that no backslash escapes; escapes stay in the terms.
    private static func splitTerms(_ text: String) -> [String] {
        guard !text.isEmpty else { return [] }
        var terms: [String] = []
        var current = ""
        var escaping = false
        for character in text {
            if escaping {
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else if character == "," {
                terms.append(current)
                current = ""
                continue
            }
            current.append(character)
        }
        terms.append(current)
        return terms
    }

    /// Splits a term at its first operator; `!=` and `==` win over `=` at the same place.
    private static func splitTerm(_ term: String) -> (field: String, negated: Bool, value: Substring)? {
        var index = term.startIndex
        while index < term.endIndex {
            let rest = term[index...]
            if rest.hasPrefix("!=") { return (String(term[..<index]), true, rest.dropFirst(2)) }
            if rest.hasPrefix("==") { return (String(term[..<index]), false, rest.dropFirst(2)) }
            if rest.hasPrefix("=") { return (String(term[..<index]), false, rest.dropFirst(1)) }
            index = term.index(after: index)
        }
        return nil
    }

    /// Undoes `escape`; any other escape, a trailing backslash, or a bare `,` or `=` is an error.
    private static func unescape(_ raw: Substring, in term: String) throws(SelectorError) -> String {
        var value = ""
        var escaping = false
        for character in raw {
            if escaping {
                guard character == "\\" || character == "," || character == "=" else {
                    throw SelectorError("invalid field selector: invalid escape sequence '\\\(character)' in '\(term)'")
                }
                value.append(character)
                escaping = false
            } else if character == "\\" {
                escaping = true
            } else if character == "," || character == "=" {
                throw SelectorError("invalid field selector: unescaped character '\(character)' in the value of '\(term)'")
            } else {
                value.append(character)
            }
        }
        if escaping { throw SelectorError("invalid field selector: '\(term)' ends in an unfinished escape '\\'") }
        return value
    }
}
