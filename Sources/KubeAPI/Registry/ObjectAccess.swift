//! Reading and filling in the fields of API objects held as `JSONValue`s.
//!
//! Objects arrive as whatever JSON the client sent, so every reader here is forgiving: a missing
//! member, a `null` and a member of the wrong type all read as "not there". The writers follow Go's
//! defaulting convention, where a field is filled in only while it holds its zero value.
import Wire

extension JSONValue {
    /// The value at `path` (a chain of object members), or nil when any step is missing.
    public func member(_ path: String...) -> JSONValue? { member(path) }

    public func member(_ path: [String]) -> JSONValue? {
        var current = self
        for key in path {
            guard let next = current[key] else { return nil }
            current = next
        }
        return current
    }

    public func stringMember(_ path: String...) -> String? { member(path)?.asString }
    public func intMember(_ path: String...) -> Int64? { member(path)?.asInt64 }
    public func boolMember(_ path: String...) -> Bool? { member(path)?.asBool }
    public func objectMember(_ path: String...) -> JSONObject? { member(path)?.asObject }
    /// The array at `path`; empty when missing, so loops need no unwrapping.
    public func arrayMember(_ path: String...) -> [JSONValue] { member(path)?.asArray ?? [] }

    public var asString: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// Integers, and numbers that happen to be whole (`3.0`), which some clients send.
    public var asInt64: Int64? {
        switch self {
        case .integer(let number): return number
        case .number(let number) where number.rounded() == number && abs(number) < 9.2e18: return Int64(number)
        default: return nil
        }
    }

    public var asBool: Bool? {
        if case .bool(let flag) = self { return flag }
        return nil
    }

    public var asObject: JSONObject? {
        if case .object(let object) = self { return object }
        return nil
    }

    public var asArray: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// The string members of an object (labels, annotations, selectors) in their stored order.
    public var stringPairs: [(key: String, value: String)] {
        guard let object = asObject else { return [] }
        return object.members.compactMap { key, value in value.asString.map { (key, $0) } }
    }
}

extension JSONObject {
    /// Sets `key` unless it already holds a value: a Go defaulter fills a field only while it is
    /// zero, and an empty string is the zero value of a string field.
    public mutating func fillDefault(_ key: String, _ value: JSONValue) {
        switch self[key] {
        case nil, .null?: self[key] = value
        case .string("")?: if case .string = value { self[key] = value }
        default: break
        }
    }

    /// Edits the object at `key`, creating it when `create` is set and it is missing; a member
    /// of another type is left alone.
    public mutating func editObject(_ key: String, create: Bool = false, _ edit: (inout JSONObject) -> Void) {
        var nested: JSONObject
        switch self[key] {
        case .object(let existing)?: nested = existing
        case nil, .null?:
            guard create else { return }
            nested = JSONObject()
        default: return
        }
        edit(&nested)
        self[key] = .object(nested)
    }

    /// Edits every object element of the array at `key`.
    public mutating func editEachObject(_ key: String, _ edit: (inout JSONObject) -> Void) {
        guard case .array(var elements)? = self[key] else { return }
        for position in elements.indices {
            guard case .object(var element) = elements[position] else { continue }
            edit(&element)
            elements[position] = .object(element)
        }
        self[key] = .array(elements)
    }
}
