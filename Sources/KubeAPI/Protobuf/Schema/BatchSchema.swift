//! The protobuf schema of batch/v1: Job and CronJob.
//!
//! Field numbers, JSON names and pointer-ness are interface facts read from Kubernetes'
//! generated.proto and the Go struct tags in types.go; `ProtobufSchema` explains the columns.

extension ProtobufSchema {
    static let batchMessages: [ProtobufMessage] = [
        ProtobufMessage("Job", [
            ProtobufField(1, "metadata", .message("ObjectMeta")),
            ProtobufField(2, "spec", .message("JobSpec")),
            ProtobufField(3, "status", .message("JobStatus")),
        ]),
        ProtobufMessage("CronJob", [
            ProtobufField(1, "metadata", .message("ObjectMeta")),
            ProtobufField(2, "spec", .message("CronJobSpec")),
            ProtobufField(3, "status", .message("CronJobStatus")),
        ]),
        ProtobufMessage("JobSpec", [
            ProtobufField(1, "parallelism", .int32, .pointer),
            ProtobufField(2, "completions", .int32, .pointer),
            ProtobufField(3, "activeDeadlineSeconds", .int64, .pointer),
            ProtobufField(11, "podFailurePolicy", .message("PodFailurePolicy"), .pointer),
            ProtobufField(16, "successPolicy", .message("SuccessPolicy"), .pointer),
            ProtobufField(7, "backoffLimit", .int32, .pointer),
            ProtobufField(12, "backoffLimitPerIndex", .int32, .pointer),
            ProtobufField(13, "maxFailedIndexes", .int32, .pointer),
            ProtobufField(4, "selector", .message("LabelSelector"), .pointer),
            ProtobufField(5, "manualSelector", .bool, .pointer),
            ProtobufField(6, "template", .message("PodTemplateSpec"), .always),
            ProtobufField(8, "ttlSecondsAfterFinished", .int32, .pointer),
            ProtobufField(9, "completionMode", .string, .pointer),
            ProtobufField(10, "suspend", .bool, .pointer),
            ProtobufField(14, "podReplacementPolicy", .string, .pointer),
            ProtobufField(15, "managedBy", .string, .pointer),
            ProtobufField(17, "scheduling", .message("JobSchedulingConfiguration"), .pointer),
        ]),
        ProtobufMessage("JobStatus", [
            ProtobufField(1, "conditions", .list(.message("JobCondition"))),
            ProtobufField(2, "startTime", .time, .pointer),
            ProtobufField(3, "completionTime", .time, .pointer),
            ProtobufField(4, "active", .int32),
            ProtobufField(5, "succeeded", .int32),
            ProtobufField(6, "failed", .int32),
            ProtobufField(11, "terminating", .int32, .pointer),
            ProtobufField(7, "completedIndexes", .string),
            ProtobufField(10, "failedIndexes", .string, .pointer),
            ProtobufField(8, "uncountedTerminatedPods", .message("UncountedTerminatedPods"), .pointer),
            ProtobufField(9, "ready", .int32, .pointer),
        ]),
        ProtobufMessage("CronJobSpec", [
            ProtobufField(1, "schedule", .string, .always),
            ProtobufField(8, "timeZone", .string, .pointer),
            ProtobufField(2, "startingDeadlineSeconds", .int64, .pointer),
            ProtobufField(3, "concurrencyPolicy", .string),
            ProtobufField(4, "suspend", .bool, .pointer),
            ProtobufField(5, "jobTemplate", .message("JobTemplateSpec"), .always),
            ProtobufField(6, "successfulJobsHistoryLimit", .int32, .pointer),
            ProtobufField(7, "failedJobsHistoryLimit", .int32, .pointer),
        ]),
        ProtobufMessage("CronJobStatus", [
            ProtobufField(1, "active", .list(.message("ObjectReference"))),
            ProtobufField(4, "lastScheduleTime", .time, .pointer),
            ProtobufField(5, "lastSuccessfulTime", .time, .pointer),
        ]),
        ProtobufMessage("PodFailurePolicy", [
            ProtobufField(1, "rules", .list(.message("PodFailurePolicyRule"))),
        ]),
        ProtobufMessage("SuccessPolicy", [
            ProtobufField(1, "rules", .list(.message("SuccessPolicyRule"))),
        ]),
        ProtobufMessage("JobSchedulingConfiguration", [
        ]),
        ProtobufMessage("JobCondition", [
            ProtobufField(1, "type", .string, .always),
            ProtobufField(2, "status", .string, .always),
            ProtobufField(3, "lastProbeTime", .time),
            ProtobufField(4, "lastTransitionTime", .time),
            ProtobufField(5, "reason", .string),
            ProtobufField(6, "message", .string),
        ]),
        ProtobufMessage("UncountedTerminatedPods", [
            ProtobufField(1, "succeeded", .list(.string)),
            ProtobufField(2, "failed", .list(.string)),
        ]),
        ProtobufMessage("JobTemplateSpec", [
            ProtobufField(1, "metadata", .message("ObjectMeta")),
            ProtobufField(2, "spec", .message("JobSpec")),
        ]),
        ProtobufMessage("PodFailurePolicyRule", [
            ProtobufField(1, "action", .string, .always),
            ProtobufField(2, "onExitCodes", .message("PodFailurePolicyOnExitCodesRequirement"), .pointer),
            ProtobufField(3, "onPodConditions", .list(.message("PodFailurePolicyOnPodConditionsPattern"))),
        ]),
        ProtobufMessage("SuccessPolicyRule", [
            ProtobufField(1, "succeededIndexes", .string, .pointer),
            ProtobufField(2, "succeededCount", .int32, .pointer),
        ]),
        ProtobufMessage("PodFailurePolicyOnExitCodesRequirement", [
            ProtobufField(1, "containerName", .string, .pointer),
            ProtobufField(2, "operator", .string, .always),
            ProtobufField(3, "values", .list(.int32)),
        ]),
        ProtobufMessage("PodFailurePolicyOnPodConditionsPattern", [
            ProtobufField(1, "type", .string, .always),
            ProtobufField(2, "status", .string, .always),
        ]),
    ]
}
