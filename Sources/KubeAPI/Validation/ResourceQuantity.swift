//! Kubernetes resource quantities (`100m`, `1Gi`, `2`, `1e3`, `512Mi`, `0.5`), parsed exactly
//! into thousandths of their unit, which is how the scheduler compares CPU and memory.
import Wire

/// A resource quantity, kept as a whole number of thousandths ("milli-units") of its unit:
/// `100m` CPU is 100, `2` CPUs are 2000, `1Ki` of memory is 1_024_000.
///
/// Values beyond what an `Int64` holds in milli-units (about 9.2 exabytes) saturate.
public struct ResourceQuantity: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Why a quantity does not parse, in the words Kubernetes uses.
    public enum ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        /// Not a number followed by a suffix.
        case format
        /// A number followed by an unknown suffix (`5Q`, `1e`).
        case suffix

        /// Kubernetes' message for the error.
        public var description: String {
            switch self {
            case .format: "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
            case .suffix: "unable to parse quantity's suffix"
            }
        }
    }

    /// The quantity in thousandths of its unit, rounded up (as Kubernetes' `MilliValue`).
    public let milliValue: Int64

    /// The quantity of `milliValue` thousandths.
    public init(milliValue: Int64) {
        self.milliValue = milliValue
    }

    /// Parses `text`; nil when it is not a quantity.
    public init?(_ text: String) {
        guard let parsed = try? Self.parse(text) else { return nil }
        self = parsed
    }

    /// A quantity as JSON carries it: a string, or a bare number (`"cpu": 2`).
    public init?(json value: JSONValue) {
        guard let text = Self.text(of: value), let parsed = ResourceQuantity(text) else { return nil }
        self = parsed
    }

    /// The quantity in whole units, rounded up (as Kubernetes' `Value`).
    public var value: Int64 {
        let (quotient, remainder) = milliValue.quotientAndRemainder(dividingBy: 1000)
        return remainder > 0 ? quotient + 1 : quotient
    }

    /// Orders quantities by their amount.
    public static func < (left: ResourceQuantity, right: ResourceQuantity) -> Bool { left.milliValue < right.milliValue }

    /// The quantity in milli-units, as `100m`, or in whole units when it is a whole number.
    public var description: String {
        milliValue % 1000 == 0 ? String(milliValue / 1000) : "\(milliValue)m"
    }

    /// The text of a JSON quantity, or nil for a value that is neither a string nor a number.
    static func text(of value: JSONValue) -> String? {
        switch value {
        case .string(let text): text
        case .integer(let number): String(number)
        case .number(let number): number.description
        default: nil
        }
    }

    /// Parses `text` with Kubernetes' grammar: a signed decimal number, then a binary suffix
    /// (`Ki`...`Ei`), a decimal one (`n`, `u`, `m`, `k`, `M`, `G`, `T`, `P`, `E`) or an exponent (`e3`).
    public static func parse(_ text: String) throws(ParseError) -> ResourceQuantity {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { throw .format }
        var position = 0
        var negative = false
        if bytes[0] == UInt8(ascii: "-") || bytes[0] == UInt8(ascii: "+") {
            negative = bytes[0] == UInt8(ascii: "-")
            position = 1
        }
        let signLength = position
        let integerDigits = digits(bytes, from: &position)
        var fractionDigits: ArraySlice<UInt8> = []
        if position < bytes.count && bytes[position] == UInt8(ascii: ".") {
            position += 1
            fractionDigits = digits(bytes, from: &position)
        }
        // A number needs at least a digit or a point (Kubernetes reads "." and "1." as numbers).
        guard position > signLength else { throw .format }
        let suffix = String(decoding: bytes[position...], as: UTF8.self)
        guard isWellFormedSuffix(bytes[position...]) else { throw .format }
        guard let scale = Scale(suffix: suffix) else { throw .suffix }
        let milli = milliUnits(integerDigits: integerDigits, fractionDigits: fractionDigits, scale: scale)
        return ResourceQuantity(milliValue: negative ? -milli : milli)
    }

    private static func digits(_ bytes: [UInt8], from position: inout Int) -> ArraySlice<UInt8> {
        let start = position
        while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) { position += 1 }
        return bytes[start..<position]
    }

    /// `[eEinumkKMGTP]*[-+]?[0-9]*`, the shape of any suffix before it is interpreted.
    private static func isWellFormedSuffix(_ bytes: ArraySlice<UInt8>) -> Bool {
        var rest = bytes.drop { "eEinumkKMGTP".utf8.contains($0) }
        if let first = rest.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") { rest = rest.dropFirst() }
        return rest.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    /// What a suffix multiplies by: a power of two or a power of ten.
    private enum Scale {
        case binary(exponent: Int)
        case decimal(exponent: Int)

        init?(suffix: String) {
            let binary = ["Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60]
            let decimal = ["n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18]
            if let exponent = binary[suffix] {
                self = .binary(exponent: exponent)
            } else if let exponent = decimal[suffix] {
                self = .decimal(exponent: exponent)
            } else if let marker = suffix.first, marker == "e" || marker == "E", let exponent = Int(suffix.dropFirst()),
                suffix.count > 1, abs(exponent) < 1000
            {
                self = .decimal(exponent: exponent)
            } else {
                return nil
            }
        }
    }

    /// The number `integer.fraction` times the scale, in thousandths, rounded up and saturated.
    private static func milliUnits(integerDigits: ArraySlice<UInt8>, fractionDigits: ArraySlice<UInt8>, scale: Scale) -> Int64 {
        // The digits as one integer with an implied decimal point; leading zeros carry no value.
        let allDigits = (integerDigits + fractionDigits).drop { $0 == UInt8(ascii: "0") }
        guard !allDigits.isEmpty else { return 0 }
        var decimalExponent = 3 - fractionDigits.count
        var binaryFactor: Int64 = 1
        switch scale {
        case .binary(let exponent): binaryFactor = Int64(1) << exponent
        case .decimal(let exponent): decimalExponent += exponent
        }
        // Digits beyond the 18 an Int64 holds can only round the result up.
        let kept = allDigits.prefix(18)
        let droppedNonZero = allDigits.dropFirst(18).contains { $0 != UInt8(ascii: "0") }
        decimalExponent += allDigits.count - kept.count
        var mantissa = kept.reduce(Int64(0)) { $0 * 10 + Int64($1 - UInt8(ascii: "0")) }
        if droppedNonZero { mantissa += 1 }
        return scaled(mantissa, binaryFactor: binaryFactor, decimalExponent: decimalExponent)
    }

    /// `mantissa * binaryFactor * 10^decimalExponent`, rounded up, saturating at `Int64.max`.
    private static func scaled(_ mantissa: Int64, binaryFactor: Int64, decimalExponent: Int) -> Int64 {
        var (value, overflow) = mantissa.multipliedReportingOverflow(by: binaryFactor)
        if overflow { return .max }
        if decimalExponent >= 0 {
            for _ in 0..<decimalExponent {
                (value, overflow) = value.multipliedReportingOverflow(by: 10)
                if overflow { return .max }
            }
            return value
        }
        for _ in 0..<(-decimalExponent) {
            let (quotient, remainder) = value.quotientAndRemainder(dividingBy: 10)
            value = remainder > 0 ? quotient + 1 : quotient
        }
        return value
    }
}
