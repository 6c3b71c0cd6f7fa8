//! Checks the Deployment tests apply to a run of the fake cluster: kubectl's rollout status
//! reading of a Deployment (`DeploymentStatusViewer`), and the rolling-update bounds (pods and
//! availability) over a sequence of snapshots.
import KubeAPI
import KubeControllers
import Wire

/// `kubectl rollout status deployment/<name>`'s verdict on one Deployment object.
enum RolloutStatusViewer {
    /// The message kubectl prints and whether it stops waiting; nil message with `failed` when
    /// it gives up (progress deadline exceeded).
    static func status(of deployment: JSONValue) -> (message: String, done: Bool) {
        let name = deployment.stringMember("metadata", "name") ?? ""
        let generation = deployment.intMember("metadata", "generation") ?? 0
        let observed = deployment.intMember("status", "observedGeneration") ?? 0
        guard generation <= observed else { return ("Waiting for deployment spec update to be observed...\n", false) }
        let progressing = deployment.arrayMember("status", "conditions").first { $0.stringMember("type") == "Progressing" }
        if progressing?.stringMember("reason") == "ProgressDeadlineExceeded" {
            return ("error: deployment \(JSON.quoted(name)) exceeded its progress deadline", true)
        }
        let replicas = deployment.intMember("spec", "replicas") ?? 1
        let updated = deployment.intMember("status", "updatedReplicas") ?? 0
        let total = deployment.intMember("status", "replicas") ?? 0
        let available = deployment.intMember("status", "availableReplicas") ?? 0
        if updated < replicas {
            return ("Waiting for deployment \(JSON.quoted(name)) rollout to finish: \(updated) out of \(replicas) new replicas have been updated...\n", false)
        }
        if total > updated {
            return ("Waiting for deployment \(JSON.quoted(name)) rollout to finish: \(total - updated) old replicas are pending termination...\n", false)
        }
        if available < updated {
            return ("Waiting for deployment \(JSON.quoted(name)) rollout to finish: \(available) of \(updated) updated replicas are available...\n", false)
        }
        return ("deployment \(JSON.quoted(name)) successfully rolled out\n", true)
    }
}

/// What the rolling-update bounds are checked on, one per step.
struct RolloutSnapshot: Equatable {
    /// Pods not finished and not being deleted.
    var activePods: Int
    /// Active pods that are ready (minReadySeconds is 0 in these tests).
    var availablePods: Int
    /// The sum of the ReplicaSets' `spec.replicas`.
    var requestedPods: Int
}

enum RollingUpdateBoundsCheck {
    /// The violations of `activePods <= replicas + surge`, `requestedPods <= replicas + surge` and
    /// `availablePods >= replicas - unavailable` over `snapshots`, as readable lines.
    static func violations(_ snapshots: [RolloutSnapshot], replicas: Int, surge: Int, unavailable: Int) -> [String] {
        var found: [String] = []
        for (step, snapshot) in snapshots.enumerated() {
            if snapshot.activePods > replicas + surge { found.append("step \(step): \(snapshot.activePods) pods > \(replicas + surge)") }
            if snapshot.requestedPods > replicas + surge {
                found.append("step \(step): \(snapshot.requestedPods) requested > \(replicas + surge)")
            }
            if snapshot.availablePods < replicas - unavailable {
                found.append("step \(step): \(snapshot.availablePods) available < \(replicas - unavailable)")
            }
        }
        return found
    }
}

extension WorkloadFakeCluster {
    var rolloutSnapshot: RolloutSnapshot {
        let active = activePods
        return RolloutSnapshot(
            activePods: active.count, availablePods: active.filter(isReady).count,
            requestedPods: replicaSetObjects.reduce(0) { $0 + Int($1.intMember("spec", "replicas") ?? 0) })
    }

    /// Steps until `kubectl rollout status` would stop waiting (or `limit` steps), returning the
    /// snapshot after each step.
    mutating func runRollout(_ name: String, limit: Int = 200) -> [RolloutSnapshot] {
        var snapshots: [RolloutSnapshot] = []
        for _ in 0..<limit {
            step()
            snapshots.append(rolloutSnapshot)
            if RolloutStatusViewer.status(of: deployment(name)).done { break }
        }
        return snapshots
    }

    func replicaSets(ownedBy deployment: String) -> [JSONValue] {
        let uid = self.deployment(deployment).stringMember("metadata", "uid")
        return replicaSetObjects.filter { controllerUID($0) == uid }
    }

    /// The ReplicaSet of the Deployment's current template.
    func newReplicaSet(of deployment: String) -> JSONValue? {
        let hash = DeploymentController.podTemplateHash(of: self.deployment(deployment))
        return get(Self.replicaSets, "\(deployment)-\(hash)")
    }

    mutating func setImage(_ deployment: String, _ image: String) {
        edit(Self.deployments, deployment) { $0.set("spec.template.spec.containers", .array([.object(["name": .string("web"), "image": .string(image)])])) }
    }
}
