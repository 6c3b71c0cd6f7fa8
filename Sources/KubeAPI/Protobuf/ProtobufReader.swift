//! A bounded reader of the proto2 wire format: tags, varints, fixed 32/64-bit words and
//! length-delimited ranges. Every length is checked against the end of the enclosing message,
//! so malformed input throws (with the byte offset) and never reads past the buffer.

/// The low three bits of a tag: how the value that follows is laid out.
enum ProtobufWireType: UInt8, Sendable {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case startGroup = 3
    case endGroup = 4
    case fixed32 = 5

    var name: String {
        switch self {
        case .varint: "varint"
        case .fixed64: "64-bit"
        case .lengthDelimited: "length-delimited"
        case .startGroup: "start-group"
        case .endGroup: "end-group"
        case .fixed32: "32-bit"
        }
    }
}

/// Reads one message's bytes, `bytes[position..<end]`; offsets are into the whole body.
///
/// Invariant: `position <= end <= bytes.count`.
struct ProtobufReader {
    let bytes: [UInt8]
    private(set) var position: Int
    let end: Int
    /// Where this message sits, for error messages ("spec.template (PodTemplateSpec)").
    let place: String

    /// The longest varint: ten 7-bit groups cover 64 bits.
    static let varintLengthMax = 10

    init(bytes: [UInt8], range: Range<Int>, place: String) {
        precondition(range.lowerBound >= 0 && range.upperBound <= bytes.count,
            "reader range \(range) outside a body of \(bytes.count) bytes at \(place)")
        self.bytes = bytes
        self.position = range.lowerBound
        self.end = range.upperBound
        self.place = place
    }

    var isAtEnd: Bool { position >= end }

    func malformed(_ detail: String, at offset: Int) -> KubeProtobufError {
        .malformed(at: offset, in: place, detail)
    }

    mutating func readVarint() throws(KubeProtobufError) -> UInt64 {
        let start = position
        var value: UInt64 = 0
        for group in 0..<Self.varintLengthMax {
            guard position < end else { throw malformed("varint runs past the end of the message (byte \(end))", at: start) }
            let byte = bytes[position]
            position += 1
            if group == Self.varintLengthMax - 1 && byte > 1 {
                throw malformed("varint does not fit in 64 bits", at: start)
            }
            value |= UInt64(byte & 0x7F) << UInt64(7 * group)
            if byte & 0x80 == 0 { return value }
        }
        throw malformed("varint longer than \(Self.varintLengthMax) bytes", at: start)
    }

    /// The next field's number and wire type.
    mutating func readTag() throws(KubeProtobufError) -> (number: Int, wireType: ProtobufWireType) {
        let start = position
        let tag = try readVarint()
        let number = tag >> 3
        guard number > 0, number < 1 << 29 else { throw malformed("field number \(number) is out of range", at: start) }
        guard let wireType = ProtobufWireType(rawValue: UInt8(tag & 7)) else {
            throw malformed("field \(number) has unknown wire type \(tag & 7)", at: start)
        }
        return (Int(number), wireType)
    }

    /// The byte range of a length-delimited value, checked against the message's end.
    mutating func readLengthDelimited() throws(KubeProtobufError) -> Range<Int> {
        let start = position
        let length = try readVarint()
        guard length <= UInt64(end - position) else {
            throw malformed("length \(length) runs past the end of the message (\(end - position) bytes left)", at: start)
        }
        let range = position..<(position + Int(length))
        position = range.upperBound
        return range
    }

    mutating func readFixed64() throws(KubeProtobufError) -> UInt64 {
        UInt64(try readLittleEndian(byteCount: 8))
    }

    mutating func readFixed32() throws(KubeProtobufError) -> UInt32 {
        UInt32(truncatingIfNeeded: try readLittleEndian(byteCount: 4))
    }

    private mutating func readLittleEndian(byteCount: Int) throws(KubeProtobufError) -> UInt64 {
        guard end - position >= byteCount else {
            throw malformed("\(byteCount)-byte value runs past the end of the message", at: position)
        }
        var value: UInt64 = 0
        for index in 0..<byteCount { value |= UInt64(bytes[position + index]) << UInt64(8 * index) }
        position += byteCount
        return value
    }

    /// A value read only to be skipped or checked for zero: the number of a varint or fixed
    /// word, the range of a length-delimited value.
    enum RawValue {
        case scalar(UInt64)
        case bytes(Range<Int>)

        var isZero: Bool {
            switch self {
            case .scalar(let value): value == 0
            case .bytes(let range): range.isEmpty
            }
        }
    }

    /// Reads any value of `wireType` without interpreting it. Groups (deprecated, never written
    /// by Kubernetes) are rejected.
    mutating func readRaw(_ wireType: ProtobufWireType, number: Int) throws(KubeProtobufError) -> RawValue {
        switch wireType {
        case .varint: return .scalar(try readVarint())
        case .fixed64: return .scalar(try readFixed64())
        case .fixed32: return .scalar(UInt64(try readFixed32()))
        case .lengthDelimited: return .bytes(try readLengthDelimited())
        case .startGroup, .endGroup:
            throw malformed("field \(number) uses \(wireType.name) wire type, which Kubernetes never writes", at: position)
        }
    }

    /// Skips a field the schema does not list when its value is zero (what a newer client's
    /// marshaller writes for a field it left unset); throws when it carries data, which
    /// dropping silently could change the object's meaning.
    mutating func skipUnknown(
        _ wireType: ProtobufWireType, number: Int, of message: String, at offset: Int, path: String
    ) throws(KubeProtobufError) {
        guard try readRaw(wireType, number: number).isZero else {
            throw .unsupportedField(number, of: message, at: offset, path: path)
        }
    }

    /// A reader over a nested message's bytes.
    func nested(_ range: Range<Int>, place: String) -> ProtobufReader {
        precondition(range.lowerBound >= 0 && range.upperBound <= end,
            "nested range \(range) outside the enclosing message ending at \(end) at \(self.place)")
        return ProtobufReader(bytes: bytes, range: range, place: place)
    }
}
