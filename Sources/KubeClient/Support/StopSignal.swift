//! A stop flag a background loop can sleep on: `wait(for:)` sleeps up to a duration and returns
//! early, with true, once `stop()` has been called from any thread. The informer and the leader
//! elector sleep between attempts on one, so stopping them never waits out a backoff.

import Base
import Foundation

final class StopSignal: @unchecked Sendable {
    // Audited: `stopped` is only read and written with `condition` locked.
    private let condition = NSCondition()
    private var stopped = false

    var isStopped: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopped
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    /// Sleeps up to `duration`; true when stopped (before or during the wait).
    func wait(for duration: Nanoseconds) -> Bool {
        let deadline = Date(timeIntervalSinceNow: Double(max(0, duration)) / 1e9)
        condition.lock()
        defer { condition.unlock() }
        while !stopped {
            if !condition.wait(until: deadline) { break }
        }
        return stopped
    }
}
