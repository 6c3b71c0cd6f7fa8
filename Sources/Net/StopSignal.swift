//! How a component's stop reaches its background loops: a loop sleeps on the signal between its
//! rounds (`sleep`), so a stop wakes it at once rather than after its interval or backoff, and
//! the stopper can wait, a bounded time, for the loops that said `begin` to `end` their clean-up.
//! The apiserver's bootstrap and store keepalive, the informer and the leader elector use it.

import Base
import Foundation

/// A small audited box: every field is read and written under `condition`.
public final class StopSignal: @unchecked Sendable {
    private let condition = NSCondition()
    private var stopped = false
    /// Loops that began and have not ended.
    private var running = 0

    public init() {}

    /// A loop starts; it must call `end` when it finishes.
    public func begin() {
        condition.lock()
        defer { condition.unlock() }
        running += 1
    }

    public func end() {
        condition.lock()
        defer { condition.unlock() }
        precondition(running > 0, "a loop ended that never began (running \(running))")
        running -= 1
        condition.broadcast()
    }

    public var isStopped: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopped
    }

    /// Sleeps for `duration` or until a stop; true when stopped.
    public func sleep(_ duration: Nanoseconds) -> Bool {
        let deadline = Date(timeIntervalSinceNow: Double(max(0, duration)) / Double(Time.second))
        condition.lock()
        defer { condition.unlock() }
        while !stopped {
            if !condition.wait(until: deadline) { break }
        }
        return stopped
    }

    /// Stops every loop without waiting for them.
    public func stop() {
        condition.lock()
        defer { condition.unlock() }
        stopped = true
        condition.broadcast()
    }

    /// Stops every loop and waits up to `timeout` for them to end: true when they all did.
    public func stop(waitingUpTo timeout: Nanoseconds) -> Bool {
        let deadline = Date(timeIntervalSinceNow: Double(max(0, timeout)) / Double(Time.second))
        condition.lock()
        defer { condition.unlock() }
        stopped = true
        condition.broadcast()
        while running > 0 {
            if !condition.wait(until: deadline) { break }
        }
        return running == 0
    }
}
