//! The resources the apiserver serves: one entry per resource with what discovery advertises
//! (group, version, names, scope, verbs, short names, categories, subresources), and the lookups
//! the HTTP shell and kubectl's names need (`po`, `deploy`, `Pod`, `deployments.apps`).
//!
//! The table's order is the discovery order, and kubectl expands `get all` in that order, so the
//! members of category `all` come first in each group version, in the order real `kubectl get all`
//! prints them.

/// A subresource of an API resource (`pods/status`, `deployments/scale`, `pods/eviction`).
public struct APISubresource: Sendable, Equatable {
    /// The part after the slash: `status`, `scale`, `eviction`, `binding`, `log`.
    public var name: String
    /// The kind of the subresource's body.
    public var kind: String
    /// The group and version of that body when they differ from the parent's (`policy`/`v1` for
    /// an Eviction, `autoscaling`/`v1` for a Scale); nil when they are the parent's.
    public var group: String?
    public var version: String?
    /// What clients may do with it: `create` for an eviction, `get patch update` for a status.
    public var verbs: [String]

    /// A subresource; `group` and `version` only when the body is not of the parent's group version.
    public init(name: String, kind: String, group: String? = nil, version: String? = nil, verbs: [String]) {
        self.name = name
        self.kind = kind
        self.group = group
        self.version = version
        self.verbs = verbs
    }
}

/// One resource as discovery describes it.
public struct APIResource: Sendable, Equatable {
    /// The API group; empty for the core (legacy) group.
    public var group: String
    /// The API version within the group: `v1`, `v2`.
    public var version: String
    /// The plural, lowercase name used in paths: `pods`, `deployments`.
    public var plural: String
    /// The singular name kubectl also accepts: `pod`.
    public var singular: String
    /// The kind of the resource's objects: `Pod`.
    public var kind: String
    /// The kind of its lists: `PodList`.
    public var listKind: String
    /// Whether objects live in a namespace (pods) or in the cluster (nodes, namespaces).
    public var namespaced: Bool
    /// The verbs discovery advertises: `get`, `list`, `watch`, `create`, ...
    public var verbs: [String]
    /// Abbreviations kubectl resolves: `po`, `deploy`.
    public var shortNames: [String]
    /// Groups of resources kubectl expands, such as `all` for `kubectl get all`.
    public var categories: [String]
    public var subresources: [APISubresource]

    /// A resource; its list kind is the kind followed by `List`.
    public init(
        group: String, version: String, plural: String, singular: String, kind: String, namespaced: Bool,
        verbs: [String], shortNames: [String] = [], categories: [String] = [], subresources: [APISubresource] = []
    ) {
        self.group = group
        self.version = version
        self.plural = plural
        self.singular = singular
        self.kind = kind
        self.listKind = kind + "List"
        self.namespaced = namespaced
        self.verbs = verbs
        self.shortNames = shortNames
        self.categories = categories
        self.subresources = subresources
    }

    /// `v1` for the core group, `apps/v1` otherwise: the `apiVersion` of the resource's objects.
    public var groupVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    /// The name errors use: `pods`, `deployments.apps` (Kubernetes' group-qualified resource).
    public var qualifiedName: String { group.isEmpty ? plural : "\(plural).\(group)" }

    /// The path prefix of this resource's group version: `/api/v1` or `/apis/apps/v1`.
    public var groupVersionPath: String { group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)" }

    /// The subresource called `name`, if the resource has one.
    public func subresource(_ name: String) -> APISubresource? {
        subresources.first { $0.name == name }
    }
}

/// A group version with the resources it serves, in discovery order.
public struct APIGroupVersion: Sendable, Equatable {
    /// The group (empty for the core group) and version.
    public var group: String
    public var version: String
    /// The group version's resources, in discovery order.
    public var resources: [APIResource]

    /// `v1` or `apps/v1`.
    public var groupVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
}

/// The table of served resources and the lookups over it.
public struct ResourceRegistry: Sendable {
    /// Every served resource, in discovery order (core group first).
    public let resources: [APIResource]

    /// A registry of `resources`, which are served and discovered in this order.
    public init(resources: [APIResource]) {
        self.resources = resources
    }

    /// The group versions in discovery order, each with its resources.
    public var groupVersions: [APIGroupVersion] {
        var result: [APIGroupVersion] = []
        for resource in resources {
            if let position = result.firstIndex(where: { $0.group == resource.group && $0.version == resource.version }) {
                result[position].resources.append(resource)
            } else {
                result.append(APIGroupVersion(group: resource.group, version: resource.version, resources: [resource]))
            }
        }
        return result
    }

    /// The resource served at `/api(s)/{group}/{version}/{plural}`.
    public func resource(group: String, version: String, plural: String) -> APIResource? {
        resources.first { $0.group == group && $0.version == version && $0.plural == plural }
    }

    /// The resource whose objects have `kind` (`Pod`, `Deployment`); the first group wins when
    /// two groups share a kind, as with the preferred version in real discovery.
    public func resource(kind: String) -> APIResource? {
        resources.first { $0.kind == kind }
    }

    /// The resource with the short name `shortName` (`po`, `deploy`).
    public func resource(shortName: String) -> APIResource? {
        resources.first { $0.shortNames.contains(shortName) }
    }

    /// Resolves a name as kubectl users type it: plural, singular, short name or kind, in any
    /// case, optionally qualified with the group (`deployments.apps`, `deploy.apps`).
    public func resolve(_ typed: String) -> APIResource? {
        let name = typed.lowercased()
        let (bare, group): (String, String?) = {
            guard let dot = name.firstIndex(of: ".") else { return (name, nil) }
            return (String(name[..<dot]), String(name[name.index(after: dot)...]))
        }()
        return resources.first { resource in
            guard group == nil || resource.group == group else { return false }
            return resource.plural == bare || resource.singular == bare || resource.kind.lowercased() == bare
                || resource.shortNames.contains(bare)
        }
    }

    /// The resources in `category` (`all`), in discovery order: the order of `kubectl get all`.
    public func members(ofCategory category: String) -> [APIResource] {
        resources.filter { $0.categories.contains(category) }
    }
}

extension ResourceRegistry {
    /// Verbs of an ordinary resource that supports everything kubectl does.
    static let allVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
    /// Verbs of a status subresource.
    static let statusVerbs = ["get", "patch", "update"]

    /// The resources Faultline's apiserver serves, with the names, verbs, short names and
    /// categories of Kubernetes v1.32.
    public static let standard = ResourceRegistry(resources: coreResources + appsResources + otherGroupResources)

    private static let coreResources: [APIResource] = [
        // The `all` members first, in the order `kubectl get all` lists them.
        APIResource(
            group: "", version: "v1", plural: "pods", singular: "pod", kind: "Pod", namespaced: true,
            verbs: allVerbs, shortNames: ["po"], categories: ["all"],
            subresources: [
                APISubresource(name: "binding", kind: "Binding", verbs: ["create"]),
                APISubresource(name: "eviction", kind: "Eviction", group: "policy", version: "v1", verbs: ["create"]),
                APISubresource(name: "log", kind: "Pod", verbs: ["get"]),
                APISubresource(name: "status", kind: "Pod", verbs: statusVerbs),
            ]),
        APIResource(
            group: "", version: "v1", plural: "services", singular: "service", kind: "Service", namespaced: true,
            verbs: allVerbs, shortNames: ["svc"], categories: ["all"],
            subresources: [APISubresource(name: "status", kind: "Service", verbs: statusVerbs)]),
        APIResource(
            group: "", version: "v1", plural: "replicationcontrollers", singular: "replicationcontroller",
            kind: "ReplicationController", namespaced: true, verbs: allVerbs, shortNames: ["rc"], categories: ["all"]),
        APIResource(
            group: "", version: "v1", plural: "namespaces", singular: "namespace", kind: "Namespace", namespaced: false,
            verbs: ["create", "delete", "get", "list", "patch", "update", "watch"], shortNames: ["ns"],
            subresources: [
                // The namespace controller's write once a namespace is empty (spec.finalizers only).
                APISubresource(name: "finalize", kind: "Namespace", verbs: ["update"]),
                APISubresource(name: "status", kind: "Namespace", verbs: statusVerbs),
            ]),
        APIResource(
            group: "", version: "v1", plural: "nodes", singular: "node", kind: "Node", namespaced: false,
            verbs: allVerbs, shortNames: ["no"],
            subresources: [APISubresource(name: "status", kind: "Node", verbs: statusVerbs)]),
        APIResource(
            group: "", version: "v1", plural: "endpoints", singular: "endpoints", kind: "Endpoints", namespaced: true,
            verbs: allVerbs, shortNames: ["ep"]),
        APIResource(
            group: "", version: "v1", plural: "events", singular: "event", kind: "Event", namespaced: true,
            verbs: allVerbs, shortNames: ["ev"]),
        APIResource(
            group: "", version: "v1", plural: "configmaps", singular: "configmap", kind: "ConfigMap", namespaced: true,
            verbs: allVerbs, shortNames: ["cm"]),
        APIResource(
            group: "", version: "v1", plural: "secrets", singular: "secret", kind: "Secret", namespaced: true,
            verbs: allVerbs),
        APIResource(
            group: "", version: "v1", plural: "serviceaccounts", singular: "serviceaccount", kind: "ServiceAccount",
            namespaced: true, verbs: allVerbs, shortNames: ["sa"]),
    ]

    private static let appsResources: [APIResource] = [
        APIResource(
            group: "apps", version: "v1", plural: "deployments", singular: "deployment", kind: "Deployment",
            namespaced: true, verbs: allVerbs, shortNames: ["deploy"], categories: ["all"],
            subresources: scalableSubresources(kind: "Deployment")),
        APIResource(
            group: "apps", version: "v1", plural: "replicasets", singular: "replicaset", kind: "ReplicaSet",
            namespaced: true, verbs: allVerbs, shortNames: ["rs"], categories: ["all"],
            subresources: scalableSubresources(kind: "ReplicaSet")),
        APIResource(
            group: "apps", version: "v1", plural: "statefulsets", singular: "statefulset", kind: "StatefulSet",
            namespaced: true, verbs: allVerbs, shortNames: ["sts"], categories: ["all"]),
        APIResource(
            group: "apps", version: "v1", plural: "daemonsets", singular: "daemonset", kind: "DaemonSet",
            namespaced: true, verbs: allVerbs, shortNames: ["ds"], categories: ["all"]),
    ]

    private static let otherGroupResources: [APIResource] = [
        APIResource(
            group: "autoscaling", version: "v2", plural: "horizontalpodautoscalers", singular: "horizontalpodautoscaler",
            kind: "HorizontalPodAutoscaler", namespaced: true, verbs: allVerbs, shortNames: ["hpa"], categories: ["all"]),
        APIResource(
            group: "batch", version: "v1", plural: "jobs", singular: "job", kind: "Job", namespaced: true,
            verbs: allVerbs, categories: ["all"]),
        APIResource(
            group: "batch", version: "v1", plural: "cronjobs", singular: "cronjob", kind: "CronJob", namespaced: true,
            verbs: allVerbs, shortNames: ["cj"], categories: ["all"]),
        APIResource(
            group: "coordination.k8s.io", version: "v1", plural: "leases", singular: "lease", kind: "Lease",
            namespaced: true, verbs: allVerbs),
    ]

    /// `scale` (an autoscaling/v1 Scale, as `kubectl scale` expects) and `status`.
    private static func scalableSubresources(kind: String) -> [APISubresource] {
        [
            APISubresource(name: "scale", kind: "Scale", group: "autoscaling", version: "v1", verbs: statusVerbs),
            APISubresource(name: "status", kind: kind, verbs: statusVerbs),
        ]
    }
}
