//! StatusError: the apiserver's failures as Kubernetes `Status` objects.
//!
//! kubectl reads a failed request's body as a `meta.k8s.io/v1` Status and prints
//! `Error from server (<reason>): <message>`, so the shape, the reason and the wording must be the
//! real apiserver's (kubectl-compat §1). The constructors below build the cases the server meets;
//! their messages follow Kubernetes: the group-qualified plural in `deployments.apps "web" not
//! found`, the group-qualified Kind in `Deployment.apps "web" is invalid: ...`. `details.kind` is
//! the plural resource for 404/409 but the Kind for 422, as in Kubernetes.
import Wire

/// A Status `reason`: the machine-readable category kubectl prints in parentheses.
public enum StatusReason: String, Sendable, Equatable {
    case notFound = "NotFound"
    case alreadyExists = "AlreadyExists"
    case conflict = "Conflict"
    case forbidden = "Forbidden"
    case invalid = "Invalid"
    case badRequest = "BadRequest"
    case unsupportedMediaType = "UnsupportedMediaType"
    case methodNotAllowed = "MethodNotAllowed"
    case expired = "Expired"
    case gone = "Gone"
    case tooManyRequests = "TooManyRequests"
    case internalError = "InternalError"
    case serviceUnavailable = "ServiceUnavailable"
}

/// One entry of `details.causes`: which field failed and why. Empty members are left out of the
/// JSON, as Kubernetes omits them.
public struct StatusCause: Sendable, Equatable {
    /// A CamelCase reason such as `FieldValueRequired`; empty when there is none.
    public var reason: String
    /// The message without the field: `Required value`.
    public var message: String
    /// The field path: `spec.containers`; empty when the cause concerns no single field.
    public var field: String

    public init(field: String = "", reason: String = "", message: String) {
        self.field = field
        self.reason = reason
        self.message = message
    }

    /// `field: message`, the form the 422 message lists the causes in.
    var summary: String { field.isEmpty ? message : "\(field): \(message)" }

    /// Members in Kubernetes' order: reason, message, field.
    public var json: JSONValue {
        var object = JSONObject()
        if !reason.isEmpty { object["reason"] = .string(reason) }
        if !message.isEmpty { object["message"] = .string(message) }
        if !field.isEmpty { object["field"] = .string(field) }
        return .object(object)
    }
}

/// A Status's `details`. Empty members are left out of the JSON, except `group` when it is set
/// (not nil): the 422 shape carries `"group":""` for core kinds (kubectl-compat §1).
public struct StatusDetails: Sendable, Equatable {
    public var name: String
    /// nil leaves `group` out; "" writes `"group":""`.
    public var group: String?
    /// The plural resource (`pods`) for 404/409/405, the Kind (`Pod`) for 422.
    public var kind: String
    public var uid: String
    public var causes: [StatusCause]
    /// Seconds the client should wait before retrying; 0 leaves it out.
    public var retryAfterSeconds: Int

    public init(
        name: String = "", group: String? = nil, kind: String = "", uid: String = "",
        causes: [StatusCause] = [], retryAfterSeconds: Int = 0
    ) {
        self.name = name
        self.group = group
        self.kind = kind
        self.uid = uid
        self.causes = causes
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// Members in Kubernetes' order: name, group, kind, uid, causes, retryAfterSeconds.
    public var json: JSONValue {
        var object = JSONObject()
        if !name.isEmpty { object["name"] = .string(name) }
        if let group { object["group"] = .string(group) }
        if !kind.isEmpty { object["kind"] = .string(kind) }
        if !uid.isEmpty { object["uid"] = .string(uid) }
        if !causes.isEmpty { object["causes"] = .array(causes.map(\.json)) }
        if retryAfterSeconds > 0 { object["retryAfterSeconds"] = .integer(Int64(retryAfterSeconds)) }
        return .object(object)
    }
}

/// A failed request, as the Status object the apiserver answers with.
public struct StatusError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The HTTP status code, repeated in the body's `code`.
    public var code: Int
    public var reason: StatusReason
    public var message: String
    /// nil leaves `details` out of the JSON.
    public var details: StatusDetails?

    public init(code: Int, reason: StatusReason, message: String, details: StatusDetails? = nil) {
        precondition((400..<600).contains(code), "a failure Status needs a 4xx or 5xx code, not \(code)")
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
    }

    public var description: String { "\(code) \(reason.rawValue): \(message)" }

    /// The Status body: kind, apiVersion, metadata, status, message, reason, details, code.
    public var json: JSONValue {
        var object = statusEnvelope(status: "Failure")
        object["message"] = .string(message)
        object["reason"] = .string(reason.rawValue)
        if let details { object["details"] = details.json }
        object["code"] = .integer(Int64(code))
        return .object(object)
    }
}

/// A Success Status, as eviction (201) and some deletes answer:
/// `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","code":201}`.
/// A nil `code` or `details` is left out.
public func statusSuccess(code: Int? = nil, details: StatusDetails? = nil) -> JSONValue {
    var object = statusEnvelope(status: "Success")
    if let details { object["details"] = details.json }
    if let code { object["code"] = .integer(Int64(code)) }
    return .object(object)
}

private func statusEnvelope(status: String) -> JSONObject {
    ["kind": .string("Status"), "apiVersion": .string("v1"), "metadata": .object([:]), "status": .string(status)]
}

/// `pods` or `deployments.apps`: how Kubernetes names a resource in messages.
private func qualified(_ name: String, group: String) -> String {
    group.isEmpty ? name : "\(name).\(group)"
}

/// The group for `details`: left out when empty, as Kubernetes' `omitempty` does.
private func detailsGroup(_ group: String) -> String? {
    group.isEmpty ? nil : group
}

extension StatusError {
    /// 404: `deployments.apps "web" not found`; `resource` is the plural (`deployments`).
    public static func notFound(resource: String, group: String = "", name: String) -> StatusError {
        StatusError(
            code: 404, reason: .notFound, message: "\(qualified(resource, group: group)) \(JSON.quoted(name)) not found",
            details: StatusDetails(name: name, group: detailsGroup(group), kind: resource))
    }

    /// 404 for a write into a namespace that does not exist: `namespaces "nope" not found`.
    public static func namespaceNotFound(_ namespace: String) -> StatusError {
        notFound(resource: "namespaces", name: namespace)
    }

    /// 404 for a path the server does not serve at all; `details` is `{}` as on the real server.
    public static var unknownPath: StatusError {
        StatusError(
            code: 404, reason: .notFound, message: "the server could not find the requested resource",
            details: StatusDetails())
    }

    /// 409 for a create of an object that exists: `pods "lonely" already exists`.
    public static func alreadyExists(resource: String, group: String = "", name: String) -> StatusError {
        StatusError(
            code: 409, reason: .alreadyExists,
            message: "\(qualified(resource, group: group)) \(JSON.quoted(name)) already exists",
            details: StatusDetails(name: name, group: detailsGroup(group), kind: resource))
    }

    /// Why an update conflicts, in the words kubectl users know.
    public static let staleObjectReason =
        "the object has been modified; please apply your changes to the latest version and try again"

    /// 409 for an update carrying a stale `metadata.resourceVersion`:
    /// `Operation cannot be fulfilled on pods "lonely": the object has been modified; ...`.
    public static func conflict(
        resource: String, group: String = "", name: String, reason: String = staleObjectReason
    ) -> StatusError {
        StatusError(
            code: 409, reason: .conflict,
            message: "Operation cannot be fulfilled on \(qualified(resource, group: group)) \(JSON.quoted(name)): \(reason)",
            details: StatusDetails(name: name, group: detailsGroup(group), kind: resource))
    }

    /// 422 for an object that fails validation: `Pod "bad" is invalid: spec.containers: Required
    /// value`; with several causes Kubernetes lists them as `[cause1, cause2]` (repeats dropped).
    /// `kind` is the Kind (`Deployment`), qualified by `group` in the message.
    public static func invalid(kind: String, group: String = "", name: String, causes: [StatusCause]) -> StatusError {
        var summaries: [String] = []
        for cause in causes where !summaries.contains(cause.summary) { summaries.append(cause.summary) }
        let subject = "\(qualified(kind, group: group)) \(JSON.quoted(name)) is invalid"
        let message: String
        switch summaries.count {
        case 0: message = subject
        case 1: message = "\(subject): \(summaries[0])"
        default: message = "\(subject): [\(summaries.joined(separator: ", "))]"
        }
        return StatusError(
            code: 422, reason: .invalid, message: message,
            details: StatusDetails(name: name, group: group, kind: kind, causes: causes))
    }

    /// 400 for a request the server cannot read (malformed JSON, a bad selector, a bad patch).
    /// 403: the request is understood but refused (content in a namespace being deleted).
    public static func forbidden(resource: String, group: String = "", name: String, _ reason: String) -> StatusError {
        StatusError(
            code: 403, reason: .forbidden,
            message: "\(qualified(resource, group: group)) \(JSON.quoted(name)) is forbidden: \(reason)",
            details: StatusDetails(name: name, group: detailsGroup(group), kind: resource))
    }

    public static func badRequest(_ message: String) -> StatusError {
        StatusError(code: 400, reason: .badRequest, message: message)
    }

    /// 415 for a body whose Content-Type the endpoint does not take; `accepted` lists those it does.
    public static func unsupportedMediaType(contentType: String, accepted: [String]) -> StatusError {
        StatusError(
            code: 415, reason: .unsupportedMediaType,
            message: "the body of the request was in an unknown format (\(JSON.quoted(contentType))) - "
                + "accepted media types include: \(accepted.joined(separator: ", "))")
    }

    /// 415 for a body in a format the endpoint takes but whose content it cannot read (a protobuf
    /// kind or field this apiserver does not know); the message says what and what to send instead.
    public static func unsupportedContent(_ message: String) -> StatusError {
        StatusError(code: 415, reason: .unsupportedMediaType, message: message)
    }

    /// 405. With a resource: `create is not supported on resources of kind "nodes"`; without, the
    /// generic answer for a method the path does not allow.
    public static func methodNotAllowed(verb: String = "", resource: String = "", group: String = "") -> StatusError {
        guard !resource.isEmpty else {
            return StatusError(
                code: 405, reason: .methodNotAllowed,
                message: "the server does not allow this method on the requested resource")
        }
        return StatusError(
            code: 405, reason: .methodNotAllowed,
            message: "\(verb) is not supported on resources of kind \(JSON.quoted(qualified(resource, group: group)))",
            details: StatusDetails(group: detailsGroup(group), kind: resource))
    }

    /// 410 Expired: the resource version asked for is no longer available.
    public static func expired(_ message: String) -> StatusError {
        StatusError(code: 410, reason: .expired, message: message)
    }

    /// 410 Expired for a watch or list from a compacted revision:
    /// `too old resource version: 5 (120)`, with the oldest revision still available second.
    public static func tooOldResourceVersion(requested: Int64, oldestAvailable: Int64) -> StatusError {
        expired("too old resource version: \(requested) (\(oldestAvailable))")
    }

    /// 410 Gone: the thing asked for is gone and will not come back.
    public static func gone(_ message: String) -> StatusError {
        StatusError(code: 410, reason: .gone, message: message)
    }

    /// 429, e.g. an eviction a disruption budget forbids (kubectl retries it every 5 s).
    public static func tooManyRequests(
        _ message: String, retryAfterSeconds: Int = 0, causes: [StatusCause] = []
    ) -> StatusError {
        let details = StatusDetails(causes: causes, retryAfterSeconds: retryAfterSeconds)
        return StatusError(
            code: 429, reason: .tooManyRequests, message: message,
            details: details == StatusDetails() ? nil : details)
    }

    /// 500: `Internal error occurred: <message>`, the message also as the only cause.
    public static func internalError(_ message: String) -> StatusError {
        StatusError(
            code: 500, reason: .internalError, message: "Internal error occurred: \(message)",
            details: StatusDetails(causes: [StatusCause(message: message)]))
    }

    /// 503: the server cannot serve the request now (no leader, storage down).
    public static func serviceUnavailable(_ message: String) -> StatusError {
        StatusError(code: 503, reason: .serviceUnavailable, message: message)
    }
}
