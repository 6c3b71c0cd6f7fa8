//! The protobuf schema of autoscaling/v1: Scale.
//!
//! Field numbers, JSON names and pointer-ness are interface facts read from Kubernetes'
//! generated.proto and the Go struct tags in types.go; `ProtobufSchema` explains the columns.

extension ProtobufSchema {
    static let autoscalingMessages: [ProtobufMessage] = [
        ProtobufMessage("Scale", [
            ProtobufField(1, "metadata", .message("ObjectMeta")),
            ProtobufField(2, "spec", .message("ScaleSpec")),
            ProtobufField(3, "status", .message("ScaleStatus")),
        ]),
        ProtobufMessage("ScaleSpec", [
            ProtobufField(1, "replicas", .int32),
        ]),
        ProtobufMessage("ScaleStatus", [
            ProtobufField(1, "replicas", .int32, .always),
            ProtobufField(2, "selector", .string),
        ]),
    ]
}
