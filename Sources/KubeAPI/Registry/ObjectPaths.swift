//! Reading and writing the fields of an object held as JSON by dotted path (`metadata.name`,
//! `status.phase`): the form the apiserver's handlers and the controllers use.

import Wire

extension JSONValue {
    /// The value at a dotted path of object members (`metadata.name`), nil when any step is missing.
    public func value(at path: String) -> JSONValue? {
        var current: JSONValue? = self
        for step in path.split(separator: ".") {
            guard case .object(let object)? = current else { return nil }
            current = object[String(step)]
        }
        return current
    }

    public func string(at path: String) -> String? {
        if case .string(let text)? = value(at: path) { return text }
        return nil
    }

    public func integer(at path: String) -> Int64? {
        if case .integer(let number)? = value(at: path) { return number }
        return nil
    }

    /// Sets (or, with nil, removes) the value at a dotted path, creating objects on the way.
    public mutating func set(_ path: String, _ newValue: JSONValue?) {
        let steps = path.split(separator: ".").map(String.init)
        precondition(!steps.isEmpty, "empty path")
        self = Self.setting(self, steps[...], newValue)
    }

    private static func setting(_ value: JSONValue, _ steps: ArraySlice<String>, _ newValue: JSONValue?) -> JSONValue {
        var object: JSONObject
        if case .object(let existing) = value { object = existing } else { object = JSONObject() }
        let step = steps.first!
        if steps.count == 1 {
            object[step] = newValue
        } else {
            if newValue == nil && object[step] == nil { return .object(object) }
            object[step] = setting(object[step] ?? .object(JSONObject()), steps.dropFirst(), newValue)
        }
        return .object(object)
    }
}
