//! Markup: escaping and number formatting shared by the XML and HTML renderers. Formatting is
//! done by hand, never through a locale, so the same report renders to the same bytes anywhere.

import Base

enum Markup {
    /// Escapes `text` for XML or HTML, in element content and in quoted attribute values alike.
    /// Characters XML 1.0 cannot carry at all (most C0 controls, U+FFFE, U+FFFF) become U+FFFD,
    /// and tab, newline and carriage return in attributes become character references so that
    /// attribute-value normalization keeps them.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            case "\t": escaped += "&#9;"
            case "\n": escaped += "&#10;"
            case "\r": escaped += "&#13;"
            default:
                escaped.unicodeScalars.append(isAllowedInXML(scalar) ? scalar : "\u{FFFD}")
            }
        }
        return escaped
    }

    /// Escapes element content where line breaks should stay literal (a `<pre>`, a JUnit failure body).
    static func escapeText(_ text: String) -> String {
        escape(text).replacingEvery("&#10;", with: "\n").replacingEvery("&#9;", with: "\t")
    }

    /// XML 1.0's Char production.
    static func isAllowedInXML(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x9, 0xA, 0xD: true
        case 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: true
        default: false
        }
    }

    /// Cuts `text` to at most `limit` characters, saying so with an ellipsis.
    static func truncated(_ text: String, to limit: Int) -> String {
        precondition(limit >= 1, "a truncation limit is at least one character, got \(limit)")
        guard text.count > limit else { return text }
        return String(text.prefix(limit - 1)) + "…"
    }

    /// `value` with exactly `digits` decimals, rounded half away from zero: `12.50`.
    static func fixed(_ value: Double, digits: Int) -> String {
        precondition((0...6).contains(digits), "fixed() keeps 0 to 6 decimals, asked for \(digits)")
        precondition(value.isFinite, "cannot format \(value)")
        var scale: Int64 = 1
        for _ in 0..<digits { scale *= 10 }
        let scaled = Int64((value * Double(scale)).rounded())
        let sign = scaled < 0 ? "-" : ""
        let magnitude = scaled.magnitude
        let whole = magnitude / UInt64(scale)
        guard digits > 0 else { return "\(sign)\(whole)" }
        let fraction = String(magnitude % UInt64(scale))
        return "\(sign)\(whole)." + String(repeating: "0", count: digits - fraction.count) + fraction
    }

    /// A coordinate for SVG: one decimal, trailing `.0` dropped.
    static func coordinate(_ value: Double) -> String {
        let text = fixed(value, digits: 1)
        return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
    }

    /// Nanoseconds as seconds with millisecond precision: `30.000`.
    static func seconds(_ value: Nanoseconds) -> String {
        fixed(Double(value) / Double(Time.second), digits: 3)
    }

    /// A count with thousands separators: `12,345`.
    static func count(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var grouped = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { grouped.append(",") }
            grouped.append(digit)
        }
        return (value < 0 ? "-" : "") + grouped
    }
}

extension String {
    /// Every occurrence of `target` replaced, without Foundation.
    func replacingEvery(_ target: String, with replacement: String) -> String {
        precondition(!target.isEmpty, "cannot replace the empty string")
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        result += rest
        return result
    }
}
