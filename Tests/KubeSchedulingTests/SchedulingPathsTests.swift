import KubeAPI
import KubeScheduling
import Testing

@Suite struct SchedulingPathsTests {
    @Test func aBindingGoesToThePodsBindingSubresource() {
        let pod = ObjectReference(.standard("pods"), namespace: "default", name: "web-1")
        #expect(pod.path(subresource: "binding") == "/api/v1/namespaces/default/pods/web-1/binding")
    }
}
