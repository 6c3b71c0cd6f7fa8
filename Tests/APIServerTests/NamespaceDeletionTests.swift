//! Real kubectl deleting namespaces against the apiserver alone (no controller-manager): the
//! namespace is only marked Terminating and refuses new content; removing `kubernetes` through
//! the `finalize` subresource (the classic `kubectl replace --raw …/finalize` recipe, which is
//! what the namespace controller does once the namespace is empty) lets it go; the system
//! namespaces may not be deleted.

import Foundation
import Testing

@Suite(.serialized) struct NamespaceDeletionTests {
    @Test func aDeletedNamespaceTerminatesUntilFinalizedAndTheSystemOnesStay() throws {
        let kube = try KubeHarness(store: .builtin, basePort: 26730)
        defer { kube.stop() }
        let kubectl = kube.kubectl
        for name in ["default", "kube-system", "kube-public"] {
            let refused = try kubectl(["delete", "namespace", name])
            #expect(refused.status != 0, "\(name) was deleted")
            #expect(refused.err.contains(#"Error from server (Forbidden): namespaces "\#(name)" is forbidden: this namespace may not be deleted"#),
                "\(refused.err)")
        }
        #expect(try kube.raw("DELETE", "/api/v1/namespaces", body: "").status == 405, "namespaces have no deletecollection")

        // (`kubectl create namespace` and `create configmap` send protobuf, which this apiserver does not read.)
        _ = try kubectl.ok("create", "-f", "-", input: #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"shop"}}"#)
        #expect(try kubectl.ok("get", "namespace", "shop", "-o", "jsonpath={.spec.finalizers}") == #"["kubernetes"]"#)
        _ = try kubectl.ok("create", "-n", "shop", "-f", "-", input: #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings"},"data":{"a":"b"}}"#)
        #expect(try kubectl.ok("delete", "namespace", "shop", "--wait=false") == "namespace \"shop\" deleted\n")
        #expect(try kubectl.ok("get", "namespace", "shop", "-o", "jsonpath={.status.phase}") == "Terminating")
        #expect(try !kubectl.ok("get", "namespace", "shop", "-o", "jsonpath={.metadata.deletionTimestamp}").isEmpty)
        let late = try kubectl(["create", "-n", "shop", "-f", "-"], input: #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"late"}}"#)
        #expect(late.status != 0 && late.err.contains("unable to create new content in namespace shop because it is being terminated"),
            "\(late)")
        // Writes that leave `kubernetes` in place do not finish the deletion (a label, a status write).
        _ = try kubectl.ok("label", "namespace", "shop", "team=a")
        let status = try kube.raw("PUT", "/api/v1/namespaces/shop/status",
            body: try kubectl.ok("get", "namespace", "shop", "-o", "json"))
        #expect(status.status == 200, "\(status.text)")
        #expect(try kubectl.ok("get", "namespace", "shop", "-o", "jsonpath={.spec.finalizers}") == #"["kubernetes"]"#)
        #expect(try kube.raw("PATCH", "/api/v1/namespaces/shop/finalize", body: #"{"spec":{"finalizers":[]}}"#,
            contentType: "application/merge-patch+json").status == 405, "finalize takes only an update")

        // The namespace controller's last write, by hand: the apiserver then deletes the namespace.
        var namespace = try kubectl.ok("get", "namespace", "shop", "-o", "json")
        namespace = namespace.replacingOccurrences(of: #""kubernetes""#, with: "")
        _ = try kubectl.ok("replace", "--raw", "/api/v1/namespaces/shop/finalize", "-f", "-", input: namespace)
        let gone = try kubectl(["get", "namespace", "shop"])
        #expect(gone.status != 0 && gone.err.contains("NotFound"), "\(gone)")
    }
}
