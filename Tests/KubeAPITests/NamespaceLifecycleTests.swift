import KubeAPI
import Testing
import Wire

private func json(_ text: String) -> JSONValue { try! JSON.parse(text) }
private let namespaces = LifecycleTraits(group: "", plural: "namespaces", hasStatus: true)
private let pods = LifecycleTraits(group: "", plural: "pods", hasStatus: true)
private let configmaps = LifecycleTraits(group: "", plural: "configmaps", hasStatus: false)
private func stamp(_ seconds: Int64) -> String { "in \(seconds)s" }

@Suite struct NamespaceLifecycleTests {
    let active = json(#"{"metadata":{"name":"shop","uid":"u"},"spec":{"finalizers":["kubernetes"]},"status":{"phase":"Active"}}"#)

    @Test func createAddsTheKubernetesFinalizerOnce() {
        let created = ObjectLifecycle.prepareForCreate(json(#"{"metadata":{"name":"shop"}}"#), traits: namespaces, timestamp: "t", uid: "u",
            generatedSuffix: "")
        #expect(NamespaceLifecycle.specFinalizers(created) == ["kubernetes"])
        #expect(created["status"] == json(#"{"phase":"Active"}"#))
        let withOthers = ObjectLifecycle.prepareForCreate(json(#"{"metadata":{"name":"shop"},"spec":{"finalizers":["example.com/a"]}}"#),
            traits: namespaces, timestamp: "t", uid: "u", generatedSuffix: "")
        #expect(NamespaceLifecycle.specFinalizers(withOthers) == ["example.com/a", "kubernetes"])
        let already = ObjectLifecycle.prepareForCreate(active, traits: namespaces, timestamp: "t", uid: "u", generatedSuffix: "")
        #expect(NamespaceLifecycle.specFinalizers(already) == ["kubernetes"], "not twice")
    }

    @Test func theFirstDeleteMarksTheNamespaceTerminating() throws {
        guard case .mark(let marked) = ObjectLifecycle.deletion(of: active, traits: namespaces, options: DeletionOptions(), timestamp: stamp) else {
            Issue.record("a namespace with content to delete must not go at once")
            return
        }
        #expect(marked["metadata"]?["deletionTimestamp"] == .string("in 0s"))
        #expect(marked["status"]?["phase"] == .string("Terminating"))
        #expect(marked["metadata"]?["deletionGracePeriodSeconds"] == nil, "the real server sets none on a namespace")
        #expect(NamespaceLifecycle.specFinalizers(marked) == ["kubernetes"])
        // Deleting again while `kubernetes` holds it changes nothing.
        #expect(ObjectLifecycle.deletion(of: marked, traits: namespaces, options: DeletionOptions(), timestamp: stamp) == .alreadyDeleting)
        var finalized = marked
        finalized.set("spec.finalizers", .array([]))
        #expect(ObjectLifecycle.deletion(of: finalized, traits: namespaces, options: DeletionOptions(), timestamp: stamp) == .now)
        var held = finalized
        held.set("metadata.finalizers", json(#"["example.com/hold"]"#))
        #expect(ObjectLifecycle.deletion(of: held, traits: namespaces, options: DeletionOptions(), timestamp: stamp) == .alreadyDeleting,
            "a metadata finalizer holds it too")
        // Even an empty namespace is only marked by the first delete, as in Kubernetes.
        var bare = active
        bare.set("spec.finalizers", .array([]))
        guard case .mark = ObjectLifecycle.deletion(of: bare, traits: namespaces, options: DeletionOptions(), timestamp: stamp) else {
            Issue.record("the first delete marks")
            return
        }
    }

    @Test func onlyFinalizeChangesTheSpecFinalizers() {
        let edit = json(#"{"metadata":{"name":"shop","labels":{"team":"a"}},"spec":{"finalizers":[]},"status":{"phase":"Gone"}}"#)
        let main = ObjectLifecycle.prepareForUpdate(edit, current: active, traits: namespaces, subresource: nil)
        #expect(NamespaceLifecycle.specFinalizers(main) == ["kubernetes"], "an ordinary update cannot drop the finalizer")
        #expect(main["metadata"]?["labels"] == json(#"{"team":"a"}"#))
        #expect(main["status"] == json(#"{"phase":"Active"}"#), "status only through /status")
        let finalize = ObjectLifecycle.prepareForUpdate(edit, current: active, traits: namespaces, subresource: "finalize")
        #expect(NamespaceLifecycle.specFinalizers(finalize) == [])
        #expect(finalize["metadata"]?["labels"] == nil && finalize["status"] == json(#"{"phase":"Active"}"#), "finalize takes only spec.finalizers")
        let dropped = ObjectLifecycle.prepareForUpdate(json(#"{"metadata":{"name":"shop"}}"#), current: active, traits: namespaces,
            subresource: "finalize")
        #expect(NamespaceLifecycle.specFinalizers(dropped) == [])
    }

    @Test func anUpdateDeletesANamespaceOnlyWhenNeitherListOfFinalizersHoldsIt() {
        var terminating = active
        terminating.set("metadata.deletionTimestamp", .string("t"))
        #expect(!ObjectLifecycle.deletesOnUpdate(terminating, traits: namespaces), "`kubernetes` still holds it (a status write, say)")
        var finalized = terminating
        finalized.set("spec.finalizers", .array([]))
        #expect(ObjectLifecycle.deletesOnUpdate(finalized, traits: namespaces))
        var held = finalized
        held.set("metadata.finalizers", json(#"["example.com/hold"]"#))
        #expect(!ObjectLifecycle.deletesOnUpdate(held, traits: namespaces))
        var live = active
        live.set("spec.finalizers", .array([]))
        #expect(!ObjectLifecycle.deletesOnUpdate(live, traits: namespaces), "not being deleted")
        let configMap = json(#"{"metadata":{"name":"c","deletionTimestamp":"t"}}"#)
        #expect(ObjectLifecycle.deletesOnUpdate(configMap, traits: configmaps))
        #expect(!ObjectLifecycle.deletesOnUpdate(configMap, traits: pods), "pods wait for their kubelet")
    }

    @Test func theSystemNamespacesOfKubernetesAreProtected() {
        #expect(NamespaceLifecycle.protectedNamespaces == ["default", "kube-system", "kube-public"])
    }
}
