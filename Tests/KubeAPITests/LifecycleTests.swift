import KubeAPI
import Testing
import Wire

private func json(_ text: String) -> JSONValue { try! JSON.parse(text) }
private let pods = LifecycleTraits(group: "", plural: "pods", hasStatus: true)
private let deployments = LifecycleTraits(group: "apps", plural: "deployments", hasStatus: true)
private let configmaps = LifecycleTraits(group: "", plural: "configmaps", hasStatus: false)

@Suite struct LifecycleTests {
    @Test func createSetsServerFieldsAndResetsStatus() {
        let sent = json(#"{"metadata":{"generateName":"web-","uid":"forged","resourceVersion":"9","creationTimestamp":null},"spec":{"containers":[{"name":"c","image":"i"}]},"status":{"phase":"Running"}}"#)
        let created = ObjectLifecycle.prepareForCreate(sent, traits: pods, timestamp: "2026-11-23T08:00:00Z", uid: "u-1", generatedSuffix: "x7k2p")
        #expect(created["metadata"]?["name"] == .string("web-x7k2p"))
        #expect(created["metadata"]?["uid"] == .string("u-1"))
        #expect(created["metadata"]?["resourceVersion"] == nil)
        #expect(created["metadata"]?["creationTimestamp"] == .string("2026-11-23T08:00:00Z"))
        #expect(created["status"] == json(#"{"phase":"Pending","qosClass":"BestEffort"}"#))
        let deployment = ObjectLifecycle.prepareForCreate(json(#"{"metadata":{"name":"d"},"spec":{"replicas":2},"status":{"replicas":9}}"#),
            traits: deployments, timestamp: "t", uid: "u", generatedSuffix: "")
        #expect(deployment["metadata"]?["generation"] == .integer(1))
        #expect(deployment["status"] == .object(JSONObject()))
    }

    @Test func updateKeepsServerFieldsAndBumpsGenerationOnSpecChangesOnly() {
        let current = json(#"{"metadata":{"name":"d","uid":"u","generation":3,"creationTimestamp":"t"},"spec":{"replicas":2},"status":{"replicas":2}}"#)
        let respec = json(#"{"metadata":{"name":"d","uid":"other","generation":1},"spec":{"replicas":5},"status":{"replicas":0}}"#)
        let next = ObjectLifecycle.prepareForUpdate(respec, current: current, traits: deployments, subresource: nil)
        #expect(next["metadata"]?["uid"] == .string("u") && next["metadata"]?["generation"] == .integer(4))
        #expect(next["status"] == json(#"{"replicas":2}"#), "status changes only through /status")
        let relabel = json(#"{"metadata":{"name":"d","labels":{"a":"b"}},"spec":{"replicas":2}}"#)
        #expect(ObjectLifecycle.prepareForUpdate(relabel, current: current, traits: deployments, subresource: nil)["metadata"]?["generation"] == .integer(3))
        let status = ObjectLifecycle.prepareForUpdate(json(#"{"spec":{"replicas":99},"status":{"replicas":7}}"#), current: current,
            traits: deployments, subresource: "status")
        #expect(status["spec"] == json(#"{"replicas":2}"#) && status["status"] == json(#"{"replicas":7}"#))
    }

    @Test func podsOnANodeAreDeletedGracefullyOthersAtOnce() {
        let stamp = { (seconds: Int64) in "in \(seconds)s" }
        let unbound = json(#"{"metadata":{"name":"p"},"spec":{}}"#)
        #expect(ObjectLifecycle.deletion(of: unbound, traits: pods, gracePeriod: nil, timestamp: stamp) == .now)
        let bound = json(#"{"metadata":{"name":"p"},"spec":{"nodeName":"n1","terminationGracePeriodSeconds":10}}"#)
        guard case .mark(let marked) = ObjectLifecycle.deletion(of: bound, traits: pods, gracePeriod: nil, timestamp: stamp) else {
            Issue.record("a bound pod must be marked, not deleted")
            return
        }
        #expect(marked["metadata"]?["deletionTimestamp"] == .string("in 10s"))
        #expect(marked["metadata"]?["deletionGracePeriodSeconds"] == .integer(10))
        #expect(ObjectLifecycle.deletion(of: marked, traits: pods, gracePeriod: nil, timestamp: stamp) == .alreadyDeleting)
        #expect(ObjectLifecycle.deletion(of: bound, traits: pods, gracePeriod: 0, timestamp: stamp) == .now, "--grace-period=0 --force")
        let finalized = json(#"{"metadata":{"name":"c","finalizers":["x/y"]}}"#)
        guard case .mark = ObjectLifecycle.deletion(of: finalized, traits: configmaps, gracePeriod: nil, timestamp: stamp) else {
            Issue.record("an object with finalizers must be marked")
            return
        }
        #expect(ObjectLifecycle.deletion(of: json(#"{"metadata":{"name":"c"}}"#), traits: configmaps, gracePeriod: nil, timestamp: stamp) == .now)
    }

    @Test func qosClassesAndConditions() {
        #expect(ObjectLifecycle.qosClass(of: json(#"{"spec":{"containers":[{"resources":{"limits":{"cpu":"1","memory":"1Gi"}}}]}}"#)) == "Guaranteed")
        #expect(ObjectLifecycle.qosClass(of: json(#"{"spec":{"containers":[{"resources":{"requests":{"cpu":"1"}}}]}}"#)) == "Burstable")
        #expect(ObjectLifecycle.qosClass(of: json(#"{"spec":{"containers":[{"name":"c"}]}}"#)) == "BestEffort")
        let scheduled = ObjectLifecycle.withCondition(json(#"{"status":{"phase":"Pending"}}"#), type: "PodScheduled", status: "True", timestamp: "t1")
        #expect(scheduled["status"]?["conditions"] == json(#"[{"type":"PodScheduled","status":"True","lastProbeTime":null,"lastTransitionTime":"t1"}]"#))
        #expect(ObjectLifecycle.withCondition(scheduled, type: "PodScheduled", status: "True", timestamp: "t2") == scheduled,
            "an unchanged status keeps its transition time")
    }

    @Test func scaleViewOfADeployment() {
        let scale = ObjectLifecycle.scale(of: json(#"{"metadata":{"name":"web","namespace":"default"},"spec":{"replicas":3},"status":{"replicas":2}}"#),
            selector: "app=web")
        #expect(scale == json(#"{"kind":"Scale","apiVersion":"autoscaling/v1","metadata":{"name":"web","namespace":"default"},"spec":{"replicas":3},"status":{"replicas":2,"selector":"app=web"}}"#))
    }
}
