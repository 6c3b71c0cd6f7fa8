//! The protobuf schema of meta/v1 (k8s.io/apimachinery): object metadata, owner references, label selectors, delete options.
//!
//! Field numbers, JSON names and pointer-ness are interface facts read from Kubernetes'
//! generated.proto and the Go struct tags in types.go; `ProtobufSchema` explains the columns.

extension ProtobufSchema {
    static let metaMessages: [ProtobufMessage] = [
        ProtobufMessage("ObjectMeta", [
            ProtobufField(1, "name", .string),
            ProtobufField(2, "generateName", .string),
            ProtobufField(3, "namespace", .string),
            ProtobufField(4, "selfLink", .string),
            ProtobufField(5, "uid", .string),
            ProtobufField(6, "resourceVersion", .string),
            ProtobufField(7, "generation", .int64),
            ProtobufField(8, "creationTimestamp", .time),
            ProtobufField(9, "deletionTimestamp", .time, .pointer),
            ProtobufField(10, "deletionGracePeriodSeconds", .int64, .pointer),
            ProtobufField(11, "labels", .map(.string)),
            ProtobufField(12, "annotations", .map(.string)),
            ProtobufField(13, "ownerReferences", .list(.message("OwnerReference"))),
            ProtobufField(14, "finalizers", .list(.string)),
            ProtobufField(17, "managedFields", .ignored),
        ]),
        ProtobufMessage("DeleteOptions", [
            ProtobufField(1, "gracePeriodSeconds", .int64, .pointer),
            ProtobufField(2, "preconditions", .message("Preconditions"), .pointer),
            ProtobufField(3, "orphanDependents", .bool, .pointer),
            ProtobufField(4, "propagationPolicy", .string, .pointer),
            ProtobufField(5, "dryRun", .list(.string)),
            ProtobufField(6, "ignoreStoreReadErrorWithClusterBreakingPotential", .bool, .pointer),
        ]),
        ProtobufMessage("OwnerReference", [
            ProtobufField(5, "apiVersion", .string, .always),
            ProtobufField(1, "kind", .string, .always),
            ProtobufField(3, "name", .string, .always),
            ProtobufField(4, "uid", .string, .always),
            ProtobufField(6, "controller", .bool, .pointer),
            ProtobufField(7, "blockOwnerDeletion", .bool, .pointer),
        ]),
        ProtobufMessage("Condition", [
            ProtobufField(1, "type", .string, .always),
            ProtobufField(2, "status", .string, .always),
            ProtobufField(3, "observedGeneration", .int64),
            ProtobufField(4, "lastTransitionTime", .time, .always),
            ProtobufField(5, "reason", .string, .always),
            ProtobufField(6, "message", .string, .always),
        ]),
        ProtobufMessage("LabelSelector", [
            ProtobufField(1, "matchLabels", .map(.string)),
            ProtobufField(2, "matchExpressions", .list(.message("LabelSelectorRequirement"))),
        ]),
        ProtobufMessage("Preconditions", [
            ProtobufField(1, "uid", .string, .pointer),
            ProtobufField(2, "resourceVersion", .string, .pointer),
        ]),
        ProtobufMessage("LabelSelectorRequirement", [
            ProtobufField(1, "key", .string, .always),
            ProtobufField(2, "operator", .string, .always),
            ProtobufField(3, "values", .list(.string)),
        ]),
    ]
}
