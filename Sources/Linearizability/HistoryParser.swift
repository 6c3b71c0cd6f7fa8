//! HistoryParser: reads JSON lines into `HistoryEvent`s and enforces the history format's rules.
//!
//! Blank lines are skipped (a trailing newline is normal). Unknown fields are ignored, so other
//! tools may add their own. Invokes left without a completion at the end are allowed: the
//! checker treats them like `info` (the client died before hearing back).

import Wire

/// Parses and validates a history; throws the first problem with its line number.
public func parseHistory(_ text: String) throws(HistoryParseError) -> [HistoryEvent] {
    var copy = text
    let result: Result<[HistoryEvent], HistoryParseError> = copy.withUTF8 { bytes in
        var validator = HistoryValidator()
        var events: [HistoryEvent] = []
        var lineStart = 0
        var lineNumber = 1
        while lineStart < bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count && bytes[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            let line = UnsafeBufferPointer(rebasing: bytes[lineStart..<lineEnd])
            if line.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") && $0 != UInt8(ascii: "\r") }) {
                do throws(HistoryParseError) {
                    let event = try decodeEvent(line, lineNumber: lineNumber)
                    try validator.accept(event, lineNumber: lineNumber)
                    events.append(event)
                } catch {
                    return .failure(error)
                }
            }
            lineStart = lineEnd + 1
            lineNumber += 1
        }
        return .success(events)
    }
    return try result.get()
}

/// Decodes one line's JSON object into an event, checking field types and the value's shape.
func decodeEvent(_ line: UnsafeBufferPointer<UInt8>, lineNumber: Int) throws(HistoryParseError) -> HistoryEvent {
    let json: JSONValue
    do throws(JSONParseError) {
        json = try JSON.parse(bytes: line)
    } catch {
        throw HistoryParseError(line: lineNumber, message: "invalid JSON at column \(error.column): \(error.message)")
    }
    guard case .object(let object) = json else {
        throw HistoryParseError(line: lineNumber, message: "expected a JSON object, found \(json.kindName)")
    }
    func fail(_ message: String) -> HistoryParseError { HistoryParseError(line: lineNumber, message: message) }
    func required(_ name: String) throws(HistoryParseError) -> JSONValue {
        guard let value = object[name] else { throw fail("missing field \"\(name)\"") }
        return value
    }
    func string(_ name: String, _ value: JSONValue) throws(HistoryParseError) -> String {
        guard case .string(let text) = value else { throw fail("field \"\(name)\" must be a string, found \(value.kindName)") }
        return text
    }
    func integer(_ name: String) throws(HistoryParseError) -> Int64 {
        let value = try required(name)
        guard case .integer(let number) = value else {
            throw fail("field \"\(name)\" must be an integer, found \(value.kindName)")
        }
        return number
    }
    let process = try integer("process")
    guard process >= 0, process <= Int64(Int32.max) else { throw fail("field \"process\" must be ≥ 0, found \(process)") }
    let typeText = try string("type", try required("type"))
    guard let type = EventType(rawValue: typeText) else {
        throw fail("field \"type\" must be invoke, ok, fail or info, found \(JSON.quoted(typeText))")
    }
    let fText = try string("f", try required("f"))
    guard let f = OperationKind(rawValue: fText) else {
        throw fail("field \"f\" must be read, write, cas or delete, found \(JSON.quoted(fText))")
    }
    let key = try string("key", try required("key"))
    let value = try decodeValue(try required("value"), f: f, type: type, fail: fail)
    let time = try integer("time")
    var node: String?
    if let raw = object["node"], raw != .null { node = try string("node", raw) }
    var error: String?
    if let raw = object["error"], raw != .null { error = try string("error", raw) }
    return HistoryEvent(
        process: Int(process), type: type, f: f, key: key, value: value, time: time, node: node, error: error)
}

/// The `value` field for operation `f` in an event of `type`, per the spec's table.
func decodeValue(
    _ raw: JSONValue, f: OperationKind, type: EventType, fail: (String) -> HistoryParseError
) throws(HistoryParseError) -> HistoryValue {
    let context = "\(f.rawValue) \(type.rawValue)"
    switch f {
    case .write:
        guard case .string(let text) = raw else { throw fail("value of a \(context) must be a string, found \(raw.kindName)") }
        return .string(text)
    case .delete:
        guard raw == .null else { throw fail("value of a \(context) must be null, found \(raw.kindName)") }
        return .null
    case .cas:
        guard case .array(let parts) = raw, parts.count == 2, case .string(let expected) = parts[0],
            case .string(let new) = parts[1]
        else { throw fail("value of a \(context) must be [expected, new] (two strings), found \(JSON.serialize(raw))") }
        return .pair(expected, new)
    case .read:
        switch raw {
        case .null:
            return .null
        case .string(let text) where type != .invoke:
            return .string(text)
        default:
            let allowed = type == .invoke ? "null" : "a string or null"
            throw fail("value of a \(context) must be \(allowed), found \(raw.kindName)")
        }
    }
}

/// The cross-line rules: time order, completion pairing, and processes retired after `info`.
struct HistoryValidator {
    struct Outstanding {
        var event: HistoryEvent
        var line: Int
    }
    var lastTime = Int64.min
    var lastTimeLine = 0
    var outstanding: [Int: Outstanding] = [:]
    /// Processes that ended with `info`, with the line of that completion.
    var retired: [Int: Int] = [:]

    mutating func accept(_ event: HistoryEvent, lineNumber: Int) throws(HistoryParseError) {
        func fail(_ message: String) -> HistoryParseError { HistoryParseError(line: lineNumber, message: message) }
        guard event.time >= lastTime else {
            throw fail("time \(event.time) goes backwards (line \(lastTimeLine) has time \(lastTime))")
        }
        lastTime = event.time
        lastTimeLine = lineNumber
        if let infoLine = retired[event.process] {
            throw fail("process \(event.process) is used again after its info completion on line \(infoLine)")
        }
        if event.type == .invoke {
            if let open = outstanding[event.process] {
                throw fail("process \(event.process) invokes while its \(open.event.f.rawValue) from line \(open.line) is outstanding")
            }
            outstanding[event.process] = Outstanding(event: event, line: lineNumber)
            return
        }
        guard let open = outstanding.removeValue(forKey: event.process) else {
            throw fail("\(event.type.rawValue) for process \(event.process) without an outstanding invoke")
        }
        let invoke = open.event
        guard invoke.f == event.f else {
            throw fail("completion f \(event.f.rawValue) does not match the \(invoke.f.rawValue) invoked on line \(open.line)")
        }
        guard invoke.key == event.key else {
            throw fail("completion key \(JSON.quoted(event.key)) does not match key \(JSON.quoted(invoke.key)) invoked on line \(open.line)")
        }
        if event.f == .write || event.f == .cas {
            guard invoke.value == event.value else {
                throw fail("completion value \(event.value) differs from value \(invoke.value) invoked on line \(open.line)")
            }
        }
        if event.type == .info { retired[event.process] = lineNumber }
    }
}
