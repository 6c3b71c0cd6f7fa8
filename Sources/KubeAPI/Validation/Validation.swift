//! Validation of objects on create and update, with the field paths, reasons and messages of
//! Kubernetes v1.32, so a 422 from Faultline reads like one from a real apiserver:
//! `The Pod "bad" is invalid: spec.containers: Required value`.
//!
//! `validate` expects an object that went through `applyDefaults`, as the real apiserver
//! validates after defaulting; a field the defaulters fill is checked only when present, so an
//! undefaulted object gets no complaints about fields the defaults would have supplied.
import Wire

/// One invalid field, as a Status's `details.causes` entry reports it.
public struct FieldCause: Sendable, Equatable, CustomStringConvertible {
    /// Why the field is invalid; the raw value is the `reason` of the Status cause.
    public enum Reason: String, Sendable {
        case required = "FieldValueRequired"
        case invalid = "FieldValueInvalid"
        case notSupported = "FieldValueNotSupported"
        case duplicate = "FieldValueDuplicate"
        case forbidden = "FieldValueForbidden"
        case tooLong = "FieldValueTooLong"
    }

    /// The field's path: `spec.containers[0].name`, `metadata.labels`, `data[key]`.
    public var field: String
    /// Why it is invalid.
    public var reason: Reason
    /// The message without the field, as Kubernetes prints it: `Required value`,
    /// `Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of ...`.
    public var message: String

    /// A cause with its parts as a Status carries them.
    public init(field: String, reason: Reason, message: String) {
        self.field = field
        self.reason = reason
        self.message = message
    }

    /// `field: message`, the form kubectl prints after `The Pod "bad" is invalid: `.
    public var description: String { field.isEmpty ? message : "\(field): \(message)" }

    /// The cause as a Status's `details.causes` entry.
    public var json: JSONValue {
        .object(["reason": .string(reason.rawValue), "message": .string(message), "field": .string(field)])
    }
}

extension KubeAPI {
    /// The invalid fields of `object` (of `kind`), empty when it is valid. With `old`, this is an
    /// update of `old` and the update rules apply too (immutable names and uids, pod specs that
    /// may change only images, tolerations and deadlines, immutable selectors...).
    ///
    /// A cause appears once even when two rules find it, as in the message Kubernetes prints.
    public static func validate(
        kind: String, object: JSONValue, old: JSONValue? = nil, registry: ResourceRegistry = .standard
    ) -> [FieldCause] {
        var causes: [FieldCause] = []
        if let old { causes += MetadataValidation.validateUpdate(object, old: old) }
        // The registry knows the kind's scope; a kind it does not serve gets no namespace check.
        causes += MetadataValidation.validate(
            object, name: nameRules[kind] ?? .dnsSubdomain, namespaced: registry.resource(kind: kind)?.namespaced)
        switch kind {
        case "Pod": causes += PodValidation.validatePod(object, old: old)
        case "Deployment", "ReplicaSet": causes += WorkloadValidation.validate(object, kind: kind, old: old)
        case "Service": causes += ServiceValidation.validate(object, old: old)
        case "Endpoints": causes += ServiceValidation.validateEndpoints(object)
        case "Namespace": causes += ClusterValidation.validateNamespace(object)
        case "Node": causes += ClusterValidation.validateNode(object, old: old)
        case "Lease": causes += ClusterValidation.validateLease(object)
        case "Event": causes += ClusterValidation.validateEvent(object, registry: registry)
        case "ConfigMap": causes += ConfigValidation.validateConfigMap(object, old: old)
        case "Secret": causes += ConfigValidation.validateSecret(object, old: old)
        default: break
        }
        var seen = Set<String>()
        return causes.filter { seen.insert("\($0.field)\u{0}\($0.message)").inserted }
    }
}

extension KubeAPI {
    /// The kinds whose names are not DNS subdomains: a namespace is one DNS label, and a
    /// service's name must also start with a letter, as it becomes a DNS label and env var prefix.
    fileprivate static let nameRules: [String: NameRule] = ["Namespace": .dnsLabel, "Service": .dns1035Label]
}

/// A field's path as Kubernetes writes it: `spec.containers[0].ports[1].containerPort`,
/// `metadata.labels`, `data[key]`.
struct FieldPath: CustomStringConvertible, ExpressibleByStringLiteral {
    let description: String

    init(_ text: String) { description = text }
    init(stringLiteral text: String) { description = text }

    func child(_ names: String...) -> FieldPath {
        FieldPath(names.reduce(description) { $0.isEmpty ? $1 : "\($0).\($1)" })
    }

    func index(_ position: Int) -> FieldPath { FieldPath("\(description)[\(position)]") }
    func key(_ key: String) -> FieldPath { FieldPath("\(description)[\(key)]") }
}

/// The offending value of a cause, which Kubernetes prints after `Invalid value: `: strings in Go
/// quotes, numbers plainly, anything else in Go syntax.
enum BadValue: ExpressibleByStringLiteral {
    case string(String)
    case integer(Int64)
    /// A value already rendered as Go's `%#v` would (maps, structs, slices).
    case goSyntax(String)

    init(stringLiteral text: String) { self = .string(text) }

    var rendered: String {
        switch self {
        case .string(let text): GoSyntax.quoted(text)
        case .integer(let number): String(number)
        case .goSyntax(let text): text
        }
    }
}

extension FieldCause {
    static func required(_ path: FieldPath, _ detail: String = "") -> FieldCause {
        FieldCause(field: path.description, reason: .required, message: withDetail("Required value", detail))
    }

    static func invalid(_ path: FieldPath, _ value: BadValue, _ detail: String) -> FieldCause {
        FieldCause(field: path.description, reason: .invalid, message: withDetail("Invalid value: \(value.rendered)", detail))
    }

    static func notSupported(_ path: FieldPath, _ value: BadValue, supported: [String]) -> FieldCause {
        let detail = supported.isEmpty ? "" : "supported values: " + supported.map(GoSyntax.quoted).joined(separator: ", ")
        return FieldCause(
            field: path.description, reason: .notSupported, message: withDetail("Unsupported value: \(value.rendered)", detail))
    }

    static func duplicate(_ path: FieldPath, _ value: BadValue, _ detail: String = "") -> FieldCause {
        FieldCause(field: path.description, reason: .duplicate, message: withDetail("Duplicate value: \(value.rendered)", detail))
    }

    static func forbidden(_ path: FieldPath, _ detail: String) -> FieldCause {
        FieldCause(field: path.description, reason: .forbidden, message: withDetail("Forbidden", detail))
    }

    static func tooLong(_ path: FieldPath, maxBytes: Int) -> FieldCause {
        FieldCause(field: path.description, reason: .tooLong, message: "Too long: may not be more than \(maxBytes) bytes")
    }

    /// One `Invalid value` cause per message of a name or format rule.
    static func invalidEach(_ path: FieldPath, _ value: String, _ messages: [String]) -> [FieldCause] {
        messages.map { invalid(path, .string(value), $0) }
    }

    private static func withDetail(_ body: String, _ detail: String) -> String {
        detail.isEmpty ? body : "\(body): \(detail)"
    }
}

/// Checks shared by several kinds.
enum CommonValidation {
    static let negativeMessage = "must be greater than or equal to 0"

    /// `must be greater than or equal to 0` when `value` is present and negative.
    static func nonNegative(_ value: JSONValue?, _ path: FieldPath) -> [FieldCause] {
        guard let number = value?.asInt64, number < 0 else { return [] }
        return [.invalid(path, .integer(number), negativeMessage)]
    }

    /// The string-to-string map at `value` (labels, selectors, data) validated as labels.
    static func labels(_ value: JSONValue?, _ path: FieldPath) -> [FieldCause] {
        var causes: [FieldCause] = []
        for (key, labelValue) in value?.stringPairs ?? [] {
            causes += FieldCause.invalidEach(path, key, NameRules.qualifiedName(key))
            causes += FieldCause.invalidEach(path, labelValue, NameRules.labelValue(labelValue))
        }
        return causes
    }

    /// The value is one of `supported` (checked only when present, as the defaults fill it).
    static func oneOf(_ value: JSONValue?, _ path: FieldPath, supported: [String]) -> [FieldCause] {
        guard let text = value?.asString, !text.isEmpty, !supported.contains(text) else { return [] }
        return [.notSupported(path, .string(text), supported: supported)]
    }

    /// `must be between 1 and 65535, inclusive` for a port number out of range.
    static func portNumber(_ port: Int64, _ path: FieldPath) -> [FieldCause] {
        (1...65535).contains(port) ? [] : [.invalid(path, .integer(port), "must be between 1 and 65535, inclusive")]
    }
}
