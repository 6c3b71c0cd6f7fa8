//! The protobuf schema of apps/v1: Deployment, ReplicaSet, StatefulSet, DaemonSet.
//!
//! Field numbers, JSON names and pointer-ness are interface facts read from Kubernetes'
//! generated.proto and the Go struct tags in types.go; `ProtobufSchema` explains the columns.

extension ProtobufSchema {
    static let appsMessages: [ProtobufMessage] = [
        ProtobufMessage("Deployment", [
            ProtobufField(1, "metadata", .message("ObjectMeta")),
            ProtobufField(2, "spec", .message("DeploymentSpec")),
            ProtobufField(3, "status", .message("DeploymentStatus")),
        ]),
        ProtobufMessage("ReplicaSet", [
            ProtobufField(1, "metadata", .message("ObjectMeta")),
            ProtobufField(2, "spec", .message("ReplicaSetSpec")),
            ProtobufField(3, "status", .message("ReplicaSetStatus")),
        ]),
        ProtobufMessage("StatefulSet", [
            ProtobufField(1, "metadata", .message("ObjectMeta")),
            ProtobufField(2, "spec", .message("StatefulSetSpec")),
            ProtobufField(3, "status", .message("StatefulSetStatus")),
        ]),
        ProtobufMessage("DaemonSet", [
            ProtobufField(1, "metadata", .message("ObjectMeta")),
            ProtobufField(2, "spec", .message("DaemonSetSpec")),
            ProtobufField(3, "status", .message("DaemonSetStatus")),
        ]),
        ProtobufMessage("DeploymentSpec", [
            ProtobufField(1, "replicas", .int32, .pointer),
            ProtobufField(2, "selector", .message("LabelSelector"), .pointer),
            ProtobufField(3, "template", .message("PodTemplateSpec"), .always),
            ProtobufField(4, "strategy", .message("DeploymentStrategy")),
            ProtobufField(5, "minReadySeconds", .int32),
            ProtobufField(6, "revisionHistoryLimit", .int32, .pointer),
            ProtobufField(7, "paused", .bool),
            ProtobufField(9, "progressDeadlineSeconds", .int32, .pointer),
        ]),
        ProtobufMessage("DeploymentStatus", [
            ProtobufField(1, "observedGeneration", .int64),
            ProtobufField(2, "replicas", .int32),
            ProtobufField(3, "updatedReplicas", .int32),
            ProtobufField(7, "readyReplicas", .int32),
            ProtobufField(4, "availableReplicas", .int32),
            ProtobufField(5, "unavailableReplicas", .int32),
            ProtobufField(9, "terminatingReplicas", .int32, .pointer),
            ProtobufField(6, "conditions", .list(.message("DeploymentCondition"))),
            ProtobufField(8, "collisionCount", .int32, .pointer),
        ]),
        ProtobufMessage("ReplicaSetSpec", [
            ProtobufField(1, "replicas", .int32, .pointer),
            ProtobufField(4, "minReadySeconds", .int32),
            ProtobufField(2, "selector", .message("LabelSelector"), .pointer),
            ProtobufField(3, "template", .message("PodTemplateSpec")),
        ]),
        ProtobufMessage("ReplicaSetStatus", [
            ProtobufField(1, "replicas", .int32, .always),
            ProtobufField(2, "fullyLabeledReplicas", .int32),
            ProtobufField(4, "readyReplicas", .int32),
            ProtobufField(5, "availableReplicas", .int32),
            ProtobufField(7, "terminatingReplicas", .int32, .pointer),
            ProtobufField(3, "observedGeneration", .int64),
            ProtobufField(6, "conditions", .list(.message("ReplicaSetCondition"))),
        ]),
        ProtobufMessage("StatefulSetSpec", [
            ProtobufField(1, "replicas", .int32, .pointer),
            ProtobufField(2, "selector", .message("LabelSelector"), .pointer),
            ProtobufField(3, "template", .message("PodTemplateSpec"), .always),
            ProtobufField(4, "volumeClaimTemplates", .list(.message("PersistentVolumeClaim"))),
            ProtobufField(5, "serviceName", .string, .always),
            ProtobufField(6, "podManagementPolicy", .string),
            ProtobufField(7, "updateStrategy", .message("StatefulSetUpdateStrategy")),
            ProtobufField(8, "revisionHistoryLimit", .int32, .pointer),
            ProtobufField(9, "minReadySeconds", .int32),
            ProtobufField(10, "persistentVolumeClaimRetentionPolicy", .message("StatefulSetPersistentVolumeClaimRetentionPolicy"), .pointer),
            ProtobufField(11, "ordinals", .message("StatefulSetOrdinals"), .pointer),
        ]),
        ProtobufMessage("StatefulSetStatus", [
            ProtobufField(1, "observedGeneration", .int64),
            ProtobufField(2, "replicas", .int32, .always),
            ProtobufField(3, "readyReplicas", .int32),
            ProtobufField(4, "currentReplicas", .int32),
            ProtobufField(5, "updatedReplicas", .int32),
            ProtobufField(6, "currentRevision", .string),
            ProtobufField(7, "updateRevision", .string),
            ProtobufField(9, "collisionCount", .int32, .pointer),
            ProtobufField(10, "conditions", .list(.message("StatefulSetCondition"))),
            ProtobufField(11, "availableReplicas", .int32, .always),
        ]),
        ProtobufMessage("DaemonSetSpec", [
            ProtobufField(1, "selector", .message("LabelSelector"), .pointer),
            ProtobufField(2, "template", .message("PodTemplateSpec"), .always),
            ProtobufField(3, "updateStrategy", .message("DaemonSetUpdateStrategy")),
            ProtobufField(4, "minReadySeconds", .int32),
            ProtobufField(6, "revisionHistoryLimit", .int32, .pointer),
        ]),
        ProtobufMessage("DaemonSetStatus", [
            ProtobufField(1, "currentNumberScheduled", .int32, .always),
            ProtobufField(2, "numberMisscheduled", .int32, .always),
            ProtobufField(3, "desiredNumberScheduled", .int32, .always),
            ProtobufField(4, "numberReady", .int32, .always),
            ProtobufField(5, "observedGeneration", .int64),
            ProtobufField(6, "updatedNumberScheduled", .int32),
            ProtobufField(7, "numberAvailable", .int32),
            ProtobufField(8, "numberUnavailable", .int32),
            ProtobufField(9, "collisionCount", .int32, .pointer),
            ProtobufField(10, "conditions", .list(.message("DaemonSetCondition"))),
        ]),
        ProtobufMessage("DeploymentStrategy", [
            ProtobufField(1, "type", .string),
            ProtobufField(2, "rollingUpdate", .message("RollingUpdateDeployment"), .pointer),
        ]),
        ProtobufMessage("DeploymentCondition", [
            ProtobufField(1, "type", .string, .always),
            ProtobufField(2, "status", .string, .always),
            ProtobufField(6, "lastUpdateTime", .time),
            ProtobufField(7, "lastTransitionTime", .time),
            ProtobufField(4, "reason", .string),
            ProtobufField(5, "message", .string),
        ]),
        ProtobufMessage("ReplicaSetCondition", [
            ProtobufField(1, "type", .string, .always),
            ProtobufField(2, "status", .string, .always),
            ProtobufField(3, "lastTransitionTime", .time),
            ProtobufField(4, "reason", .string),
            ProtobufField(5, "message", .string),
        ]),
        ProtobufMessage("StatefulSetUpdateStrategy", [
            ProtobufField(1, "type", .string),
            ProtobufField(2, "rollingUpdate", .message("RollingUpdateStatefulSetStrategy"), .pointer),
        ]),
        ProtobufMessage("StatefulSetPersistentVolumeClaimRetentionPolicy", [
            ProtobufField(1, "whenDeleted", .string),
            ProtobufField(2, "whenScaled", .string),
        ]),
        ProtobufMessage("StatefulSetOrdinals", [
            ProtobufField(1, "start", .int32, .always),
        ]),
        ProtobufMessage("StatefulSetCondition", [
            ProtobufField(1, "type", .string, .always),
            ProtobufField(2, "status", .string, .always),
            ProtobufField(3, "lastTransitionTime", .time),
            ProtobufField(4, "reason", .string),
            ProtobufField(5, "message", .string),
        ]),
        ProtobufMessage("DaemonSetUpdateStrategy", [
            ProtobufField(1, "type", .string),
            ProtobufField(2, "rollingUpdate", .message("RollingUpdateDaemonSet"), .pointer),
        ]),
        ProtobufMessage("DaemonSetCondition", [
            ProtobufField(1, "type", .string, .always),
            ProtobufField(2, "status", .string, .always),
            ProtobufField(3, "lastTransitionTime", .time),
            ProtobufField(4, "reason", .string),
            ProtobufField(5, "message", .string),
        ]),
        ProtobufMessage("RollingUpdateDeployment", [
            ProtobufField(1, "maxUnavailable", .intOrString, .pointer),
            ProtobufField(2, "maxSurge", .intOrString, .pointer),
        ]),
        ProtobufMessage("RollingUpdateStatefulSetStrategy", [
            ProtobufField(1, "partition", .int32, .pointer),
            ProtobufField(2, "maxUnavailable", .intOrString, .pointer),
        ]),
        ProtobufMessage("RollingUpdateDaemonSet", [
            ProtobufField(1, "maxUnavailable", .intOrString, .pointer),
            ProtobufField(2, "maxSurge", .intOrString, .pointer),
        ]),
    ]
}
