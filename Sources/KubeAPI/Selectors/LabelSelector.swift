//! LabelSelector: Kubernetes label selectors, from a query string or from the structured form.
//!
//! `kubectl get pods -l app=web`, `describe deployment` (`labelSelector=app=web`) and the
//! controllers all filter objects by labels. The query-string grammar is Kubernetes': terms joined
//! by commas, each `key`, `!key`, `key=value`, `key==value`, `key!=value`, `key in (a,b)` or
//! `key notin (a,b)`, whitespace allowed between tokens. The structured form is a
//! `metav1.LabelSelector` (`matchLabels` and `matchExpressions`) as Deployments carry it.
//!
//! Semantics follow Kubernetes: `!=` and `notin` also match objects without the label; an empty
//! selector matches everything; a missing (null) structured selector matches nothing. The
//! requirements are kept sorted by key (stable), so `description` is canonical:
//! `app=web,tier in (a,b)`. Keys and values are checked as Kubernetes checks label syntax.
import Wire

/// A selector that could not be read, with a message naming the offending text.
public struct SelectorError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// A conjunction of label requirements.
public struct LabelSelector: Sendable, Equatable, CustomStringConvertible {
    /// How one requirement compares a label. The raw value is the operator's spelling in the
    /// query string; `exists` is spelled by the bare key and `doesNotExist` by a `!` before it.
    public enum Operator: String, Sendable, Equatable {
        /// `key=value` (`matchLabels` entries too).
        case equals = "="
        /// `key==value`, the same test as `=`, kept apart so the selector renders as written.
        case doubleEquals = "=="
        /// `key!=value`; true when the label is missing.
        case notEquals = "!="
        /// `key in (a,b)`, `operator: In`.
        case `in` = "in"
        /// `key notin (a,b)`, `operator: NotIn`; true when the label is missing.
        case notIn = "notin"
        /// `key`, `operator: Exists`.
        case exists = "exists"
        /// `!key`, `operator: DoesNotExist`.
        case doesNotExist = "!"
    }

    /// One term: a key, an operator, and the values it compares with.
    public struct Requirement: Sendable, Equatable, CustomStringConvertible {
        public let key: String
        public let `operator`: Operator
        /// Sorted and without repeats; empty for `exists` and `doesNotExist`, one value for the
        /// equality operators, at least one for `in` and `notin`.
        public let values: [String]

        /// Checks the key, the values and their number against the operator.
        public init(key: String, operator: Operator, values: [String]) throws(SelectorError) {
            if let problem = LabelSyntax.keyProblem(key) {
                throw SelectorError("invalid label key \(JSON.quoted(key)): \(problem)")
            }
            let distinct = Array(Set(values)).sorted()
            switch `operator` {
            case .in, .notIn:
                guard !distinct.isEmpty else {
                    throw SelectorError("for 'in', 'notin' operators, values set can't be empty (key \(JSON.quoted(key)))")
                }
            case .equals, .doubleEquals, .notEquals:
                guard distinct.count == 1 else {
                    throw SelectorError("exact-match compatibility requires one single value (key \(JSON.quoted(key)) has \(distinct.count))")
                }
            case .exists, .doesNotExist:
                guard distinct.isEmpty else {
                    throw SelectorError("values set must be empty for exists and does not exist (key \(JSON.quoted(key)))")
                }
            }
            for value in distinct {
                if let problem = LabelSyntax.valueProblem(value) {
                    throw SelectorError("invalid label value: \(JSON.quoted(value)): at key: \(JSON.quoted(key)): \(problem)")
                }
            }
            self.key = key
            self.operator = `operator`
            self.values = distinct
        }

        /// Whether `labels` satisfy this requirement. A missing label fails `=`, `==`, `in` and
        /// `exists` and satisfies `!=`, `notin` and `!`.
        public func matches(labels: [String: String]) -> Bool {
            let value = labels[key]
            switch `operator` {
            case .equals, .doubleEquals, .in: return value.map(values.contains) ?? false
            case .notEquals, .notIn: return !(value.map(values.contains) ?? false)
            case .exists: return value != nil
            case .doesNotExist: return value == nil
            }
        }

        /// Kubernetes' rendering: `app=web`, `app==web`, `app!=web`, `tier in (a,b)`,
        /// `tier notin (a)`, `app`, `!app`.
        public var description: String {
            switch `operator` {
            case .equals, .doubleEquals, .notEquals: return key + `operator`.rawValue + values[0]
            case .in, .notIn: return "\(key) \(`operator`.rawValue) (\(values.joined(separator: ",")))"
            case .exists: return key
            case .doesNotExist: return "!" + key
            }
        }
    }

    /// The requirements, sorted by key; all must hold.
    public let requirements: [Requirement]
    /// True only for the selector of a missing structured selector, which matches no object.
    public let matchesNothing: Bool

    /// A selector of these requirements (sorted by key, stably).
    public init(requirements: [Requirement]) {
        self.init(requirements: requirements, matchesNothing: false)
    }

    private init(requirements: [Requirement], matchesNothing: Bool) {
        self.requirements = requirements.enumerated()
            .sorted { ($0.element.key, $0.offset) < ($1.element.key, $1.offset) }
            .map(\.element)
        self.matchesNothing = matchesNothing
    }

    /// Matches every object (the empty query string).
    public static let everything = LabelSelector(requirements: [])
    /// Matches no object (a missing structured selector).
    public static let nothing = LabelSelector(requirements: [], matchesNothing: true)

    /// True when the selector has no requirement and so matches everything.
    public var isEverything: Bool { !matchesNothing && requirements.isEmpty }

    /// Parses the query-string form (`labelSelector=` / `kubectl -l`).
    public init(parsing text: String) throws(SelectorError) {
        var parser = LabelSelectorParser(text)
        self.init(requirements: try parser.parseSelector())
    }

    /// Builds from the structured form
    /// `{"matchLabels":{"app":"web"},"matchExpressions":[{"key":"tier","operator":"In","values":["a"]}]}`.
    /// `null` gives `nothing`; `{}` gives `everything`.
    public init(structured: JSONValue) throws(SelectorError) {
        guard case .object(let selector) = structured else {
            if structured == .null {
                self = .nothing
                return
            }
            throw SelectorError("a label selector must be an object, found \(structured.kindName)")
        }
        var requirements: [Requirement] = []
        switch selector["matchLabels"] {
        case nil, .null?: break
        case .object(let matchLabels)?:
            for (key, value) in matchLabels.members {
                guard case .string(let text) = value else {
                    throw SelectorError("matchLabels[\(JSON.quoted(key))] must be a string, found \(value.kindName)")
                }
                requirements.append(try Requirement(key: key, operator: .equals, values: [text]))
            }
        case let other?: throw SelectorError("matchLabels must be an object, found \(other.kindName)")
        }
        switch selector["matchExpressions"] {
        case nil, .null?: break
        case .array(let expressions)?:
            for (position, expression) in expressions.enumerated() {
                requirements.append(try Self.requirement(fromExpression: expression, at: position))
            }
        case let other?: throw SelectorError("matchExpressions must be an array, found \(other.kindName)")
        }
        self.init(requirements: requirements)
    }

    private static func requirement(fromExpression expression: JSONValue, at position: Int) throws(SelectorError) -> Requirement {
        let place = "matchExpressions[\(position)]"
        guard case .object(let fields) = expression else {
            throw SelectorError("\(place) must be an object, found \(expression.kindName)")
        }
        guard case .string(let key)? = fields["key"] else { throw SelectorError("\(place).key must be a string") }
        guard case .string(let operatorName)? = fields["operator"] else {
            throw SelectorError("\(place).operator must be a string")
        }
        let operators: [String: Operator] = ["In": .in, "NotIn": .notIn, "Exists": .exists, "DoesNotExist": .doesNotExist]
        guard let selectorOperator = operators[operatorName] else {
            throw SelectorError("\(JSON.quoted(operatorName)) is not a valid label selector operator (\(place))")
        }
        var values: [String] = []
        switch fields["values"] {
        case nil, .null?: break
        case .array(let elements)?:
            for element in elements {
                guard case .string(let text) = element else {
                    throw SelectorError("\(place).values must hold strings, found \(element.kindName)")
                }
                values.append(text)
            }
        case let other?: throw SelectorError("\(place).values must be an array, found \(other.kindName)")
        }
        return try Requirement(key: key, operator: selectorOperator, values: values)
    }

    /// Whether a label set satisfies every requirement.
    public func matches(labels: [String: String]) -> Bool {
        !matchesNothing && requirements.allSatisfy { $0.matches(labels: labels) }
    }

    /// Whether an object's `metadata.labels` satisfy the selector (no labels is an empty set;
    /// members that are not strings are ignored).
    public func matches(object: JSONValue) -> Bool {
        matches(labels: Self.labels(of: object))
    }

    /// The string-valued members of `metadata.labels`.
    public static func labels(of object: JSONValue) -> [String: String] {
        guard case .object(let labels)? = object["metadata"]?["labels"] else { return [:] }
        var result: [String: String] = [:]
        for (key, value) in labels.members {
            if case .string(let text) = value { result[key] = text }
        }
        return result
    }

    /// The canonical query string: the requirements in key order, joined by commas
    /// (empty for `everything` and, as in Kubernetes, for `nothing`).
    public var description: String {
        requirements.map(\.description).joined(separator: ",")
    }
}

/// Kubernetes' label syntax: keys are an optional DNS-subdomain prefix and `/`, then a name of at
/// most 63 characters; values are at most 63 characters. Names and values start and end with an
/// alphanumeric character and hold only alphanumerics, `-`, `_` and `.`.
enum LabelSyntax {
    static let nameLengthMax = 63
    static let prefixLengthMax = 253

    /// Why `key` is not a valid label key, or nil.
    static func keyProblem(_ key: String) -> String? {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        let name: Substring
        switch parts.count {
        case 1: name = parts[0]
        case 2:
            let prefix = parts[0]
            if prefix.isEmpty { return "prefix part must be non-empty" }
            if let problem = prefixProblem(prefix) { return "prefix part \(problem)" }
            name = parts[1]
        default:
            return "a qualified name is an optional DNS subdomain prefix and '/', then a name (e.g. 'example.com/MyName')"
        }
        if name.isEmpty { return "name part must be non-empty" }
        if name.count > nameLengthMax { return "name part must be no more than \(nameLengthMax) characters" }
        if !isLabelToken(name) {
            return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        }
        return nil
    }

    /// Why `value` is not a valid label value, or nil. The empty value is valid.
    static func valueProblem(_ value: String) -> String? {
        if value.count > nameLengthMax { return "must be no more than \(nameLengthMax) characters" }
        if !value.isEmpty && !isLabelToken(value[...]) {
            return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        }
        return nil
    }

    /// A lowercase RFC 1123 subdomain: dot-separated labels of `a-z`, `0-9` and inner `-`.
    private static func prefixProblem(_ prefix: Substring) -> String? {
        if prefix.utf8.count > prefixLengthMax { return "must be no more than \(prefixLengthMax) characters" }
        for label in prefix.split(separator: ".", omittingEmptySubsequences: false) {
            let bytes = Array(label.utf8)
            let inner = { (byte: UInt8) in isLowerAlphanumeric(byte) || byte == UInt8(ascii: "-") }
            guard let first = bytes.first, let last = bytes.last, isLowerAlphanumeric(first), isLowerAlphanumeric(last),
                bytes.allSatisfy(inner)
            else {
                return "must be a lowercase RFC 1123 subdomain: lowercase alphanumerics, '-' and '.', starting and ending with an alphanumeric"
            }
        }
        return nil
    }

    private static func isLabelToken(_ text: Substring) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, let last = bytes.last, isAlphanumeric(first), isAlphanumeric(last) else {
            return false
        }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isLowerAlphanumeric(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}

/// A token of the query-string grammar. Identifiers are runs of anything but whitespace and the
/// symbols `= ! ( ) , < >`; `in` and `notin` are keywords where an operator may stand.
private enum LabelToken: Equatable {
    case identifier(String)
    case equals, doubleEquals, notEquals, bang
    case openParenthesis, closeParenthesis, comma
    case unknownSymbol(String)
    case end

    /// The text as the user wrote it, for messages.
    var literal: String {
        switch self {
        case .identifier(let text), .unknownSymbol(let text): text
        case .equals: "="
        case .doubleEquals: "=="
        case .notEquals: "!="
        case .bang: "!"
        case .openParenthesis: "("
        case .closeParenthesis: ")"
        case .comma: ","
        case .end: ""
        }
    }
}

/// A recursive-descent parser over the tokens of one query string.
private struct LabelSelectorParser {
    private var tokens: [LabelToken] = []
    private var position = 0

    init(_ text: String) {
        tokens = Self.tokenize(Array(text.utf8))
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n")
    }

    private static let symbols: Set<UInt8> = Set("=!(),<>".utf8)

    private static func tokenize(_ bytes: [UInt8]) -> [LabelToken] {
        var tokens: [LabelToken] = []
        var index = 0
        while true {
            while index < bytes.count && isWhitespace(bytes[index]) { index += 1 }
            guard index < bytes.count else { break }
            let start = index
            if symbols.contains(bytes[index]) {
                let pair = index + 1 < bytes.count ? String(decoding: bytes[index...(index + 1)], as: UTF8.self) : ""
                switch pair {
                case "==": tokens.append(.doubleEquals); index += 2; continue
                case "!=": tokens.append(.notEquals); index += 2; continue
                default: break
                }
                index += 1
                switch bytes[start] {
                case UInt8(ascii: "="): tokens.append(.equals)
                case UInt8(ascii: "!"): tokens.append(.bang)
                case UInt8(ascii: "("): tokens.append(.openParenthesis)
                case UInt8(ascii: ")"): tokens.append(.closeParenthesis)
                case UInt8(ascii: ","): tokens.append(.comma)
                default: tokens.append(.unknownSymbol(String(decoding: [bytes[start]], as: UTF8.self)))
                }
                continue
            }
            while index < bytes.count && !isWhitespace(bytes[index]) && !symbols.contains(bytes[index]) { index += 1 }
            tokens.append(.identifier(String(decoding: bytes[start..<index], as: UTF8.self)))
        }
        tokens.append(.end)
        return tokens
    }

    private var next: LabelToken { tokens[position] }

    private mutating func advance() -> LabelToken {
        let token = tokens[position]
        if token != .end { position += 1 }
        return token
    }

    mutating func parseSelector() throws(SelectorError) -> [LabelSelector.Requirement] {
        var requirements: [LabelSelector.Requirement] = []
        if next == .end { return requirements }
        while true {
            switch next {
            case .identifier, .bang: break
            default: throw SelectorError("found '\(next.literal)', expected: !, identifier, or 'end of string'")
            }
            do {
                requirements.append(try parseRequirement())
            } catch {
                throw SelectorError("unable to parse requirement: \(error.message)")
            }
            switch advance() {
            case .end: return requirements
            case .comma:
                switch next {
                case .identifier, .bang: continue
                default: throw SelectorError("found '\(next.literal)', expected: identifier after ','")
                }
            case let token: throw SelectorError("found '\(token.literal)', expected: ',' or 'end of string'")
            }
        }
    }

    private mutating func parseRequirement() throws(SelectorError) -> LabelSelector.Requirement {
        let negated = next == .bang
        if negated { _ = advance() }
        let keyToken = advance()
        guard case .identifier(let key) = keyToken else {
            throw SelectorError("found '\(keyToken.literal)', expected: identifier")
        }
        if next == .end || next == .comma {
            return try LabelSelector.Requirement(key: key, operator: negated ? .doesNotExist : .exists, values: [])
        }
        if negated {
            throw SelectorError("found '\(next.literal)', expected: ',' or 'end of string' after '!\(key)'")
        }
        let selectorOperator: LabelSelector.Operator
        switch advance() {
        case .equals: selectorOperator = .equals
        case .doubleEquals: selectorOperator = .doubleEquals
        case .notEquals: selectorOperator = .notEquals
        case .identifier("in"): selectorOperator = .in
        case .identifier("notin"): selectorOperator = .notIn
        case let token: throw SelectorError("found '\(token.literal)', expected: '=', '!=', '==', 'in', 'notin'")
        }
        let values: [String]
        switch selectorOperator {
        case .in, .notIn: values = try parseValueList()
        default: values = try parseExactValue()
        }
        return try LabelSelector.Requirement(key: key, operator: selectorOperator, values: values)
    }

    /// The value after `=`, `==` or `!=`; nothing before a comma or the end means "".
    private mutating func parseExactValue() throws(SelectorError) -> [String] {
        if next == .end || next == .comma { return [""] }
        let valueToken = advance()
        guard case .identifier(let value) = valueToken else {
            throw SelectorError("found '\(valueToken.literal)', expected: identifier")
        }
        return [value]
    }

    /// `( a, b )`; empty places between commas (and `()`) stand for the empty value, as in
    /// Kubernetes.
    private mutating func parseValueList() throws(SelectorError) -> [String] {
        let opening = advance()
        guard opening == .openParenthesis else {
            throw SelectorError("found '\(opening.literal)', expected: '('")
        }
        var values: [String] = []
        var expectingValue = true
        while true {
            switch advance() {
            case .identifier(let value) where expectingValue:
                values.append(value)
                expectingValue = false
            case .comma:
                if expectingValue { values.append("") }
                expectingValue = true
            case .closeParenthesis:
                if expectingValue { values.append("") }
                return values
            case let token:
                throw SelectorError("found '\(token.literal)', expected: ',', ')' or identifier")
            }
        }
    }
}
