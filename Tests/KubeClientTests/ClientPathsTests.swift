import KubeAPI
import KubeClient
import Testing

@Suite struct ClientPathsTests {
    @Test func nodeLeasesLiveInKubeNodeLease() {
        let lease = ObjectReference(.standard("leases", group: "coordination.k8s.io"), namespace: "kube-node-lease", name: "w1")
        #expect(lease.path() == "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/w1")
    }
}
