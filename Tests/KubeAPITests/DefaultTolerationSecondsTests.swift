//! DefaultTolerationSecondsTests: the tolerations the apiserver adds to pods take the seconds it
//! is configured with, each of the two on its own, never overriding what the pod already says.

import Testing
import Wire
import KubeAPI

@Suite struct DefaultTolerationSecondsTests {
    let notReady = "node.kubernetes.io/not-ready"
    let unreachable = "node.kubernetes.io/unreachable"

    /// A pod with one container and, when given, these tolerations (a JSON array).
    private func pod(tolerations: String? = nil) -> JSONValue {
        let field = tolerations.map { #","tolerations":\#($0)"# } ?? ""
        return parsedObject(#"{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"nginx"}]\#(field)}}"#)
    }

    private func tolerations(_ pod: JSONValue, _ seconds: DefaultTolerationSeconds) -> JSONValue? {
        valueAt(KubeAPI.applyDefaults(kind: "Pod", object: pod, tolerationSeconds: seconds), "spec", "tolerations")
    }

    private func added(_ key: String, _ seconds: Int64) -> String {
        #"{"key":"\#(key)","operator":"Exists","effect":"NoExecute","tolerationSeconds":\#(seconds)}"#
    }

    @Test func theDefaultIsKubernetesFiveMinutes() {
        #expect(DefaultTolerationSeconds.kubernetes == DefaultTolerationSeconds(notReady: 300, unreachable: 300))
        #expect(sameJSON(tolerations(pod(), .kubernetes), parsedObject("[\(added(notReady, 300)),\(added(unreachable, 300))]")))
        // Leaving the parameter out is the same as passing Kubernetes' default.
        #expect(KubeAPI.applyDefaults(kind: "Pod", object: pod()) == KubeAPI.applyDefaults(kind: "Pod", object: pod(), tolerationSeconds: .kubernetes))
    }

    @Test func bothTolerationsTakeTheirOwnConfiguredSeconds() {
        let seconds = DefaultTolerationSeconds(notReady: 45, unreachable: 20)
        let result = tolerations(pod(), seconds)
        #expect(sameJSON(result, parsedObject("[\(added(notReady, 45)),\(added(unreachable, 20))]")), "\(String(describing: result))")
        // Not the defaults, and not swapped.
        #expect(!sameJSON(result, tolerations(pod(), .kubernetes)))
        #expect(!sameJSON(result, parsedObject("[\(added(notReady, 20)),\(added(unreachable, 45))]")))
    }

    @Test func aTaintThePodAlreadyToleratesKeepsThePodsToleration() {
        let seconds = DefaultTolerationSeconds(notReady: 45, unreachable: 20)
        // The pod's own unreachable toleration (5 s) stays; only not-ready is added, after it.
        let own = #"{"key":"\#(unreachable)","operator":"Exists","effect":"NoExecute","tolerationSeconds":5}"#
        #expect(sameJSON(tolerations(pod(tolerations: "[\(own)]"), seconds), parsedObject("[\(own),\(added(notReady, 45))]")))
        // One without tolerationSeconds (forever) is kept as it is too.
        let forever = #"{"key":"\#(notReady)","operator":"Exists"}"#
        #expect(sameJSON(tolerations(pod(tolerations: "[\(forever)]"), seconds), parsedObject("[\(forever),\(added(unreachable, 20))]")))
        // A toleration of the same key for another effect does not cover the NoExecute taint.
        let noSchedule = #"{"key":"\#(notReady)","operator":"Exists","effect":"NoSchedule"}"#
        #expect(sameJSON(tolerations(pod(tolerations: "[\(noSchedule)]"), seconds),
            parsedObject("[\(noSchedule),\(added(notReady, 45)),\(added(unreachable, 20))]")))
    }

    @Test func zeroSecondsIsAllowedAndMeansEvictAtOnce() {
        let result = tolerations(pod(), DefaultTolerationSeconds(notReady: 0, unreachable: 0))
        #expect(sameJSON(result, parsedObject("[\(added(notReady, 0)),\(added(unreachable, 0))]")), "\(String(describing: result))")
    }

    @Test func aPodDefaultedBeforeKeepsItsSecondsWhenAnotherServerUpdatesIt() {
        // Two apiservers configured differently: the one that created the pod decided.
        let created = KubeAPI.applyDefaults(kind: "Pod", object: pod(), tolerationSeconds: DefaultTolerationSeconds(notReady: 30, unreachable: 30))
        let updated = KubeAPI.applyDefaults(kind: "Pod", object: created, tolerationSeconds: .kubernetes)
        #expect(updated == created)
        #expect(sameJSON(valueAt(updated, "spec", "tolerations"), parsedObject("[\(added(notReady, 30)),\(added(unreachable, 30))]")))
    }

    @Test func templatesGetNoTolerations() {
        // The admission plugin acts on pods; a Deployment's template is left as written.
        let deployment = KubeAPI.applyDefaults(kind: "Deployment", object: parsedObject("""
            {"metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"a":"b"}},
             "template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}}
            """), tolerationSeconds: DefaultTolerationSeconds(notReady: 1, unreachable: 1))
        #expect(valueAt(deployment, "spec", "template", "spec", "containers") != nil)
        #expect(valueAt(deployment, "spec", "template", "spec", "tolerations") == nil)
    }
}
