//! The `pod-template-hash` label: what names a Deployment's ReplicaSet and tells its pods apart
//! from another revision's.
//!
//! Kubernetes hashes the Go struct of the template with FNV-32a, adds the collision count as four
//! little-endian bytes when there is one, and spells the decimal value of the hash in an alphabet
//! with no vowels (`rand.SafeEncodeString`) so no word can form. Our template is JSON, so the hash
//! is over a canonical serialisation instead: members sorted by key, and the values Go's semantic
//! equality ignores (null, empty objects, empty lists) left out, so a template that differs only
//! in member order or in spelling "nothing" has the same hash.
import Wire

/// Hashing and comparing pod templates.
enum PodTemplateHash {
    static let labelKey = "pod-template-hash"
    /// `rand.SafeEncodeString`'s alphabet: consonants and digits that cannot spell words.
    static let safeAlphabet: [Character] = Array("bcdfghjklmnpqrstvwxz2456789")

    /// The label value for `template` with the Deployment's `status.collisionCount`.
    static func value(of template: JSONValue, collisionCount: Int64?) -> String {
        var hash = FNV32a()
        hash.combine(bytes: canonicalText(template).utf8)
        if let collisionCount {
            let count = UInt32(truncatingIfNeeded: collisionCount)
            for shift in stride(from: 0, to: 32, by: 8) { hash.combine(UInt8(truncatingIfNeeded: count >> UInt32(shift))) }
        }
        return safeEncoded(String(hash.value))
    }

    /// Each character replaced by the alphabet letter at its byte value modulo the alphabet size.
    static func safeEncoded(_ text: String) -> String {
        String(text.utf8.map { safeAlphabet[Int($0) % safeAlphabet.count] })
    }

    /// Whether two templates are the same apart from their `pod-template-hash` labels
    /// (`EqualIgnoreHash`): how a Deployment finds the ReplicaSet of its current template.
    static func equalIgnoringHash(_ first: JSONValue, _ second: JSONValue) -> Bool {
        canonicalText(withoutHashLabel(first)) == canonicalText(withoutHashLabel(second))
    }

    static func withoutHashLabel(_ template: JSONValue) -> JSONValue {
        var copy = template
        if copy.member("metadata", "labels", labelKey) != nil { copy.set("metadata.labels.\(labelKey)", nil) }
        return copy
    }

    /// Compact JSON with members sorted and empty values dropped (see the file comment).
    static func canonicalText(_ value: JSONValue) -> String {
        JSON.serialize(canonical(value) ?? .object(JSONObject()))
    }

    /// The canonical form of `value`, or nil when it is "nothing" (null, `{}`, `[]` after pruning).
    private static func canonical(_ value: JSONValue) -> JSONValue? {
        switch value {
        case .null: return nil
        case .array(let elements):
            // Elements keep their places: an element that prunes to nothing becomes null.
            if elements.isEmpty { return nil }
            return .array(elements.map { canonical($0) ?? .null })
        case .object(let object):
            var sorted = JSONObject()
            for key in object.keys.sorted() {
                if let member = object[key].flatMap(canonical) { sorted[key] = member }
            }
            return sorted.count == 0 ? nil : .object(sorted)
        case .bool, .integer, .number, .string: return value
        }
    }
}

/// FNV-1a, 32 bit: the hash Kubernetes uses for `pod-template-hash` (`hash/fnv.New32a`).
struct FNV32a {
    private(set) var value: UInt32 = 0x811c_9dc5

    mutating func combine(_ byte: UInt8) {
        value ^= UInt32(byte)
        value = value &* 0x0100_0193
    }

    mutating func combine<S: Sequence>(bytes: S) where S.Element == UInt8 {
        for byte in bytes { combine(byte) }
    }
}
