import KubeAPI
import Testing
import Wire

private func json(_ text: String) -> JSONValue { try! JSON.parse(text) }
private let pods = LifecycleTraits(group: "", plural: "pods", hasStatus: true)
private let deployments = LifecycleTraits(group: "apps", plural: "deployments", hasStatus: true)
private let jobs = LifecycleTraits(group: "batch", plural: "jobs", hasStatus: true)
private let namespaces = LifecycleTraits(group: "", plural: "namespaces", hasStatus: true)
private func stamp(_ seconds: Int64) -> String { "in \(seconds)s" }

private func marked(_ plan: DeletionPlan, sourceLocation: SourceLocation = #_sourceLocation) -> JSONValue? {
    guard case .mark(let object) = plan else {
        Issue.record("expected the object to be marked, got \(plan)", sourceLocation: sourceLocation)
        return nil
    }
    return object
}

@Suite struct ObjectLifecycleDeletionTests {
    let deployment = json(#"{"metadata":{"name":"web","uid":"u1","generation":3,"resourceVersion":"7"},"spec":{"replicas":2}}"#)

    @Test func foregroundMarksTheOwnerWithTheFinalizerAndKeepsIt() throws {
        let plan = ObjectLifecycle.deletion(of: deployment, traits: deployments, options: DeletionOptions(propagationPolicy: "Foreground"),
            timestamp: stamp)
        let object = try #require(marked(plan))
        #expect(object["metadata"]?["finalizers"] == json(#"["foregroundDeletion"]"#))
        #expect(object["metadata"]?["deletionTimestamp"] == .string("in 0s"))
        #expect(object["metadata"]?["deletionGracePeriodSeconds"] == .integer(0))
        #expect(object["metadata"]?["generation"] == .integer(4), "the start of a deletion counts as a change")
        // Asking again changes nothing; asking for background drops the finalizer and deletes.
        #expect(ObjectLifecycle.deletion(of: object, traits: deployments, options: DeletionOptions(propagationPolicy: "Foreground"),
            timestamp: stamp) == .alreadyDeleting)
        #expect(ObjectLifecycle.deletion(of: object, traits: deployments, options: DeletionOptions(), timestamp: stamp) == .alreadyDeleting,
            "no policy: the finalizer the object has decides")
        #expect(ObjectLifecycle.deletion(of: object, traits: deployments, options: DeletionOptions(propagationPolicy: "Background"),
            timestamp: stamp) == .now)
    }

    @Test func orphanAndItsLegacyFormAddTheOrphanFinalizer() throws {
        for options in [DeletionOptions(propagationPolicy: "Orphan"), DeletionOptions(orphanDependents: true)] {
            let object = try #require(marked(ObjectLifecycle.deletion(of: deployment, traits: deployments, options: options, timestamp: stamp)))
            #expect(object["metadata"]?["finalizers"] == json(#"["orphan"]"#), "\(options)")
        }
        #expect(ObjectLifecycle.deletion(of: deployment, traits: deployments, options: DeletionOptions(orphanDependents: false), timestamp: stamp) == .now)
    }

    @Test func backgroundAndTheDefaultDeleteAtOnceButJobsOrphanByDefault() throws {
        #expect(ObjectLifecycle.deletion(of: deployment, traits: deployments, options: DeletionOptions(), timestamp: stamp) == .now)
        #expect(ObjectLifecycle.deletion(of: deployment, traits: deployments, options: DeletionOptions(propagationPolicy: "Background"),
            timestamp: stamp) == .now)
        let job = json(#"{"metadata":{"name":"j","uid":"u"}}"#)
        let object = try #require(marked(ObjectLifecycle.deletion(of: job, traits: jobs, options: DeletionOptions(), timestamp: stamp)))
        #expect(object["metadata"]?["finalizers"] == json(#"["orphan"]"#), "batch/v1 Jobs keep their pods unless told otherwise")
        #expect(ObjectLifecycle.deletion(of: job, traits: jobs, options: DeletionOptions(propagationPolicy: "Background"), timestamp: stamp) == .now)
        let namespace = try #require(marked(ObjectLifecycle.deletion(of: json(#"{"metadata":{"name":"n"}}"#), traits: namespaces,
            options: DeletionOptions(propagationPolicy: "Foreground"), timestamp: stamp)))
        #expect(namespace["metadata"]?["finalizers"] == nil, "namespaces take no policy")
    }

    @Test func otherFinalizersStayAndTheListKeepsItsOrderWhenUnchanged() throws {
        let guarded = json(#"{"metadata":{"name":"web","finalizers":["example.com/guard","foregroundDeletion"]}}"#)
        let object = try #require(marked(ObjectLifecycle.deletion(of: guarded, traits: deployments,
            options: DeletionOptions(propagationPolicy: "Orphan"), timestamp: stamp)))
        #expect(object["metadata"]?["finalizers"] == json(#"["example.com/guard","orphan"]"#))
        #expect(ObjectLifecycle.finalizersAfterDeletion(of: guarded, traits: deployments, options: DeletionOptions())
            == ["example.com/guard", "foregroundDeletion"])
    }

    @Test func aBoundPodTakesThePolicyWithItsGracePeriod() throws {
        let pod = json(#"{"metadata":{"name":"p"},"spec":{"nodeName":"n1","terminationGracePeriodSeconds":10}}"#)
        let object = try #require(marked(ObjectLifecycle.deletion(of: pod, traits: pods, options: DeletionOptions(propagationPolicy: "Foreground"),
            timestamp: stamp)))
        #expect(object["metadata"]?["deletionGracePeriodSeconds"] == .integer(10))
        #expect(object["metadata"]?["finalizers"] == json(#"["foregroundDeletion"]"#))
        // While the grace period runs, a delete changes no finalizers; only a shorter grace is taken.
        #expect(ObjectLifecycle.deletion(of: object, traits: pods, options: DeletionOptions(propagationPolicy: "Background"),
            timestamp: stamp) == .alreadyDeleting)
        let shortened = try #require(marked(ObjectLifecycle.deletion(of: object, traits: pods, options: DeletionOptions(gracePeriodSeconds: 3),
            timestamp: stamp)))
        #expect(shortened["metadata"]?["deletionGracePeriodSeconds"] == .integer(3))
        // The kubelet's final delete (grace 0) leaves it to the finalizer.
        let finished = try #require(marked(ObjectLifecycle.deletion(of: object, traits: pods, options: DeletionOptions(gracePeriodSeconds: 0),
            timestamp: stamp)))
        #expect(finished["metadata"]?["deletionGracePeriodSeconds"] == .integer(0))
        #expect(finished["metadata"]?["finalizers"] == json(#"["foregroundDeletion"]"#))
    }

    @Test func optionsAreValidatedAsKubernetesDoes() {
        #expect(DeletionOptions(propagationPolicy: "Foreground").validate().isEmpty)
        let both = DeletionOptions(propagationPolicy: "Orphan", orphanDependents: true).validate()
        #expect(both.map(\.description) == [#"propagationPolicy: Invalid value: "Orphan": orphanDependents and deletionPropagation cannot be both set"#])
        let unknown = DeletionOptions(propagationPolicy: "Sideways").validate()
        #expect(unknown.map(\.description)
            == [#"propagationPolicy: Unsupported value: "Sideways": supported values: "Foreground", "Background", "Orphan", "nil""#])
    }

    @Test func optionsReadFromBodyAndQuery() {
        let body = json(#"{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Foreground","gracePeriodSeconds":5,"preconditions":{"uid":"u1","resourceVersion":"7"}}"#)
        var options = DeletionOptions(body: body)
        #expect(options == DeletionOptions(gracePeriodSeconds: 5, propagationPolicy: "Foreground", preconditionUID: "u1", preconditionResourceVersion: "7"))
        #expect(options.read(query: QueryParameters("propagationPolicy=Orphan&gracePeriodSeconds=0")) == nil)
        #expect(options.propagationPolicy == "Orphan" && options.gracePeriodSeconds == 0)
        #expect(options.read(query: QueryParameters("orphanDependents=maybe")) == "orphanDependents 'maybe' is not a boolean")
        #expect(options.read(query: QueryParameters("orphanDependents=false")) == nil && options.orphanDependents == false)
        #expect(options.read(query: QueryParameters("gracePeriodSeconds=-1")) != nil)
    }

    @Test func preconditionsNameWhatDiffers() {
        #expect(DeletionOptions(preconditionUID: "u1", preconditionResourceVersion: "7").preconditionFailure(deployment) == nil)
        #expect(DeletionOptions(preconditionUID: "u2").preconditionFailure(deployment)
            == "Precondition failed: UID in precondition: u2, UID in object meta: u1")
        #expect(DeletionOptions(preconditionResourceVersion: "6").preconditionFailure(deployment)
            == "Precondition failed: ResourceVersion in precondition: 6, ResourceVersion in object meta: 7")
    }
}
