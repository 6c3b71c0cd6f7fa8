//! WatchCheck: etcd's watch guarantees, checked on what watchers received against what was
//! committed. Ordered (revisions never go backwards), unique (no event twice), atomic (a
//! revision's events arrive in one message), reliable (no event missing between a stream's start
//! and the last revision it saw), and resumable (a stream restarted from last + 1 after a
//! reconnect neither skips nor repeats).

import Base

public enum WatchEventType: String, Sendable, Equatable {
    case put = "PUT"
    case delete = "DELETE"
}

public struct WatchEvent: Sendable, Hashable, CustomStringConvertible {
    public var revision: Int64
    public var key: String
    /// The value put; nil for a delete.
    public var value: String?
    public var type: WatchEventType

    public init(revision: Int64, key: String, value: String?, type: WatchEventType) {
        self.revision = revision
        self.key = key
        self.value = value
        self.type = type
    }

    public var description: String { "\(type.rawValue) \(key)@\(revision)" }
}

/// One watch response: the events it carried and when it arrived.
public struct WatchMessage: Sendable, Equatable {
    public var time: Nanoseconds
    public var events: [WatchEvent]

    public init(time: Nanoseconds, events: [WatchEvent]) {
        self.time = time
        self.events = events
    }
}

/// One watch connection, from the revision it asked to start at.
public struct WatchSegment: Sendable, Equatable {
    public var startRevision: Int64
    public var messages: [WatchMessage]

    public init(startRevision: Int64, messages: [WatchMessage]) {
        self.startRevision = startRevision
        self.messages = messages
    }

    /// The last revision this segment saw: its last event's, or one before its start.
    var lastSeen: Int64 { messages.last(where: { !$0.events.isEmpty })?.events.last?.revision ?? startRevision - 1 }
}

/// One watcher over a key prefix: its first connection, then each resumption after a reconnect.
public struct WatchStream: Sendable, Equatable {
    public var name: String
    /// The keys watched (`""`: every key).
    public var prefix: String
    public var segments: [WatchSegment]

    public init(name: String, prefix: String = "", segments: [WatchSegment]) {
        self.name = name
        self.prefix = prefix
        self.segments = segments
    }
}

extension Checks {
    /// Checks each stream against `committed`, every event the store committed (from a final
    /// read of its history), so missed and invented events are both found.
    public static func watchGuarantees(streams: [WatchStream], committed: [WatchEvent]) -> CheckResult {
        let name = "watch"
        guard !streams.isEmpty else { return CheckResult(name: name, verdict: .unknown, summary: "no watch was observed") }
        var committedByPosition: [String: WatchEvent] = [:]
        for event in committed { committedByPosition["\(event.revision)/\(event.key)"] = event }
        var details: [CheckDetail] = []
        var delivered = 0
        for stream in streams {
            details += orderAndAtomicity(stream)
            details += resumption(stream)
            let (received, problems) = completeness(stream, committed: committed, committedByPosition: committedByPosition)
            delivered += received
            details += problems
        }
        let resumptions = streams.map { $0.segments.count - 1 }.reduce(0, +)
        guard details.isEmpty else {
            return CheckResult(name: name, verdict: .fail, summary: "\(count(details.count, "violation")) of the watch guarantees",
                details: details)
        }
        return CheckResult(name: name, verdict: .pass,
            summary: "\(count(streams.count, "stream")) delivered \(count(delivered, "event")) in order, once, atomically and completely (\(count(resumptions, "resumption")))")
    }

    /// Revisions never go backwards within a message, strictly increase across messages (so no
    /// revision is split between two), and no (revision, key) repeats; none precede the start.
    static func orderAndAtomicity(_ stream: WatchStream) -> [CheckDetail] {
        var details: [CheckDetail] = []
        var seen: Set<String> = []
        for segment in stream.segments {
            var previous: Int64 = segment.startRevision - 1
            var previousMessageLast: Int64?
            for message in segment.messages {
                for (position, event) in message.events.enumerated() {
                    if event.revision < segment.startRevision {
                        details.append(CheckDetail(time: message.time, "\(stream.name): \(event) precedes the start revision \(segment.startRevision)"))
                    }
                    if !seen.insert("\(event.revision)/\(event.key)").inserted {
                        details.append(CheckDetail(time: message.time, "\(stream.name): \(event) delivered twice"))
                    } else if position == 0, let last = previousMessageLast, event.revision == last {
                        details.append(CheckDetail(time: message.time, "\(stream.name): revision \(event.revision) is split across two messages (not atomic)"))
                    } else if event.revision < previous {
                        details.append(CheckDetail(time: message.time, "\(stream.name): \(event) after revision \(previous) goes backwards"))
                    }
                    previous = max(previous, event.revision)
                }
                if let last = message.events.last?.revision { previousMessageLast = last }
            }
        }
        return details
    }

    /// Each resumption starts right after the last revision the stream saw.
    static func resumption(_ stream: WatchStream) -> [CheckDetail] {
        var details: [CheckDetail] = []
        for (index, segment) in stream.segments.enumerated().dropFirst() {
            let expected = stream.segments[index - 1].lastSeen + 1
            let time = segment.messages.first?.time
            if segment.startRevision < expected {
                details.append(CheckDetail(time: time, "\(stream.name): resumption \(index) starts at \(segment.startRevision), repeating revisions up to \(expected - 1)"))
            } else if segment.startRevision > expected {
                details.append(CheckDetail(time: time, "\(stream.name): resumption \(index) starts at \(segment.startRevision), skipping revisions \(expected)–\(segment.startRevision - 1)"))
            }
        }
        return details
    }

    /// Every committed event under the prefix between the stream's start and the last revision it
    /// saw was delivered, and every delivered event was committed as delivered.
    static func completeness(_ stream: WatchStream, committed: [WatchEvent], committedByPosition: [String: WatchEvent])
        -> (received: Int, details: [CheckDetail])
    {
        var details: [CheckDetail] = []
        let received = stream.segments.flatMap { $0.messages.flatMap(\.events) }
        let receivedPositions = Set(received.map { "\($0.revision)/\($0.key)" })
        for event in received {
            guard let truth = committedByPosition["\(event.revision)/\(event.key)"] else {
                details.append(CheckDetail("\(stream.name): \(event) was never committed"))
                continue
            }
            if truth != event { details.append(CheckDetail("\(stream.name): \(event) carries \(event.value ?? "nothing"), committed \(truth.value ?? "nothing")")) }
        }
        guard let first = stream.segments.first?.startRevision, let last = stream.segments.map(\.lastSeen).max() else {
            return (received.count, details)
        }
        let missed = committed.filter {
            $0.key.hasPrefix(stream.prefix) && $0.revision >= first && $0.revision <= last
                && !receivedPositions.contains("\($0.revision)/\($0.key)")
        }
        details += missed.sorted { ($0.revision, $0.key) < ($1.revision, $1.key) }
            .map { CheckDetail("\(stream.name): missed \($0) (between its start \(first) and revision \(last))") }
        return (received.count, details)
    }
}
