//! Base64 as Go's encoding/json writes `[]byte`: the standard alphabet with padding, both ways
//! (etcd 3.4's gateway refuses URL-safe and unpadded input), with Go's error ("illegal base64
//! data at input byte N"). The etcd API's bytes fields and protobuf `bytes` turned into
//! Kubernetes JSON (`Secret.data`) both use it.

public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let decodeTable: [Int16] = {
        var table = [Int16](repeating: -1, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = Int16(index) }
        return table
    }()

    public static func encode(_ bytes: [UInt8], into output: inout [UInt8]) {
        var index = 0
        while index + 3 <= bytes.count {
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            output.append(alphabet[Int(value >> 18 & 63)])
            output.append(alphabet[Int(value >> 12 & 63)])
            output.append(alphabet[Int(value >> 6 & 63)])
            output.append(alphabet[Int(value & 63)])
            index += 3
        }
        let rest = bytes.count - index
        if rest == 1 {
            let value = UInt32(bytes[index]) << 16
            output.append(alphabet[Int(value >> 18 & 63)])
            output.append(alphabet[Int(value >> 12 & 63)])
            output.append(contentsOf: [61, 61])
        } else if rest == 2 {
            let value = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            output.append(alphabet[Int(value >> 18 & 63)])
            output.append(alphabet[Int(value >> 12 & 63)])
            output.append(alphabet[Int(value >> 6 & 63)])
            output.append(61)
        }
    }

    public static func encode(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        encode(bytes, into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    public struct DecodingError: Error, Equatable, Sendable {
        public var offset: Int
        public var message: String { "illegal base64 data at input byte \(offset)" }
    }

    public static func decode(_ text: String) throws(DecodingError) -> [UInt8] {
        let input = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(input.count / 4 * 3)
        var index = 0
        while index < input.count {
            guard input.count - index >= 4 else { throw DecodingError(offset: index) }
            // Four digits of six bits each, accumulated in place (an array per quantum showed up
            // in profiles of every put).
            var accumulated: UInt32 = 0
            var padding = 0
            for offset in 0..<4 {
                let byte = input[index + offset]
                if byte == UInt8(ascii: "=") {
                    // Padding only in the last quantum's last one or two places.
                    guard offset >= 2, index + 4 == input.count else { throw DecodingError(offset: index + offset) }
                    padding += 1
                    continue
                }
                guard padding == 0 else { throw DecodingError(offset: index + offset) }
                let digit = decodeTable[Int(byte)]
                guard digit >= 0 else { throw DecodingError(offset: index + offset) }
                accumulated = accumulated << 6 | UInt32(digit)
            }
            let value = accumulated << UInt32(6 * padding)
            output.append(UInt8(value >> 16 & 0xff))
            if padding < 2 { output.append(UInt8(value >> 8 & 0xff)) }
            if padding < 1 { output.append(UInt8(value & 0xff)) }
            index += 4
        }
        return output
    }
}
