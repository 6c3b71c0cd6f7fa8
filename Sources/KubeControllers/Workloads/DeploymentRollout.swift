//! The rollout strategies (`rolloutRolling`, `rolloutRecreate`), scaling without a rollout
//! (`sync`, `scale`, with proportional scaling mid-rollout) and the revision history limit
//! (`cleanupDeployment`), on a `DeploymentPass`.
import KubeAPI
import Wire

extension DeploymentPass {
    // MARK: - RollingUpdate

    /// Grow the new ReplicaSet as far as the surge allows; if it cannot grow, shrink the old ones
    /// as far as availability allows; once complete, trim the history.
    mutating func rolloutRolling() {
        guard findReplicaSets(create: true), let newIndex else { return }
        if reconcileNewReplicaSet(newIndex) || reconcileOldReplicaSets(newIndex) {
            syncRolloutStatus()
            return
        }
        if isComplete(cachedStatus) { cleanupHistory() }
        syncRolloutStatus()
    }

    private mutating func reconcileNewReplicaSet(_ newIndex: Int) -> Bool {
        let current = replicaSets[newIndex].replicas
        if current == deployment.replicas { return false }
        if current > deployment.replicas { return scale(newIndex, to: deployment.replicas) }
        return scale(newIndex, to: newReplicaSetReplicas(newIndex: newIndex))
    }

    /// Shrinks old ReplicaSets by at most `maxScaledDown`: all pods, less the minimum available,
    /// less the new ReplicaSet's pods not yet available (they may never be: a bad template must
    /// not drain the old pods). Unhealthy old pods go first, then healthy ones while more than the
    /// minimum stay available.
    private mutating func reconcileOldReplicaSets(_ newIndex: Int) -> Bool {
        let activeOld = oldIndices.filter { replicaSets[$0].replicas > 0 }
        if activeOld.reduce(0, { $0 + replicaSets[$1].replicas }) == 0 { return false }
        let allPods = replicaSets.reduce(0) { $0 + $1.replicas }
        let newUnavailable = replicaSets[newIndex].replicas - replicaSets[newIndex].availableReplicas
        let maxScaledDown = allPods - deployment.availableMin - newUnavailable
        if maxScaledDown <= 0 { return false }
        let cleaned = cleanupUnhealthyReplicas(activeOld, limit: maxScaledDown)
        let scaledDown = scaleDownOldReplicaSetsForRollingUpdate(activeOld)
        return cleaned + scaledDown > 0
    }

    /// Removes old pods that are not available (they cost no availability), oldest ReplicaSet first.
    private mutating func cleanupUnhealthyReplicas(_ old: [Int], limit: Int64) -> Int64 {
        var total: Int64 = 0
        for index in old.sorted(by: { ReplicaSetOrder.byCreation(replicaSets[$0], replicaSets[$1]) }) {
            if total >= limit { break }
            let replicaSet = replicaSets[index]
            // Status can lag spec (available above a just-lowered replica count): nothing to clean
            // then. Kubernetes refuses such a scale-down with an error; crashing on it would take
            // the controller-manager down on ordinary cache lag.
            if replicaSet.replicas == 0 || replicaSet.replicas <= replicaSet.availableReplicas { continue }
            let count = min(limit - total, replicaSet.replicas - replicaSet.availableReplicas)
            scale(index, to: replicaSet.replicas - count)
            total += count
        }
        return total
    }

    private mutating func scaleDownOldReplicaSetsForRollingUpdate(_ old: [Int]) -> Int64 {
        let available = replicaSets.reduce(0) { $0 + $1.availableReplicas }
        if available <= deployment.availableMin { return 0 }
        let totalToScaleDown = available - deployment.availableMin
        var total: Int64 = 0
        for index in old.sorted(by: { ReplicaSetOrder.byCreation(replicaSets[$0], replicaSets[$1]) }) {
            if total >= totalToScaleDown { break }
            let replicas = replicaSets[index].replicas
            if replicas == 0 { continue }
            let count = min(replicas, totalToScaleDown - total)
            scale(index, to: replicas - count)
            total += count
        }
        return total
    }

    // MARK: - Recreate

    /// Old ReplicaSets to zero; then wait until no old pod runs (terminating ones included);
    /// only then create or grow the new ReplicaSet.
    mutating func rolloutRecreate() {
        _ = findReplicaSets(create: false)
        var scaledDown = false
        for index in oldIndices where replicaSets[index].replicas > 0 {
            if scale(index, to: 0) { scaledDown = true }
        }
        if scaledDown || oldPodsRunning() {
            syncRolloutStatus()
            return
        }
        guard findReplicaSets(create: true), let newIndex else { return }
        scale(newIndex, to: deployment.replicas)
        if isComplete(cachedStatus) { cleanupHistory() }
        syncRolloutStatus()
    }

    /// Whether an old ReplicaSet still reports pods or any pod of one is not finished.
    private func oldPodsRunning() -> Bool {
        if oldIndices.contains(where: { replicaSets[$0].statusReplicas > 0 }) { return true }
        let newUID = newReplicaSet?.uid
        for (replicaSetUID, pods) in podsByReplicaSet where replicaSetUID != newUID {
            if pods.contains(where: { $0.phase != "Failed" && $0.phase != "Succeeded" }) { return true }
        }
        return false
    }

    // MARK: - Scaling without a rollout

    /// `isScalingEvent`: an active ReplicaSet records a desired size other than the Deployment's.
    mutating func isScalingEvent() -> Bool {
        _ = findReplicaSets(create: false)
        return replicaSets.contains { replicaSet in
            guard replicaSet.replicas > 0, let desired = replicaSet.annotation(DeploymentAnnotations.desiredReplicas).flatMap({ Int64($0) })
            else { return false }
            return desired != deployment.replicas
        }
    }

    /// `sync`: scale (proportionally mid-rollout), trim history while paused, counts only.
    mutating func syncScaling() {
        _ = findReplicaSets(create: false)
        scaleToDeployment()
        if deployment.paused { cleanupHistory() }
        syncDeploymentStatus()
    }

    /// `scale`: one active ReplicaSet takes the whole count; a saturated new one empties the old;
    /// otherwise, for RollingUpdate, the change is spread over the active ReplicaSets in
    /// proportion to their sizes, leftovers to the largest.
    private mutating func scaleToDeployment() {
        if let only = activeOrLatest() {
            if replicaSets[only].replicas != deployment.replicas { scale(only, to: deployment.replicas) }
            return
        }
        if let newIndex, isSaturated(newIndex) {
            for index in oldIndices where replicaSets[index].replicas > 0 { scale(index, to: 0) }
            return
        }
        guard deployment.isRollingUpdate else { return }
        scaleProportionally()
    }

    private mutating func scaleProportionally() {
        var active = replicaSets.indices.filter { replicaSets[$0].replicas > 0 }
        let current = active.reduce(0) { $0 + replicaSets[$1].replicas }
        let allowed = deployment.replicas > 0 ? deployment.replicasMax : 0
        let toAdd = allowed - current
        var operation = ""
        if toAdd > 0 {
            active.sort { ReplicaSetOrder.bySizeNewer(replicaSets[$0], replicaSets[$1]) }
            operation = "up"
        } else if toAdd < 0 {
            active.sort { ReplicaSetOrder.bySizeOlder(replicaSets[$0], replicaSets[$1]) }
            operation = "down"
        }
        var added: Int64 = 0
        var sizes: [Int64] = []
        for index in active {
            let proportion = toAdd == 0 ? 0 : self.proportion(index, toAdd: toAdd, added: added)
            sizes.append(replicaSets[index].replicas + proportion)
            added += proportion
        }
        for (position, index) in active.enumerated() {
            var size = sizes[position]
            if position == 0 && toAdd != 0 { size = max(0, size + toAdd - added) }
            scale(index, to: size, operation: operation)
        }
    }

    /// `GetProportion`: the ReplicaSet's share of `toAdd`, from its size relative to the
    /// max-replicas it was last scaled for, never past what is left to add or remove.
    private func proportion(_ index: Int, toAdd: Int64, added: Int64) -> Int64 {
        let replicaSet = replicaSets[index]
        if replicaSet.replicas == 0 || toAdd == added { return 0 }
        let fraction: Int64
        if deployment.replicas == 0 {
            fraction = -replicaSet.replicas
        } else {
            let annotated = replicaSet.annotation(DeploymentAnnotations.maxReplicas).flatMap { Int64($0) }
                ?? cachedStatus["replicas"]?.asInt64 ?? 0
            guard annotated != 0 else { return 0 }
            let share = (Double(replicaSet.replicas) * Double(deployment.replicasMax) / Double(annotated)).rounded()
            fraction = Int64(share) - replicaSet.replicas
        }
        let allowed = toAdd - added
        return toAdd > 0 ? min(fraction, allowed) : max(fraction, allowed)
    }

    /// `FindActiveOrLatest`: the only ReplicaSet with replicas, or the newest when none has any;
    /// nil when several have replicas.
    private func activeOrLatest() -> Int? {
        if replicaSets.isEmpty { return nil }
        let active = replicaSets.indices.filter { replicaSets[$0].replicas > 0 }
        switch active.count {
        case 0: return newIndex ?? oldIndices.max { ReplicaSetOrder.byCreation(replicaSets[$0], replicaSets[$1]) }
        case 1: return active[0]
        default: return nil
        }
    }

    /// `IsSaturated`: the new ReplicaSet is sized, annotated and available for the whole Deployment.
    private func isSaturated(_ index: Int) -> Bool {
        let replicaSet = replicaSets[index]
        guard let desired = replicaSet.annotation(DeploymentAnnotations.desiredReplicas).flatMap({ Int64($0) }) else { return false }
        return replicaSet.replicas == deployment.replicas && desired == deployment.replicas
            && replicaSet.availableReplicas == deployment.replicas
    }

    // MARK: - History

    /// `cleanupDeployment`: deletes the oldest revisions beyond `revisionHistoryLimit`, but only
    /// ReplicaSets with nothing left (no replicas asked or reported, their generation observed).
    mutating func cleanupHistory() {
        guard let limit = deployment.revisionHistoryLimit else { return }
        let cleanable = oldIndices.filter { !replicaSets[$0].isCreated && !replicaSets[$0].isBeingDeleted }
        let excess = cleanable.count - Int(limit)
        if excess <= 0 { return }
        let oldestFirst = cleanable.sorted { ReplicaSetOrder.byRevision(replicaSets[$0], replicaSets[$1]) }
        for index in oldestFirst.prefix(excess) {
            let replicaSet = replicaSets[index]
            let generation = replicaSet.object.intMember("metadata", "generation") ?? 0
            let observed = replicaSet.object.intMember("status", "observedGeneration") ?? 0
            if replicaSet.statusReplicas != 0 || replicaSet.cachedReplicas != 0 || generation > observed { continue }
            let reference = ObjectReference(Self.replicaSets, namespace: deployment.namespace, name: replicaSet.name)
            deletions.append(.delete(reference, uid: replicaSet.uid))
        }
    }
}
