//! Discovery documents in the legacy (non-aggregated) shape kubectl accepts: `/api`
//! (APIVersions), `/apis` (APIGroupList), `/api/v1` and `/apis/{group}/{version}`
//! (APIResourceList, with subresource entries such as `pods/eviction`), and `/version`.
//!
//! kubectl reads discovery to map `po`, `deploy` and `all` to resources, so the short names and
//! categories of the registry are what make `kubectl get po` and `kubectl get all` work; `drain`
//! looks for the `pods/eviction` entry with its group and version to evict instead of deleting.
import Wire

extension ResourceRegistry {
    /// `/api`: the core group's versions, and the address clients should use.
    public func apiVersionsDocument(serverAddress: String) -> JSONValue {
        let versions = groupVersions.filter { $0.group.isEmpty }.map { JSONValue.string($0.version) }
        return .object([
            "kind": .string("APIVersions"),
            "versions": .array(versions),
            "serverAddressByClientCIDRs": .array([
                .object(["clientCIDR": .string("0.0.0.0/0"), "serverAddress": .string(serverAddress)])
            ]),
        ])
    }

    /// `/apis`: every named group with its versions (each group has one, which is preferred).
    public func apiGroupListDocument() -> JSONValue {
        var groups: [JSONValue] = []
        for groupVersion in groupVersions where !groupVersion.group.isEmpty {
            let versionEntry: JSONValue = .object([
                "groupVersion": .string(groupVersion.groupVersion), "version": .string(groupVersion.version),
            ])
            groups.append(.object([
                "name": .string(groupVersion.group),
                "versions": .array([versionEntry]),
                "preferredVersion": versionEntry,
            ]))
        }
        return .object(["kind": .string("APIGroupList"), "apiVersion": .string("v1"), "groups": .array(groups)])
    }

    /// `/api/v1` or `/apis/{group}/{version}`: the resources of one group version, each followed by
    /// its subresources; nil for a group version that is not served.
    public func apiResourceListDocument(group: String, version: String) -> JSONValue? {
        guard let groupVersion = groupVersions.first(where: { $0.group == group && $0.version == version }) else {
            return nil
        }
        var entries: [JSONValue] = []
        for resource in groupVersion.resources {
            entries.append(Self.discoveryEntry(resource))
            for subresource in resource.subresources {
                entries.append(Self.discoveryEntry(subresource, of: resource))
            }
        }
        return .object([
            "kind": .string("APIResourceList"),
            "apiVersion": .string("v1"),
            "groupVersion": .string(groupVersion.groupVersion),
            "resources": .array(entries),
        ])
    }

    private static func discoveryEntry(_ resource: APIResource) -> JSONValue {
        var entry: JSONObject = [
            "name": .string(resource.plural),
            "singularName": .string(resource.singular),
            "namespaced": .bool(resource.namespaced),
            "kind": .string(resource.kind),
            "verbs": .array(resource.verbs.map(JSONValue.string)),
        ]
        if !resource.shortNames.isEmpty { entry["shortNames"] = .array(resource.shortNames.map(JSONValue.string)) }
        if !resource.categories.isEmpty { entry["categories"] = .array(resource.categories.map(JSONValue.string)) }
        return .object(entry)
    }

    private static func discoveryEntry(_ subresource: APISubresource, of resource: APIResource) -> JSONValue {
        var entry: JSONObject = [
            "name": .string("\(resource.plural)/\(subresource.name)"),
            "singularName": .string(""),
            "namespaced": .bool(resource.namespaced),
        ]
        if let group = subresource.group { entry["group"] = .string(group) }
        if let version = subresource.version { entry["version"] = .string(version) }
        entry["kind"] = .string(subresource.kind)
        entry["verbs"] = .array(subresource.verbs.map(JSONValue.string))
        return .object(entry)
    }
}

/// The server's `/version` answer.
///
/// kubectl's dispatcher picks the kubectl binary from `minor`, and `kubectl version` parses
/// `gitVersion` as semver, so both must look like a real v1.32 server.
public struct ServerVersion: Sendable, Equatable {
    /// The fields of Kubernetes' `version.Info`, all strings.
    public var major: String
    public var minor: String
    public var gitVersion: String
    public var gitCommit: String
    public var gitTreeState: String
    public var buildDate: String
    public var goVersion: String
    public var compiler: String
    public var platform: String

    /// A version with every field given.
    public init(
        major: String, minor: String, gitVersion: String, gitCommit: String, gitTreeState: String,
        buildDate: String, goVersion: String, compiler: String, platform: String
    ) {
        self.major = major
        self.minor = minor
        self.gitVersion = gitVersion
        self.gitCommit = gitCommit
        self.gitTreeState = gitTreeState
        self.buildDate = buildDate
        self.goVersion = goVersion
        self.compiler = compiler
        self.platform = platform
    }

    /// What Faultline reports: Kubernetes 1.32.0 (the API it implements), built by Swift.
    public static let faultline = ServerVersion(
        major: "1", minor: "32", gitVersion: "v1.32.0", gitCommit: "faultline", gitTreeState: "clean",
        buildDate: "2025-01-01T00:00:00Z", goVersion: "swift6", compiler: "swiftc", platform: "linux/amd64")

    /// The `/version` document.
    public var document: JSONValue {
        .object([
            "major": .string(major),
            "minor": .string(minor),
            "gitVersion": .string(gitVersion),
            "gitCommit": .string(gitCommit),
            "gitTreeState": .string(gitTreeState),
            "buildDate": .string(buildDate),
            "goVersion": .string(goVersion),
            "compiler": .string(compiler),
            "platform": .string(platform),
        ])
    }
}
