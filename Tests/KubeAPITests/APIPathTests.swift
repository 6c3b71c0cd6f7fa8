import KubeAPI
import Testing

@Suite struct APIPathTests {
    @Test func discoveryAndHealth() {
        #expect(APIPath.parse("/version") == .version)
        #expect(APIPath.parse("/api") == .coreVersions)
        #expect(APIPath.parse("/apis") == .groups)
        #expect(APIPath.parse("/apis/apps") == .group("apps"))
        #expect(APIPath.parse("/api/v1") == .groupVersion(group: "", version: "v1"))
        #expect(APIPath.parse("/apis/apps/v1/") == .groupVersion(group: "apps", version: "v1"))
        #expect(APIPath.parse("/readyz") == .health("readyz"))
        #expect(APIPath.parse("/openapi/v3") == .openAPIIndex)
        #expect(APIPath.parse("/openapi/v3/apis/apps/v1") == .openAPI(group: "apps", version: "v1"))
        #expect(APIPath.parse("/openapi/v3/api/v1") == .openAPI(group: "", version: "v1"))
        #expect(APIPath.parse("/openapi/v2") == .unknown)
        #expect(APIPath.parse("/") == .unknown)
        #expect(APIPath.parse("/metrics/x") == .unknown)
    }

    @Test func resources() {
        #expect(APIPath.parse("/api/v1/pods") == .resource(ResourceTarget(group: "", version: "v1", resource: "pods")))
        #expect(APIPath.parse("/api/v1/namespaces/default/pods/web/status")
            == .resource(ResourceTarget(group: "", version: "v1", namespace: "default", resource: "pods", name: "web", subresource: "status")))
        #expect(APIPath.parse("/apis/apps/v1/namespaces/default/deployments/web/scale")
            == .resource(ResourceTarget(group: "apps", version: "v1", namespace: "default", resource: "deployments", name: "web", subresource: "scale")))
        // A namespace itself, and its subresources, versus resources inside it.
        #expect(APIPath.parse("/api/v1/namespaces/dev") == .resource(ResourceTarget(group: "", version: "v1", resource: "namespaces", name: "dev")))
        #expect(APIPath.parse("/api/v1/namespaces/dev/status")
            == .resource(ResourceTarget(group: "", version: "v1", resource: "namespaces", name: "dev", subresource: "status")))
        #expect(APIPath.parse("/api/v1/namespaces/dev/configmaps")
            == .resource(ResourceTarget(group: "", version: "v1", namespace: "dev", resource: "configmaps")))
        #expect(APIPath.parse("/api/v1/namespaces/dev/pods/a/b/c") == .unknown)
        #expect(ResourceTarget(group: "apps", version: "v1", resource: "deployments").qualifiedResource == "deployments.apps")
    }

    @Test func queryAndAccept() {
        let query = QueryParameters("labelSelector=app%3Dweb%2Ctier+in+(a%2Cb)&watch=true&limit=500&watch=false&bad=%zz")
        #expect(query["labelSelector"] == "app=web,tier in (a,b)")
        #expect(query.flag("watch"), "the first value wins")
        #expect(query["limit"] == "500")
        #expect(query["bad"] == "%zz")
        #expect(!query.flag("missing"))
        #expect(ResponseShape.from(accept: "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json") == .table)
        #expect(ResponseShape.from(accept: "application/json") == .object)
        #expect(ResponseShape.from(accept: "application/vnd.kubernetes.protobuf,application/json") == .object)
        #expect(ResponseShape.from(accept: nil) == .object)
    }
}
