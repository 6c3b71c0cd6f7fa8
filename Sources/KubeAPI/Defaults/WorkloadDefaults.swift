//! Defaulting of the apps/v1 workloads the controllers manage: Deployments and ReplicaSets.
//!
//! Their pod templates get the pod-spec defaults but no admission: the toleration and priority
//! plugins act on pods when the ReplicaSet creates them. Defaulting the template matters beyond
//! `-o yaml`: the deployment controller hashes the defaulted template for `pod-template-hash`,
//! so `rollout undo` finds the old ReplicaSet again.
import Wire

enum WorkloadDefaults {
    static func applyToDeployment(_ deployment: inout JSONObject) {
        deployment.editObject("spec", create: true) { spec in
            spec.fillDefault("replicas", .integer(1))
            spec.editObject("strategy", create: true) { strategy in
                strategy.fillDefault("type", .string("RollingUpdate"))
                guard strategy["type"]?.asString == "RollingUpdate" else { return }
                strategy.editObject("rollingUpdate", create: true) { rollingUpdate in
                    rollingUpdate.fillDefault("maxUnavailable", .string("25%"))
                    rollingUpdate.fillDefault("maxSurge", .string("25%"))
                }
            }
            spec.fillDefault("revisionHistoryLimit", .integer(10))
            spec.fillDefault("progressDeadlineSeconds", .integer(600))
            applyToTemplate(&spec)
        }
    }

    static func applyToReplicaSet(_ replicaSet: inout JSONObject) {
        replicaSet.editObject("spec", create: true) { spec in
            spec.fillDefault("replicas", .integer(1))
            applyToTemplate(&spec)
        }
    }

    private static func applyToTemplate(_ spec: inout JSONObject) {
        spec.editObject("template") { template in
            template.editObject("spec", create: true, PodDefaults.applyToPodSpec)
        }
    }
}
