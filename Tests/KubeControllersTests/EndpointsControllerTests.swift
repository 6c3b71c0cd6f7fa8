import KubeAPI
import KubeControllers
import Testing
import Wire

private func json(_ text: String) -> JSONValue { try! JSON.parse(text) }

/// A pod of app=web in `default` with the given IP (nil: none yet), readiness and named port.
private func pod(_ name: String, ip: String?, ready: Bool = true, phase: String = "Running", node: String = "n1",
    ports: String = #"[{"name":"http","containerPort":8080}]"#, labels: String = #"{"app":"web"}"#, deleting: Bool = false) -> JSONValue
{
    let status = ip.map { #""podIP":"\#($0)","podIPs":[{"ip":"\#($0)"}],"# } ?? ""
    let deletion = deleting ? #","deletionTimestamp":"2026-11-23T08:00:00Z""# : ""
    return json(#"""
        {"metadata":{"name":"\#(name)","namespace":"default","uid":"uid-\#(name)","labels":\#(labels)\#(deletion)},
         "spec":{"nodeName":"\#(node)","containers":[{"name":"c","image":"i","ports":\#(ports)}]},
         "status":{\#(status)"phase":"\#(phase)","conditions":[{"type":"Ready","status":"\#(ready ? "True" : "False")"}]}}
        """#)
}

private let service = json(#"""
    {"metadata":{"name":"web","namespace":"default","labels":{"tier":"front"}},
     "spec":{"selector":{"app":"web"},"clusterIP":"10.96.0.10","ports":[{"name":"http","port":80,"targetPort":"http","protocol":"TCP"}]}}
    """#)

private let endpointsReference = ObjectReference(.standard("endpoints"), namespace: "default", name: "web")

/// The object of the one create or update `actions` holds.
private func written(_ actions: [ObjectAction], sourceLocation: SourceLocation = #_sourceLocation) -> JSONValue? {
    guard actions.count == 1 else {
        Issue.record("expected one write, got \(actions)", sourceLocation: sourceLocation)
        return nil
    }
    switch actions[0] {
    case .create(_, _, let object), .update(_, let object, _): return object
    default:
        Issue.record("expected a create or update, got \(actions[0])", sourceLocation: sourceLocation)
        return nil
    }
}

@Suite struct EndpointsControllerTests {
    let controller = EndpointsController()

    func sync(_ service: JSONValue?, _ pods: [JSONValue], existing: JSONValue? = nil) -> [ObjectAction] {
        controller.sync(namespace: "default", name: "web", service: service, pods: pods, existing: existing)
    }

    @Test func readyAndNotReadyPodsAreListedApartWithTheNamedPortResolved() throws {
        let actions = sync(service, [pod("b", ip: "10.0.0.2"), pod("a", ip: "10.0.0.1"), pod("c", ip: "10.0.0.3", ready: false)])
        guard case .create(let resource, let namespace, _)? = actions.first else {
            Issue.record("a missing Endpoints is created, got \(actions)")
            return
        }
        #expect(resource.plural == "endpoints" && namespace == "default")
        let endpoints = try #require(written(actions))
        #expect(endpoints == json(#"""
            {"kind":"Endpoints","apiVersion":"v1","metadata":{"name":"web","namespace":"default","labels":{"tier":"front"}},
             "subsets":[{"addresses":[
                {"ip":"10.0.0.1","nodeName":"n1","targetRef":{"kind":"Pod","namespace":"default","name":"a","uid":"uid-a"}},
                {"ip":"10.0.0.2","nodeName":"n1","targetRef":{"kind":"Pod","namespace":"default","name":"b","uid":"uid-b"}}],
              "notReadyAddresses":[
                {"ip":"10.0.0.3","nodeName":"n1","targetRef":{"kind":"Pod","namespace":"default","name":"c","uid":"uid-c"}}],
              "ports":[{"name":"http","port":8080,"protocol":"TCP"}]}]}
            """#))
    }

    @Test func publishNotReadyAddressesListsEveryPodAsReady() throws {
        var publishing = service
        publishing.set("spec.publishNotReadyAddresses", .bool(true))
        let endpoints = try #require(written(sync(publishing, [pod("a", ip: "10.0.0.1", ready: false),
            pod("b", ip: "10.0.0.2", deleting: true)])))
        #expect(endpoints.value(at: "subsets")?.asArray?.first?["addresses"]?.asArray?.count == 2, "a terminating pod is published too")
        #expect(endpoints.value(at: "subsets")?.asArray?.first?["notReadyAddresses"] == nil)
    }

    @Test func podsWithoutIPTerminalOrBeingDeletedOrOutsideTheSelectorAreLeftOut() throws {
        let endpoints = try #require(written(sync(service, [
            pod("a", ip: "10.0.0.1"), pod("pending", ip: nil), pod("done", ip: "10.0.0.5", phase: "Succeeded"),
            pod("going", ip: "10.0.0.6", deleting: true), pod("other", ip: "10.0.0.7", labels: #"{"app":"db"}"#),
        ])))
        let addresses = endpoints.value(at: "subsets")?.asArray?.flatMap { ($0["addresses"]?.asArray ?? []) + ($0["notReadyAddresses"]?.asArray ?? []) }
        #expect(addresses?.compactMap { $0["ip"]?.asString } == ["10.0.0.1"])
    }

    @Test func aPodWithoutTheNamedPortIsSkippedForThatPortOnly() throws {
        let twoPorts = json(#"""
            {"metadata":{"name":"web","namespace":"default"},
             "spec":{"selector":{"app":"web"},"clusterIP":"10.96.0.10","ports":[
                {"name":"http","port":80,"targetPort":"http","protocol":"TCP"},{"name":"metrics","port":9090,"targetPort":9090,"protocol":"TCP"}]}}
            """#)
        let endpoints = try #require(written(sync(twoPorts, [pod("a", ip: "10.0.0.1"), pod("b", ip: "10.0.0.2", ports: "[]")])))
        // a offers both ports, b only the numeric one: two subsets.
        #expect(endpoints["subsets"] == json(#"""
            [{"addresses":[{"ip":"10.0.0.1","nodeName":"n1","targetRef":{"kind":"Pod","namespace":"default","name":"a","uid":"uid-a"}},
                           {"ip":"10.0.0.2","nodeName":"n1","targetRef":{"kind":"Pod","namespace":"default","name":"b","uid":"uid-b"}}],
              "ports":[{"name":"metrics","port":9090,"protocol":"TCP"}]},
             {"addresses":[{"ip":"10.0.0.1","nodeName":"n1","targetRef":{"kind":"Pod","namespace":"default","name":"a","uid":"uid-a"}}],
              "ports":[{"name":"http","port":8080,"protocol":"TCP"}]}]
            """#))
    }

    @Test func unchangedEndpointsAreNotWrittenAgainWhateverTheirOrder() throws {
        let pods = [pod("a", ip: "10.0.0.1"), pod("b", ip: "10.0.0.2"), pod("c", ip: "10.0.0.3", ready: false)]
        var stored = try #require(written(sync(service, pods)))
        stored.set("metadata.resourceVersion", .string("41"))
        stored.set("metadata.uid", .string("e-1"))
        #expect(sync(service, pods, existing: stored) == [], "identical endpoints must not be updated")
        // The same endpoints stored in another order, as another writer may have left them.
        var shuffled = stored
        if case .array(let subsets)? = stored["subsets"], case .object(var subset) = subsets[0],
            case .array(let addresses)? = subset["addresses"]
        {
            subset["addresses"] = .array(addresses.reversed())
            shuffled.set("subsets", .array([.object(subset)]))
        }
        #expect(shuffled != stored)
        #expect(sync(service, pods, existing: shuffled) == [], "order is not a difference")
        // A pod's readiness is: exactly one update, carrying the stored resourceVersion.
        let changed = sync(service, [pod("a", ip: "10.0.0.1"), pod("b", ip: "10.0.0.2"), pod("c", ip: "10.0.0.3")], existing: stored)
        guard case .update(let reference, let object, _)? = changed.first, changed.count == 1 else {
            Issue.record("a readiness change must update, got \(changed)")
            return
        }
        #expect(reference == endpointsReference)
        #expect(object.string(at: "metadata.resourceVersion") == "41")
        #expect(object["subsets"]?.asArray?.first?["notReadyAddresses"] == nil)
    }

    @Test func aLabelChangeOnTheServiceIsAnUpdate() throws {
        var stored = try #require(written(sync(service, [pod("a", ip: "10.0.0.1")])))
        stored.set("metadata.resourceVersion", .string("5"))
        var relabelled = service
        relabelled.set("metadata.labels", json(#"{"tier":"back"}"#))
        let object = try #require(written(sync(relabelled, [pod("a", ip: "10.0.0.1")], existing: stored)))
        #expect(object.value(at: "metadata.labels") == json(#"{"tier":"back"}"#))
    }

    @Test func theEndpointsOfAServiceThatIsGoneAreDeleted() {
        let stored = json(#"{"metadata":{"name":"web","namespace":"default","uid":"e-1","resourceVersion":"9"}}"#)
        #expect(sync(nil, [], existing: stored) == [.delete(endpointsReference, uid: "e-1")])
        #expect(sync(nil, [], existing: nil) == [])
        let lock = json(#"{"metadata":{"name":"web","namespace":"default","annotations":{"control-plane.alpha.kubernetes.io/leader":"{}"}}}"#)
        #expect(sync(nil, [], existing: lock) == [], "a leader-election lock is not the controller's")
    }

    @Test func servicesWithoutSelectorOrOfTypeExternalNameAreLeftAlone() {
        let handWritten = json(#"{"metadata":{"name":"web","namespace":"default"},"subsets":[{"addresses":[{"ip":"192.0.2.1"}]}]}"#)
        let noSelector = json(#"{"metadata":{"name":"web","namespace":"default"},"spec":{"clusterIP":"10.96.0.11","ports":[{"port":80}]}}"#)
        #expect(sync(noSelector, [pod("a", ip: "10.0.0.1")], existing: handWritten) == [])
        var external = service
        external.set("spec.type", .string("ExternalName"))
        #expect(sync(external, [pod("a", ip: "10.0.0.1")]) == [])
    }

    @Test func aHeadlessServiceIsLabelledAndMayHaveNoPorts() throws {
        let headless = json(#"{"metadata":{"name":"web","namespace":"default"},"spec":{"selector":{"app":"web"},"clusterIP":"None"}}"#)
        let endpoints = try #require(written(sync(headless, [pod("a", ip: "10.0.0.1")])))
        #expect(endpoints.value(at: "metadata.labels") == json(#"{"service.kubernetes.io/headless":""}"#))
        #expect(endpoints["subsets"] == json(#"[{"addresses":[{"ip":"10.0.0.1","nodeName":"n1","targetRef":{"kind":"Pod","namespace":"default","name":"a","uid":"uid-a"}}]}]"#))
    }

    @Test func overCapacityIsTruncatedAndAnnotated() throws {
        let small = EndpointsController(configuration: .init(addressesMax: 2))
        let pods = (1...3).map { pod("p\($0)", ip: "10.0.0.\($0)") }
        let actions = small.sync(namespace: "default", name: "web", service: service, pods: pods, existing: nil)
        var endpoints = try #require(written(actions))
        #expect(endpoints.value(at: "metadata.annotations") == json(#"{"endpoints.kubernetes.io/over-capacity":"truncated"}"#))
        #expect(endpoints["subsets"]?.asArray?.first?["addresses"]?.asArray?.count == 2)
        endpoints.set("metadata.resourceVersion", .string("3"))
        #expect(small.sync(namespace: "default", name: "web", service: service, pods: pods, existing: endpoints) == [],
            "truncated endpoints that are as wanted are not rewritten")
    }
}
