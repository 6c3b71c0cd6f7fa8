import Base
import KubeAPI
import KubeControllers
import Testing
import Wire

@Suite struct DeploymentControllerTests {
    private func condition(_ deployment: JSONValue, _ type: String) -> JSONValue? {
        deployment.arrayMember("status", "conditions").first { $0.stringMember("type") == type }
    }

    /// A cluster with the Deployment `web` rolled out at `nginx:1`.
    private func rolledOut(_ deployment: JSONValue) -> WorkloadFakeCluster {
        var cluster = WorkloadFakeCluster()
        cluster.create(WorkloadFakeCluster.deployments, deployment)
        _ = cluster.runRollout("web")
        return cluster
    }

    @Test func firstRolloutCreatesTheNewReplicaSetAndReportsConditions() throws {
        var cluster = WorkloadFakeCluster()
        cluster.create(WorkloadFakeCluster.deployments, WorkloadFixtures.deployment(replicas: 3))
        cluster.syncDeployments()
        let hash = DeploymentController.podTemplateHash(of: cluster.deployment("web"))
        let replicaSet = try #require(cluster.get(WorkloadFakeCluster.replicaSets, "web-\(hash)"))
        #expect(replicaSet.intMember("spec", "replicas") == 3)
        #expect(replicaSet.stringMember("metadata", "labels", "pod-template-hash") == hash)
        #expect(replicaSet.stringMember("spec", "selector", "matchLabels", "pod-template-hash") == hash)
        #expect(replicaSet.stringMember("spec", "template", "metadata", "labels", "pod-template-hash") == hash)
        #expect(replicaSet.stringMember("metadata", "annotations", "deployment.kubernetes.io/revision") == "1")
        #expect(replicaSet.stringMember("metadata", "annotations", "deployment.kubernetes.io/desired-replicas") == "3")
        #expect(replicaSet.stringMember("metadata", "annotations", "deployment.kubernetes.io/max-replicas") == "4")
        #expect(cluster.controllerUID(replicaSet) == cluster.deployment("web").stringMember("metadata", "uid"))
        #expect(cluster.deployment("web").stringMember("metadata", "annotations", "deployment.kubernetes.io/revision") == "1")
        let created = try #require(condition(cluster.deployment("web"), "Progressing"))
        #expect(created.stringMember("reason") == "NewReplicaSetCreated")
        #expect(created.stringMember("message") == "Created new replica set \"web-\(hash)\"")
        #expect(cluster.events.contains { $0.reason == "ScalingReplicaSet" && $0.message == "Scaled up replica set web-\(hash) to 3" })

        _ = cluster.runRollout("web")
        let done = cluster.deployment("web")
        #expect(RolloutStatusViewer.status(of: done).message == "deployment \"web\" successfully rolled out\n")
        let progressing = try #require(condition(done, "Progressing"))
        #expect(progressing.stringMember("reason") == "NewReplicaSetAvailable")
        #expect(progressing.stringMember("message") == "ReplicaSet \"web-\(hash)\" has successfully progressed.")
        let available = try #require(condition(done, "Available"))
        #expect(available.stringMember("status") == "True")
        #expect(available.stringMember("reason") == "MinimumReplicasAvailable")
        #expect(available.stringMember("message") == "Deployment has minimum availability.")
        #expect(done.intMember("status", "observedGeneration") == done.intMember("metadata", "generation"))
        #expect(done.intMember("status", "unavailableReplicas") == 0)
    }

    @Test func rollingUpdateStaysWithinSurgeAndUnavailability() throws {
        var cluster = rolledOut(WorkloadFixtures.deployment(replicas: 10))
        let oldReplicaSet = try #require(cluster.newReplicaSet(of: "web"))
        cluster.setImage("web", "nginx:2")
        let snapshots = cluster.runRollout("web")
        // 25% of 10: surge 3 (rounded up), unavailable 2 (rounded down).
        #expect(RollingUpdateBoundsCheck.violations(snapshots, replicas: 10, surge: 3, unavailable: 2) == [])
        #expect(snapshots.contains { $0.activePods > 10 }, "the rollout never used its surge")
        let done = cluster.deployment("web")
        #expect(RolloutStatusViewer.status(of: done).message == "deployment \"web\" successfully rolled out\n")
        let newReplicaSet = try #require(cluster.newReplicaSet(of: "web"))
        #expect(newReplicaSet.stringMember("metadata", "name") != oldReplicaSet.stringMember("metadata", "name"))
        #expect(newReplicaSet.intMember("status", "readyReplicas") == 10)
        #expect(cluster.get(WorkloadFakeCluster.replicaSets, oldReplicaSet.stringMember("metadata", "name")!)?
            .intMember("spec", "replicas") == 0)
        #expect(newReplicaSet.stringMember("metadata", "annotations", "deployment.kubernetes.io/revision") == "2")
        #expect(done.stringMember("metadata", "annotations", "deployment.kubernetes.io/revision") == "2")
        #expect(done.intMember("status", "updatedReplicas") == 10)
        #expect(cluster.activePods.allSatisfy { $0.member("spec", "containers")?.asArray?.first?.stringMember("image") == "nginx:2" })
    }

    /// A cached old ReplicaSet whose status still counts more available pods than its freshly
    /// lowered spec (status lags spec) must not stop the rollout; it once tripped a precondition
    /// in the unhealthy-replica cleanup and took the controller-manager down.
    @Test func staleStatusAboveSpecIsNotACrash() throws {
        var cluster = rolledOut(WorkloadFixtures.deployment(replicas: 10))
        let old = try #require(cluster.newReplicaSet(of: "web")).stringMember("metadata", "name")!
        cluster.setImage("web", "nginx:2")
        cluster.syncDeployments()
        cluster.edit(WorkloadFakeCluster.replicaSets, old) { replicaSet in
            replicaSet.set("spec.replicas", .integer(9))
            replicaSet.set("status.availableReplicas", .integer(10))
        }
        cluster.syncDeployments()
        #expect(cluster.get(WorkloadFakeCluster.replicaSets, old)?.intMember("spec", "replicas") ?? 99 <= 9, "the old ReplicaSet grew")
        _ = cluster.runRollout("web")
        #expect(RolloutStatusViewer.status(of: cluster.deployment("web")).message == "deployment \"web\" successfully rolled out\n")
    }

    /// Known-bad: the checker used above does flag sequences that break the bounds.
    @Test func boundsCheckerFlagsSurgeAndAvailabilityViolations() {
        let good = RolloutSnapshot(activePods: 13, availablePods: 8, requestedPods: 13)
        #expect(RollingUpdateBoundsCheck.violations([good], replicas: 10, surge: 3, unavailable: 2).isEmpty)
        let tooMany = RolloutSnapshot(activePods: 14, availablePods: 10, requestedPods: 13)
        let tooFewAvailable = RolloutSnapshot(activePods: 10, availablePods: 7, requestedPods: 10)
        let overRequested = RolloutSnapshot(activePods: 13, availablePods: 10, requestedPods: 14)
        let violations = RollingUpdateBoundsCheck.violations([good, tooMany, tooFewAvailable, overRequested], replicas: 10, surge: 3, unavailable: 2)
        #expect(violations == ["step 1: 14 pods > 13", "step 2: 7 available < 8", "step 3: 14 requested > 13"])
    }

    @Test func recreateNeverRunsOldAndNewPodsTogether() throws {
        var cluster = rolledOut(WorkloadFixtures.deployment(replicas: 4, strategy: "Recreate"))
        let oldUID = try #require(cluster.newReplicaSet(of: "web")?.stringMember("metadata", "uid"))
        cluster.setImage("web", "nginx:2")
        var sawNewPods = false
        for _ in 0..<30 {
            cluster.step()
            // Terminating pods count as old pods still there.
            let owners = Set(cluster.pods.compactMap(cluster.controllerUID))
            let hasOld = owners.contains(oldUID)
            let hasNew = !owners.subtracting([oldUID]).isEmpty
            #expect(!(hasOld && hasNew), "old and new pods together: \(cluster.pods.map { $0.stringMember("metadata", "name") ?? "" })")
            sawNewPods = sawNewPods || hasNew
            if RolloutStatusViewer.status(of: cluster.deployment("web")).done { break }
        }
        #expect(sawNewPods)
        #expect(RolloutStatusViewer.status(of: cluster.deployment("web")).message == "deployment \"web\" successfully rolled out\n")
        #expect(cluster.activePods.count == 4)
    }

    /// `kubectl rollout undo` (client-side since 1.x): the Deployment's template is set back to
    /// the old ReplicaSet's, minus its hash label. The old ReplicaSet is the new one again.
    @Test func rollbackReusesTheOldReplicaSetWithTheNextRevision() throws {
        var cluster = rolledOut(WorkloadFixtures.deployment(replicas: 4))
        let first = try #require(cluster.newReplicaSet(of: "web"))
        cluster.setImage("web", "nginx:2")
        _ = cluster.runRollout("web")
        #expect(cluster.replicaSets(ownedBy: "web").count == 2)
        var template = try #require(first.member("spec", "template"))
        template.set("metadata.labels.pod-template-hash", nil)
        cluster.edit(WorkloadFakeCluster.deployments, "web") { $0.set("spec.template", template) }
        let snapshots = cluster.runRollout("web")
        #expect(RollingUpdateBoundsCheck.violations(snapshots, replicas: 4, surge: 1, unavailable: 1) == [])
        #expect(cluster.replicaSets(ownedBy: "web").count == 2, "rollback made a new ReplicaSet")
        let reused = try #require(cluster.get(WorkloadFakeCluster.replicaSets, first.stringMember("metadata", "name")!))
        #expect(reused.intMember("spec", "replicas") == 4)
        #expect(reused.stringMember("metadata", "annotations", "deployment.kubernetes.io/revision") == "3")
        #expect(reused.stringMember("metadata", "annotations", "deployment.kubernetes.io/revision-history") == "1")
        let done = cluster.deployment("web")
        #expect(done.stringMember("metadata", "annotations", "deployment.kubernetes.io/revision") == "3")
        #expect(RolloutStatusViewer.status(of: done).message == "deployment \"web\" successfully rolled out\n")
    }

    @Test func pausedDeploymentScalesButDoesNotRoll() throws {
        var cluster = rolledOut(WorkloadFixtures.deployment(replicas: 4))
        let current = try #require(cluster.newReplicaSet(of: "web")?.stringMember("metadata", "name"))
        cluster.edit(WorkloadFakeCluster.deployments, "web") { $0.set("spec.paused", .bool(true)) }
        cluster.setImage("web", "nginx:2")
        for _ in 0..<10 { cluster.step() }
        #expect(cluster.replicaSets(ownedBy: "web").count == 1, "a paused deployment rolled")
        let paused = try #require(condition(cluster.deployment("web"), "Progressing"))
        #expect(paused.stringMember("status") == "Unknown")
        #expect(paused.stringMember("reason") == "DeploymentPaused")
        #expect(paused.stringMember("message") == "Deployment is paused")
        cluster.edit(WorkloadFakeCluster.deployments, "web") { $0.set("spec.replicas", .integer(6)) }
        for _ in 0..<5 { cluster.step() }
        #expect(cluster.get(WorkloadFakeCluster.replicaSets, current)?.intMember("spec", "replicas") == 6)
        #expect(cluster.activePods.count == 6)
        cluster.edit(WorkloadFakeCluster.deployments, "web") { $0.set("spec.paused", .bool(false)) }
        _ = cluster.runRollout("web")
        #expect(cluster.replicaSets(ownedBy: "web").count == 2)
        #expect(RolloutStatusViewer.status(of: cluster.deployment("web")).message == "deployment \"web\" successfully rolled out\n")
    }

    @Test func progressDeadlineExceededWhenNewPodsNeverBecomeReady() throws {
        var cluster = rolledOut(WorkloadFixtures.deployment(replicas: 4, progressDeadlineSeconds: 30))
        cluster.unreadyImages = ["nginx:broken"]
        cluster.setImage("web", "nginx:broken")
        for _ in 0..<15 { cluster.step() }
        let stalled = try #require(condition(cluster.deployment("web"), "Progressing"))
        #expect(stalled.stringMember("status") == "True", "timed out early: \(stalled)")
        let requeue = try #require(cluster.requeues["deployment/web"])
        #expect(requeue > 0 && requeue <= 31 * Time.second)
        for _ in 0..<30 { cluster.step() }
        let newName = try #require(cluster.newReplicaSet(of: "web")?.stringMember("metadata", "name"))
        let timedOut = try #require(condition(cluster.deployment("web"), "Progressing"))
        #expect(timedOut.stringMember("status") == "False")
        #expect(timedOut.stringMember("reason") == "ProgressDeadlineExceeded")
        #expect(timedOut.stringMember("message") == "ReplicaSet \"\(newName)\" has timed out progressing.")
        #expect(RolloutStatusViewer.status(of: cluster.deployment("web")).message == "error: deployment \"web\" exceeded its progress deadline")
        // The old pods stay: 4 - 25% unavailable = 3 must remain available.
        #expect(cluster.rolloutSnapshot.availablePods >= 3)
    }

    @Test func revisionHistoryLimitDeletesTheOldestEmptyReplicaSets() throws {
        var cluster = rolledOut(WorkloadFixtures.deployment(replicas: 2, revisionHistoryLimit: 2))
        var names: [String] = []
        for version in 2...5 {
            names.append(try #require(cluster.newReplicaSet(of: "web")?.stringMember("metadata", "name")))
            cluster.setImage("web", "nginx:\(version)")
            _ = cluster.runRollout("web")
            // Cleanup runs on the pass after the rollout is seen complete.
            cluster.step()
        }
        let owned = cluster.replicaSets(ownedBy: "web").compactMap { $0.stringMember("metadata", "name") }
        #expect(owned.count == 3, "kept \(owned)")
        #expect(!owned.contains(names[0]) && !owned.contains(names[1]))
        #expect(owned.contains(names[2]) && owned.contains(names[3]))
        let revisions = Set(cluster.replicaSets(ownedBy: "web").compactMap {
            $0.stringMember("metadata", "annotations", "deployment.kubernetes.io/revision")
        })
        #expect(revisions == ["3", "4", "5"])
    }

    @Test func scalingMidRolloutIsProportional() throws {
        var cluster = rolledOut(WorkloadFixtures.deployment(replicas: 10))
        cluster.unreadyImages = ["nginx:broken"]
        cluster.setImage("web", "nginx:broken")
        for _ in 0..<5 { cluster.step() }
        let before = cluster.replicaSets(ownedBy: "web").map { $0.intMember("spec", "replicas") ?? 0 }
        #expect(before.reduce(0, +) == 13)
        #expect(before.sorted() == [5, 8])
        cluster.edit(WorkloadFakeCluster.deployments, "web") { $0.set("spec.replicas", .integer(20)) }
        cluster.syncDeployments()
        let after = cluster.replicaSets(ownedBy: "web").map { $0.intMember("spec", "replicas") ?? 0 }
        // 20 + 5 surge spread in proportion to 8 : 5 of the old max 13.
        #expect(after.reduce(0, +) == 25)
        #expect(after.sorted() == [10, 15])
    }

    @Test func hashCollisionBumpsTheCollisionCount() throws {
        var cluster = WorkloadFakeCluster()
        cluster.create(WorkloadFakeCluster.deployments, WorkloadFixtures.deployment(replicas: 1))
        let hash = DeploymentController.podTemplateHash(of: cluster.deployment("web"))
        // Someone else's ReplicaSet already has the name.
        var squatter = WorkloadFixtures.replicaSet(name: "web-\(hash)", replicas: 0, app: "other")
        squatter.set("metadata.labels", .object(["app": .string("other")]))
        cluster.create(WorkloadFakeCluster.replicaSets, squatter)
        cluster.syncDeployments()
        #expect(cluster.deployment("web").intMember("status", "collisionCount") == 1)
        #expect(cluster.replicaSets(ownedBy: "web").isEmpty)
        cluster.syncDeployments()
        let rehashed = DeploymentController.podTemplateHash(of: cluster.deployment("web"))
        #expect(rehashed != hash)
        #expect(cluster.get(WorkloadFakeCluster.replicaSets, "web-\(rehashed)") != nil)
    }

    @Test func adoptsAnOrphanReplicaSetOfTheTemplate() throws {
        var cluster = WorkloadFakeCluster()
        cluster.create(WorkloadFakeCluster.deployments, WorkloadFixtures.deployment(replicas: 2))
        cluster.syncDeployments()
        let name = try #require(cluster.newReplicaSet(of: "web")?.stringMember("metadata", "name"))
        // Orphan it (as `kubectl delete deployment --cascade=orphan` and a re-create would).
        cluster.apply(.mergePatch(ObjectReference(WorkloadFakeCluster.replicaSets, namespace: "default", name: name),
            patch: .object(["metadata": .object(["ownerReferences": .null])])))
        #expect(cluster.replicaSets(ownedBy: "web").isEmpty)
        cluster.syncDeployments()
        #expect(cluster.replicaSets(ownedBy: "web").count == 1)
        #expect(cluster.replicaSetObjects.count == 1)
    }

    @Test func rolloutStatusViewerWaitsUntilEveryUpdatedReplicaIsAvailable() {
        var deployment = WorkloadFixtures.deployment(replicas: 3)
        deployment.set("metadata.generation", .integer(2))
        deployment.set("status", .object(["observedGeneration": .integer(1)]))
        #expect(RolloutStatusViewer.status(of: deployment).message == "Waiting for deployment spec update to be observed...\n")
        deployment.set("status", .object([
            "observedGeneration": .integer(2), "replicas": .integer(4), "updatedReplicas": .integer(2), "availableReplicas": .integer(3),
        ]))
        #expect(RolloutStatusViewer.status(of: deployment).message
            == "Waiting for deployment \"web\" rollout to finish: 2 out of 3 new replicas have been updated...\n")
        deployment.set("status.updatedReplicas", .integer(3))
        #expect(RolloutStatusViewer.status(of: deployment).message
            == "Waiting for deployment \"web\" rollout to finish: 1 old replicas are pending termination...\n")
        deployment.set("status.replicas", .integer(3))
        deployment.set("status.availableReplicas", .integer(2))
        #expect(!RolloutStatusViewer.status(of: deployment).done)
        deployment.set("status.availableReplicas", .integer(3))
        #expect(RolloutStatusViewer.status(of: deployment).done)
    }
}
