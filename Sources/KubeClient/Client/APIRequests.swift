//! The verbs a component uses: get, list, create, update (PUT), merge and JSON patches, delete
//! with options, bind, and `perform` for every `ObjectAction` a pure core returns.
//!
//! Every verb takes an optional `timeout`: the time the request may take over all the apiservers
//! it tries; without one, each attempt may wait the client's `requestTimeout`.

import Base
import KubeAPI
import Net
import Wire

/// A list's items and the resourceVersion to watch from.
public struct ObjectList: Sendable, Equatable {
    public var items: [JSONValue]
    public var resourceVersion: String

    public init(items: [JSONValue], resourceVersion: String) {
        self.items = items
        self.resourceVersion = resourceVersion
    }
}

/// What a DELETE carries (meta/v1 DeleteOptions).
public struct DeleteOptions: Sendable, Equatable {
    /// Delete only while the object has this uid (not a recreated namesake).
    public var uid: String?
    /// Delete only while the object is at this resourceVersion.
    public var resourceVersion: String?
    /// `Background`, `Foreground` or `Orphan`; nil leaves the server's default.
    public var propagationPolicy: String?
    /// 0 deletes at once; nil leaves the object's own grace period.
    public var gracePeriodSeconds: Int64?

    public init(uid: String? = nil, resourceVersion: String? = nil, propagationPolicy: String? = nil, gracePeriodSeconds: Int64? = nil) {
        self.uid = uid
        self.resourceVersion = resourceVersion
        self.propagationPolicy = propagationPolicy
        self.gracePeriodSeconds = gracePeriodSeconds
    }

    /// The DeleteOptions body; nil when every option is unset (the DELETE then has no body).
    public var json: JSONValue? {
        guard self != DeleteOptions() else { return nil }
        var object: JSONObject = ["kind": .string("DeleteOptions"), "apiVersion": .string("v1")]
        var preconditions = JSONObject()
        if let uid { preconditions["uid"] = .string(uid) }
        if let resourceVersion { preconditions["resourceVersion"] = .string(resourceVersion) }
        if preconditions.count > 0 { object["preconditions"] = .object(preconditions) }
        if let gracePeriodSeconds { object["gracePeriodSeconds"] = .integer(gracePeriodSeconds) }
        if let propagationPolicy { object["propagationPolicy"] = .string(propagationPolicy) }
        return .object(object)
    }
}

extension APIClient {
    // MARK: - Reads

    public func get(_ reference: ObjectReference, subresource: String? = nil, timeout: Nanoseconds? = nil) throws(APIError) -> JSONValue {
        try object(send("GET", reference.path(subresource: subresource), timeout: timeout))
    }

    /// The objects of `resource` in `namespace` (nil: cluster-scoped, or every namespace) that
    /// match the selectors (Kubernetes' selector syntax: `app=web,tier!=db`).
    public func list(_ resource: APIResource, namespace: String? = nil, labelSelector: String? = nil, fieldSelector: String? = nil,
        timeout: Nanoseconds? = nil) throws(APIError) -> ObjectList
    {
        let query = QueryString.build([("labelSelector", labelSelector), ("fieldSelector", fieldSelector)])
        let list = try object(send("GET", resource.path(namespace: namespace) + query, timeout: timeout))
        return ObjectList(items: list.arrayMember("items"), resourceVersion: list.stringMember("metadata", "resourceVersion") ?? "")
    }

    // MARK: - Writes

    /// POSTs `object` to its collection; the created object as stored.
    public func create(_ resource: APIResource, namespace: String?, object: JSONValue, timeout: Nanoseconds? = nil) throws(APIError) -> JSONValue {
        try self.object(send("POST", resource.path(namespace: namespace), body: bytes(object), timeout: timeout))
    }

    /// PUTs `object`; a stale `metadata.resourceVersion` fails with 409 Conflict.
    public func update(_ reference: ObjectReference, object: JSONValue, subresource: String? = nil, timeout: Nanoseconds? = nil) throws(APIError) -> JSONValue {
        try self.object(send("PUT", reference.path(subresource: subresource), body: bytes(object), timeout: timeout))
    }

    /// PATCH with a JSON merge patch (RFC 7386).
    public func mergePatch(_ reference: ObjectReference, patch: JSONValue, subresource: String? = nil, timeout: Nanoseconds? = nil) throws(APIError) -> JSONValue {
        try object(send("PATCH", reference.path(subresource: subresource), body: bytes(patch),
            contentType: "application/merge-patch+json", timeout: timeout))
    }

    /// PATCH with a JSON patch (RFC 6902): `operations` is the array of `{op, path, value}`.
    public func jsonPatch(_ reference: ObjectReference, operations: [JSONValue], subresource: String? = nil, timeout: Nanoseconds? = nil) throws(APIError) -> JSONValue {
        try object(send("PATCH", reference.path(subresource: subresource), body: bytes(.array(operations)),
            contentType: "application/json-patch+json", timeout: timeout))
    }

    /// DELETE; the answer (the object being deleted gracefully, or a Status).
    @discardableResult
    public func delete(_ reference: ObjectReference, options: DeleteOptions = DeleteOptions(), timeout: Nanoseconds? = nil) throws(APIError) -> JSONValue {
        try object(send("DELETE", reference.path(), body: options.json.map(bytes), timeout: timeout))
    }

    /// Binds a pod to a node (POST `pods/NAME/binding`), as the scheduler does; `uid` makes the
    /// binding name the pod instance the scheduler saw.
    public func bind(pod: ObjectReference, node: String, uid: String? = nil, timeout: Nanoseconds? = nil) throws(APIError) {
        precondition(pod.resource.plural == "pods" && pod.resource.group.isEmpty, "bind needs a pod, not \(pod)")
        var metadata: JSONObject = ["name": .string(pod.name)]
        if let namespace = pod.namespace { metadata["namespace"] = .string(namespace) }
        if let uid { metadata["uid"] = .string(uid) }
        let binding: JSONValue = .object([
            "kind": .string("Binding"), "apiVersion": .string("v1"), "metadata": .object(metadata),
            "target": .object(["kind": .string("Node"), "apiVersion": .string("v1"), "name": .string(node)]),
        ])
        _ = try object(send("POST", pod.path(subresource: "binding"), body: bytes(binding), timeout: timeout))
    }

    // MARK: - Actions

    /// Carries out what a pure core asked for; the server's answer (the object written, or the
    /// Status of a delete or binding).
    @discardableResult
    public func perform(_ action: ObjectAction) throws(APIError) -> JSONValue {
        switch action {
        case .create(let resource, let namespace, let object):
            return try create(resource, namespace: namespace, object: object)
        case .update(let reference, let object, let subresource):
            return try update(reference, object: object, subresource: subresource)
        case .mergePatch(let reference, let patch, let subresource):
            return try mergePatch(reference, patch: patch, subresource: subresource)
        case .delete(let reference, let uid, let propagation, let gracePeriodSeconds):
            return try delete(reference, options: DeleteOptions(uid: uid, propagationPolicy: propagation, gracePeriodSeconds: gracePeriodSeconds))
        case .bind(let pod, let node, let uid):
            try bind(pod: pod, node: node, uid: uid)
            return statusSuccess()
        case .event(let involved, let type, let reason, let message):
            // The action carries no uid, and `kubectl describe` finds events by the involved
            // object's uid: look it up (a failed lookup still records the event, without one).
            let uid = (try? get(involved))?.stringMember("metadata", "uid")
            return try createEvent(involved: involved, uid: uid, type: type, reason: reason, message: message)
        }
    }

    // MARK: - Bodies

    /// The JSON body of a successful answer, or the failure it stands for.
    func object(_ response: HTTPResponse) throws(APIError) -> JSONValue {
        guard (200..<300).contains(response.status) else { throw APIError.from(code: response.status, body: response.body) }
        guard let value = response.body.withUnsafeBufferPointer({ try? JSON.parse(bytes: $0) }) else {
            throw .status(code: response.status, reason: nil, message: "the server answered \(response.status) with a body that is not JSON")
        }
        return value
    }

    func bytes(_ value: JSONValue) -> [UInt8] {
        var output: [UInt8] = []
        JSON.append(value, to: &output)
        return output
    }
}
