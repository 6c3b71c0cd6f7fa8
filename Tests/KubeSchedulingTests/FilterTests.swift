//! Each filter of the default profile, with a node that passes and one that does not.

import Base
import KubeAPI
import KubeScheduling
import Testing
import Wire

@Suite struct FilterTests {
    /// The decision for `pod` on a cluster of `nodes` (with `bound` pods placed).
    private func decide(_ pod: JSONValue, nodes: [JSONValue], bound: [JSONValue] = []) throws -> SchedulingDecision {
        var scheduler = Fixture.scheduler(nodes: nodes, bound: bound)
        return scheduler.decide(try #require(SchedulingPod(json: pod)))
    }

    private func reasons(_ decision: SchedulingDecision, node: String) -> [String]? { decision.failure?.rejections[node]?.reasons }

    @Test func resourcesFitPassesWithinAllocatableAndNamesEachShortResource() throws {
        let node = Fixture.node("n1", cpu: "2", memory: "4Gi", pods: 2)
        #expect(try decide(Fixture.pod("fits", cpu: "2", memory: "4Gi"), nodes: [node]).node == "n1")
        let tooBig = try decide(Fixture.pod("big", cpu: "2500m", memory: "5Gi"), nodes: [node])
        #expect(reasons(tooBig, node: "n1") == ["Insufficient cpu", "Insufficient memory"])
        let bound = [Fixture.pod("a", cpu: "1", nodeName: "n1"), Fixture.pod("b", cpu: "500m", nodeName: "n1")]
        let full = try decide(Fixture.pod("third", cpu: "600m"), nodes: [node], bound: bound)
        #expect(reasons(full, node: "n1") == ["Too many pods", "Insufficient cpu"])
        #expect(full.failure?.rejections["n1"]?.plugin == .nodeResourcesFit)
        #expect(full.failure?.rejections["n1"]?.resolvableByPreemption == true)
    }

    @Test func aPodWithoutRequestsIsCheckedOnlyForThePodCount() throws {
        let node = Fixture.node("n1", cpu: "100m", memory: "100Mi", pods: 1)
        #expect(try decide(Fixture.pod("empty"), nodes: [node]).node == "n1")
        let occupied = try decide(Fixture.pod("empty"), nodes: [node], bound: [Fixture.pod("x", nodeName: "n1")])
        #expect(reasons(occupied, node: "n1") == ["Too many pods"])
    }

    @Test func nodeNameFilterKeepsAPodToItsNamedNode() throws {
        var scheduler = Fixture.scheduler(nodes: [Fixture.node("n1"), Fixture.node("n2")])
        var pod = try #require(SchedulingPod(json: Fixture.pod("pinned")))
        pod.nodeName = "n2"
        let decision = scheduler.decide(pod)
        #expect(decision.node == "n2")
        pod.nodeName = "n3"
        let missing = scheduler.decide(pod)
        #expect(reasons(missing, node: "n1") == ["node(s) didn't match the requested node name"])
    }

    @Test func cordonedNodeRefusesUnlessTheUnschedulableTaintIsTolerated() throws {
        let node = Fixture.node("n1", unschedulable: true)
        let refused = try decide(Fixture.pod("p"), nodes: [node])
        #expect(reasons(refused, node: "n1") == ["node(s) were unschedulable"])
        let toleration: JSONObject = [
            "tolerations": .array([.object(["key": .string(Taint.unschedulableKey), "operator": .string("Exists"), "effect": .string("NoSchedule")])])
        ]
        #expect(try decide(Fixture.pod("p", spec: toleration), nodes: [node]).node == "n1")
    }

    @Test func nodeSelectorAndRequiredNodeAffinity() throws {
        let nodes = [
            Fixture.node("ssd-1", labels: ["disk": "ssd", "gen": "5"]), Fixture.node("hdd-1", labels: ["disk": "hdd", "gen": "3"]),
        ]
        let selector = try decide(Fixture.pod("p", spec: ["nodeSelector": .object(["disk": .string("ssd")])]), nodes: nodes)
        #expect(selector.node == "ssd-1")
        func affinity(_ terms: String) -> JSONObject {
            ["affinity": Fixture.parse(#"{"nodeAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":{"nodeSelectorTerms":\#(terms)}}}"#)]
        }
        let greater = affinity(#"[{"matchExpressions":[{"key":"gen","operator":"Gt","values":["4"]}]}]"#)
        #expect(try decide(Fixture.pod("p", spec: greater), nodes: nodes).node == "ssd-1")
        let lower = affinity(#"[{"matchExpressions":[{"key":"gen","operator":"Lt","values":["4"]}]}]"#)
        #expect(try decide(Fixture.pod("p", spec: lower), nodes: nodes).node == "hdd-1")
        let notIn = affinity(#"[{"matchExpressions":[{"key":"disk","operator":"NotIn","values":["ssd"]}]}]"#)
        #expect(try decide(Fixture.pod("p", spec: notIn), nodes: nodes).node == "hdd-1")
        // Expressions in one term are ANDed: no node has both.
        let both = affinity(#"[{"matchExpressions":[{"key":"disk","operator":"In","values":["ssd"]},{"key":"gen","operator":"Lt","values":["4"]}]}]"#)
        let none = try decide(Fixture.pod("p", spec: both), nodes: nodes)
        #expect(reasons(none, node: "ssd-1") == ["node(s) didn't match Pod's node affinity/selector"])
        #expect(reasons(none, node: "hdd-1") == ["node(s) didn't match Pod's node affinity/selector"])
        // Terms are ORed: either node will do, and DoesNotExist/Exists read label presence.
        let either = affinity(#"[{"matchExpressions":[{"key":"zone","operator":"Exists"}]},{"matchExpressions":[{"key":"zone","operator":"DoesNotExist"},{"key":"disk","operator":"In","values":["hdd"]}]}]"#)
        #expect(try decide(Fixture.pod("p", spec: either), nodes: nodes).node == "hdd-1")
        let missingLabel = try decide(Fixture.pod("p", spec: ["nodeSelector": .object(["disk": .string("nvme")])]), nodes: nodes)
        #expect(missingLabel.failure?.rejections.count == 2)
    }

    @Test func untoleratedNoScheduleTaintRefusesAndPreferNoScheduleDoesNot() throws {
        let tainted = Fixture.node("gpu", taints: [Taint(key: "gpu", value: "true", effect: .noSchedule)])
        let refused = try decide(Fixture.pod("p"), nodes: [tainted])
        #expect(reasons(refused, node: "gpu") == ["node(s) had untolerated taint {gpu: true}"])
        let tolerates: JSONObject = ["tolerations": Fixture.parse(#"[{"key":"gpu","operator":"Equal","value":"true","effect":"NoSchedule"}]"#)]
        #expect(try decide(Fixture.pod("p", spec: tolerates), nodes: [tainted]).node == "gpu")
        let wrongValue: JSONObject = ["tolerations": Fixture.parse(#"[{"key":"gpu","operator":"Equal","value":"false"}]"#)]
        #expect(try decide(Fixture.pod("p", spec: wrongValue), nodes: [tainted]).node == nil)
        let evicting = Fixture.node("bad", taints: [Taint(key: "bad", effect: .noExecute)])
        #expect(reasons(try decide(Fixture.pod("p"), nodes: [evicting]), node: "bad") == ["node(s) had untolerated taint {bad: }"])
        let soft = Fixture.node("soft", taints: [Taint(key: "soft", effect: .preferNoSchedule)])
        #expect(try decide(Fixture.pod("p"), nodes: [soft]).node == "soft")
    }

    @Test func requiredPodAffinityNeedsAMatchingPodInTheDomain() throws {
        let nodes = [Fixture.node("a1", labels: ["zone": "a"]), Fixture.node("b1", labels: ["zone": "b"])]
        let cache = Fixture.pod("cache", labels: ["app": "cache"], nodeName: "b1")
        let rule: JSONObject = [
            "affinity": Fixture.parse(#"{"podAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"labelSelector":{"matchLabels":{"app":"cache"}},"topologyKey":"zone"}]}}"#)
        ]
        let decision = try decide(Fixture.pod("web", spec: rule), nodes: nodes, bound: [cache])
        #expect(decision.node == "b1")
        // With no cache pod anywhere, and a pod that does not match its own term, nothing fits.
        let alone = try decide(Fixture.pod("web", spec: rule), nodes: nodes)
        #expect(reasons(alone, node: "a1") == ["node(s) didn't match pod affinity rules"])
        // The first pod of a group with affinity to itself may go anywhere.
        let first = try decide(Fixture.pod("cache-0", labels: ["app": "cache"], spec: rule), nodes: nodes)
        #expect(first.node != nil)
        // A cache pod in another namespace does not count.
        let elsewhere = Fixture.pod("cache", namespace: "other", labels: ["app": "cache"], nodeName: "b1")
        #expect(try decide(Fixture.pod("web", spec: rule), nodes: nodes, bound: [elsewhere]).node == nil)
    }

    @Test func requiredAntiAffinityAndExistingPodsAntiAffinity() throws {
        let nodes = [Fixture.node("n1"), Fixture.node("n2")]
        let antiWeb: JSONObject = [
            "affinity": Fixture.parse(#"{"podAntiAffinity":{"requiredDuringSchedulingIgnoredDuringExecution":[{"labelSelector":{"matchLabels":{"app":"web"}},"topologyKey":"kubernetes.io/hostname"}]}}"#)
        ]
        let existing = Fixture.pod("web-0", labels: ["app": "web"], nodeName: "n1")
        let incoming = try decide(Fixture.pod("web-1", labels: ["app": "web"], spec: antiWeb), nodes: nodes, bound: [existing])
        #expect(incoming.node == "n2")
        let blocked = try decide(Fixture.pod("web-1", labels: ["app": "web"], spec: antiWeb), nodes: [nodes[0]], bound: [existing])
        #expect(reasons(blocked, node: "n1") == ["node(s) didn't match pod anti-affinity rules"])
        // An existing pod's anti-affinity repels a plain pod it selects.
        let guardPod = Fixture.pod("guard", labels: ["app": "guard"], nodeName: "n1", spec: antiWeb)
        let plain = try decide(Fixture.pod("web-2", labels: ["app": "web"]), nodes: [nodes[0]], bound: [guardPod])
        #expect(reasons(plain, node: "n1") == ["node(s) didn't satisfy existing pods anti-affinity rules"])
        let unrelated = try decide(Fixture.pod("db", labels: ["app": "db"]), nodes: [nodes[0]], bound: [guardPod])
        #expect(unrelated.node == "n1")
    }
}
