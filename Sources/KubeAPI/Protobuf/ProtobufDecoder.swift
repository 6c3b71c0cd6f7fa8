//! Schema-driven decoding of one protobuf message into the JSON object a JSON client would have
//! sent: fields by number through `ProtobufSchema`, Kubernetes' special types (Quantity,
//! IntOrString, Time, MicroTime, bytes) in their JSON forms, and zero values of plain Go fields
//! dropped as `omitempty` would.
//!
//! An unknown field number in a known message is an error when it carries data (a non-zero
//! varint, a non-empty string or message): dropping it silently could change what the object
//! means. A zero-valued unknown field is what a newer client's marshaller writes for a field it
//! left unset, and is skipped.

import Wire

struct ProtobufDecoder {
    /// Nesting deeper than this is rejected (the schema nests far less) so malformed input
    /// cannot exhaust the stack.
    static let depthMax = 32

    /// The top-level object of message `name` in `reader`, named `path` in errors ("Deployment").
    static func decodeObject(_ name: String, _ reader: inout ProtobufReader, path: String) throws(KubeProtobufError) -> JSONObject {
        try decodeMessage(name, &reader, path: path, depth: 0)
    }

    private static func decodeMessage(
        _ name: String, _ reader: inout ProtobufReader, path: String, depth: Int
    ) throws(KubeProtobufError) -> JSONObject {
        guard depth <= depthMax else { throw reader.malformed("messages nest deeper than \(depthMax)", at: reader.position) }
        guard let message = ProtobufSchema.messages[name] else {
            preconditionFailure("schema has no message \(name) at \(path); ProtobufSchema validates every reference")
        }
        var values = [JSONValue?](repeating: nil, count: message.fields.count)
        while !reader.isAtEnd {
            let tagOffset = reader.position
            let (number, wireType) = try reader.readTag()
            guard let position = message.positions[number] else {
                try reader.skipUnknown(wireType, number: number, of: name, at: tagOffset, path: path)
                continue
            }
            let field = message.fields[position]
            let site = FieldSite(message: name, number: number, wireType: wireType, offset: tagOffset, path: path + "." + field.jsonName)
            switch field.kind {
            case .ignored:
                _ = try reader.readRaw(wireType, number: number)
            case .list(let element):
                var elements: [JSONValue] = []
                if case .array(let existing) = values[position] { elements = existing }
                try appendElements(element, to: &elements, &reader, site, depth: depth)
                values[position] = .array(elements)
            case .map(let valueKind):
                var entries = JSONObject()
                if case .object(let existing) = values[position] { entries = existing }
                let (key, value) = try decodeMapEntry(valueKind, &reader, site, depth: depth)
                entries[key] = value
                values[position] = .object(entries)
            default:
                values[position] = try decodeValue(field.kind, &reader, site, depth: depth)
            }
        }
        return assemble(message, values)
    }

    /// The JSON object in the Go struct's field order: inline messages merged in, zero values
    /// of plain fields left out.
    private static func assemble(_ message: ProtobufMessage, _ values: [JSONValue?]) -> JSONObject {
        var object = JSONObject()
        for (field, value) in zip(message.fields, values) {
            guard let value else { continue }
            if case .inline = field.kind {
                guard case .object(let inner) = value else {
                    preconditionFailure("inline field \(message.name).\(field.jsonName) decoded to \(value.kindName)")
                }
                for (key, member) in inner.members { object[key] = member }
            } else if keeps(value, field.presence) {
                object[field.jsonName] = value
            }
        }
        return object
    }

    /// Whether a decoded value belongs in the JSON object, given how Go would have written it.
    static func keeps(_ value: JSONValue, _ presence: ProtobufPresence) -> Bool {
        switch (presence, value) {
        case (_, .null): false
        case (.pointer, _): true
        case (.always, .object(let object)): object.count > 0
        case (.always, .array(let elements)): !elements.isEmpty
        case (.always, _): true
        case (.omitEmpty, .bool(let flag)): flag
        case (.omitEmpty, .integer(let number)): number != 0
        case (.omitEmpty, .number(let number)): number != 0
        case (.omitEmpty, .string(let text)): !text.isEmpty
        case (.omitEmpty, .array(let elements)): !elements.isEmpty
        case (.omitEmpty, .object(let object)): object.count > 0
        }
    }

    /// Where a field's value sits, for type checks and error messages.
    struct FieldSite {
        let message: String
        let number: Int
        let wireType: ProtobufWireType
        let offset: Int
        let path: String

        func expect(_ expected: ProtobufWireType, _ reader: ProtobufReader) throws(KubeProtobufError) {
            guard wireType == expected else {
                throw reader.malformed(
                    "field \(number) of \(message) (\(path)) has \(wireType.name) wire type, expected \(expected.name)",
                    at: offset)
            }
        }

        func element(_ index: Int) -> FieldSite {
            FieldSite(message: message, number: number, wireType: wireType, offset: offset, path: path + "[\(index)]")
        }
    }

    /// One occurrence of a repeated field: one element, or for numbers and booleans possibly a
    /// packed run of them.
    private static func appendElements(
        _ element: ProtobufFieldKind, to elements: inout [JSONValue], _ reader: inout ProtobufReader,
        _ site: FieldSite, depth: Int
    ) throws(KubeProtobufError) {
        let isPackable: Bool = switch element {
        case .bool, .int32, .int64: true
        default: false
        }
        if isPackable && site.wireType == .lengthDelimited {
            var packed = reader.nested(try reader.readLengthDelimited(), place: site.path)
            let varintSite = FieldSite(message: site.message, number: site.number, wireType: .varint, offset: site.offset, path: site.path)
            while !packed.isAtEnd {
                elements.append(try decodeValue(element, &packed, varintSite.element(elements.count), depth: depth))
            }
        } else {
            elements.append(try decodeValue(element, &reader, site.element(elements.count), depth: depth))
        }
    }

    /// One `map<string, V>` entry `{1 key, 2 value}`; a missing value is V's zero.
    private static func decodeMapEntry(
        _ valueKind: ProtobufFieldKind, _ reader: inout ProtobufReader, _ site: FieldSite, depth: Int
    ) throws(KubeProtobufError) -> (String, JSONValue) {
        try site.expect(.lengthDelimited, reader)
        var entry = reader.nested(try reader.readLengthDelimited(), place: site.path + " (map entry)")
        var key = ""
        var value: JSONValue?
        while !entry.isAtEnd {
            let tagOffset = entry.position
            let (number, wireType) = try entry.readTag()
            let entrySite = FieldSite(message: "a map entry", number: number, wireType: wireType, offset: tagOffset, path: site.path)
            switch number {
            case 1: key = try decodeString(&entry, entrySite)
            case 2: value = try decodeValue(valueKind, &entry, FieldSite(
                message: site.message, number: site.number, wireType: wireType, offset: tagOffset,
                path: site.path + "[\(JSON.serialize(.string(key)))]"), depth: depth)
            default:
                try entry.skipUnknown(wireType, number: number, of: "a map entry", at: tagOffset, path: site.path)
            }
        }
        return (key, value ?? zeroValue(valueKind))
    }

    /// What Go decodes a map entry without a value to.
    private static func zeroValue(_ kind: ProtobufFieldKind) -> JSONValue {
        switch kind {
        case .string, .bytes: .string("")
        case .quantity: .string("0")
        case .bool: .bool(false)
        case .int32, .int64, .intOrString: .integer(0)
        case .time, .microTime, .ignored: .null
        case .message, .inline, .map: .object(JSONObject())
        case .list: .array([])
        }
    }

    /// One single value of `kind` (lists and maps are handled by the caller).
    private static func decodeValue(
        _ kind: ProtobufFieldKind, _ reader: inout ProtobufReader, _ site: FieldSite, depth: Int
    ) throws(KubeProtobufError) -> JSONValue {
        switch kind {
        case .string:
            return .string(try decodeString(&reader, site))
        case .bool:
            try site.expect(.varint, reader)
            return .bool(try reader.readVarint() != 0)
        case .int32:
            try site.expect(.varint, reader)
            return .integer(Int64(Int32(truncatingIfNeeded: try reader.readVarint())))
        case .int64:
            try site.expect(.varint, reader)
            return .integer(Int64(bitPattern: try reader.readVarint()))
        case .bytes:
            try site.expect(.lengthDelimited, reader)
            return .string(Base64.encode(Array(reader.bytes[try reader.readLengthDelimited()])))
        case .message(let name), .inline(let name):
            try site.expect(.lengthDelimited, reader)
            var nested = reader.nested(try reader.readLengthDelimited(), place: "\(site.path) (\(name))")
            return .object(try decodeMessage(name, &nested, path: site.path, depth: depth + 1))
        case .quantity, .intOrString, .time, .microTime:
            try site.expect(.lengthDelimited, reader)
            var nested = reader.nested(try reader.readLengthDelimited(), place: site.path)
            return try ProtobufSpecialTypes.decode(kind, &nested, path: site.path)
        case .ignored, .list, .map:
            preconditionFailure("decodeValue called for \(kind) at \(site.path); the message loop handles it")
        }
    }

    /// A length-delimited UTF-8 string.
    static func decodeString(_ reader: inout ProtobufReader, _ site: FieldSite) throws(KubeProtobufError) -> String {
        try site.expect(.lengthDelimited, reader)
        let range = try reader.readLengthDelimited()
        guard let text = String(validating: reader.bytes[range], as: UTF8.self) else {
            throw reader.malformed("field \(site.number) of \(site.message) (\(site.path)) is not valid UTF-8", at: range.lowerBound)
        }
        return text
    }
}
