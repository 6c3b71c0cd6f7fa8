//! A fake cluster for the workload controller tests: objects in a dictionary, the controllers'
//! actions applied to them the way the apiserver would (uids, resourceVersions with conflict
//! checks, generations, `/status`, merge patches, graceful pod deletion), a kubelet that
//! schedules, runs and readies pods, and a clock that moves one step at a time. The watch is the
//! calls to `observedCreate`/`observedDelete`, which a test can hold back.
import Base
import KubeAPI
import KubeControllers
import Wire

struct WorkloadFakeCluster {
    static let pods = APIResource.standard("pods")
    static let replicaSets = APIResource.standard("replicasets", group: "apps")
    static let deployments = APIResource.standard("deployments", group: "apps")

    /// Objects by `plural/namespace/name`.
    var objects: [String: JSONValue] = [:]
    var now: Nanoseconds = 0
    var wallNow: Int64 = 1_750_000_000
    var replicaSetController: ReplicaSetController
    let deploymentController = DeploymentController()
    /// Pods whose first container runs one of these images never become ready.
    var unreadyImages: Set<String> = []
    /// When false, the ReplicaSet controller is not told about pod creations and deletions.
    var deliversPodEvents = true
    /// When set, every pod creation fails with this message.
    var podCreateFailure: String?
    var events: [(reason: String, message: String)] = []
    /// The last requeue delay each controller asked for, by object key.
    var requeues: [String: Nanoseconds] = [:]
    private var counter = 0

    init(replicaSetSettings: ReplicaSetController.Settings = .init()) {
        replicaSetController = ReplicaSetController(settings: replicaSetSettings)
    }

    // MARK: - Reading

    func all(_ resource: APIResource) -> [JSONValue] {
        objects.keys.filter { $0.hasPrefix(resource.plural + "/") }.sorted().map { objects[$0]! }
    }

    func get(_ resource: APIResource, _ name: String, namespace: String = "default") -> JSONValue? {
        objects["\(resource.plural)/\(namespace)/\(name)"]
    }

    var pods: [JSONValue] { all(Self.pods) }
    var replicaSetObjects: [JSONValue] { all(Self.replicaSets) }

    /// Pods not finished and not being deleted.
    var activePods: [JSONValue] {
        pods.filter { $0.member("metadata", "deletionTimestamp") == nil && $0.stringMember("status", "phase") != "Failed" }
    }

    func isReady(_ pod: JSONValue) -> Bool {
        pod.arrayMember("status", "conditions").contains { $0.stringMember("type") == "Ready" && $0.stringMember("status") == "True" }
    }

    func controllerUID(_ object: JSONValue) -> String? {
        object.arrayMember("metadata", "ownerReferences").first { $0.boolMember("controller") == true }?.stringMember("uid")
    }

    func deployment(_ name: String) -> JSONValue { get(Self.deployments, name)! }

    // MARK: - Writing (what the apiserver would do)

    /// Creates an object as a client would (not through a controller).
    @discardableResult
    mutating func create(_ resource: APIResource, _ object: JSONValue) -> JSONValue {
        let created = apply(.create(resource, namespace: "default", object: object))
        precondition(created != nil, "could not create \(object)")
        return created!
    }

    /// Edits an object as a client would (a PUT: spec changes bump the generation).
    mutating func edit(_ resource: APIResource, _ name: String, _ change: (inout JSONValue) -> Void) {
        var object = get(resource, name)!
        change(&object)
        let done = apply(.update(ObjectReference(resource, namespace: "default", name: name), object: object))
        precondition(done != nil, "edit of \(name) failed")
    }

    /// Applies one action; nil when the apiserver would have refused it (exists, conflict, gone).
    @discardableResult
    mutating func apply(_ action: ObjectAction) -> JSONValue? {
        switch action {
        case .create(let resource, let namespace, let object):
            return createObject(resource, namespace: namespace ?? "default", object)
        case .update(let reference, let object, let subresource):
            guard let current = objects[key(reference)] else { return nil }
            if let expected = object.stringMember("metadata", "resourceVersion"),
                expected != current.stringMember("metadata", "resourceVersion")
            {
                return nil
            }
            if subresource == "status" {
                var next = current
                next.set("status", object.member("status"))
                return store(reference, next, over: current)
            }
            var next = object
            next.set("status", current.member("status"))
            return store(reference, next, over: current)
        case .mergePatch(let reference, let patch, _):
            guard let current = objects[key(reference)] else { return nil }
            if let expected = patch.stringMember("metadata", "resourceVersion"),
                expected != current.stringMember("metadata", "resourceVersion")
            {
                return nil
            }
            return store(reference, MergePatch.apply(patch, to: current), over: current)
        case .delete(let reference, let uid, _, _):
            return deleteObject(reference, uid: uid)
        case .event(_, _, let reason, let message):
            events.append((reason, message))
            return .null
        case .bind:
            return nil
        }
    }

    private func key(_ reference: ObjectReference) -> String {
        "\(reference.resource.plural)/\(reference.namespace ?? "")/\(reference.name)"
    }

    private mutating func createObject(_ resource: APIResource, namespace: String, _ object: JSONValue) -> JSONValue? {
        if resource == Self.pods && podCreateFailure != nil { return nil }
        counter += 1
        var created = object
        var name = object.stringMember("metadata", "name") ?? ""
        if name.isEmpty { name = (object.stringMember("metadata", "generateName") ?? "x-") + "p\(counter)" }
        let reference = ObjectReference(resource, namespace: namespace, name: name)
        guard objects[key(reference)] == nil else { return nil }
        created.set("metadata.name", .string(name))
        created.set("metadata.namespace", .string(namespace))
        created.set("metadata.uid", .string("uid-\(counter)"))
        created.set("metadata.generation", .integer(1))
        created.set("metadata.creationTimestamp", .string(KubeTime.format(wallNow)))
        created.set("metadata.resourceVersion", .string(String(counter)))
        if resource == Self.pods {
            created.set("status", .object(["phase": .string("Pending")]))
        } else {
            created.set("status", .object(JSONObject()))
        }
        objects[key(reference)] = created
        if resource == Self.pods && deliversPodEvents { replicaSetController.observedCreate(pod: created) }
        return created
    }

    /// Writes `next` over `current` keeping the server-owned metadata, bumping the generation when
    /// the spec changed and the resourceVersion always.
    private mutating func store(_ reference: ObjectReference, _ next: JSONValue, over current: JSONValue) -> JSONValue {
        counter += 1
        var stored = next
        for field in ["uid", "creationTimestamp", "generation", "deletionTimestamp", "name", "namespace"] {
            stored.set("metadata.\(field)", current.member("metadata", field))
        }
        if next.member("spec") != current.member("spec") {
            stored.set("metadata.generation", .integer((current.intMember("metadata", "generation") ?? 0) + 1))
        }
        stored.set("metadata.resourceVersion", .string(String(counter)))
        objects[key(reference)] = stored
        return stored
    }

    private mutating func deleteObject(_ reference: ObjectReference, uid: String?) -> JSONValue? {
        guard let current = objects[key(reference)] else { return nil }
        if let uid, current.stringMember("metadata", "uid") != uid { return nil }
        let isPod = reference.resource == Self.pods
        if isPod && !(current.stringMember("spec", "nodeName") ?? "").isEmpty {
            // Graceful: the kubelet finishes it on its next pass.
            var terminating = current
            terminating.set("metadata.deletionTimestamp", .string(KubeTime.format(wallNow)))
            objects[key(reference)] = terminating
            if deliversPodEvents { replicaSetController.observedDelete(pod: terminating) }
            return terminating
        }
        objects[key(reference)] = nil
        if isPod && deliversPodEvents { replicaSetController.observedDelete(pod: current) }
        return current
    }

    // MARK: - Controllers and kubelet

    /// One pass of the ReplicaSet controller over every ReplicaSet, its writes applied.
    mutating func syncReplicaSets() {
        for replicaSet in replicaSetObjects {
            let result = replicaSetController.sync(replicaSet: replicaSet, pods: pods, now: now, wallNow: wallNow)
            let key = ReplicaSetController.key(namespace: "default", name: replicaSet.stringMember("metadata", "name")!)
            requeues[key] = result.requeueAfter
            for claim in result.claims { apply(claim) }
            var remaining = result.podCreates[...]
            for batch in result.createBatches {
                let failures = remaining.prefix(batch).filter { apply($0) == nil }.count
                remaining = remaining.dropFirst(batch)
                if failures > 0 {
                    replicaSetController.createsFailed(
                        replicaSetKey: key, count: failures + remaining.count, message: podCreateFailure ?? "create failed")
                    break
                }
            }
            for delete in result.podDeletes { apply(delete) }
            if let status = result.statusUpdate { apply(status) }
        }
    }

    /// One pass of the Deployment controller over every Deployment, stopping at a failed write.
    mutating func syncDeployments() {
        for deployment in all(Self.deployments) {
            let result = deploymentController.sync(deployment: deployment, replicaSets: replicaSetObjects, pods: pods, wallNow: wallNow)
            requeues["deployment/" + deployment.stringMember("metadata", "name")!] = result.requeueAfter
            for action in result.actions {
                if apply(action) == nil { break }
            }
        }
    }

    /// The kubelet: finishes terminating pods, schedules new ones round robin on three nodes,
    /// runs them, and on its next pass marks them ready unless their image is in `unreadyImages`.
    mutating func runKubelet() {
        for pod in pods {
            let reference = ObjectReference(Self.pods, namespace: "default", name: pod.stringMember("metadata", "name")!)
            if pod.member("metadata", "deletionTimestamp") != nil {
                objects[key(reference)] = nil
                if deliversPodEvents { replicaSetController.observedDelete(pod: pod) }
                continue
            }
            var next = pod
            if (pod.stringMember("spec", "nodeName") ?? "").isEmpty {
                counter += 1
                next.set("spec.nodeName", .string("node-\(counter % 3)"))
            }
            next.set("status.phase", .string("Running"))
            // A pod becomes ready on the pass after it started running, so a rollout sees pods
            // that exist but are not yet available.
            let image = pod.member("spec", "containers")?.asArray?.first?.stringMember("image") ?? ""
            let ready = pod.stringMember("status", "phase") == "Running" && !unreadyImages.contains(image)
            if isReady(pod) != ready || pod.arrayMember("status", "conditions").isEmpty {
                next.set("status.conditions", .array([.object([
                    "type": .string("Ready"), "status": .string(ready ? "True" : "False"),
                    "lastTransitionTime": .string(KubeTime.format(wallNow)),
                ])]))
            }
            if next != pod { _ = store(reference, next, over: pod) }
        }
    }

    /// One step of the world: ReplicaSets, Deployments, kubelet, then a second passes.
    mutating func step() {
        syncReplicaSets()
        syncDeployments()
        runKubelet()
        now += Time.second
        wallNow += 1
    }
}

// MARK: - Fixtures

enum WorkloadFixtures {
    static func podTemplate(image: String, app: String = "web") -> JSONValue {
        .object([
            "metadata": .object(["labels": .object(["app": .string(app)])]),
            "spec": .object(["containers": .array([.object(["name": .string("web"), "image": .string(image)])])]),
        ])
    }

    static func replicaSet(name: String = "web", replicas: Int64, app: String = "web", minReadySeconds: Int64 = 0) -> JSONValue {
        .object([
            "apiVersion": .string("apps/v1"), "kind": .string("ReplicaSet"),
            "metadata": .object(["name": .string(name)]),
            "spec": .object([
                "replicas": .integer(replicas), "minReadySeconds": .integer(minReadySeconds),
                "selector": .object(["matchLabels": .object(["app": .string(app)])]),
                "template": podTemplate(image: "nginx:1", app: app),
            ]),
        ])
    }

    static func deployment(
        name: String = "web", replicas: Int64, image: String = "nginx:1", strategy: String = "RollingUpdate",
        maxSurge: JSONValue = .string("25%"), maxUnavailable: JSONValue = .string("25%"), revisionHistoryLimit: Int64 = 10,
        progressDeadlineSeconds: Int64 = 600
    ) -> JSONValue {
        var strategyObject: JSONObject = ["type": .string(strategy)]
        if strategy == "RollingUpdate" {
            strategyObject["rollingUpdate"] = .object(["maxSurge": maxSurge, "maxUnavailable": maxUnavailable])
        }
        return .object([
            "apiVersion": .string("apps/v1"), "kind": .string("Deployment"),
            "metadata": .object(["name": .string(name)]),
            "spec": .object([
                "replicas": .integer(replicas), "selector": .object(["matchLabels": .object(["app": .string("web")])]),
                "template": podTemplate(image: image), "strategy": .object(strategyObject),
                "revisionHistoryLimit": .integer(revisionHistoryLimit), "progressDeadlineSeconds": .integer(progressDeadlineSeconds),
            ]),
        ])
    }

    /// A pod for ranking and claiming tests.
    static func pod(
        name: String, app: String = "web", node: String = "node-1", phase: String = "Running", readySince: Int64? = nil,
        created: Int64 = 1_750_000_000, restarts: Int64 = 0, owner: (name: String, uid: String)? = nil, uid: String? = nil
    ) -> JSONValue {
        var metadata: JSONObject = [
            "name": .string(name), "namespace": .string("default"), "uid": .string(uid ?? "uid-\(name)"),
            "resourceVersion": .string("7"), "labels": .object(["app": .string(app)]),
            "creationTimestamp": .string(KubeTime.format(created)),
        ]
        if let owner {
            metadata["ownerReferences"] = .array([.object([
                "apiVersion": .string("apps/v1"), "kind": .string("ReplicaSet"), "name": .string(owner.name),
                "uid": .string(owner.uid), "controller": .bool(true), "blockOwnerDeletion": .bool(true),
            ])])
        }
        var status: JSONObject = ["phase": .string(phase)]
        status["conditions"] = .array([.object([
            "type": .string("Ready"), "status": .string(readySince == nil ? "False" : "True"),
            "lastTransitionTime": .string(KubeTime.format(readySince ?? created)),
        ])])
        status["containerStatuses"] = .array([.object(["name": .string("web"), "restartCount": .integer(restarts)])])
        return .object([
            "metadata": .object(metadata), "spec": .object(["nodeName": .string(node)]), "status": .object(status),
        ])
    }
}
