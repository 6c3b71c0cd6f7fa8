//! Fault: one validated nemesis entry — what it breaks, on which hosts (as selectors, chosen when
//! it fires), when, and for how long — and the schedule of its occurrences.

import Base

/// When a nemesis entry fires.
public enum FaultTiming: Sendable, Equatable {
    /// Once, at `at` after the workload starts.
    case once(at: Nanoseconds)
    /// At `first`, then every `every`, for as long as the start is before `until`.
    case periodic(first: Nanoseconds, every: Nanoseconds, until: Nanoseconds)
}

/// One scheduled firing of a fault: from `start` to `end` (nil for instant faults).
public struct FaultOccurrence: Sendable, Equatable {
    /// Index of the fault in the nemesis list.
    public var fault: Int
    /// 0 for the first firing of the fault, then 1, 2, …
    public var number: Int
    public var start: Nanoseconds
    public var end: Nanoseconds?

    /// `f2.3`: the third firing of the second nemesis entry. Tags name what the runner applied so
    /// it can undo exactly that.
    public var tag: String { "f\(fault + 1).\(number + 1)" }
}

/// What a fault does besides its kind and timing. Fields that do not apply to the kind are nil,
/// false or empty (the resolver refuses them in the file).
public struct FaultParameters: Sendable, Equatable {
    public var target: Selector?
    /// Partition groups; hosts in no group form one more group.
    public var groups: [Selector] = []
    public var from: Selector?
    public var to: Selector?
    public var mode: LinkMode = .blackhole
    /// Network faults on a target's links: the links to the client namespace too.
    public var includeClient = false
    public var delay: Nanoseconds = 0
    public var jitter: Nanoseconds = 0
    public var bytesPerSecond: Int64?
    /// Clock skew: the wall-clock offset, and how fast the skewed clock runs (1 = normal).
    public var clockOffset: Nanoseconds = 0
    public var clockRate: Double = 1
    /// Process faults: restart with an empty data directory.
    public var wipe = false
    /// For `mix`: the kinds to pick from, each period.
    public var choices: [FaultKind] = []

    public init() {}
}

/// A validated nemesis entry.
public struct Fault: Sendable, Equatable {
    /// Position in the nemesis list; tags are built from it.
    public var index: Int
    public var kind: FaultKind
    public var timing: FaultTiming
    /// How long each firing lasts (`for`); nil for instant faults (reset, restart).
    public var duration: Nanoseconds?
    /// Whether a periodic fault may fire again before its previous firing is healed.
    public var overlap: Bool
    public var parameters: FaultParameters
    /// The line the entry starts on, for traces and errors.
    public var line: Int

    /// Every scheduled firing, in time order.
    public var occurrences: [FaultOccurrence] {
        switch timing {
        case .once(let at):
            return [FaultOccurrence(fault: index, number: 0, start: at, end: duration.map { at + $0 })]
        case .periodic(let first, let every, let until):
            precondition(every > 0, "fault \(index) repeats every \(every)ns")
            var result: [FaultOccurrence] = []
            var start = first
            while start < until {
                result.append(FaultOccurrence(fault: index, number: result.count, start: start, end: duration.map { start + $0 }))
                start += every
            }
            return result
        }
    }

    /// One line for people: `at 5s isolate leader for 10s (blackhole)`.
    public var summary: String {
        var words: [String] = []
        switch timing {
        case .once(let at): words.append("at \(Time.describe(at))")
        case .periodic(let first, let every, let until):
            words.append("every \(Time.describe(every)) from \(Time.describe(first)) until \(Time.describe(until))")
        }
        words.append(kind.rawValue)
        let parameters = self.parameters
        if kind == .mix { words.append("[" + parameters.choices.map(\.rawValue).joined(separator: ", ") + "]") }
        if let target = parameters.target { words.append(target.description) }
        if !parameters.groups.isEmpty { words.append("groups " + parameters.groups.map(\.description).joined(separator: " | ")) }
        if let from = parameters.from, let to = parameters.to { words.append("\(from) -> \(to)") }
        if let duration { words.append("for \(Time.describe(duration))") }
        var details: [String] = []
        if kind.isNetwork && kind != .latency && kind != .bandwidth && kind != .reset { details.append(parameters.mode.rawValue) }
        if parameters.delay > 0 { details.append("delay \(Time.describe(parameters.delay))") }
        if parameters.jitter > 0 { details.append("jitter \(Time.describe(parameters.jitter))") }
        if let rate = parameters.bytesPerSecond { details.append("\(rate) B/s") }
        if kind == .skew { details.append("offset \(Time.describe(parameters.clockOffset)), rate \(parameters.clockRate)") }
        if parameters.wipe { details.append("wipe") }
        if parameters.includeClient { details.append("include-client") }
        if !details.isEmpty { words.append("(" + details.joined(separator: ", ") + ")") }
        return words.joined(separator: " ")
    }
}
