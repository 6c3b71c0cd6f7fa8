//! The protobuf schema of coordination.k8s.io/v1: Lease.
//!
//! Field numbers, JSON names and pointer-ness are interface facts read from Kubernetes'
//! generated.proto and the Go struct tags in types.go; `ProtobufSchema` explains the columns.

extension ProtobufSchema {
    static let coordinationMessages: [ProtobufMessage] = [
        ProtobufMessage("Lease", [
            ProtobufField(1, "metadata", .message("ObjectMeta")),
            ProtobufField(2, "spec", .message("LeaseSpec")),
        ]),
        ProtobufMessage("LeaseSpec", [
            ProtobufField(1, "holderIdentity", .string, .pointer),
            ProtobufField(2, "leaseDurationSeconds", .int32, .pointer),
            ProtobufField(3, "acquireTime", .microTime, .pointer),
            ProtobufField(4, "renewTime", .microTime, .pointer),
            ProtobufField(5, "leaseTransitions", .int32, .pointer),
            ProtobufField(6, "strategy", .string, .pointer),
            ProtobufField(7, "preferredHolder", .string, .pointer),
        ]),
    ]
}
