import KubeAPI
import Testing
import Wire

@Suite struct TaintTests {
    let unreachable = Taint(key: Taint.unreachableKey, effect: .noExecute)

    @Test func anEmptyKeyUnderExistsToleratesEveryTaint() {
        #expect(Toleration(key: "", operator: .exists).tolerates(unreachable))
        #expect(Toleration(key: "", operator: .exists).tolerates(Taint(key: "x", value: "y", effect: .noSchedule)))
    }

    @Test func theEffectMustMatchWhenGiven() {
        #expect(!Toleration(key: Taint.unreachableKey, operator: .exists, effect: .noSchedule).tolerates(unreachable))
        #expect(Toleration(key: Taint.unreachableKey, operator: .exists, effect: .noExecute).tolerates(unreachable))
    }

    @Test func equalComparesTheValue() {
        let taint = Taint(key: "dedicated", value: "gpu", effect: .noSchedule)
        #expect(Toleration(key: "dedicated", value: "gpu").tolerates(taint))
        #expect(!Toleration(key: "dedicated", value: "cpu").tolerates(taint))
        #expect(!Toleration(key: "other", operator: .exists).tolerates(taint))
    }

    @Test func readsThemFromObjects() throws {
        let node = try JSON.parse(#"{"spec":{"taints":[{"key":"a","value":"1","effect":"NoSchedule"},{"key":"","effect":"NoSchedule"},{"key":"b","effect":"Bogus"}]}}"#)
        #expect(Taint.of(node: node) == [Taint(key: "a", value: "1", effect: .noSchedule)])
        let pod = try JSON.parse(#"{"spec":{"tolerations":[{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":300},{"operator":"Sideways"}]}}"#)
        let tolerations = Toleration.of(pod: pod)
        #expect(tolerations == [Toleration(key: Taint.unreachableKey, operator: .exists, effect: .noExecute, tolerationSeconds: 300)])
        #expect(tolerations.untolerated([unreachable, Taint(key: "a", effect: .noSchedule)], effects: [.noSchedule]).map(\.key) == ["a"])
    }

    @Test func aTaintRoundTripsThroughJSON() {
        let taint = Taint(key: Taint.unreachableKey, effect: .noExecute, timeAdded: "2026-11-23T10:00:00Z")
        #expect(Taint(json: taint.json) == taint)
    }
}
