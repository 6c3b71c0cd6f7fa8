//! The two clocks the client's shells read, as closures so tests can drive them: a monotonic one
//! for durations and deadlines (lease expiry, backoff) and a wall one for the timestamps written
//! into objects (a Lease's renewTime, an Event's lastTimestamp). The defaults read the host's
//! `FaultClock`, so the testbed's clock faults reach the components: an offset moves the wall
//! clock (timestamps only, which decide nothing here), a rate makes the monotonic clock run fast
//! or slow (and so every timeout the components judge).

import Base
import Net

public struct ClientClock: Sendable {
    /// Monotonic nanoseconds.
    public var monotonic: @Sendable () -> Nanoseconds
    /// Wall time in microseconds since the Unix epoch.
    public var wallMicroseconds: @Sendable () -> Int64

    public init(monotonic: @escaping @Sendable () -> Nanoseconds, wallMicroseconds: @escaping @Sendable () -> Int64) {
        self.monotonic = monotonic
        self.wallMicroseconds = wallMicroseconds
    }

    /// The host's clocks, through `FaultClock.shared`.
    public static let host = ClientClock(
        monotonic: { FaultClock.shared.monotonic() },
        wallMicroseconds: { Int64((FaultClock.shared.wallNow().timeIntervalSince1970 * 1e6).rounded(.down)) })
}
