//! Real kubectl's `--cascade` against the apiserver: foreground and orphan deletes leave the
//! object marked with the garbage collector's finalizer, and removing the finalizer finishes
//! the delete; a bad policy is refused as Kubernetes refuses it.

import Foundation
import Testing

@Suite(.serialized) struct DeletionPropagationTests {
    @Test func cascadeFlagsBecomeFinalizers() throws {
        let kube = try KubeHarness(store: .builtin, basePort: 26690)
        defer { kube.stop() }
        let kubectl = kube.kubectl
        for name in ["front", "side"] {
            _ = try kubectl.ok("create", "-f", "-", input: #"""
                {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"\#(name)"},"spec":{"selector":{"matchLabels":{"app":"\#(name)"}},
                 "template":{"metadata":{"labels":{"app":"\#(name)"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}}
                """#)
        }
        _ = try kubectl.ok("delete", "deployment", "front", "--cascade=foreground", "--wait=false")
        #expect(try kubectl.ok("get", "deployment", "front", "-o", "jsonpath={.metadata.finalizers}") == #"["foregroundDeletion"]"#)
        #expect(try !kubectl.ok("get", "deployment", "front", "-o", "jsonpath={.metadata.deletionTimestamp}").isEmpty)
        _ = try kubectl.ok("delete", "deployment", "side", "--cascade=orphan", "--wait=false")
        #expect(try kubectl.ok("get", "deployment", "side", "-o", "jsonpath={.metadata.finalizers}") == #"["orphan"]"#)

        // What the garbage collector does once the dependents are handled: the delete completes.
        _ = try kubectl.ok("patch", "deployment", "front", "--type=merge", "-p", #"{"metadata":{"finalizers":null}}"#)
        let gone = try kubectl(["get", "deployment", "front"])
        #expect(gone.status != 0 && gone.err.contains("NotFound"), "\(gone)")

        let refused = try kube.raw("DELETE", "/apis/apps/v1/namespaces/default/deployments/side",
            body: #"{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Sideways"}"#)
        #expect(refused.status == 422)
        #expect(refused.text.contains(#"DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"Sideways\""#), "\(refused.text)")
        let stale = try kube.raw("DELETE", "/apis/apps/v1/namespaces/default/deployments/side",
            body: #"{"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"uid":"not-this-one"}}"#)
        #expect(stale.status == 409 && stale.text.contains("Precondition failed: UID in precondition: not-this-one"), "\(stale.text)")
    }
}
