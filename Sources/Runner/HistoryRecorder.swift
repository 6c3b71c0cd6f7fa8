//! HistoryRecorder: the events of a run's register operations, from many client threads, in the
//! order they happen, with times in nanoseconds since the run began (the shared history format).

import Base
import Foundation
import Linearizability
import Net

public final class HistoryRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [HistoryEvent] = []
    private var nextProcess: Int
    /// The run's time origin (monotonic).
    public let origin: Nanoseconds

    public init(firstProcess: Int = 0, origin: Nanoseconds = MonotonicClock.now()) {
        nextProcess = firstProcess
        self.origin = origin
    }

    /// Nanoseconds since the run began.
    public func now() -> Nanoseconds { MonotonicClock.now() - origin }

    /// A process number never used before (a client gets a new one after an indefinite result).
    public func newProcess() -> Int {
        lock.withLock {
            defer { nextProcess += 1 }
            return nextProcess
        }
    }

    public func record(_ process: Int, _ type: EventType, _ f: OperationKind, _ key: String, _ value: HistoryValue,
        node: String? = nil, error: String? = nil)
    {
        lock.withLock {
            events.append(HistoryEvent(process: process, type: type, f: f, key: key, value: value,
                time: MonotonicClock.now() - origin, node: node, error: error))
        }
    }

    public var snapshot: [HistoryEvent] { lock.withLock { events } }
}
