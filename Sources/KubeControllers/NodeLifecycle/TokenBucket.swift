//! A token bucket with the clock passed in: client-go's `flowcontrol.NewTokenBucketRateLimiter`
//! (golang.org/x/time/rate underneath), which the node-lifecycle controller puts in front of
//! every zone's NoExecute tainting queue.
//!
//! Tokens are kept as nanoseconds of credit rather than as a fraction, so the arithmetic is exact:
//! at 0.1 per second the second token is there at exactly 10 s, not a rounding error either side.

import Base

/// Tokens refilled at `ratePerSecond`, at most `burst` held, starting full (as `rate.NewLimiter`
/// does). A rate of zero never grants a token (client-go's `NewFakeNeverRateLimiter`).
public struct TokenBucket: Sendable, Equatable {
    /// Tokens a second; zero stops the bucket.
    public let ratePerSecond: Double
    /// The most tokens held at once.
    public let burst: Int
    /// What one token costs in credit: a second divided by the rate. Zero when the rate is zero.
    public let tokenInterval: Nanoseconds
    /// Invariant: `0 <= credit <= burst * tokenInterval`.
    private var credit: Nanoseconds
    /// When `credit` was last brought up to date; nil until the first use.
    private var refilledAt: Nanoseconds?

    public init(ratePerSecond: Double, burst: Int = 1) {
        precondition(ratePerSecond >= 0 && ratePerSecond.isFinite, "token rate \(ratePerSecond) must be finite and >= 0")
        precondition(burst >= 1, "token burst \(burst) must be >= 1")
        self.ratePerSecond = ratePerSecond
        self.burst = burst
        if ratePerSecond > 0 {
            let interval = (Double(Time.second) / ratePerSecond).rounded()
            precondition(interval >= 1 && interval < 9e18, "token rate \(ratePerSecond) gives an interval out of range")
            tokenInterval = Nanoseconds(interval)
        } else {
            tokenInterval = 0
        }
        credit = Nanoseconds(burst) * tokenInterval
    }

    /// Takes a token if one is there at `now` (client-go's `TryAccept`).
    public mutating func tryAccept(now: Nanoseconds) -> Bool {
        guard tokenInterval > 0 else { return false }
        refill(now: now)
        guard credit >= tokenInterval else { return false }
        credit -= tokenInterval
        precondition(credit >= 0, "token credit \(credit) went negative")
        return true
    }

    /// When the next token will be there (now, if one is), or nil for a stopped bucket.
    public func nextTokenAt(now: Nanoseconds) -> Nanoseconds? {
        guard tokenInterval > 0 else { return nil }
        var copy = self
        copy.refill(now: now)
        return copy.credit >= tokenInterval ? now : now + (tokenInterval - copy.credit)
    }

    /// Empties the bucket: what `SwapLimiter` does to a new limiter when the old one was empty.
    public mutating func drain(now: Nanoseconds) {
        refill(now: now)
        credit = 0
    }

    private mutating func refill(now: Nanoseconds) {
        let capacity = Nanoseconds(burst) * tokenInterval
        if let refilledAt {
            // A clock read before the last one (callers' bug, or two shells) adds nothing rather than trapping.
            let elapsed = max(0, now - refilledAt)
            credit = min(capacity, credit + min(elapsed, capacity))
        }
        refilledAt = max(now, refilledAt ?? now)
        precondition(credit >= 0 && credit <= capacity, "token credit \(credit) outside 0...\(capacity)")
    }
}
