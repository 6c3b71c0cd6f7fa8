//! Operation: an invoke paired with its completion, the unit the checker orders.
//!
//! `operations(from:)` pairs each completion with the latest invoke of its process. An invoke
//! that never completes is treated as `info`: the client stopped listening, so the operation
//! may or may not have taken effect.

/// How an operation ended.
public enum OperationOutcome: String, Sendable {
    /// Completed and took effect between its invoke and its completion.
    case ok
    /// Certainly took no effect.
    case fail
    /// Unknown: may take effect at any time after its invoke, or never.
    case info
}

/// One client operation: what it asked, what it got, and when.
public struct Operation: Equatable, Sendable, CustomStringConvertible {
    public var process: Int
    public var f: OperationKind
    public var key: String
    /// The argument: the value written, `[expected, new]` for cas, null for read and delete.
    public var input: HistoryValue
    /// The result: the value an `ok` read returned (null when absent); null otherwise.
    public var output: HistoryValue
    public var invokeTime: Int64
    /// When it completed; `Int64.max` for `info`, which may take effect at any later time.
    public var completionTime: Int64
    public var outcome: OperationOutcome
    /// The time of the `info` event (when the client gave up), or nil when there was none.
    public var infoTime: Int64?
    /// Position of this operation's invoke among all invokes of the history, a stable identity.
    public var index: Int

    public init(
        process: Int, f: OperationKind, key: String, input: HistoryValue, output: HistoryValue, invokeTime: Int64,
        completionTime: Int64, outcome: OperationOutcome, infoTime: Int64? = nil, index: Int
    ) {
        self.process = process
        self.f = f
        self.key = key
        self.input = input
        self.output = output
        self.invokeTime = invokeTime
        self.completionTime = completionTime
        self.outcome = outcome
        self.infoTime = infoTime
        self.index = index
    }

    /// `process 1 read "1" [2500, 3000] ok`, for counterexamples.
    public var description: String {
        let value: HistoryValue = f == .read ? output : input
        let shownValue = f == .read && outcome != .ok ? "" : " \(value)"
        let end = completionTime == Int64.max ? "∞)" : "\(completionTime)]"
        var text = "process \(process) \(f.rawValue)\(shownValue) [\(invokeTime), \(end) \(outcome.rawValue)"
        if let infoTime { text += " (gave up at \(infoTime))" }
        return text
    }
}

/// Pairs invokes with completions. The events must be a valid history (see `parseHistory`);
/// a completion without an invoke is a caller bug and stops the process.
public func operations(from events: [HistoryEvent]) -> [Operation] {
    var result: [Operation] = []
    result.reserveCapacity(events.count / 2 + 1)
    var pending: [Int: Int] = [:]  // process -> index into result
    for event in events {
        if event.type == .invoke {
            precondition(pending[event.process] == nil, "process \(event.process) invokes twice at time \(event.time)")
            pending[event.process] = result.count
            result.append(
                Operation(
                    process: event.process, f: event.f, key: event.key, input: event.f == .read ? .null : event.value,
                    output: .null, invokeTime: event.time, completionTime: Int64.max, outcome: .info,
                    index: result.count))
            continue
        }
        guard let position = pending.removeValue(forKey: event.process) else {
            preconditionFailure("\(event.type.rawValue) for process \(event.process) at time \(event.time) without an invoke")
        }
        precondition(result[position].f == event.f, "completion \(event.f) does not match invoke \(result[position].f)")
        precondition(result[position].key == event.key, "completion key \(event.key) differs from \(result[position].key)")
        switch event.type {
        case .invoke:
            fatalError("unreachable: invokes are handled above")
        case .ok:
            result[position].outcome = .ok
            result[position].completionTime = event.time
            if event.f == .read { result[position].output = event.value }
        case .fail:
            result[position].outcome = .fail
            result[position].completionTime = event.time
        case .info:
            result[position].infoTime = event.time
        }
    }
    return result
}
