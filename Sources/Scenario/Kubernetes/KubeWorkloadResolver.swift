//! KubeWorkloadResolver: the checks on a scenario's `kubernetes:` section and its defaults
//! (Kubernetes' own: RollingUpdate with 25% surge rounded up and 25% unavailable rounded down).

import Base
import Topology

extension ScenarioResolver {
    func resolveKubeWorkload(_ located: Located<KubeWorkloadSpec>) throws(DocumentError) -> KubeWorkload {
        let spec = located.value
        let duration = spec.duration.value.nanoseconds
        guard duration > 0 else { throw error(spec.duration.position, "duration must be more than 0, e.g. 60s") }
        let settle = spec.settle?.value.nanoseconds ?? KubeWorkload.settleDefault
        let deployment = try resolveDeployment(spec.deployment)
        var rollout: RolloutPlan?
        if let given = spec.rollout {
            let at = given.value.at.value.nanoseconds
            guard at < duration else {
                throw error(given.value.at.position,
                    "the rollout starts at \(Time.describe(at)), not before the workload ends at \(Time.describe(duration)); start it earlier or lengthen the duration")
            }
            let image = given.value.image.value
            guard !image.isEmpty, !image.contains(where: \.isWhitespace) else {
                throw error(given.value.image.position, "image must be one word without spaces, e.g. faultline/http:v2")
            }
            guard image != deployment.image else {
                throw error(given.value.image.position,
                    "the rollout's image is the Deployment's image already ('\(image)'), so nothing would roll out; name a new one, e.g. faultline/http:v2")
            }
            rollout = RolloutPlan(at: at, image: image)
        }
        guard topology.hosts.contains(where: { $0.role == .kubelet }), topology.hosts.contains(where: { $0.role == .apiserver }) else {
            throw error(located.position,
                "a Kubernetes workload needs apiserver and kubelet hosts, and the topology '\(topology.name)' has none; use Topologies/k8s-ha.yaml or add them")
        }
        return KubeWorkload(duration: duration, settle: settle, deployment: deployment, rollout: rollout)
    }

    func resolveDeployment(_ located: Located<DeploymentSpec>) throws(DocumentError) -> DeploymentPlan {
        let spec = located.value
        let name = spec.name?.value ?? "web"
        let isLabel = !name.isEmpty && name.count <= 63 && name.first!.isLetter && name.last.map { $0 != "-" } == true
            && name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
        guard isLabel else {
            throw error(spec.name?.position, "Deployment name '\(name)' must be a DNS label: lowercase letters, digits and '-', starting with a letter")
        }
        let replicas = spec.replicas.value
        guard (1...KubeWorkload.replicasMax).contains(replicas) else {
            throw error(spec.replicas.position, "replicas must be between 1 and \(KubeWorkload.replicasMax), got \(replicas)")
        }
        let image = spec.image?.value ?? KubeWorkload.defaultImage
        guard !image.isEmpty, !image.contains(where: \.isWhitespace) else {
            throw error(spec.image?.position, "image must be one word without spaces, e.g. \(KubeWorkload.defaultImage)")
        }
        let strategy = spec.strategy?.value ?? .rollingUpdate
        for bound in [spec.maxSurge, spec.maxUnavailable].compactMap({ $0 }) where bound.value < 0 {
            throw error(bound.position, "a rolling update's bound is a number of pods, 0 or more, got \(bound.value)")
        }
        if strategy == .recreate {
            if let given = spec.maxSurge ?? spec.maxUnavailable {
                throw error(given.position, "max-surge and max-unavailable apply to RollingUpdate; a Recreate Deployment takes neither")
            }
            return DeploymentPlan(name: name, replicas: replicas, image: image, strategy: strategy, maxSurge: 0, maxUnavailable: replicas)
        }
        // Kubernetes' defaults: 25% each, surge rounded up, unavailable rounded down.
        let maxSurge = spec.maxSurge?.value ?? (replicas + 3) / 4
        let maxUnavailable = spec.maxUnavailable?.value ?? replicas / 4
        guard maxSurge > 0 || maxUnavailable > 0 else {
            throw error(spec.maxSurge?.position ?? spec.maxUnavailable?.position ?? located.position,
                "max-surge and max-unavailable are both 0, so a rolling update could never make progress (Kubernetes refuses it too); raise one")
        }
        return DeploymentPlan(name: name, replicas: replicas, image: image, strategy: strategy, maxSurge: maxSurge,
            maxUnavailable: maxUnavailable)
    }
}
