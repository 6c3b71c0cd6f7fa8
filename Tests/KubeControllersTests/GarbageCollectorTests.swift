import Base
import KubeAPI
import KubeControllers
import Testing
import Wire

private func json(_ text: String) -> JSONValue { try! JSON.parse(text) }

private let deployments = APIResource.standard("deployments", group: "apps")
private let replicaSets = APIResource.standard("replicasets", group: "apps")
private let pods = APIResource.standard("pods")
private let second: Nanoseconds = 1_000_000_000

/// An owner reference entry.
private func owner(_ kind: String, _ name: String, uid: String, blocking: Bool = true) -> String {
    let apiVersion = kind == "Pod" ? "v1" : "apps/v1"
    return #"{"apiVersion":"\#(apiVersion)","kind":"\#(kind)","name":"\#(name)","uid":"\#(uid)","controller":true,"blockOwnerDeletion":\#(blocking)}"#
}

/// An object in `default` with the given owners, finalizers and deletion mark.
private func object(_ name: String, uid: String, rv: String = "1", owners: [String] = [], finalizers: [String] = [],
    deleting: Bool = false) -> JSONValue
{
    var metadata = #""name":"\#(name)","namespace":"default","uid":"\#(uid)","resourceVersion":"\#(rv)""#
    if !owners.isEmpty { metadata += #","ownerReferences":[\#(owners.joined(separator: ","))]"# }
    if !finalizers.isEmpty { metadata += #","finalizers":[\#(finalizers.map { "\"\($0)\"" }.joined(separator: ","))]"# }
    if deleting { metadata += #","deletionTimestamp":"2026-11-23T08:00:00Z","deletionGracePeriodSeconds":0"# }
    return json("{\"metadata\":{\(metadata)}}")
}

private func ref(_ resource: APIResource, _ name: String) -> ObjectReference { ObjectReference(resource, namespace: "default", name: name) }

private func deleteAction(_ resource: APIResource, _ name: String, uid: String, _ propagation: String = "Background") -> ObjectAction {
    .delete(ref(resource, name), uid: uid, propagation: propagation)
}

@Suite struct GarbageCollectorTests {
    let replicaSet = object("web-1", uid: "rs-1")
    let podA = object("web-1-a", uid: "pod-a", owners: [owner("ReplicaSet", "web-1", uid: "rs-1")])
    let podB = object("web-1-b", uid: "pod-b", owners: [owner("ReplicaSet", "web-1", uid: "rs-1")])

    func cache(deployments deploymentObjects: [JSONValue] = [], replicaSets replicaSetObjects: [JSONValue] = [],
        pods podObjects: [JSONValue] = []) -> [APIResource: [JSONValue]]
    {
        [deployments: deploymentObjects, replicaSets: replicaSetObjects, pods: podObjects]
    }

    @Test func dependentsOfAnOwnerSeenDeletedAreCollectedOnceUntilTheRetryIsDue() {
        var collector = GarbageCollector()
        let owned = collector.sync(objects: cache(replicaSets: [replicaSet], pods: [podA, podB]), now: 0)
        #expect(owned.actions == [] && owned.resyncAt == nil, "pods with a live owner stay")
        let orphaned = cache(pods: [podA, podB])
        let first = collector.sync(objects: orphaned, now: 1 * second)
        #expect(first.actions == [deleteAction(pods, "web-1-a", uid: "pod-a"), deleteAction(pods, "web-1-b", uid: "pod-b")],
            "an owner seen and then gone is gone at once")
        // The shell syncs again after every change: the same deletes are not asked for again...
        #expect(collector.sync(objects: orphaned, now: 1 * second + 1).actions == [])
        #expect(collector.sync(objects: orphaned, now: 1 * second + second / 2).actions == [])
        // ...until the retry is due, and then with a doubled wait.
        let retry = collector.sync(objects: orphaned, now: 2 * second)
        #expect(retry.actions.count == 2)
        #expect(retry.resyncAt == 4 * second)
        #expect(collector.sync(objects: orphaned, now: 3 * second).actions == [])
        // Once they are gone nothing is pending.
        #expect(collector.sync(objects: cache(), now: 5 * second) == GarbageCollector.Pass(actions: [], resyncAt: nil))
    }

    @Test func aDependentBeingDeletedIsLeftToFinish() {
        var collector = GarbageCollector()
        _ = collector.sync(objects: cache(replicaSets: [replicaSet], pods: [podA]), now: 0)
        let terminating = object("web-1-a", uid: "pod-a", owners: [owner("ReplicaSet", "web-1", uid: "rs-1")], deleting: true)
        #expect(collector.sync(objects: cache(pods: [terminating]), now: second).actions == [])
    }

    @Test func anOwnerNeverSeenMustStayMissingForTheConfirmationDelay() {
        var collector = GarbageCollector(configuration: .init(absentOwnerConfirmation: 10 * second))
        let first = collector.sync(objects: cache(pods: [podA]), now: 0)
        #expect(first.actions == [], "the ReplicaSet's cache may only be behind")
        #expect(first.resyncAt == 10 * second)
        #expect(collector.sync(objects: cache(pods: [podA]), now: 9 * second).actions == [])
        #expect(collector.sync(objects: cache(pods: [podA]), now: 10 * second).actions == [deleteAction(pods, "web-1-a", uid: "pod-a")])
    }

    @Test func anOwnerThatShowsUpInTimeSavesItsDependents() {
        var collector = GarbageCollector(configuration: .init(absentOwnerConfirmation: 10 * second))
        _ = collector.sync(objects: cache(pods: [podA]), now: 0)
        let arrived = collector.sync(objects: cache(replicaSets: [replicaSet], pods: [podA]), now: 5 * second)
        #expect(arrived == GarbageCollector.Pass(actions: [], resyncAt: nil))
        #expect(collector.sync(objects: cache(replicaSets: [replicaSet], pods: [podA]), now: 20 * second).actions == [])
    }

    @Test func anOwnerRecreatedWithAnotherUIDDoesNotOwnTheOldDependents() {
        var collector = GarbageCollector(configuration: .init(absentOwnerConfirmation: 10 * second))
        _ = collector.sync(objects: cache(replicaSets: [replicaSet], pods: [podA]), now: 0)
        let recreated = object("web-1", uid: "rs-2")
        let newPod = object("web-1-c", uid: "pod-c", owners: [owner("ReplicaSet", "web-1", uid: "rs-2")])
        let pass = collector.sync(objects: cache(replicaSets: [recreated], pods: [podA, newPod]), now: second)
        #expect(pass.actions == [deleteAction(pods, "web-1-a", uid: "pod-a")], "the same name with another uid is another owner")

        // A collector that never saw the first uid waits before believing the name.
        var fresh = GarbageCollector(configuration: .init(absentOwnerConfirmation: 10 * second))
        #expect(fresh.sync(objects: cache(replicaSets: [recreated], pods: [podA, newPod]), now: 0).actions == [])
        #expect(fresh.sync(objects: cache(replicaSets: [recreated], pods: [podA, newPod]), now: 10 * second).actions
            == [deleteAction(pods, "web-1-a", uid: "pod-a")])
    }

    @Test func aLiveOwnerKeepsTheDependentAndItsGoneOwnersAreUnlisted() throws {
        var collector = GarbageCollector()
        let other = object("other", uid: "rs-9")
        _ = collector.sync(objects: cache(replicaSets: [replicaSet, other]), now: 0)
        let shared = object("shared", uid: "pod-s", rv: "7",
            owners: [owner("ReplicaSet", "web-1", uid: "rs-1"), owner("ReplicaSet", "other", uid: "rs-9", blocking: false)])
        let pass = collector.sync(objects: cache(replicaSets: [other], pods: [shared]), now: second)
        let expected = json(#"{"metadata":{"resourceVersion":"7","ownerReferences":[\#(owner("ReplicaSet", "other", uid: "rs-9", blocking: false))]}}"#)
        #expect(pass.actions == [.mergePatch(ref(pods, "shared"), patch: expected)])
    }

    @Test func ownersOfKindsNotCachedAreNeverTakenForGone() {
        var collector = GarbageCollector(configuration: .init(absentOwnerConfirmation: 0))
        let byJob = object("job-pod", uid: "pod-j", owners: [#"{"apiVersion":"batch/v1","kind":"Job","name":"j","uid":"job-1"}"#])
        #expect(collector.sync(objects: cache(pods: [byJob]), now: 0).actions == [])
        #expect(collector.sync(objects: cache(pods: [byJob]), now: 100 * second).actions == [])
    }

    @Test func foregroundDeletesDependentsFirstAndThenReleasesTheOwner() {
        var collector = GarbageCollector()
        let deployment = object("web", uid: "d-1", rv: "10", finalizers: ["foregroundDeletion"], deleting: true)
        let ownedSet = object("web-1", uid: "rs-1", rv: "11", owners: [owner("Deployment", "web", uid: "d-1")])
        let loose = object("loose", uid: "pod-l", owners: [owner("Deployment", "web", uid: "d-1", blocking: false)])
        // The ReplicaSet has pods of its own: it goes in the foreground too; the blocking one comes first.
        let first = collector.sync(objects: cache(deployments: [deployment], replicaSets: [ownedSet], pods: [podA, loose]), now: 0)
        #expect(first.actions == [deleteAction(replicaSets, "web-1", uid: "rs-1", "Foreground"), deleteAction(pods, "loose", uid: "pod-l")])

        // The apiserver marks the ReplicaSet; its pods are collected while both owners wait.
        let deletingSet = object("web-1", uid: "rs-1", rv: "12", owners: [owner("Deployment", "web", uid: "d-1")],
            finalizers: ["foregroundDeletion"], deleting: true)
        let second1 = collector.sync(objects: cache(deployments: [deployment], replicaSets: [deletingSet], pods: [podA]), now: 1)
        #expect(second1.actions == [deleteAction(pods, "web-1-a", uid: "pod-a")], "the owners keep their finalizers while a blocking dependent is left")

        // The pods are gone: the ReplicaSet is released, then (once it is gone) the Deployment.
        let third = collector.sync(objects: cache(deployments: [deployment], replicaSets: [deletingSet]), now: 2)
        #expect(third.actions == [.mergePatch(ref(replicaSets, "web-1"), patch: json(#"{"metadata":{"resourceVersion":"12","finalizers":null}}"#))])
        let fourth = collector.sync(objects: cache(deployments: [deployment]), now: 3)
        #expect(fourth.actions == [.mergePatch(ref(deployments, "web"), patch: json(#"{"metadata":{"resourceVersion":"10","finalizers":null}}"#))])
        #expect(collector.sync(objects: cache(deployments: [deployment]), now: 4).actions == [], "asked once until the retry is due")
    }

    @Test func foregroundKeepsADependentThatHasAnotherLiveOwner() {
        var collector = GarbageCollector()
        let deployment = object("web", uid: "d-1", finalizers: ["foregroundDeletion"], deleting: true)
        let other = object("other", uid: "d-2")
        let shared = object("shared", uid: "rs-s", rv: "4",
            owners: [owner("Deployment", "web", uid: "d-1"), owner("Deployment", "other", uid: "d-2")])
        let pass = collector.sync(objects: cache(deployments: [deployment, other], replicaSets: [shared]), now: 0)
        #expect(pass.actions == [.mergePatch(ref(replicaSets, "shared"),
            patch: json(#"{"metadata":{"resourceVersion":"4","ownerReferences":[\#(owner("Deployment", "other", uid: "d-2"))]}}"#))])
    }

    @Test func orphanRemovesTheReferencesThenTheFinalizerAndDeletesNothing() {
        var collector = GarbageCollector()
        let orphaning = object("web-1", uid: "rs-1", rv: "20", finalizers: ["orphan"], deleting: true)
        let podA = object("web-1-a", uid: "pod-a", rv: "21", owners: [owner("ReplicaSet", "web-1", uid: "rs-1")])
        let first = collector.sync(objects: cache(replicaSets: [orphaning], pods: [podA]), now: 0)
        #expect(first.actions == [.mergePatch(ref(pods, "web-1-a"), patch: json(#"{"metadata":{"resourceVersion":"21","ownerReferences":null}}"#))])
        let released = object("web-1-a", uid: "pod-a", rv: "22")
        let second1 = collector.sync(objects: cache(replicaSets: [orphaning], pods: [released]), now: 1)
        #expect(second1.actions == [.mergePatch(ref(replicaSets, "web-1"), patch: json(#"{"metadata":{"resourceVersion":"20","finalizers":null}}"#))])
        // The ReplicaSet is gone; the pod, no longer owned, stays.
        #expect(collector.sync(objects: cache(pods: [released]), now: 2).actions == [])
    }

    @Test func pendingWritesAreBounded() {
        var collector = GarbageCollector(configuration: .init(pendingWritesMax: 1))
        _ = collector.sync(objects: cache(replicaSets: [replicaSet], pods: [podA, podB]), now: 0)
        let pass = collector.sync(objects: cache(pods: [podA, podB]), now: second)
        #expect(pass.actions == [deleteAction(pods, "web-1-a", uid: "pod-a")], "one write may await its effect")
        #expect(pass.resyncAt == 2 * second)
        let later = collector.sync(objects: cache(pods: [podB]), now: second + 1)
        #expect(later.actions == [deleteAction(pods, "web-1-b", uid: "pod-b")], "the next one goes once there is room")
    }
}
