//! History: the events clients observed, and the JSON-lines format they are stored in.
//!
//! The format is specified in `specs/history-format.md`: one JSON object per line with
//! `process`, `type`, `f`, `key`, `value`, `time` and optional `node` and `error`.
//! `parseHistory` checks every rule of that spec a file can break on its own (field types,
//! value shapes, time order, completions pairing with invokes, processes retired after `info`),
//! so the checker can assume a well-formed history.

import Wire

/// The operation a client performed on a key.
public enum OperationKind: String, Sendable, CaseIterable {
    case read, write, cas, delete
}

/// What an event records: the start of an operation, or how it ended.
public enum EventType: String, Sendable, CaseIterable {
    /// The operation starts.
    case invoke
    /// It completed and took effect.
    case ok
    /// It certainly did not take effect.
    case fail
    /// The outcome is unknown: it may take effect at any time after its invoke, or never.
    case info
}

/// The `value` field: a register value, absent, or the `[expected, new]` pair of a cas.
public enum HistoryValue: Equatable, Hashable, Sendable, CustomStringConvertible {
    case null
    case string(String)
    /// A cas argument: `[expected, new]`.
    case pair(String, String)

    public var description: String {
        switch self {
        case .null: "null"
        case .string(let text): JSON.quoted(text)
        case .pair(let expected, let new): "[\(JSON.quoted(expected)), \(JSON.quoted(new))]"
        }
    }

    var json: JSONValue {
        switch self {
        case .null: .null
        case .string(let text): .string(text)
        case .pair(let expected, let new): .array([.string(expected), .string(new)])
        }
    }
}

/// One line of a history.
public struct HistoryEvent: Equatable, Sendable {
    public var process: Int
    public var type: EventType
    public var f: OperationKind
    public var key: String
    public var value: HistoryValue
    /// Nanoseconds since the start of the run, monotonic.
    public var time: Int64
    /// The endpoint the client used, when known.
    public var node: String?
    /// Why the operation failed or is unknown, when known.
    public var error: String?

    public init(
        process: Int, type: EventType, f: OperationKind, key: String, value: HistoryValue, time: Int64,
        node: String? = nil, error: String? = nil
    ) {
        self.process = process
        self.type = type
        self.f = f
        self.key = key
        self.value = value
        self.time = time
        self.node = node
        self.error = error
    }

    /// The event as one JSON line (no trailing newline), fields in the spec's order:
    /// process, type, f, key, value, time, then node and error when present.
    public func jsonLine() -> String {
        var output: [UInt8] = []
        output.reserveCapacity(96)
        appendJSONLine(to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Appends `jsonLine()` to a byte buffer, for writing long histories without a String per line.
    public func appendJSONLine(to output: inout [UInt8]) {
        output.append(contentsOf: "{\"process\":".utf8)
        output.append(contentsOf: String(process).utf8)
        output.append(contentsOf: ",\"type\":\"".utf8)
        output.append(contentsOf: type.rawValue.utf8)
        output.append(contentsOf: "\",\"f\":\"".utf8)
        output.append(contentsOf: f.rawValue.utf8)
        output.append(contentsOf: "\",\"key\":".utf8)
        JSON.appendQuoted(key, to: &output)
        output.append(contentsOf: ",\"value\":".utf8)
        JSON.append(value.json, to: &output)
        output.append(contentsOf: ",\"time\":".utf8)
        output.append(contentsOf: String(time).utf8)
        if let node {
            output.append(contentsOf: ",\"node\":".utf8)
            JSON.appendQuoted(node, to: &output)
        }
        if let error {
            output.append(contentsOf: ",\"error\":".utf8)
            JSON.appendQuoted(error, to: &output)
        }
        output.append(UInt8(ascii: "}"))
    }
}

/// A whole history as JSON lines, each ending in a newline.
public func serializeHistory(_ events: [HistoryEvent]) -> String {
    var output: [UInt8] = []
    output.reserveCapacity(events.count * 96)
    for event in events {
        event.appendJSONLine(to: &output)
        output.append(UInt8(ascii: "\n"))
    }
    return String(decoding: output, as: UTF8.self)
}

/// Why a history file is malformed: the 1-based line and what is wrong with it.
public struct HistoryParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public var line: Int
    public var message: String

    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }

    public var description: String { "line \(line): \(message)" }
}
