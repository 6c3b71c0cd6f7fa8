//! The protobuf schema of policy/v1: Eviction.
//!
//! Field numbers, JSON names and pointer-ness are interface facts read from Kubernetes'
//! generated.proto and the Go struct tags in types.go; `ProtobufSchema` explains the columns.

extension ProtobufSchema {
    static let policyMessages: [ProtobufMessage] = [
        ProtobufMessage("Eviction", [
            ProtobufField(1, "metadata", .message("ObjectMeta")),
            ProtobufField(2, "deleteOptions", .message("DeleteOptions"), .pointer),
        ]),
    ]
}
