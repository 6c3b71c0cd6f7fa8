//! One event of a watch stream, as the apiserver writes them: a JSON object a line,
//! `{"type":"ADDED","object":{…}}`, with BOOKMARK carrying only a resourceVersion and ERROR a
//! Status (410 Expired when the resourceVersion asked for has been compacted away).

import KubeAPI
import Wire

public enum WatchEvent: Sendable, Equatable {
    case added(JSONValue)
    case modified(JSONValue)
    case deleted(JSONValue)
    /// Nothing changed up to this resourceVersion: a re-watch may start from it.
    case bookmark(resourceVersion: String)
    /// The server ended the watch with a Status (410 Expired: list again).
    case error(APIError)

    /// The event of one line; an `.error` when the line is not a watch event.
    public static func decode(_ line: [UInt8]) -> WatchEvent {
        guard let value = line.withUnsafeBufferPointer({ try? JSON.parse(bytes: $0) }),
            let type = value.stringMember("type"), let object = value["object"]
        else {
            let excerpt = String(decoding: line.prefix(120), as: UTF8.self)
            return .error(.status(code: 500, reason: .internalError, message: "not a watch event: \(excerpt)"))
        }
        switch type {
        case "ADDED": return .added(object)
        case "MODIFIED": return .modified(object)
        case "DELETED": return .deleted(object)
        case "BOOKMARK": return .bookmark(resourceVersion: object.stringMember("metadata", "resourceVersion") ?? "")
        case "ERROR": return .error(APIError.from(code: Int(object.intMember("code") ?? 500), status: object))
        default: return .error(.status(code: 500, reason: .internalError, message: "unknown watch event type '\(type)'"))
        }
    }
}

/// Cuts a stream of chunks into lines: the chunks of an HTTP stream need not end where the
/// events do. Pure.
public struct LineSplitter: Sendable {
    /// A line longer than this is an error (an object is at most a few MiB).
    public let lineBytesMax: Int
    private var pending: [UInt8] = []

    public init(lineBytesMax: Int = 16 << 20) {
        precondition(lineBytesMax > 0, "lineBytesMax \(lineBytesMax) must be positive")
        self.lineBytesMax = lineBytesMax
    }

    /// The complete lines `chunk` finishes (without their newline; empty lines skipped); nil
    /// when the unfinished line has grown past `lineBytesMax`.
    public mutating func append(_ chunk: [UInt8]) -> [[UInt8]]? {
        var lines: [[UInt8]] = []
        var start = chunk.startIndex
        for index in chunk.indices where chunk[index] == 10 {
            pending += chunk[start..<index]
            if !pending.isEmpty { lines.append(pending) }
            pending.removeAll(keepingCapacity: true)
            start = index + 1
        }
        pending += chunk[start...]
        return pending.count > lineBytesMax ? nil : lines
    }
}
