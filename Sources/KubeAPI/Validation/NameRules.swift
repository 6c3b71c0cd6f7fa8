//! The name and format rules of Kubernetes (DNS labels and subdomains, qualified names, label
//! values, config keys, port names, percentages), each returning Kubernetes' messages for what
//! is wrong, empty when the value is fine.
//!
//! The messages quote the regular expression Kubernetes validates with, so they carry the pattern
//! text; the matching itself is written out by hand, as the pure core has no regex engine.

/// Which rule a kind's `metadata.name` follows.
enum NameRule {
    /// Most kinds: `example.com`.
    case dnsSubdomain
    /// Namespaces: one DNS label.
    case dnsLabel
    /// Services: a label that starts with a letter, since it becomes a DNS name and an env var prefix.
    case dns1035Label

    /// The rule's messages for `name`; with `prefix` the name is a `generateName` prefix, whose
    /// trailing dash is fine because a random suffix follows it.
    func messages(_ name: String, prefix: Bool = false) -> [String] {
        let checked = prefix && name.hasSuffix("-") ? String(name.dropLast()) + "a" : name
        switch self {
        case .dnsSubdomain: return NameRules.dnsSubdomain(checked)
        case .dnsLabel: return NameRules.dnsLabel(checked)
        case .dns1035Label: return NameRules.dns1035Label(checked)
        }
    }
}

enum NameRules {
    static let dnsLabelPattern = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
    static let dnsSubdomainPattern = dnsLabelPattern + "(\\." + dnsLabelPattern + ")*"
    static let dns1035LabelPattern = "[a-z]([-a-z0-9]*[a-z0-9])?"
    static let qualifiedNamePattern = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
    static let labelValuePattern = "(" + qualifiedNamePattern + ")?"
    static let qualifiedNameExamples = ["MyName", "my.name", "123-abc"]
    static let qualifiedNameMessage =
        "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"

    /// RFC 1123 label: at most 63 lowercase alphanumerics and dashes, alphanumeric at both ends.
    static func dnsLabel(_ value: String) -> [String] {
        formatMessages(
            value, maxLength: 63, matches: isDNSLabel(value),
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
                + "and must start and end with an alphanumeric character",
            pattern: dnsLabelPattern, examples: ["my-name", "123-abc"])
    }

    /// RFC 1123 subdomain: dot-separated labels, at most 253 characters.
    static func dnsSubdomain(_ value: String) -> [String] {
        formatMessages(
            value, maxLength: 253, matches: isDNSSubdomain(value),
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                + "and must start and end with an alphanumeric character",
            pattern: dnsSubdomainPattern, examples: ["example.com"])
    }

    /// RFC 1035 label: like an RFC 1123 label, but starting with a letter.
    static func dns1035Label(_ value: String) -> [String] {
        formatMessages(
            value, maxLength: 63, matches: isDNSLabel(value) && value.utf8.first.map(isLowercaseLetter) == true,
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
                + "start with an alphabetic character, and end with an alphanumeric character",
            pattern: dns1035LabelPattern, examples: ["my-name", "abc-123"])
    }

    /// A qualified name (label keys, annotation keys, finalizers): an optional DNS subdomain prefix
    /// and a slash, then a name of at most 63 characters.
    static func qualifiedName(_ value: String) -> [String] {
        let parts = value.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        var messages: [String] = []
        let name: String
        switch parts.count {
        case 1: name = parts[0]
        case 2:
            name = parts[1]
            if parts[0].isEmpty {
                messages.append("prefix part must be non-empty")
            } else {
                messages += dnsSubdomain(parts[0]).map { "prefix part " + $0 }
            }
        default:
            return ["a qualified name " + regexError(qualifiedNameMessage, pattern: qualifiedNamePattern, examples: qualifiedNameExamples)
                + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
        }
        if name.isEmpty {
            messages.append("name part must be non-empty")
        } else if name.utf8.count > 63 {
            messages.append("name part must be no more than 63 characters")
        }
        if !isQualifiedNamePart(name) {
            messages.append("name part " + regexError(qualifiedNameMessage, pattern: qualifiedNamePattern, examples: qualifiedNameExamples))
        }
        return messages
    }

    /// A label value: empty, or a qualified name part of at most 63 characters.
    static func labelValue(_ value: String) -> [String] {
        formatMessages(
            value, maxLength: 63, matches: value.isEmpty || isQualifiedNamePart(value),
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
                + "and must start and end with an alphanumeric character",
            pattern: labelValuePattern, examples: ["MyValue", "my_value", "12345"])
    }

    /// A ConfigMap or Secret key, which becomes a file name.
    static func configMapKey(_ value: String) -> [String] {
        let allowed = !value.isEmpty && value.utf8.allSatisfy { isAlphanumeric($0) || "-_.".utf8.contains($0) }
        var messages = formatMessages(
            value, maxLength: 253, matches: allowed,
            "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
            pattern: "[-._a-zA-Z0-9]+", examples: ["key.name", "KEY_NAME", "key-name"])
        if value == "." {
            messages.append("must not be '.'")
        } else if value == ".." {
            messages.append("must not be '..'")
        } else if value.hasPrefix("..") {
            messages.append("must not start with '..'")
        }
        return messages
    }

    /// An IANA service name, as container and service ports may be named.
    static func portName(_ value: String) -> [String] {
        var messages = maxLength(value, 15)
        let bytes = Array(value.utf8)
        if bytes.isEmpty || !bytes.allSatisfy({ isLowercaseLetter($0) || isDigit($0) || $0 == UInt8(ascii: "-") }) {
            messages.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
        }
        if !bytes.contains(where: isLowercaseLetter) {
            messages.append("must contain at least one letter (a-z)")
        }
        if value.contains("--") {
            messages.append("must not contain consecutive hyphens")
        }
        if bytes.first == UInt8(ascii: "-") || bytes.last == UInt8(ascii: "-") {
            messages.append("must not begin or end with a hyphen")
        }
        return messages
    }

    /// A percentage such as `25%`.
    static func percent(_ value: String) -> [String] {
        let bytes = Array(value.utf8)
        let valid = bytes.count >= 2 && bytes.last == UInt8(ascii: "%") && bytes.dropLast().allSatisfy(isDigit)
        return valid ? [] : [regexError(
            "a valid percent string must be a numeric string followed by an ending '%'", pattern: "[0-9]+%", examples: ["1%", "93%"])]
    }

    /// Kubernetes' wording for a value that does not match a pattern: the examples, then the pattern.
    static func regexError(_ message: String, pattern: String, examples: [String]) -> String {
        guard !examples.isEmpty else { return "\(message) (regex used for validation is '\(pattern)')" }
        var text = message + " (e.g. "
        for (position, example) in examples.enumerated() {
            if position > 0 { text += " or " }
            text += "'\(example)', "
        }
        return text + "regex used for validation is '\(pattern)')"
    }

    private static func maxLength(_ value: String, _ limit: Int) -> [String] {
        value.utf8.count > limit ? ["must be no more than \(limit) characters"] : []
    }

    /// The messages of a rule that limits the length and requires a pattern; Kubernetes reports
    /// both when both fail.
    private static func formatMessages(
        _ value: String, maxLength limit: Int, matches: Bool, _ message: String, pattern: String, examples: [String]
    ) -> [String] {
        maxLength(value, limit) + (matches ? [] : [regexError(message, pattern: pattern, examples: examples)])
    }

    static func isDNSLabel(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard let first = bytes.first, let last = bytes.last else { return false }
        let isLowerAlphanumeric = { (byte: UInt8) in isLowercaseLetter(byte) || isDigit(byte) }
        return isLowerAlphanumeric(first) && isLowerAlphanumeric(last)
            && bytes.allSatisfy { isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") }
    }

    static func isDNSSubdomain(_ value: String) -> Bool {
        value.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isDNSLabel(String($0)) }
    }

    /// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`.
    private static func isQualifiedNamePart(_ value: String) -> Bool {
        let bytes = Array(value.utf8)
        guard let first = bytes.first, let last = bytes.last else { return false }
        return isAlphanumeric(first) && isAlphanumeric(last)
            && bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    private static func isLowercaseLetter(_ byte: UInt8) -> Bool { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) }
    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isLowercaseLetter(byte) || isDigit(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }
}
