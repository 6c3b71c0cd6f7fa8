//! The node-lifecycle controller's per-zone queue of nodes waiting for a NoExecute taint:
//! Kubernetes' `scheduler.RateLimitedTimedQueue` (pkg/controller/nodelifecycle/scheduler), a
//! unique queue ordered by when each item is due, drained through a token bucket.
//!
//! Kept from the original, because the timing of taints depends on them:
//! - a value is queued once until `remove`d; being processed takes it off the queue but keeps it
//!   in the set, so the monitor pass cannot queue it again until it removes it first;
//! - `tryProcess` takes a token before looking at the head, even when the head is not due yet;
//! - swapping the rate keeps an empty bucket empty (burst 1), so a rate change is no free token.

import Base

/// One queued value: a node, by name and UID.
public struct TimedValue: Sendable, Equatable {
    public var value: String
    public var uid: String
    public var addedAt: Nanoseconds
    public var processAt: Nanoseconds
}

/// What processing a value asks of the queue.
public enum TimedValueOutcome: Sendable, Equatable {
    /// Done: off the queue (still in the set until removed).
    case processed
    /// Not now: try again after the delay (Kubernetes adds a nanosecond, so zero still moves on).
    case retry(after: Nanoseconds)
}

public struct RateLimitedTimedQueue: Sendable {
    /// Ordered by `processAt`, ties in the order queued. Invariant: every value here is in `members`.
    private var queue: [TimedValue] = []
    /// Values queued and not yet removed (processed ones stay until `remove`).
    private var members: Set<String> = []
    public private(set) var limiter: TokenBucket
    /// The most values held; the controller sizes it to its node limit.
    public let capacity: Int

    public init(limiter: TokenBucket, capacity: Int) {
        precondition(capacity >= 1, "queue capacity \(capacity) must be >= 1")
        self.limiter = limiter
        self.capacity = capacity
    }

    public var count: Int { queue.count }
    public var values: [TimedValue] { queue }
    public func contains(_ value: String) -> Bool { members.contains(value) }

    /// Queues `value` due now, unless it is already in the set. True when it was added.
    public mutating func add(_ value: String, uid: String, now: Nanoseconds) -> Bool {
        guard !members.contains(value) else { return false }
        precondition(members.count < capacity, "tainting queue full at \(capacity) values adding \(value)")
        members.insert(value)
        insert(TimedValue(value: value, uid: uid, addedAt: now, processAt: now))
        return true
    }

    /// Takes `value` off the queue and out of the set, so it may be added again. True when it
    /// was in the set.
    @discardableResult
    public mutating func remove(_ value: String) -> Bool {
        guard members.remove(value) != nil else { return false }
        queue.removeAll { $0.value == value }
        return true
    }

    /// Processes due values while tokens last (Kubernetes' `Try`).
    public mutating func tryProcess(now: Nanoseconds, _ process: (TimedValue) -> TimedValueOutcome) {
        while var head = queue.first {
            guard limiter.tryAccept(now: now) else { return }
            guard head.processAt <= now else { return }
            queue.removeFirst()
            switch process(head) {
            case .processed:
                break
            case .retry(let delay):
                precondition(delay >= 0, "retry delay \(delay) must be >= 0")
                head.processAt = now + delay + 1
                insert(head)
            }
        }
    }

    /// Changes the rate the way `SwapLimiter` does: nothing when equal; otherwise a new bucket,
    /// full unless the old one had no token left (taking the old one's token to find out).
    public mutating func swapRate(_ ratePerSecond: Double, now: Nanoseconds) {
        guard limiter.ratePerSecond != ratePerSecond else { return }
        var replacement = TokenBucket(ratePerSecond: ratePerSecond, burst: limiter.burst)
        if ratePerSecond > 0 && !limiter.tryAccept(now: now) {
            replacement.drain(now: now)
        }
        limiter = replacement
    }

    /// When `tryProcess` could next do something: the later of the head being due and a token.
    public func nextAttemptAt(now: Nanoseconds) -> Nanoseconds? {
        guard let head = queue.first, let token = limiter.nextTokenAt(now: now) else { return nil }
        return max(head.processAt, token)
    }

    private mutating func insert(_ value: TimedValue) {
        let position = queue.firstIndex { $0.processAt > value.processAt } ?? queue.endIndex
        queue.insert(value, at: position)
        precondition(queue.count <= capacity, "tainting queue over capacity \(capacity)")
    }
}
