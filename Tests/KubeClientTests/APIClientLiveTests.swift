//! APIClient against a live store and apiserver: the verbs, the errors as Status reasons,
//! every ObjectAction, and failover between two apiservers on one store.

import Base
import KubeAPI
import KubeClient
import Net
import Testing
import Wire

private let pods = APIResource.standard("pods")

@Suite(.serialized) struct APIClientLiveTests {
    @Test func verbsAndTheirErrors() throws {
        let cluster = try LiveCluster(basePort: 23100)
        defer { cluster.stop() }
        let client = try cluster.client()
        let created = try client.create(pods, namespace: "default", object: podObject("web-1", labels: ["app": "web"]))
        let uid = try #require(created.stringMember("metadata", "uid"))
        let reference = ObjectReference(pods, namespace: "default", name: "web-1")
        #expect(try client.get(reference).stringMember("metadata", "uid") == uid)
        _ = try client.create(pods, namespace: "default", object: podObject("db-1", labels: ["app": "db"]))

        // Lists with selectors (the selector travels percent-encoded).
        let web = try client.list(pods, namespace: "default", labelSelector: "app in (web)")
        #expect(web.items.compactMap { $0.stringMember("metadata", "name") } == ["web-1"])
        #expect(Int64(web.resourceVersion) ?? 0 > 0)
        let named = try client.list(pods, namespace: "default", fieldSelector: "metadata.name=db-1")
        #expect(named.items.compactMap { $0.stringMember("metadata", "name") } == ["db-1"])

        // Creating twice: AlreadyExists.
        do {
            _ = try client.create(pods, namespace: "default", object: podObject("web-1"))
            Issue.record("a second create of web-1 succeeded")
        } catch {
            #expect(error.isAlreadyExists && error.code == 409, "\(error)")
        }

        // An update at the resourceVersion read succeeds; the same stale version then conflicts.
        var changed = created
        changed.set("metadata.labels.tier", .string("front"))
        let updated = try client.update(reference, object: changed)
        #expect(updated.stringMember("metadata", "labels", "tier") == "front")
        do {
            _ = try client.update(reference, object: changed)
            Issue.record("a stale update succeeded")
        } catch {
            #expect(error.isConflict, "\(error)")
            #expect(error.message.contains("the object has been modified"))
        }

        // Patches.
        let merged = try client.mergePatch(reference, patch: .object(["metadata": .object(["annotations": .object(["a": .string("1")])])]))
        #expect(merged.stringMember("metadata", "annotations", "a") == "1")
        let patched = try client.jsonPatch(reference, operations: [
            .object(["op": .string("replace"), "path": .string("/metadata/annotations/a"), "value": .string("2")]),
        ])
        #expect(patched.stringMember("metadata", "annotations", "a") == "2")

        // Invalid objects: 422 Invalid.
        do {
            _ = try client.create(pods, namespace: "default", object: .object(["metadata": .object(["name": .string("bad")]), "spec": .object([:])]))
            Issue.record("an invalid pod was created")
        } catch {
            #expect(error.isInvalid && error.reason == .invalid, "\(error)")
        }

        // Delete guarded by uid: a wrong uid conflicts and leaves the pod; the right one deletes.
        do {
            try client.delete(reference, options: DeleteOptions(uid: "not-the-uid", gracePeriodSeconds: 0))
            Issue.record("a delete with the wrong uid succeeded")
        } catch {
            #expect(error.isConflict, "\(error)")
        }
        #expect((try? client.get(reference)) != nil)
        try client.delete(reference, options: DeleteOptions(uid: uid, propagationPolicy: "Background", gracePeriodSeconds: 0))
        do {
            _ = try client.get(reference)
            Issue.record("the deleted pod is still there")
        } catch {
            #expect(error.isNotFound && error.reason == .notFound, "\(error)")
        }
    }

    @Test func performCarriesOutEveryAction() throws {
        let cluster = try LiveCluster(basePort: 23105)
        defer { cluster.stop() }
        let client = try cluster.client(component: "default-scheduler")
        let nodes = APIResource.standard("nodes")
        try client.perform(.create(nodes, namespace: nil, object: .object([
            "apiVersion": .string("v1"), "kind": .string("Node"), "metadata": .object(["name": .string("w1")]),
        ])))
        let created = try client.perform(.create(pods, namespace: "default", object: podObject("p")))
        let reference = ObjectReference(pods, namespace: "default", name: "p")
        let uid = try #require(created.stringMember("metadata", "uid"))

        var relabelled = created
        relabelled.set("metadata.labels.role", .string("x"))
        try client.perform(.update(reference, object: relabelled))
        try client.perform(.mergePatch(reference, patch: .object(["status": .object(["phase": .string("Pending")])]), subresource: "status"))

        try client.perform(.bind(pod: reference, node: "w1", uid: uid))
        let bound = try client.get(reference)
        #expect(bound.stringMember("spec", "nodeName") == "w1")
        #expect(bound.stringMember("metadata", "labels", "role") == "x")
        do {
            try client.perform(.bind(pod: reference, node: "w2", uid: uid))
            Issue.record("a pod was bound twice")
        } catch {
            #expect(error.isConflict, "\(error)")
        }

        try client.perform(.event(involved: reference, type: "Normal", reason: "Scheduled", message: "Successfully assigned default/p to w1"))
        let events = try client.list(.standard("events"), namespace: "default").items
        let event = try #require(events.first { $0.stringMember("reason") == "Scheduled" })
        #expect(event.stringMember("involvedObject", "uid") == uid, "perform looks the uid up, for kubectl describe")
        #expect(event.stringMember("source", "component") == "default-scheduler")
        #expect(event.stringMember("metadata", "name")?.hasPrefix("p.") == true)
        try client.perform(.event(involved: ObjectReference(nodes, namespace: nil, name: "w1"), type: "Warning", reason: "NodeNotReady",
            message: "Node w1 status is now: NodeNotReady"))
        #expect(try client.list(.standard("events"), namespace: "default").items.count == 2)

        do {
            try client.perform(.delete(reference, uid: "wrong"))
            Issue.record("a delete with the wrong uid succeeded")
        } catch {
            #expect(error.isConflict, "\(error)")
        }
        try client.perform(.delete(reference, uid: uid, propagation: "Background", gracePeriodSeconds: 0))
        #expect(throws: APIError.self) { try client.get(reference) }
    }
}
