//! One pass of the controller-manager (`ControllerManagerDaemon`): node lifecycle and taint
//! eviction, then the ReplicaSets, Deployments and Services marked due, a garbage-collector pass
//! when the owner graph changed, and the namespaces being deleted, each controller's answer sent
//! as it comes.

import Base
import Foundation
import KubeAPI
import KubeClient
import KubeControllers
import Net
import Wire

extension ControllerManagerDaemon {
    // MARK: - One pass

    func pass(_ parts: Parts, _ sender: ActionSender, now: Nanoseconds) -> Nanoseconds? {
        let wallNow = Int64(FaultClock.shared.wallNow().timeIntervalSince1970)
        // What is due is taken before the caches are read: a change that lands after this marks
        // its keys again for the next pass. Taken after the reads, a pod that became ready
        // between the two would have its mark consumed by a pass that saw it not ready, and its
        // Service's Endpoints would stay empty (KubeProxyLiveTests caught that).
        let (dueSets, dueDeployments, podMarks) = state.withLock { state in
            let sets = state.replicaSetKeys.filter { $0.value <= now }.map(\.key).sorted()
            for key in sets { state.replicaSetKeys[key] = nil }
            let deployments = state.deploymentKeys.filter { $0.value <= now }.map(\.key).sorted()
            for key in deployments { state.deploymentKeys[key] = nil }
            let marks = (changedLabels: state.changedPodLabels, everyService: state.everyServiceDue)
            state.changedPodLabels = [:]
            state.changedPodLabelCount = 0
            state.everyServiceDue = false
            return (sets, deployments, marks)
        }
        let nodes = parts.nodes.list()
        let pods = parts.pods.list()
        var podsByNamespace: [String: [JSONValue]] = [:]
        for pod in pods { podsByNamespace[pod.stringMember("metadata", "namespace") ?? "", default: []].append(pod) }

        // Node lifecycle and taint eviction.
        let actions: [ObjectAction] = state.withLock { state in
            var actions: [ObjectAction] = []
            for node in state.changedNodes { actions += state.nodeLifecycle.nodeChanged(node, now: now, wallNow: wallNow) }
            state.changedNodes.removeAll()
            if now >= state.nextMonitor {
                actions += state.nodeLifecycle.monitor(nodes: nodes, leases: parts.leases.list(), pods: pods, now: now, wallNow: wallNow)
                state.nextMonitor = now + configuration.nodeLifecycle.nodeMonitorPeriod
            }
            if let attempt = state.nodeLifecycle.nextTaintingAttempt(now: now), attempt <= now {
                actions += state.nodeLifecycle.noExecuteTaintingPass(nodes: nodes, now: now, wallNow: wallNow)
            }
            if state.podsOrNodesMoved || (state.taintEviction.nextEvictionAt.map { $0 <= wallNow } ?? false) {
                state.podsOrNodesMoved = false
                actions += state.taintEviction.reconcile(nodes: nodes, pods: pods, wallNow: wallNow)
            }
            return actions
        }
        sender.send(actions)

        // ReplicaSets due now.
        for key in dueSets { syncReplicaSet(key, parts, podsByNamespace, sender, now: now, wallNow: wallNow) }

        // Deployments due now.
        // ReplicaSets grouped once per pass, as the pods are, not listed again for each Deployment.
        var setsByNamespace: [String: [JSONValue]] = [:]
        if !dueDeployments.isEmpty {
            for set in parts.replicaSets.list() { setsByNamespace[set.stringMember("metadata", "namespace") ?? "", default: []].append(set) }
        }
        for key in dueDeployments {
            guard let deployment = parts.deployments.get(key) else { continue }
            let namespace = deployment.stringMember("metadata", "namespace") ?? ""
            let sets = setsByNamespace[namespace] ?? []
            let sync = state.withLock {
                $0.deploymentController.sync(deployment: deployment, replicaSets: sets, pods: podsByNamespace[namespace] ?? [], wallNow: wallNow)
            }
            sender.send(sync.actions, stopOnFailure: true)
            if let after = sync.requeueAfter { state.withLock { $0.deploymentKeys[key] = min($0.deploymentKeys[key] ?? .max, now + after) } }
        }

        syncEndpoints(parts, podsByNamespace, podMarks, sender, now: now)
        collectGarbage(parts, sender, now: now)
        syncNamespaces(parts, sender, now: now, wallNow: wallNow)

        return state.withLock { state -> Nanoseconds? in
            var next = state.nextMonitor
            if let attempt = state.nodeLifecycle.nextTaintingAttempt(now: now) { next = min(next, attempt) }
            if let eviction = state.taintEviction.nextEvictionAt { next = min(next, now + max(0, eviction - wallNow) * Time.second) }
            for due in state.replicaSetKeys.values { next = min(next, due) }
            for due in state.deploymentKeys.values { next = min(next, due) }
            for due in state.serviceKeys.values { next = min(next, due) }
            for due in state.namespaceKeys.values { next = min(next, due) }
            if let resync = state.collectionResyncAt { next = min(next, resync) }
            if state.collectionDue { next = min(next, state.nextCollectionAllowed) }
            return next
        }
    }

    private func syncReplicaSet(_ key: String, _ parts: Parts, _ podsByNamespace: [String: [JSONValue]], _ sender: ActionSender,
        now: Nanoseconds, wallNow: Int64)
    {
        guard let set = parts.replicaSets.get(key) else {
            state.withLock { $0.replicaSetController.forget(replicaSetKey: key) }
            return
        }
        let namespace = set.stringMember("metadata", "namespace") ?? ""
        let sync = state.withLock { $0.replicaSetController.sync(replicaSet: set, pods: podsByNamespace[namespace] ?? [], now: now, wallNow: wallNow) }
        sender.send(sync.claims)
        // Creates in slow-start batches: after a batch with a failure, the rest are not tried.
        var remaining = sync.podCreates[...]
        for batch in sync.createBatches {
            let chunk = remaining.prefix(batch)
            remaining = remaining.dropFirst(batch)
            let failures = chunk.filter { !sender.send($0) }.count
            if failures > 0 {
                state.withLock {
                    $0.replicaSetController.createsFailed(replicaSetKey: key, count: failures + remaining.count,
                        message: "\(failures) of \(chunk.count) pod creates failed")
                }
                break
            }
        }
        let reference = ObjectReference(.standard("replicasets", group: "apps"), object: set)
        if let reference, !sync.podCreates.isEmpty {
            sender.send(.event(involved: reference, type: "Normal", reason: "SuccessfulCreate",
                message: "Created \(sync.podCreates.count) pod\(sync.podCreates.count == 1 ? "" : "s")"))
        }
        for delete in sync.podDeletes where !sender.send(delete) {
            guard case .delete(let pod, _, _, _) = delete, let cached = parts.pods.get("\(pod.namespace ?? "")/\(pod.name)") else { continue }
            state.withLock { $0.replicaSetController.deleteFailed(replicaSetKey: key, pod: cached, message: "delete of \(pod) failed") }
        }
        if let status = sync.statusUpdate { sender.send(status) }
        if let after = sync.requeueAfter { state.withLock { $0.replicaSetKeys[key] = min($0.replicaSetKeys[key] ?? .max, now + after) } }
    }


    // MARK: - Endpoints

    /// Marks the services selecting the pods that changed, then syncs the services due.
    private func syncEndpoints(_ parts: Parts, _ podsByNamespace: [String: [JSONValue]],
        _ podMarks: (changedLabels: [String: Set<[String: String]>], everyService: Bool), _ sender: ActionSender, now: Nanoseconds)
    {
        let (changedLabels, everyService) = podMarks
        if everyService || !changedLabels.isEmpty {
            var selected: [String] = []
            for service in parts.services.list() {
                let namespace = service.stringMember("metadata", "namespace") ?? ""
                let selector = service.member("spec", "selector")?.stringPairs ?? []
                guard !selector.isEmpty, everyService || changedLabels[namespace] != nil else { continue }
                let selects = everyService || changedLabels[namespace]!.contains { labels in selector.allSatisfy { labels[$0.key] == $0.value } }
                if selects { selected.append(Self.key(of: service)) }
            }
            state.withLock { state in for key in selected { state.serviceKeys[key] = 0 } }
        }

        let due = state.withLock { state in
            let due = state.serviceKeys.filter { $0.value <= now }.map(\.key).sorted()
            for key in due { state.serviceKeys[key] = nil }
            return due
        }
        for key in due {
            guard let slash = key.firstIndex(of: "/") else { continue }
            let namespace = String(key[..<slash]), name = String(key[key.index(after: slash)...])
            let actions = endpointsController.sync(namespace: namespace, name: name, service: parts.services.get(key),
                pods: podsByNamespace[namespace] ?? [], existing: parts.endpoints.get(key))
            let failed = actions.filter { !sender.send($0) }.count
            // A namespace being deleted refuses new Endpoints: nothing to retry there (as in Kubernetes).
            let terminating = parts.namespaces.get(namespace).map(NamespaceController.isTerminating) ?? false
            if failed > 0 && !terminating {
                let retry = now + configuration.endpointsRetryDelay
                state.withLock { $0.serviceKeys[key] = min($0.serviceKeys[key] ?? .max, retry) }
            }
        }
    }

    // MARK: - Garbage collection

    /// One collector pass over every owner cache when the owner graph changed (at most one per
    /// `garbageCollectionSpacing`) or the collector's own resync time has come.
    private func collectGarbage(_ parts: Parts, _ sender: ActionSender, now: Nanoseconds) {
        let due = state.withLock { state -> Bool in
            let resync = state.collectionResyncAt.map { $0 <= now } ?? false
            guard resync || (state.collectionDue && now >= state.nextCollectionAllowed) else { return false }
            // Cleared before the caches are read: a change from now on asks for another pass.
            state.collectionDue = false
            state.nextCollectionAllowed = now + configuration.garbageCollectionSpacing
            return true
        }
        guard due else { return }
        var objects: [APIResource: [JSONValue]] = [:]
        for informer in parts.collected { objects[informer.resource] = informer.list() }
        let collection = state.withLock { state in
            let collection = state.garbageCollector.sync(objects: objects, now: now)
            state.collectionResyncAt = collection.resyncAt
            return collection
        }
        // A write that fails is asked for again by the collector after its backoff.
        sender.send(collection.actions)
    }

    // MARK: - Namespaces

    /// Syncs the namespaces being deleted that are due: at once when marked, again after their
    /// content changed (at most once per `namespaceSyncSpacing`) or the controller's recheck.
    private func syncNamespaces(_ parts: Parts, _ sender: ActionSender, now: Nanoseconds, wallNow: Int64) {
        let due = state.withLock { state in
            for name in state.contentChangedIn where state.namespaceKeys[name] != nil {
                let soonest = (state.lastNamespaceSync[name] ?? 0) + configuration.namespaceSyncSpacing
                state.namespaceKeys[name] = min(state.namespaceKeys[name]!, max(now, soonest))
            }
            state.contentChangedIn = []
            let due = state.namespaceKeys.filter { $0.value <= now }.map(\.key).sorted()
            for name in due { state.lastNamespaceSync[name] = now }
            return due
        }
        for name in due {
            let requeue = syncNamespace(name, parts.client, sender, wallNow: wallNow)
            state.withLock { state in
                // The informer may have seen the namespace go meanwhile; then its key is gone for good.
                guard state.namespaceKeys[name] != nil else { return }
                if let requeue {
                    state.namespaceKeys[name] = now + requeue
                } else {
                    state.namespaceKeys[name] = nil
                    state.lastNamespaceSync[name] = nil
                }
            }
        }
    }

    /// One sync of the namespace `name` from what the apiserver holds now (not the caches: a
    /// cache a moment behind could show the namespace empty while it is not). When to sync it
    /// again; nil once it is gone or no longer being deleted.
    private func syncNamespace(_ name: String, _ client: APIClient, _ sender: ActionSender, wallNow: Int64) -> Nanoseconds? {
        let recheck = configuration.namespaces.recheckInterval
        let namespace: JSONValue
        do {
            namespace = try client.get(ObjectReference(.standard("namespaces"), namespace: nil, name: name))
        } catch {
            if error.isNotFound { return nil }
            settings.log("namespace \(name): reading it failed: \(error)")
            return recheck
        }
        guard NamespaceController.isTerminating(namespace) else { return nil }
        var content: [APIResource: [JSONValue]] = [:]
        for resource in NamespaceController.contentResources {
            do {
                content[resource] = try client.list(resource, namespace: name).items
            } catch {
                // The rest are not tried: the apiserver is likely out of reach, and a resource
                // not listed keeps the namespace from being finalized anyway.
                settings.log("namespace \(name): listing \(resource.qualifiedName) failed: \(error)")
                break
            }
        }
        let sync = namespaceController.sync(namespace: namespace, content: content, timestamp: KubeTime.format(wallNow))
        sender.send(sync.actions)
        return sync.requeueAfter
    }
}
