import KubeAPI
import Testing
import Wire

@Suite struct ObjectActionTests {
    @Test func pathsFollowTheAPILayout() {
        let pods = APIResource.standard("pods")
        #expect(pods.path(namespace: "default") == "/api/v1/namespaces/default/pods")
        #expect(pods.path(namespace: nil) == "/api/v1/pods")
        #expect(pods.path(namespace: "ns", name: "web", subresource: "binding") == "/api/v1/namespaces/ns/pods/web/binding")
        #expect(APIResource.standard("nodes").path(namespace: "ignored", name: "w1", subresource: "status") == "/api/v1/nodes/w1/status")
        #expect(APIResource.standard("replicasets", group: "apps").path(namespace: "a", name: "r") == "/apis/apps/v1/namespaces/a/replicasets/r")
        #expect(APIResource.standard("leases", group: "coordination.k8s.io").path(namespace: "kube-node-lease", name: "w1")
            == "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/w1")
    }

    @Test func aReferenceComesFromAnObjectsMetadata() throws {
        let pod = try JSON.parse(#"{"metadata":{"name":"web","namespace":"shop"}}"#)
        let reference = try #require(ObjectReference(.standard("pods"), object: pod))
        #expect(reference.path() == "/api/v1/namespaces/shop/pods/web")
        #expect(reference.description == "pods/shop/web")
        #expect(ObjectReference(.standard("pods"), object: .object([:])) == nil)
        let node = try #require(ObjectReference(.standard("nodes"), object: try JSON.parse(#"{"metadata":{"name":"w1","namespace":"x"}}"#)))
        #expect(node.namespace == nil)
    }
}
