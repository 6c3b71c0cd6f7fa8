//! A Deployment's spec as the controller decides on it, read once from the cached JSON with the
//! apps/v1 defaults for anything missing (replicas 1, RollingUpdate 25%/25%, history 10,
//! progress deadline 600 s), and the rolling-update bounds maxSurge and maxUnavailable resolved
//! against the replica count the way `ResolveFenceposts` does.
import KubeAPI
import Wire

/// The fields of one Deployment that drive its rollout.
struct DeploymentSpecView {
    static let progressDeadlineNone = Int64(Int32.max)

    let object: JSONValue
    let namespace: String
    let name: String
    let uid: String
    let generation: Int64
    let isBeingDeleted: Bool
    let replicas: Int64
    let isRollingUpdate: Bool
    let strategyType: String
    let maxSurge: Int64
    let maxUnavailable: Int64
    let minReadySeconds: Int64
    /// Nil when every old ReplicaSet is kept (`math.MaxInt32`).
    let revisionHistoryLimit: Int64?
    /// Nil when progress is not tracked (`math.MaxInt32`).
    let progressDeadlineSeconds: Int64?
    let paused: Bool
    let template: JSONValue
    let selectorJSON: JSONValue
    let annotations: [(key: String, value: String)]

    init(_ deployment: JSONValue) {
        object = deployment
        namespace = WorkloadMetadata.namespace(deployment)
        name = deployment.stringMember("metadata", "name") ?? ""
        uid = deployment.stringMember("metadata", "uid") ?? ""
        generation = deployment.intMember("metadata", "generation") ?? 0
        isBeingDeleted = WorkloadMetadata.isBeingDeleted(deployment)
        replicas = max(0, deployment.intMember("spec", "replicas") ?? 1)
        strategyType = deployment.stringMember("spec", "strategy", "type") ?? "RollingUpdate"
        isRollingUpdate = strategyType == "RollingUpdate"
        if isRollingUpdate {
            let rollingUpdate = deployment.member("spec", "strategy", "rollingUpdate")
            let bounds = RollingUpdateBounds.resolve(
                maxSurge: rollingUpdate?["maxSurge"] ?? .string("25%"),
                maxUnavailable: rollingUpdate?["maxUnavailable"] ?? .string("25%"), replicas: replicas)
            maxSurge = bounds.surge
            // MaxUnavailable: never more than the replicas, and nothing to lose at zero replicas.
            maxUnavailable = replicas == 0 ? 0 : min(bounds.unavailable, replicas)
        } else {
            maxSurge = 0
            maxUnavailable = 0
        }
        minReadySeconds = deployment.intMember("spec", "minReadySeconds") ?? 0
        let history = deployment.intMember("spec", "revisionHistoryLimit") ?? 10
        revisionHistoryLimit = history == Int64(Int32.max) ? nil : history
        let deadline = deployment.intMember("spec", "progressDeadlineSeconds") ?? 600
        progressDeadlineSeconds = deadline == Self.progressDeadlineNone ? nil : deadline
        paused = deployment.boolMember("spec", "paused") ?? false
        template = deployment.member("spec", "template") ?? .object(JSONObject())
        selectorJSON = deployment.member("spec", "selector") ?? .null
        annotations = deployment.member("metadata", "annotations")?.stringPairs ?? []
    }

    var key: String { "\(namespace)/\(name)" }
    /// The most pods all ReplicaSets may ask for during a rollout.
    var replicasMax: Int64 { replicas + maxSurge }
    /// `MinAvailable`: the fewest available pods a rollout may leave.
    var availableMin: Int64 { replicas - maxUnavailable }
}

/// maxSurge and maxUnavailable as pod counts.
enum RollingUpdateBounds {
    /// Resolves both bounds against `replicas`: surge rounds up, unavailable rounds down, and if
    /// both come to zero (a small percentage of few replicas) unavailable becomes 1 so the
    /// rollout can still move. Validation rejects both being zero explicitly.
    static func resolve(maxSurge: JSONValue, maxUnavailable: JSONValue, replicas: Int64) -> (surge: Int64, unavailable: Int64) {
        let surge = scaled(maxSurge, total: replicas, roundUp: true) ?? 0
        var unavailable = scaled(maxUnavailable, total: replicas, roundUp: false) ?? 0
        if surge == 0 && unavailable == 0 { unavailable = 1 }
        return (surge, unavailable)
    }

    /// An IntOrString: an integer as is, `"N%"` as that share of `total`; nil when malformed.
    static func scaled(_ value: JSONValue, total: Int64, roundUp: Bool) -> Int64? {
        switch value {
        case .null: return 0
        case .integer(let count): return count
        case .string(let text):
            // A string must be a percentage: Kubernetes rejects `"5"` (validation catches it first).
            guard text.hasSuffix("%"), let percent = Int64(text.dropLast()) else { return nil }
            let product = percent * total
            if roundUp { return product >= 0 ? (product + 99) / 100 : -((-product) / 100) }
            return product >= 0 ? product / 100 : -((-product + 99) / 100)
        default: return nil
        }
    }
}
