import Base
import KubeAPI
import KubeControllers
import Testing
import Wire

@Suite struct ReplicaSetControllerTests {
    private func creates(_ sync: ReplicaSetSync) -> [JSONValue] {
        sync.podCreates.compactMap { if case .create(_, _, let object) = $0 { object } else { nil } }
    }

    private func deletedNames(_ sync: ReplicaSetSync) -> [String] {
        sync.podDeletes.compactMap { if case .delete(let reference, _, _, _) = $0 { reference.name } else { nil } }
    }

    @Test func createsPodsFromTheTemplateToMatchReplicas() throws {
        var cluster = WorkloadFakeCluster()
        let replicaSet = cluster.create(WorkloadFakeCluster.replicaSets, WorkloadFixtures.replicaSet(replicas: 3))
        let sync = cluster.replicaSetController.sync(replicaSet: replicaSet, pods: [], now: 0, wallNow: cluster.wallNow)
        let pods = creates(sync)
        #expect(pods.count == 3)
        #expect(sync.createBatches == [1, 2])
        let pod = try #require(pods.first)
        #expect(pod.stringMember("metadata", "generateName") == "web-")
        #expect(pod.stringMember("metadata", "labels", "app") == "web")
        #expect(pod.member("spec", "containers") == replicaSet.member("spec", "template", "spec", "containers"))
        let owner = try #require(pod.arrayMember("metadata", "ownerReferences").first)
        #expect(owner.stringMember("kind") == "ReplicaSet")
        #expect(owner.stringMember("uid") == replicaSet.stringMember("metadata", "uid"))
        #expect(owner.boolMember("controller") == true)
        #expect(owner.boolMember("blockOwnerDeletion") == true)
    }

    @Test func slowStartDoublesBatchesAndBurstCapsOneSync() {
        #expect(SlowStart.batchSizes(count: 10, initial: 1) == [1, 2, 4, 3])
        #expect(SlowStart.batchSizes(count: 0, initial: 1) == [])
        var cluster = WorkloadFakeCluster()
        let replicaSet = cluster.create(WorkloadFakeCluster.replicaSets, WorkloadFixtures.replicaSet(replicas: 600))
        let sync = cluster.replicaSetController.sync(replicaSet: replicaSet, pods: [], now: 0, wallNow: cluster.wallNow)
        #expect(sync.podCreates.count == 500)
        #expect(sync.createBatches.reduce(0, +) == 500)
    }

    /// The scenario expectations exist for: the watch has not shown the pods just created, so the
    /// cache still has none. Without expectations every sync would create the whole count again.
    @Test func neverOverCreatesWhileCreatesAreUnobserved() {
        var cluster = WorkloadFakeCluster()
        cluster.deliversPodEvents = false
        let replicaSet = cluster.create(WorkloadFakeCluster.replicaSets, WorkloadFixtures.replicaSet(replicas: 3))
        let first = cluster.replicaSetController.sync(replicaSet: replicaSet, pods: [], now: 0, wallNow: cluster.wallNow)
        #expect(first.podCreates.count == 3)
        for created in first.podCreates { cluster.apply(created) }
        // The cache lags: it shows none of the three.
        for second in [1, 10, 299] {
            let again = cluster.replicaSetController.sync(
                replicaSet: replicaSet, pods: [], now: Int64(second) * Time.second, wallNow: cluster.wallNow)
            #expect(again.podCreates.isEmpty, "over-created at \(second)s")
        }
        // Once the watch shows them, the controller counts again and has nothing to do.
        for pod in cluster.pods { cluster.replicaSetController.observedCreate(pod: pod) }
        #expect(cluster.replicaSetController.expectationsSatisfied(replicaSetKey: "default/web", now: 2 * Time.second))
        let settled = cluster.replicaSetController.sync(replicaSet: replicaSet, pods: cluster.pods, now: 3 * Time.second, wallNow: cluster.wallNow)
        #expect(settled.podCreates.isEmpty && settled.podDeletes.isEmpty)
    }

    @Test func unobservedCreatesExpireAfterFiveMinutes() {
        var cluster = WorkloadFakeCluster()
        let replicaSet = cluster.create(WorkloadFakeCluster.replicaSets, WorkloadFixtures.replicaSet(replicas: 2))
        let first = cluster.replicaSetController.sync(replicaSet: replicaSet, pods: [], now: 0, wallNow: cluster.wallNow)
        #expect(first.podCreates.count == 2)
        #expect(first.requeueAfter == 5 * 60 * Time.second + Time.second)
        let late = cluster.replicaSetController.sync(replicaSet: replicaSet, pods: [], now: 5 * 60 * Time.second + 1, wallNow: cluster.wallNow)
        #expect(late.podCreates.count == 2)
    }

    /// Known-bad: with no wait for the watch (expectations expire at once) the same lagging cache
    /// makes the controller create again; the check above would catch that.
    @Test func withoutExpectationsTheLaggingCacheOverCreates() {
        var settings = ReplicaSetController.Settings()
        settings.expectationsTimeout = 0
        var cluster = WorkloadFakeCluster(replicaSetSettings: settings)
        let replicaSet = cluster.create(WorkloadFakeCluster.replicaSets, WorkloadFixtures.replicaSet(replicas: 3))
        _ = cluster.replicaSetController.sync(replicaSet: replicaSet, pods: [], now: 0, wallNow: cluster.wallNow)
        let again = cluster.replicaSetController.sync(replicaSet: replicaSet, pods: [], now: 1, wallNow: cluster.wallNow)
        #expect(again.podCreates.count == 3)
    }

    @Test func deletionIsObservedOncePerRequestedPod() {
        var controller = ReplicaSetController()
        let owner = (name: "web", uid: "uid-rs")
        var replicaSet = WorkloadFixtures.replicaSet(replicas: 1)
        replicaSet.set("metadata.uid", .string("uid-rs"))
        replicaSet.set("metadata.namespace", .string("default"))
        let now: Int64 = 1_750_000_000
        let ready = WorkloadFixtures.pod(name: "a", readySince: now - 100, owner: owner)
        let unready = WorkloadFixtures.pod(name: "b", owner: owner)
        let stranger = WorkloadFixtures.pod(name: "c", owner: owner)
        let sync = controller.sync(replicaSet: replicaSet, pods: [ready, unready], now: 0, wallNow: now)
        #expect(deletedNames(sync) == ["b"])
        controller.observedDelete(pod: stranger)
        controller.observedDelete(pod: stranger)
        #expect(!controller.expectationsSatisfied(replicaSetKey: "default/web", now: 1))
        controller.observedDelete(pod: unready)
        controller.observedDelete(pod: unready)
        #expect(controller.expectationsSatisfied(replicaSetKey: "default/web", now: 1))
    }

    // MARK: - Deletion order

    private func firstDeleted(_ pods: [JSONValue]) -> String? {
        var controller = ReplicaSetController()
        var replicaSet = WorkloadFixtures.replicaSet(replicas: Int64(pods.count - 1))
        replicaSet.set("metadata.uid", .string("uid-rs"))
        replicaSet.set("metadata.namespace", .string("default"))
        let sync = controller.sync(replicaSet: replicaSet, pods: pods, now: 0, wallNow: 1_750_000_000)
        return deletedNames(sync).first
    }

    @Test func deletesTheLeastValuablePodFirst() {
        let owner = (name: "web", uid: "uid-rs")
        let now: Int64 = 1_750_000_000
        // Not ready before ready.
        #expect(firstDeleted([
            WorkloadFixtures.pod(name: "ready", readySince: now - 50, owner: owner),
            WorkloadFixtures.pod(name: "unready", owner: owner),
        ]) == "unready")
        // Unassigned before assigned, even when the assigned one is not ready.
        #expect(firstDeleted([
            WorkloadFixtures.pod(name: "assigned", owner: owner),
            WorkloadFixtures.pod(name: "unassigned", node: "", phase: "Pending", owner: owner),
        ]) == "unassigned")
        // Pending before Running.
        #expect(firstDeleted([
            WorkloadFixtures.pod(name: "running", owner: owner),
            WorkloadFixtures.pod(name: "pending", phase: "Pending", owner: owner),
        ]) == "pending")
        // Doubled up on a node before alone.
        #expect(firstDeleted([
            WorkloadFixtures.pod(name: "alone", node: "node-2", readySince: now - 5000, owner: owner),
            WorkloadFixtures.pod(name: "pair-1", node: "node-1", readySince: now - 5000, owner: owner),
            WorkloadFixtures.pod(name: "pair-2", node: "node-1", readySince: now - 5000, owner: owner),
        ])?.hasPrefix("pair") == true)
        // Ready for a shorter time first (ages in different powers of two).
        #expect(firstDeleted([
            WorkloadFixtures.pod(name: "veteran", node: "node-1", readySince: now - 100_000, owner: owner),
            WorkloadFixtures.pod(name: "recent", node: "node-2", readySince: now - 10, owner: owner),
        ]) == "recent")
        // More restarts first.
        #expect(firstDeleted([
            WorkloadFixtures.pod(name: "stable", node: "node-1", owner: owner),
            WorkloadFixtures.pod(name: "crashing", node: "node-2", restarts: 7, owner: owner),
        ]) == "crashing")
        // Younger first.
        #expect(firstDeleted([
            WorkloadFixtures.pod(name: "old", node: "node-1", created: now - 100_000, owner: owner),
            WorkloadFixtures.pod(name: "young", node: "node-2", created: now - 10, owner: owner),
        ]) == "young")
    }

    // MARK: - Claiming

    @Test func adoptsMatchingOrphansAndReleasesPodsThatNoLongerMatch() throws {
        var controller = ReplicaSetController()
        var replicaSet = WorkloadFixtures.replicaSet(replicas: 2)
        replicaSet.set("metadata.uid", .string("uid-rs"))
        replicaSet.set("metadata.namespace", .string("default"))
        let owner = (name: "web", uid: "uid-rs")
        let orphan = WorkloadFixtures.pod(name: "orphan", readySince: 1)
        let relabelled = WorkloadFixtures.pod(name: "relabelled", app: "other", readySince: 1, owner: owner)
        let foreign = WorkloadFixtures.pod(name: "foreign", readySince: 1, owner: (name: "else", uid: "uid-else"))
        let kept = WorkloadFixtures.pod(name: "kept", readySince: 1, owner: owner)
        let sync = controller.sync(replicaSet: replicaSet, pods: [orphan, relabelled, foreign, kept], now: 0, wallNow: 1_750_000_000)
        #expect(sync.claims.count == 2)
        guard case .mergePatch(let adopted, let adoption, _) = try #require(sync.claims.first) else {
            Issue.record("adoption is not a merge patch: \(sync.claims)")
            return
        }
        #expect(adopted.name == "orphan")
        let reference = try #require(adoption.member("metadata", "ownerReferences")?.asArray?.first)
        #expect(reference.stringMember("uid") == "uid-rs" && reference.boolMember("controller") == true)
        #expect(adoption.stringMember("metadata", "resourceVersion") == "7")
        guard case .mergePatch(let released, let release, _) = sync.claims[1] else {
            Issue.record("release is not a merge patch: \(sync.claims)")
            return
        }
        #expect(released.name == "relabelled")
        #expect(release.member("metadata", "ownerReferences") == .null)
        // The adopted orphan and the kept pod make two: nothing to create or delete.
        #expect(sync.podCreates.isEmpty && sync.podDeletes.isEmpty)
        guard case .update(_, let object, _)? = sync.statusUpdate else {
            Issue.record("no status update: \(sync)")
            return
        }
        #expect(object.intMember("status", "replicas") == 2)
    }

    @Test func aReplicaSetBeingDeletedAdoptsNothingAndCreatesNothing() {
        var controller = ReplicaSetController()
        var replicaSet = WorkloadFixtures.replicaSet(replicas: 3)
        replicaSet.set("metadata.uid", .string("uid-rs"))
        replicaSet.set("metadata.deletionTimestamp", .string("2025-06-15T00:00:00Z"))
        let sync = controller.sync(replicaSet: replicaSet, pods: [WorkloadFixtures.pod(name: "orphan")], now: 0, wallNow: 1_750_000_000)
        #expect(sync.claims.isEmpty && sync.podCreates.isEmpty)
    }

    // MARK: - Status

    @Test func statusCountsReadyAndAvailableAfterMinReadySeconds() throws {
        var controller = ReplicaSetController()
        var replicaSet = WorkloadFixtures.replicaSet(replicas: 2, minReadySeconds: 10)
        replicaSet.set("metadata.uid", .string("uid-rs"))
        replicaSet.set("metadata.generation", .integer(4))
        let owner = (name: "web", uid: "uid-rs")
        let now: Int64 = 1_750_000_000
        let pods = [
            WorkloadFixtures.pod(name: "a", readySince: now - 5, owner: owner),
            WorkloadFixtures.pod(name: "b", readySince: now - 5, owner: owner),
        ]
        let early = controller.sync(replicaSet: replicaSet, pods: pods, now: 0, wallNow: now)
        guard case .update(_, let object, let subresource)? = early.statusUpdate else {
            Issue.record("no status update: \(early)")
            return
        }
        #expect(subresource == "status")
        #expect(object.intMember("status", "replicas") == 2)
        #expect(object.intMember("status", "fullyLabeledReplicas") == 2)
        #expect(object.intMember("status", "readyReplicas") == 2)
        #expect(object.intMember("status", "availableReplicas") == 0)
        #expect(object.intMember("status", "observedGeneration") == 4)
        #expect(early.requeueAfter == 10 * Time.second)
        let late = controller.sync(replicaSet: replicaSet, pods: pods, now: 0, wallNow: now + 6)
        guard case .update(_, let later, _)? = late.statusUpdate else {
            Issue.record("no status update: \(late)")
            return
        }
        #expect(later.intMember("status", "availableReplicas") == 2)
    }

    @Test func failedCreatesShowAsReplicaFailureAndAreRetried() throws {
        var cluster = WorkloadFakeCluster()
        cluster.podCreateFailure = "pods \"web-\" is forbidden: exceeded quota"
        cluster.create(WorkloadFakeCluster.replicaSets, WorkloadFixtures.replicaSet(replicas: 4))
        cluster.syncReplicaSets()
        cluster.syncReplicaSets()
        let failed = try #require(cluster.get(WorkloadFakeCluster.replicaSets, "web"))
        let condition = try #require(failed.arrayMember("status", "conditions").first)
        #expect(condition.stringMember("type") == "ReplicaFailure")
        #expect(condition.stringMember("reason") == "FailedCreate")
        #expect(condition.stringMember("message") == cluster.podCreateFailure)
        cluster.podCreateFailure = nil
        cluster.syncReplicaSets()
        #expect(cluster.pods.count == 4)
        cluster.syncReplicaSets()
        let recovered = try #require(cluster.get(WorkloadFakeCluster.replicaSets, "web"))
        #expect(recovered.arrayMember("status", "conditions").isEmpty)
    }

    @Test func convergesThroughTheFakeClusterAndScalesDown() {
        var cluster = WorkloadFakeCluster()
        cluster.create(WorkloadFakeCluster.replicaSets, WorkloadFixtures.replicaSet(replicas: 5))
        for _ in 0..<6 { cluster.step() }
        #expect(cluster.activePods.count == 5)
        #expect(cluster.get(WorkloadFakeCluster.replicaSets, "web")?.intMember("status", "readyReplicas") == 5)
        cluster.edit(WorkloadFakeCluster.replicaSets, "web") { $0.set("spec.replicas", .integer(2)) }
        for _ in 0..<3 { cluster.step() }
        #expect(cluster.activePods.count == 2)
        #expect(cluster.pods.count == 2)
    }
}
