//! Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`, what kubectl's typed
//! generators such as `kubectl create deployment` send) turned into the JSON object a JSON client
//! would have sent, so the rest of the apiserver only ever sees JSON.
//!
//! A body is the 4-byte magic `k8s\0` and a runtime.Unknown envelope: `1 typeMeta {1 apiVersion,
//! 2 kind}`, `2 raw` (the object's own message), `3 contentEncoding`, `4 contentType`. The
//! envelope's apiVersion and kind pick the schema and become the object's `apiVersion`/`kind`.

import Wire

public enum KubeProtobuf {
    /// The content type of Kubernetes protobuf bodies.
    public static let mediaType = "application/vnd.kubernetes.protobuf"

    /// The 4 bytes every Kubernetes protobuf body starts with: "k8s" and a zero byte.
    static let magic: [UInt8] = [0x6B, 0x38, 0x73, 0x00]

    /// The object in a protobuf request body, as JSON with `apiVersion` and `kind` first.
    ///
    /// Throws `.malformed` for bytes that are not a well-formed object, `.unsupportedKind` for a
    /// kind or content encoding with no schema here, `.unsupportedField` for a field carrying data
    /// this apiserver does not know; each message says where and suggests sending JSON instead.
    public static func decodeObject(_ body: [UInt8]) throws(KubeProtobufError) -> JSONValue {
        guard body.count >= magic.count, Array(body[0..<magic.count]) == magic else {
            throw .malformed(at: 0, in: "the body", "it does not start with the magic \"k8s\\0\"")
        }
        var envelope = ProtobufReader(bytes: body, range: magic.count..<body.count, place: "the runtime.Unknown envelope")
        let unknown = try readEnvelope(&envelope)
        guard !unknown.kind.isEmpty else {
            throw envelope.malformed("the envelope's typeMeta names no kind", at: magic.count)
        }
        guard let raw = unknown.raw else {
            throw envelope.malformed("the envelope carries no object (its raw field is missing)", at: envelope.end)
        }
        guard unknown.contentEncoding.isEmpty else {
            throw .unsupportedEncoding(unknown.contentEncoding, at: raw.lowerBound)
        }
        let key = ProtobufSchema.objectKey(apiVersion: unknown.apiVersion, kind: unknown.kind)
        guard let messageName = ProtobufSchema.objectMessages[key] else {
            throw .unsupportedKind(apiVersion: unknown.apiVersion, kind: unknown.kind)
        }
        var objectReader = envelope.nested(raw, place: "\(unknown.kind) (\(messageName))")
        let fields = try ProtobufDecoder.decodeObject(messageName, &objectReader, path: unknown.kind)
        var object: JSONObject = ["apiVersion": .string(unknown.apiVersion), "kind": .string(unknown.kind)]
        for (name, value) in fields.members { object[name] = value }
        return .object(object)
    }

    /// The parts of runtime.Unknown the decoder uses.
    private struct Envelope {
        var apiVersion = ""
        var kind = ""
        /// The object's bytes; nil until the raw field is read.
        var raw: Range<Int>?
        var contentEncoding = ""
    }

    private static func readEnvelope(_ reader: inout ProtobufReader) throws(KubeProtobufError) -> Envelope {
        var envelope = Envelope()
        while !reader.isAtEnd {
            let offset = reader.position
            let (number, wireType) = try reader.readTag()
            let site = ProtobufDecoder.FieldSite(
                message: "runtime.Unknown", number: number, wireType: wireType, offset: offset, path: "the envelope")
            switch number {
            case 1:
                try site.expect(.lengthDelimited, reader)
                var typeMeta = reader.nested(try reader.readLengthDelimited(), place: "the envelope's typeMeta")
                try readTypeMeta(&typeMeta, into: &envelope)
            case 2:
                try site.expect(.lengthDelimited, reader)
                envelope.raw = try reader.readLengthDelimited()
            case 3:
                envelope.contentEncoding = try ProtobufDecoder.decodeString(&reader, site)
            case 4:
                // The content type of raw; kubectl leaves it empty, meaning protobuf like the body.
                _ = try ProtobufDecoder.decodeString(&reader, site)
            default:
                try reader.skipUnknown(wireType, number: number, of: "runtime.Unknown", at: offset, path: "the envelope")
            }
        }
        return envelope
    }

    private static func readTypeMeta(_ reader: inout ProtobufReader, into envelope: inout Envelope) throws(KubeProtobufError) {
        while !reader.isAtEnd {
            let offset = reader.position
            let (number, wireType) = try reader.readTag()
            let site = ProtobufDecoder.FieldSite(
                message: "runtime.TypeMeta", number: number, wireType: wireType, offset: offset, path: "the envelope's typeMeta")
            switch number {
            case 1: envelope.apiVersion = try ProtobufDecoder.decodeString(&reader, site)
            case 2: envelope.kind = try ProtobufDecoder.decodeString(&reader, site)
            default:
                try reader.skipUnknown(wireType, number: number, of: "runtime.TypeMeta", at: offset, path: "the envelope's typeMeta")
            }
        }
    }
}
