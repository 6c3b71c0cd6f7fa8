//! Failover: two apiservers on one store; when the current one stops, reads and unsent writes
//! go to the other; with none left, requests fail as unreachable.

import Base
import KubeAPI
import KubeClient
import Testing
import Wire

@Suite(.serialized) struct FailoverLiveTests {
    @Test func requestsMoveToTheNextApiserver() throws {
        let cluster = try LiveCluster(basePort: 23120, apiservers: 2)
        defer { cluster.stop() }
        let client = try cluster.client()
        let pods = APIResource.standard("pods")
        #expect(client.currentEndpoint.port == cluster.apiPorts[0])
        _ = try client.create(pods, namespace: "default", object: podObject("before"))
        _ = try client.list(pods, namespace: "default")  // leaves a kept-alive connection to the first

        cluster.stopAPIServer(0)
        // A read finds the first gone and is answered by the second.
        let listed = try client.list(pods, namespace: "default")
        #expect(listed.items.compactMap { $0.stringMember("metadata", "name") } == ["before"])
        #expect(client.currentEndpoint.port == cluster.apiPorts[1], "the client stays on the server that answered")
        // A write whose connection was refused was never sent: it goes to the second too.
        let fresh = try cluster.client()
        _ = try fresh.create(pods, namespace: "default", object: podObject("after"))
        #expect(fresh.currentEndpoint.port == cluster.apiPorts[1])

        // An HTTP error is an answer, not a failure: it does not move the client.
        #expect(throws: APIError.self) { try client.get(ObjectReference(pods, namespace: "default", name: "missing")) }
        #expect(client.currentEndpoint.port == cluster.apiPorts[1])

        cluster.stopAPIServer(1)
        do {
            _ = try client.list(pods, namespace: "default")
            Issue.record("a list succeeded with every apiserver stopped")
        } catch {
            #expect(error.isUnreachable, "\(error)")
        }
    }
}
