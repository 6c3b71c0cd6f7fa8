import Base
import KubeAPI
import KubeControllers
import Testing
import Wire

private func json(_ text: String) -> JSONValue { try! JSON.parse(text) }

private let pods = APIResource.standard("pods")
private let configMaps = APIResource.standard("configmaps")
private let deployments = APIResource.standard("deployments", group: "apps")
private let namespaceReference = ObjectReference(.standard("namespaces"), namespace: nil, name: "shop")

/// Namespace `shop`, being deleted unless `deleting` is false, with these `spec.finalizers`.
private func namespace(deleting: Bool = true, finalizers: [String] = ["kubernetes"], conditions: String? = nil) -> JSONValue {
    let mark = deleting ? #","deletionTimestamp":"2026-11-23T08:00:00Z""# : ""
    let list = finalizers.map { "\"\($0)\"" }.joined(separator: ",")
    let status = conditions.map { #""phase":"Terminating","conditions":\#($0)"# } ?? #""phase":"\#(deleting ? "Terminating" : "Active")""#
    return json(#"{"metadata":{"name":"shop","uid":"ns-uid","resourceVersion":"40"\#(mark)},"spec":{"finalizers":[\#(list)]},"status":{\#(status)}}"#)
}

private func object(_ name: String, namespace: String = "shop", deleting: Bool = false, finalizers: [String] = []) -> JSONValue {
    var metadata = #""name":"\#(name)","namespace":"\#(namespace)","uid":"uid-\#(name)""#
    if deleting { metadata += #","deletionTimestamp":"2026-11-23T08:00:05Z""# }
    if !finalizers.isEmpty { metadata += #","finalizers":[\#(finalizers.map { "\"\($0)\"" }.joined(separator: ","))]"# }
    return json("{\"metadata\":{\(metadata)}}")
}

/// Every content resource listed empty, then `objects` by resource.
private func content(_ objects: [APIResource: [JSONValue]] = [:]) -> [APIResource: [JSONValue]] {
    var all: [APIResource: [JSONValue]] = [:]
    for resource in NamespaceController.contentResources { all[resource] = [] }
    for (resource, list) in objects { all[resource] = list }
    return all
}

private func delete(_ resource: APIResource, _ name: String) -> ObjectAction {
    .delete(ObjectReference(resource, namespace: "shop", name: name), uid: "uid-\(name)", propagation: "Background")
}

/// The namespace a status write of `actions` carries, if there is one.
private func statusWrite(_ actions: [ObjectAction]) -> JSONValue? {
    for case .update(let reference, let object, "status") in actions where reference == namespaceReference { return object }
    return nil
}

private func condition(_ namespace: JSONValue, _ type: String) -> JSONValue? {
    namespace.arrayMember("status", "conditions").first { $0.stringMember("type") == type }
}

@Suite struct NamespaceControllerTests {
    let controller = NamespaceController(configuration: .init(recheckInterval: 3 * Time.second))

    @Test func theContentIsEveryNamespacedResourceServed() {
        let names = Set(NamespaceController.contentResources.map(\.qualifiedName))
        for expected in ["pods", "services", "endpoints", "configmaps", "secrets", "serviceaccounts", "events", "replicasets.apps",
            "deployments.apps", "leases.coordination.k8s.io", "jobs.batch"]
        {
            #expect(names.contains(expected), "\(expected) must be emptied too")
        }
        #expect(!names.contains("nodes") && !names.contains("namespaces"), "cluster-scoped resources are not content: \(names)")
    }

    @Test func aNamespaceNotBeingDeletedIsLeftAlone() {
        let sync = controller.sync(namespace: namespace(deleting: false), content: content([pods: [object("web")]]), timestamp: "t1")
        #expect(sync == NamespaceSync(), "an Active namespace's pods must not be deleted: \(sync)")
    }

    @Test func everyObjectNotYetBeingDeletedIsDeletedInTheBackground() throws {
        let listed = content([
            pods: [object("web-1"), object("web-2", deleting: true)],
            deployments: [object("web", finalizers: ["foregroundDeletion"])],
            configMaps: [object("settings"), object("elsewhere", namespace: "other")],
        ])
        let sync = controller.sync(namespace: namespace(), content: listed, timestamp: "t1")
        #expect(sync.remaining == 4, "the pod being deleted still counts, the other namespace's configmap does not")
        #expect(sync.requeueAfter == 3 * Time.second)
        #expect(Array(sync.actions.dropFirst()) == [delete(pods, "web-1"), delete(configMaps, "settings"), delete(deployments, "web")],
            "no second delete of the pod already going, none outside the namespace")
        let status = try #require(statusWrite(sync.actions), "the conditions are reported first: \(sync.actions)")
        #expect(condition(status, "NamespaceContentRemaining") == json(#"""
            {"type":"NamespaceContentRemaining","status":"True","lastTransitionTime":"t1","reason":"SomeResourcesRemain",
             "message":"Some resources are remaining: configmaps has 1 resource instances, deployments.apps has 1 resource instances, pods has 2 resource instances"}
            """#))
        #expect(condition(status, "NamespaceFinalizersRemaining")?.stringMember("message")
            == "Some content in the namespace has finalizers remaining: foregroundDeletion in 1 resource instances")
        #expect(condition(status, "NamespaceDeletionContentFailure")?.stringMember("status") == "False")
        #expect(status.stringMember("metadata", "resourceVersion") == "40", "the status write is guarded by the version read")
    }

    @Test func unchangedConditionsAreNotWrittenAgainAndKeepTheirTransitionTime() throws {
        let listed = content([pods: [object("web-1", deleting: true)]])
        let first = controller.sync(namespace: namespace(), content: listed, timestamp: "t1")
        let reported = try #require(statusWrite(first.actions))
        let again = controller.sync(namespace: reported, content: listed, timestamp: "t2")
        #expect(again.actions == [], "same conditions, nothing to delete: \(again.actions)")
        #expect(again.remaining == 1 && again.requeueAfter == 3 * Time.second, "still waiting for the pod")
        // Another count changes the message but not the status: the transition time stays.
        let more = controller.sync(namespace: reported, content: content([pods: [object("a", deleting: true), object("b", deleting: true)]]),
            timestamp: "t3")
        let updated = try #require(statusWrite(more.actions))
        #expect(condition(updated, "NamespaceContentRemaining")?.stringMember("lastTransitionTime") == "t1")
        #expect(condition(updated, "NamespaceContentRemaining")?.stringMember("message") == "Some resources are remaining: pods has 2 resource instances")
    }

    @Test func anEmptyNamespaceIsFinalizedKeepingOtherFinalizers() {
        let terminating = namespace(finalizers: ["example.com/audit", "kubernetes"])
        let sync = controller.sync(namespace: terminating, content: content(), timestamp: "t1")
        var finalized = terminating
        finalized.set("spec.finalizers", json(#"["example.com/audit"]"#))
        #expect(sync.actions == [.update(namespaceReference, object: finalized, subresource: "finalize")])
        #expect(sync.remaining == 0)
        #expect(sync.requeueAfter == 3 * Time.second, "looked at again in case the finalize fails")
    }

    @Test func aResourceThatCouldNotBeListedHoldsTheFinalize() throws {
        var listed = content()
        listed[configMaps] = nil
        let sync = controller.sync(namespace: namespace(), content: listed, timestamp: "t1")
        #expect(!sync.actions.contains { if case .update(_, _, "finalize") = $0 { true } else { false } },
            "configmaps may still be there: \(sync.actions)")
        let status = try #require(statusWrite(sync.actions))
        #expect(condition(status, "NamespaceDeletionContentFailure")?.stringMember("status") == "True")
        #expect(condition(status, "NamespaceDeletionContentFailure")?.stringMember("message") == "Failed to list 1 resource types: configmaps")
    }

    @Test func aFinalizedNamespaceIsDeletedAndOneWithOtherFinalizersWaits() {
        let finalized = controller.sync(namespace: namespace(finalizers: []), content: content([pods: [object("web")]]), timestamp: "t1")
        #expect(finalized.actions == [.delete(namespaceReference, uid: "ns-uid")],
            "without `kubernetes` the namespace goes, its content left (as in Kubernetes)")
        let waiting = controller.sync(namespace: namespace(finalizers: ["example.com/audit"]), content: content(), timestamp: "t1")
        #expect(waiting.actions == [])
        #expect(waiting.requeueAfter == 3 * Time.second)
    }

    @Test func otherConditionsOfTheNamespaceStay() throws {
        let custom = #"[{"type":"example.com/Ready","status":"True","lastTransitionTime":"t0","reason":"R","message":"m"}]"#
        let sync = controller.sync(namespace: namespace(conditions: custom), content: content([pods: [object("web")]]), timestamp: "t1")
        let status = try #require(statusWrite(sync.actions))
        #expect(status.arrayMember("status", "conditions").count == 6)
        #expect(status.arrayMember("status", "conditions").first == json(custom).asArray?.first)
    }
}
