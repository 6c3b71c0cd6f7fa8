//! Values written the way Kubernetes' Go code prints them in validation messages: `%q` for strings
//! and `%#v` for maps and the few structs messages show (`map[string]string{"app":"web"}`,
//! `v1.LabelSelector{...}`, `intstr.IntOrString{...}`); and Go's notion of equal specs, where an
//! omitted field and its zero value are the same.
import Wire

enum GoSyntax {
    /// `text` in Go's `%q` form: double quotes, with quotes, backslashes and control characters escaped.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\u{07}": result += "\\a"
            case "\u{08}": result += "\\b"
            case "\u{0C}": result += "\\f"
            case "\u{0B}": result += "\\v"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    result += "\\x" + (hex.count < 2 ? "0" + hex : hex)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }

    /// A `map[string]string` in `%#v` form, keys sorted as Go's fmt sorts them; `nil` when absent.
    static func stringMap(_ value: JSONValue?) -> String {
        guard let value, case .object = value else { return "map[string]string(nil)" }
        let pairs = value.stringPairs.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        return "map[string]string{" + pairs.map { "\(quoted($0.key)):\(quoted($0.value))" }.joined(separator: ", ") + "}"
    }

    /// A `[]string` in `%#v` form.
    static func stringSlice(_ value: JSONValue?) -> String {
        guard let elements = value?.asArray else { return "[]string(nil)" }
        return "[]string{" + elements.map { quoted($0.asString ?? "") }.joined(separator: ", ") + "}"
    }

    /// A `metav1.LabelSelector` in `%#v` form, as deployment selector messages show it.
    static func labelSelector(_ selector: JSONValue?) -> String {
        let expressions: String
        if let requirements = selector?["matchExpressions"]?.asArray {
            expressions = "[]v1.LabelSelectorRequirement{" + requirements.map { requirement in
                "v1.LabelSelectorRequirement{Key:\(quoted(requirement.stringMember("key") ?? "")), "
                    + "Operator:\(quoted(requirement.stringMember("operator") ?? "")), "
                    + "Values:\(stringSlice(requirement["values"]))}"
            }.joined(separator: ", ") + "}"
        } else {
            expressions = "[]v1.LabelSelectorRequirement(nil)"
        }
        return "v1.LabelSelector{MatchLabels:\(stringMap(selector?["matchLabels"])), MatchExpressions:\(expressions)}"
    }

    /// An `intstr.IntOrString` in `%#v` form (type 0 holds an integer, type 1 a string).
    static func intOrString(_ value: JSONValue?) -> String {
        switch value {
        case .string(let text)?: "intstr.IntOrString{Type:1, IntVal:0, StrVal:\(quoted(text))}"
        default: "intstr.IntOrString{Type:0, IntVal:\(value?.asInt64 ?? 0), StrVal:\"\"}"
        }
    }

    /// Whether two JSON renderings of Go structs are the same struct: members in any order, and a
    /// missing member equal to `null`, `false`, `0`, `""`, `[]` or `{}` (Go omits zero fields).
    static func equivalent(_ first: JSONValue?, _ second: JSONValue?) -> Bool {
        switch (first, second) {
        case (.object(let left)?, .object(let right)?):
            let keys = left.keys + right.keys.filter { left[$0] == nil }
            return keys.allSatisfy { equivalent(left[$0], right[$0]) }
        case (.array(let left)?, .array(let right)?):
            return left.count == right.count && zip(left, right).allSatisfy { equivalent($0, $1) }
        case (.integer(let left)?, .number(let right)?), (.number(let right)?, .integer(let left)?):
            return Double(left) == right
        default:
            if isZero(first) && isZero(second) { return true }
            return first == second
        }
    }

    private static func isZero(_ value: JSONValue?) -> Bool {
        switch value {
        case nil, .null?, .bool(false)?, .integer(0)?, .string("")?: true
        case .number(let number)?: number == 0
        case .array(let elements)?: elements.isEmpty
        case .object(let members)?: members.values.allSatisfy { isZero($0) }
        default: false
        }
    }
}
