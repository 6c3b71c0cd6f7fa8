//! JSONReport: report.json, the whole RunReport for machines, with sorted keys so the same report
//! always encodes to the same bytes (and two runs diff cleanly).

import Foundation

enum JSONReport {
    static func render(_ report: RunReport) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let data: Data
        do {
            data = try encoder.encode(report)
        } catch {
            // Every field is a string, an integer, a finite Double or a Bool; encoding cannot fail.
            fatalError("unreachable: report.json encoding failed: \(error)")
        }
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
