import KubeAPI
import KubeControllers
import Testing

@Suite struct ControllerPathsTests {
    @Test func workloadsLiveInTheAppsGroup() {
        let deployment = ObjectReference(.standard("deployments", group: "apps"), namespace: "default", name: "web")
        #expect(deployment.path(subresource: "status") == "/apis/apps/v1/namespaces/default/deployments/web/status")
    }
}
