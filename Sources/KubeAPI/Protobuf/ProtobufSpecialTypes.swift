//! Kubernetes types whose protobuf form is a small message but whose JSON form is a scalar:
//! resource.Quantity (`{1 string}` → "500m"), intstr.IntOrString (`{1 type, 2 intVal, 3 strVal}`
//! → 8080 or "http"), meta/v1 Time (`{1 seconds, 2 nanos}` → "2025-01-01T00:00:00Z", whole
//! seconds as Kubernetes keeps them) and MicroTime (six fractional digits).

import Wire

enum ProtobufSpecialTypes {
    /// The Unix seconds of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the range RFC 3339
    /// (and so the JSON form) can express.
    static let secondsRange: ClosedRange<Int64> = -62_135_596_800...253_402_300_799

    static func decode(_ kind: ProtobufFieldKind, _ reader: inout ProtobufReader, path: String) throws(KubeProtobufError) -> JSONValue {
        switch kind {
        case .quantity: return try decodeQuantity(&reader, path: path)
        case .intOrString: return try decodeIntOrString(&reader, path: path)
        case .time: return try decodeTime(&reader, path: path, micro: false)
        case .microTime: return try decodeTime(&reader, path: path, micro: true)
        case .string, .bool, .int32, .int64, .bytes, .ignored, .message, .inline, .list, .map:
            preconditionFailure("\(kind) at \(path) is not a special type")
        }
    }

    private static func site(_ message: String, _ number: Int, _ wireType: ProtobufWireType, _ offset: Int, _ path: String)
        -> ProtobufDecoder.FieldSite
    {
        ProtobufDecoder.FieldSite(message: message, number: number, wireType: wireType, offset: offset, path: path)
    }

    private static func decodeQuantity(_ reader: inout ProtobufReader, path: String) throws(KubeProtobufError) -> JSONValue {
        var text = "0"
        while !reader.isAtEnd {
            let offset = reader.position
            let (number, wireType) = try reader.readTag()
            guard number == 1 else {
                try reader.skipUnknown(wireType, number: number, of: "Quantity", at: offset, path: path)
                continue
            }
            text = try ProtobufDecoder.decodeString(&reader, site("Quantity", number, wireType, offset, path))
        }
        return .string(text)
    }

    private static func decodeIntOrString(_ reader: inout ProtobufReader, path: String) throws(KubeProtobufError) -> JSONValue {
        var isString = false
        var number: Int64 = 0
        var text = ""
        while !reader.isAtEnd {
            let offset = reader.position
            let (field, wireType) = try reader.readTag()
            let fieldSite = site("IntOrString", field, wireType, offset, path)
            switch field {
            case 1:
                try fieldSite.expect(.varint, reader)
                let type = try reader.readVarint()
                guard type <= 1 else { throw reader.malformed("IntOrString type \(type) is neither 0 (int) nor 1 (string)", at: offset) }
                isString = type == 1
            case 2:
                try fieldSite.expect(.varint, reader)
                number = Int64(Int32(truncatingIfNeeded: try reader.readVarint()))
            case 3:
                text = try ProtobufDecoder.decodeString(&reader, fieldSite)
            default:
                try reader.skipUnknown(wireType, number: field, of: "IntOrString", at: offset, path: path)
            }
        }
        return isString ? .string(text) : .integer(number)
    }

    /// Time and MicroTime; an empty message is Go's zero time, which JSON writes as null.
    private static func decodeTime(_ reader: inout ProtobufReader, path: String, micro: Bool) throws(KubeProtobufError) -> JSONValue {
        let messageName = micro ? "MicroTime" : "Time"
        if reader.isAtEnd { return .null }
        let start = reader.position
        var seconds: Int64 = 0
        var nanos: Int64 = 0
        while !reader.isAtEnd {
            let offset = reader.position
            let (field, wireType) = try reader.readTag()
            let fieldSite = site(messageName, field, wireType, offset, path)
            switch field {
            case 1:
                try fieldSite.expect(.varint, reader)
                seconds = Int64(bitPattern: try reader.readVarint())
            case 2:
                try fieldSite.expect(.varint, reader)
                nanos = Int64(Int32(truncatingIfNeeded: try reader.readVarint()))
            default:
                try reader.skipUnknown(wireType, number: field, of: messageName, at: offset, path: path)
            }
        }
        guard secondsRange.contains(seconds) else {
            throw reader.malformed("\(messageName) seconds \(seconds) is outside years 0001 to 9999", at: start)
        }
        guard (0...999_999_999).contains(nanos) else {
            throw reader.malformed("\(messageName) nanos \(nanos) is outside 0 to 999999999", at: start)
        }
        // Kubernetes keeps Time at whole seconds (its JSON never carried more), so nanos are dropped.
        if !micro { return .string(KubeTime.format(seconds)) }
        return .string(MicroTime.format(microseconds: seconds * 1_000_000 + nanos / 1_000))
    }
}
