//! What a control-plane component asks the apiserver to do, as data: the scheduler's bindings,
//! the controllers' creates, updates and deletes, and the events they record. Pure cores return
//! these; the shell (`KubeClient`) sends them, so a core is tested by reading its answer.

import Wire

extension APIResource {
    /// A served resource by plural and group (`pods`; `deployments`, `apps`). Only for the
    /// names this project knows it serves: an unknown one is a programming error.
    public static func standard(_ plural: String, group: String = "") -> APIResource {
        guard let resource = ResourceRegistry.standard.resources.first(where: { $0.plural == plural && $0.group == group }) else {
            preconditionFailure("no served resource \(plural) in group '\(group)'")
        }
        return resource
    }

    /// The URL path of a collection (`namespace` nil: cluster-wide or across all namespaces),
    /// an object (`name`), or one of its subresources.
    public func path(namespace: String?, name: String? = nil, subresource: String? = nil) -> String {
        var path = groupVersionPath
        if namespaced, let namespace { path += "/namespaces/\(namespace)" }
        path += "/\(plural)"
        if let name {
            path += "/\(name)"
            if let subresource { path += "/\(subresource)" }
        }
        return path
    }
}

/// One object, by resource, namespace and name.
public struct ObjectReference: Sendable, Hashable, CustomStringConvertible {
    public var resource: APIResource
    /// Nil for cluster-scoped objects.
    public var namespace: String?
    public var name: String

    public init(_ resource: APIResource, namespace: String?, name: String) {
        precondition(resource.namespaced == (namespace != nil),
            "\(resource.plural) is \(resource.namespaced ? "namespaced" : "cluster-scoped") but namespace is \(namespace ?? "nil")")
        self.resource = resource
        self.namespace = namespace
        self.name = name
    }

    /// The reference to `object` (its metadata's namespace and name) of `resource`.
    public init?(_ resource: APIResource, object: JSONValue) {
        guard let name = object.stringMember("metadata", "name") else { return nil }
        let namespace = resource.namespaced ? (object.stringMember("metadata", "namespace") ?? "default") : nil
        self.init(resource, namespace: namespace, name: name)
    }

    public func path(subresource: String? = nil) -> String { resource.path(namespace: namespace, name: name, subresource: subresource) }

    /// `pods/default/web-1` or `nodes/worker-1`, for logs and traces.
    public var description: String { [resource.qualifiedName, namespace, name].compactMap { $0 }.joined(separator: "/") }
}

extension APIResource: Hashable {
    public func hash(into hasher: inout Hasher) {
        hasher.combine(group)
        hasher.combine(version)
        hasher.combine(plural)
    }
}

/// A write a component wants made.
public enum ObjectAction: Sendable, Equatable {
    /// POST `object` to the collection of `resource` in `namespace`.
    case create(APIResource, namespace: String?, object: JSONValue)
    /// PUT `object` (carrying the resourceVersion it was read at, so a stale write gets 409).
    case update(ObjectReference, object: JSONValue, subresource: String? = nil)
    /// PATCH with a JSON merge patch (`application/merge-patch+json`).
    case mergePatch(ObjectReference, patch: JSONValue, subresource: String? = nil)
    /// DELETE, only if the object still has `uid` when one is given (a recreated object of
    /// the same name is left alone), with a propagation policy (`Background`, `Foreground`,
    /// `Orphan`) and a grace period when given.
    case delete(ObjectReference, uid: String? = nil, propagation: String? = nil, gracePeriodSeconds: Int64? = nil)
    /// POST a Binding of a pod to a node (`pods/binding`): how the scheduler assigns.
    case bind(pod: ObjectReference, node: String, uid: String? = nil)
    /// Record an Event about `involved` (type `Normal` or `Warning`), as `kubectl describe` shows them.
    case event(involved: ObjectReference, type: String, reason: String, message: String)
}
