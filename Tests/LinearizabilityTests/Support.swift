//! Support: a small builder for hand-written histories and access to the `histories/` files.

import Linearizability

/// Builds a history from operations given as intervals; events come out sorted by time.
struct HistoryBuilder {
    private var timeline: [(time: Int64, order: Int, event: HistoryEvent)] = []

    /// Adds one operation. For reads `value` is what the read returned. `end` nil leaves it
    /// without completion.
    mutating func add(
        _ process: Int, _ f: OperationKind, _ value: HistoryValue = .null, key: String = "x", from start: Int64,
        to end: Int64?, _ type: EventType = .ok
    ) {
        let invokeValue: HistoryValue = f == .read ? .null : value
        timeline.append(
            (start, timeline.count,
             HistoryEvent(process: process, type: .invoke, f: f, key: key, value: invokeValue, time: start)))
        guard let end else { return }
        let completionValue: HistoryValue = f == .read && type != .ok ? .null : value
        timeline.append(
            (end, timeline.count,
             HistoryEvent(process: process, type: type, f: f, key: key, value: completionValue, time: end)))
    }

    var events: [HistoryEvent] {
        timeline.sorted { ($0.time, $0.order) < ($1.time, $1.order) }.map(\.event)
    }
}

/// The text of `histories/<name>`, located next to this source file.
func historyFile(_ name: String, filePath: String = #filePath) throws -> String {
    let directory = filePath.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
    return try readText(directory + "/histories/" + name)
}

/// Reads a file with the C library, since the test target does not import Foundation.
func readText(_ path: String) throws -> String {
    struct Unreadable: Error { var path: String }
    guard let file = fopen(path, "rb") else { throw Unreadable(path: path) }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = fread(&chunk, 1, chunk.count, file)
        if count <= 0 { break }
        bytes.append(contentsOf: chunk[0..<count])
    }
    return String(decoding: bytes, as: UTF8.self)
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
