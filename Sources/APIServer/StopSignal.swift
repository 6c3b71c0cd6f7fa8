//! How `APIServer.stop` reaches its background loops: a loop sleeps on the signal between its
//! rounds, so a stop wakes it at once rather than after its interval, and `stop` can wait (a
//! bounded time) for the loops to finish their clean-up.

import Base
import Foundation

/// A small audited box: every field is read and written under `condition`.
final class StopSignal: @unchecked Sendable {
    private let condition = NSCondition()
    private var stopped = false
    /// Loops that began and have not ended.
    private var running = 0

    /// A loop starts; it must call `end` when it finishes.
    func begin() {
        condition.lock()
        defer { condition.unlock() }
        running += 1
    }

    func end() {
        condition.lock()
        defer { condition.unlock() }
        precondition(running > 0, "a loop ended that never began (running \(running))")
        running -= 1
        condition.broadcast()
    }

    var isStopped: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopped
    }

    /// Sleeps for `duration` or until a stop; true when stopped.
    func sleep(_ duration: Nanoseconds) -> Bool {
        let deadline = Date(timeIntervalSinceNow: Double(max(0, duration)) / Double(Time.second))
        condition.lock()
        defer { condition.unlock() }
        while !stopped {
            if !condition.wait(until: deadline) { break }
        }
        return stopped
    }

    /// Stops every loop and waits up to `timeout` for them to end: true when they all did.
    func stop(waitingUpTo timeout: Nanoseconds) -> Bool {
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
