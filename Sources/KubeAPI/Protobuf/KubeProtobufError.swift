//! Why a protobuf request body could not become a JSON object: what went wrong, where (byte
//! offset, message, field) and what the client can do instead (send JSON).

/// A protobuf body the apiserver cannot turn into JSON.
public struct KubeProtobufError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Reason: Equatable, Sendable {
        /// The bytes are not a well-formed Kubernetes protobuf object (bad magic, truncated,
        /// a wrong wire type, a length past the end); answer 400.
        case malformed
        /// The envelope names an object kind (or content encoding) this apiserver has no schema
        /// for; answer 415 so the client retries with JSON.
        case unsupportedKind
        /// A known message carries a field with data this apiserver does not know; answer 415.
        case unsupportedField
    }

    public var reason: Reason
    /// Byte offset into the request body where the problem was found.
    public var offset: Int
    /// The whole explanation, ready to be a Status message.
    public var message: String

    public init(reason: Reason, offset: Int, message: String) {
        self.reason = reason
        self.offset = offset
        self.message = message
    }

    public var description: String { message }

    /// What every unsupported case tells the client to do instead.
    static let sendJSONAdvice = "send JSON instead (kubectl create -f / apply)"

    static func malformed(at offset: Int, in place: String, _ detail: String) -> KubeProtobufError {
        KubeProtobufError(
            reason: .malformed, offset: offset,
            message: "malformed protobuf body at byte \(offset) in \(place): \(detail); \(sendJSONAdvice)")
    }

    static func unsupportedKind(apiVersion: String, kind: String) -> KubeProtobufError {
        KubeProtobufError(
            reason: .unsupportedKind, offset: 0,
            message: "protobuf objects of kind \"\(kind)\" in apiVersion \"\(apiVersion)\" are not supported "
                + "by this apiserver; \(sendJSONAdvice)")
    }

    static func unsupportedEncoding(_ encoding: String, at offset: Int) -> KubeProtobufError {
        KubeProtobufError(
            reason: .unsupportedKind, offset: offset,
            message: "protobuf bodies with content encoding \"\(encoding)\" are not supported by this apiserver; "
                + sendJSONAdvice)
    }

    static func unsupportedField(_ number: Int, of message: String, at offset: Int, path: String) -> KubeProtobufError {
        KubeProtobufError(
            reason: .unsupportedField, offset: offset,
            message: "protobuf field \(number) of \(message) (at \(path), byte \(offset)) is not supported "
                + "by this apiserver; \(sendJSONAdvice)")
    }
}
