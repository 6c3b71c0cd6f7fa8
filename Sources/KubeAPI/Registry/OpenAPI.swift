//! The minimal OpenAPI v3 that lets `kubectl apply`, `create -f` and `replace -f` run with their
//! default `--validate=strict`.
//!
//! kubectl fetches the index `/openapi/v3`, then the document of the object's group version, and
//! only asks whether the PATCH operation of the object's group-version-kind declares the
//! `fieldValidation` query parameter: if it does, kubectl leaves validation to the server. So each
//! document lists the PATCH operation of every resource (and of its patchable subresources) with
//! `x-kubernetes-group-version-kind`, and no schemas.
import Base
import Wire

extension ResourceRegistry {
    /// `/openapi/v3`: one entry per served group version, keyed `api/v1` or `apis/{group}/{version}`.
    ///
    /// The `hash` query changes whenever a document changes, so kubectl's HTTP cache, which keys on
    /// the URL, never serves a stale document.
    public func openAPIIndexDocument() -> JSONValue {
        var paths = JSONObject()
        for groupVersion in groupVersions {
            guard let document = openAPIDocument(group: groupVersion.group, version: groupVersion.version) else { continue }
            let key = Self.openAPIKey(group: groupVersion.group, version: groupVersion.version)
            paths[key] = .object(["serverRelativeURL": .string("/openapi/v3/\(key)?hash=\(Self.contentHash(document))")])
        }
        return .object(["paths": .object(paths)])
    }

    /// `/openapi/v3/api/v1` or `/openapi/v3/apis/{group}/{version}`; nil when not served.
    public func openAPIDocument(group: String, version: String) -> JSONValue? {
        guard let groupVersion = groupVersions.first(where: { $0.group == group && $0.version == version }) else {
            return nil
        }
        var paths = JSONObject()
        for resource in groupVersion.resources {
            let itemPath = Self.itemPath(resource)
            paths[itemPath] = Self.patchPathItem(
                namespaced: resource.namespaced, group: resource.group, version: resource.version, kind: resource.kind)
            for subresource in resource.subresources where subresource.verbs.contains("patch") {
                paths["\(itemPath)/\(subresource.name)"] = Self.patchPathItem(
                    namespaced: resource.namespaced, group: subresource.group ?? resource.group,
                    version: subresource.version ?? resource.version, kind: subresource.kind)
            }
        }
        return .object([
            "openapi": .string("3.0.0"),
            "info": .object(["title": .string("Kubernetes"), "version": .string(ServerVersion.faultline.gitVersion)]),
            "paths": .object(paths),
            "components": .object(["schemas": .object(JSONObject())]),
        ])
    }

    /// `api/v1` or `apis/apps/v1`: the index key, which is also the document's path below `/openapi/v3/`.
    public static func openAPIKey(group: String, version: String) -> String {
        group.isEmpty ? "api/\(version)" : "apis/\(group)/\(version)"
    }

    private static func itemPath(_ resource: APIResource) -> String {
        let scope = resource.namespaced ? "/namespaces/{namespace}" : ""
        return "\(resource.groupVersionPath)\(scope)/\(resource.plural)/{name}"
    }

    private static func patchPathItem(namespaced: Bool, group: String, version: String, kind: String) -> JSONValue {
        var pathParameters: [JSONValue] = [pathParameter("name")]
        if namespaced { pathParameters.append(pathParameter("namespace")) }
        let queryParameters = ["dryRun", "fieldManager", "fieldValidation", "force"].map { name in
            let type = name == "force" ? "boolean" : "string"
            return JSONValue.object(["name": .string(name), "in": .string("query"), "schema": .object(["type": .string(type)])])
        }
        let patch: JSONObject = [
            "x-kubernetes-action": .string("patch"),
            "x-kubernetes-group-version-kind": .object([
                "group": .string(group), "version": .string(version), "kind": .string(kind),
            ]),
            "parameters": .array(queryParameters),
            "responses": .object(["200": .object(["description": .string("OK")])]),
        ]
        return .object(["parameters": .array(pathParameters), "patch": .object(patch)])
    }

    private static func pathParameter(_ name: String) -> JSONValue {
        .object(["name": .string(name), "in": .string("path"), "required": .bool(true), "schema": .object(["type": .string("string")])])
    }

    /// A stable hex fingerprint of a document's bytes.
    private static func contentHash(_ document: JSONValue) -> String {
        var hasher = FNV1a()
        hasher.combine(bytes: JSON.serialize(document).utf8)
        let hex = String(hasher.value, radix: 16, uppercase: true)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
