//! RegistryTests: the names kubectl resolves through discovery (`po`, `deploy`, `ns`, `no`, `svc`,
//! `rs`), the members and order of category `all`, the discovery documents' shapes (pods/eviction
//! with its group and version, deployments/scale as an autoscaling/v1 Scale), `/version` and the
//! OpenAPI documents `kubectl apply` checks for the `fieldValidation` parameter.

import Testing
import Wire
import KubeAPI

@Suite struct RegistryTests {
    let registry = ResourceRegistry.standard

    @Test(arguments: [
        ("po", "pods"), ("deploy", "deployments.apps"), ("ns", "namespaces"), ("no", "nodes"), ("svc", "services"),
        ("rs", "replicasets.apps"), ("ep", "endpoints"), ("ev", "events"), ("cm", "configmaps"), ("sa", "serviceaccounts"),
        ("rc", "replicationcontrollers"), ("sts", "statefulsets.apps"), ("ds", "daemonsets.apps"),
        ("hpa", "horizontalpodautoscalers.autoscaling"), ("cj", "cronjobs.batch"),
    ])
    func shortNamesKubectlNeeds(shortName: String, resource: String) {
        #expect(registry.resource(shortName: shortName)?.qualifiedName == resource)
    }

    @Test func categoryAllInTheOrderOfKubectlGetAll() {
        #expect(registry.members(ofCategory: "all").map(\.qualifiedName) == [
            "pods", "services", "replicationcontrollers",
            "deployments.apps", "replicasets.apps", "statefulsets.apps", "daemonsets.apps",
            "horizontalpodautoscalers.autoscaling", "jobs.batch", "cronjobs.batch",
        ])
        // Everything in `all` must be listable, or `kubectl get all` fails on it.
        #expect(registry.members(ofCategory: "all").allSatisfy { $0.verbs.contains("list") })
        #expect(registry.resource(kind: "Endpoints")?.categories == [])
    }

    @Test func lookups() {
        #expect(registry.resource(group: "apps", version: "v1", plural: "deployments")?.kind == "Deployment")
        #expect(registry.resource(group: "", version: "v1", plural: "deployments") == nil)
        #expect(registry.resource(group: "coordination.k8s.io", version: "v1", plural: "leases")?.singular == "lease")
        #expect(registry.resource(kind: "Pod")?.plural == "pods")
        #expect(registry.resource(kind: "Lease")?.groupVersion == "coordination.k8s.io/v1")
        #expect(registry.resource(kind: "HorizontalPodAutoscaler")?.groupVersion == "autoscaling/v2")
        #expect(registry.resolve("deployments.apps")?.kind == "Deployment")
        #expect(registry.resolve("deploy")?.kind == "Deployment")
        #expect(registry.resolve("Pod")?.plural == "pods")
        #expect(registry.resolve("pod")?.plural == "pods")
        #expect(registry.resolve("pods.apps") == nil)
        #expect(registry.resolve("leases.coordination.k8s.io")?.kind == "Lease")
        #expect(registry.resolve("flunders") == nil)
    }

    @Test func scopesListKindsAndPaths() {
        #expect(registry.resources.filter { !$0.namespaced }.map(\.plural) == ["namespaces", "nodes"])
        #expect(registry.resource(kind: "Deployment")?.listKind == "DeploymentList")
        #expect(registry.resource(kind: "Deployment")?.groupVersionPath == "/apis/apps/v1")
        #expect(registry.resource(kind: "Pod")?.groupVersionPath == "/api/v1")
        // Namespaces cannot be deleted as a collection, as in Kubernetes.
        #expect(registry.resource(kind: "Namespace")?.verbs.contains("deletecollection") == false)
    }

    @Test func apiVersionsDocument() {
        #expect(registry.apiVersionsDocument(serverAddress: "127.0.0.1:6443") == parsedObject("""
            {"kind":"APIVersions","versions":["v1"],"serverAddressByClientCIDRs":[{"clientCIDR":"0.0.0.0/0","serverAddress":"127.0.0.1:6443"}]}
            """))
    }

    @Test func apiGroupListDocument() {
        let document = registry.apiGroupListDocument()
        #expect(valueAt(document, "kind") == .string("APIGroupList"))
        let groups = valueAt(document, "groups")?.asArrayForTest ?? []
        #expect(groups.map { valueAt($0, "name") } == ["apps", "autoscaling", "batch", "coordination.k8s.io"].map(JSONValue.string))
        #expect(groups.first == parsedObject("""
            {"name":"apps","versions":[{"groupVersion":"apps/v1","version":"v1"}],"preferredVersion":{"groupVersion":"apps/v1","version":"v1"}}
            """))
    }

    @Test func coreResourceListHasPodsWithTheirSubresources() throws {
        let document = try #require(registry.apiResourceListDocument(group: "", version: "v1"))
        #expect(valueAt(document, "groupVersion") == .string("v1"))
        let entries = valueAt(document, "resources")?.asArrayForTest ?? []
        let names = entries.compactMap { valueAt($0, "name") }
        #expect(Array(names.prefix(5)) == ["pods", "pods/binding", "pods/eviction", "pods/log", "pods/status"].map(JSONValue.string))
        #expect(entries.first == parsedObject("""
            {"name":"pods","singularName":"pod","namespaced":true,"kind":"Pod",
             "verbs":["create","delete","deletecollection","get","list","patch","update","watch"],"shortNames":["po"],"categories":["all"]}
            """))
        let eviction = entries.first { valueAt($0, "name") == .string("pods/eviction") }
        #expect(sameJSON(eviction, parsedObject("""
            {"name":"pods/eviction","singularName":"","namespaced":true,"group":"policy","version":"v1","kind":"Eviction","verbs":["create"]}
            """)))
        let node = entries.first { valueAt($0, "name") == .string("nodes") }
        #expect(valueAt(node, "namespaced") == .bool(false))
        #expect(valueAt(node, "shortNames") == parsedObject(#"["no"]"#))
    }

    @Test func appsResourceListHasScaleAsAnAutoscalingScale() throws {
        let document = try #require(registry.apiResourceListDocument(group: "apps", version: "v1"))
        let entries = valueAt(document, "resources")?.asArrayForTest ?? []
        let scale = entries.first { valueAt($0, "name") == .string("deployments/scale") }
        #expect(sameJSON(scale, parsedObject("""
            {"name":"deployments/scale","singularName":"","namespaced":true,"group":"autoscaling","version":"v1","kind":"Scale",
             "verbs":["get","patch","update"]}
            """)))
        let deployments = entries.first { valueAt($0, "name") == .string("deployments") }
        #expect(valueAt(deployments, "shortNames") == parsedObject(#"["deploy"]"#))
        #expect(valueAt(deployments, "categories") == parsedObject(#"["all"]"#))
    }

    @Test func unservedGroupVersionsHaveNoDocument() {
        #expect(registry.apiResourceListDocument(group: "events.k8s.io", version: "v1") == nil)
        #expect(registry.apiResourceListDocument(group: "apps", version: "v1beta1") == nil)
        #expect(registry.apiResourceListDocument(group: "policy", version: "v1") == nil)
        #expect(registry.openAPIDocument(group: "policy", version: "v1") == nil)
    }

    @Test func versionReportsAKubernetes132Server() {
        let version = ServerVersion.faultline.document
        #expect(valueAt(version, "major") == .string("1"))
        #expect(valueAt(version, "minor") == .string("32"))
        #expect(valueAt(version, "gitVersion") == .string("v1.32.0"))
        #expect(valueAt(version, "platform") == .string("linux/amd64"))
    }

    @Test func openAPIIndexListsEveryServedGroupVersion() {
        let paths = valueAt(registry.openAPIIndexDocument(), "paths")
        guard case .object(let index)? = paths else {
            Issue.record("no paths in the index")
            return
        }
        #expect(index.keys == ["api/v1", "apis/apps/v1", "apis/autoscaling/v2", "apis/batch/v1", "apis/coordination.k8s.io/v1"])
        for (key, entry) in index.members {
            let url = valueAt(entry, "serverRelativeURL")?.asStringForTest ?? ""
            #expect(url.hasPrefix("/openapi/v3/\(key)?hash="))
        }
        // The hash follows the document, so two different documents never share a URL.
        #expect(valueAt(paths, "api/v1", "serverRelativeURL") != valueAt(paths, "apis/apps/v1", "serverRelativeURL"))
    }

    @Test func openAPIPatchOperationsDeclareFieldValidation() throws {
        let apps = try #require(registry.openAPIDocument(group: "apps", version: "v1"))
        let deploymentPatch = valueAt(apps, "paths", "/apis/apps/v1/namespaces/{namespace}/deployments/{name}", "patch")
        #expect(valueAt(deploymentPatch, "x-kubernetes-group-version-kind") == parsedObject(#"{"group":"apps","version":"v1","kind":"Deployment"}"#))
        let parameterNames = valueAt(deploymentPatch, "parameters")?.asArrayForTest?.compactMap { valueAt($0, "name") } ?? []
        #expect(parameterNames.contains(.string("fieldValidation")))
        let scalePatch = valueAt(apps, "paths", "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale", "patch")
        #expect(valueAt(scalePatch, "x-kubernetes-group-version-kind") == parsedObject(#"{"group":"autoscaling","version":"v1","kind":"Scale"}"#))

        let core = try #require(registry.openAPIDocument(group: "", version: "v1"))
        #expect(valueAt(core, "paths", "/api/v1/nodes/{name}", "patch", "x-kubernetes-group-version-kind")
            == parsedObject(#"{"group":"","version":"v1","kind":"Node"}"#))
        #expect(valueAt(core, "paths", "/api/v1/namespaces/{namespace}/pods/{name}", "patch", "x-kubernetes-group-version-kind", "kind")
            == .string("Pod"))
        // Subresources that cannot be patched (eviction, binding, log) have no PATCH operation.
        #expect(valueAt(core, "paths", "/api/v1/namespaces/{namespace}/pods/{name}/eviction") == nil)
        #expect(valueAt(core, "openapi") == .string("3.0.0"))
    }
}

extension JSONValue {
    var asArrayForTest: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    var asStringForTest: String? {
        if case .string(let text) = self { return text }
        return nil
    }
}
