//! APIServerTolerationTests: the apiserver's `--default-…-toleration-seconds` settings reach
//! the pods it stores, and a negative setting is refused before it serves.

import APIServer
import Foundation
import Net
import Testing

@Suite(.serialized) struct APIServerTolerationTests {
    /// A configuration that could be served, with these toleration seconds.
    private func configuration(notReady: Int64, unreachable: Int64) -> APIServerConfiguration {
        var configuration = APIServerConfiguration()
        configuration.listen = Endpoint(host: "127.0.0.1", port: 0)
        configuration.log = { _ in }
        configuration.defaultNotReadyTolerationSeconds = notReady
        configuration.defaultUnreachableTolerationSeconds = unreachable
        return configuration
    }

    @Test func negativeSecondsAreRefusedNamingTheFlag() {
        for (flag, configuration) in [
            ("--default-not-ready-toleration-seconds", configuration(notReady: -1, unreachable: 300)),
            ("--default-unreachable-toleration-seconds", configuration(notReady: 300, unreachable: -5)),
        ] {
            do {
                _ = try APIServer(configuration: configuration)
                Issue.record("a negative \(flag) was accepted")
            } catch {
                #expect(error.description.contains(flag) && error.description.contains("at least 0"), "\(error)")
            }
        }
        // Zero is a legal setting: pods are evicted as soon as their node is tainted.
        #expect((try? APIServer(configuration: configuration(notReady: 0, unreachable: 0))) != nil)
    }

    @Test func createdPodsGetTheConfiguredSeconds() throws {
        let kube = try KubeHarness(store: .builtin, basePort: 26650) { configuration in
            configuration.defaultNotReadyTolerationSeconds = 7
            configuration.defaultUnreachableTolerationSeconds = 0
        }
        defer { kube.stop() }
        let path = "/api/v1/namespaces/default/pods"
        let created = try kube.raw("POST", path,
            body: #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"plain"},"spec":{"containers":[{"name":"c","image":"nginx"}]}}"#)
        #expect(created.status == 201, "\(created.text)")
        #expect(try tolerationSeconds(created.text) == [
            "node.kubernetes.io/not-ready": 7, "node.kubernetes.io/unreachable": 0,
        ])

        // A pod that tolerates unreachable nodes for 60 s keeps that; only not-ready is added.
        let own = try kube.raw("POST", path, body: """
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"own"},"spec":{"containers":[{"name":"c","image":"nginx"}],
             "tolerations":[{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":60}]}}
            """)
        #expect(own.status == 201, "\(own.text)")
        #expect(try tolerationSeconds(own.text) == ["node.kubernetes.io/unreachable": 60, "node.kubernetes.io/not-ready": 7])
    }

    /// The pod's NoExecute tolerations: seconds by key.
    private func tolerationSeconds(_ text: String) throws -> [String: Int64] {
        let pod = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not an object: \(text)")
        let tolerations = (pod["spec"] as? [String: Any])?["tolerations"] as? [[String: Any]] ?? []
        var found: [String: Int64] = [:]
        for toleration in tolerations where toleration["effect"] as? String == "NoExecute" {
            if let key = toleration["key"] as? String, let seconds = toleration["tolerationSeconds"] as? NSNumber { found[key] = seconds.int64Value }
        }
        return found
    }
}
