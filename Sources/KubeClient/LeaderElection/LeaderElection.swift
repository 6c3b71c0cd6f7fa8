//! The leader-election decision, as client-go's leaderelection makes it, with no I/O: given the
//! Lease as just read (or absent), my identity and the local monotonic `now`, decide to acquire,
//! renew, wait, or stop leading. The shell (`LeaderElector`) reads and writes the Lease.
//!
//! Safety rests on two rules, neither of which reads another host's clock:
//! - A candidate judges expiry by the LOCAL time at which it saw the record change (client-go's
//!   observedTime), never by the renewTime written in it: the lease has expired for me once I
//!   have seen the same record (and resourceVersion) for `leaseDuration`. Clock offsets between
//!   hosts therefore change nothing.
//! - A leader stops believing it leads `renewDeadline` after the start of its last successful
//!   renewal attempt (taken before the write was sent, so before it landed, so before any
//!   candidate could observe it). A candidate's expiry is at least `leaseDuration` after it
//!   observed that write. With renewDeadline < leaseDuration the leader has stopped before anyone
//!   else can acquire — with a margin of their difference for clock rate differences and delays.
//! Writes are guarded (update at the resourceVersion read; create fails if it exists), so of
//! two candidates racing for an expired lease at most one wins.

import Base
import KubeAPI

/// client-go's leader-election periods; the defaults are kube-scheduler's and
/// kube-controller-manager's (`--leader-elect-lease-duration` 15 s, `-renew-deadline` 10 s,
/// `-retry-period` 2 s).
public struct LeaderElectionTiming: Sendable, Equatable {
    /// How long a candidate waits, after it saw the record last change, before taking the lease.
    public var leaseDuration: Nanoseconds
    /// How long a leader keeps leading without a successful renewal.
    public var renewDeadline: Nanoseconds
    /// How often to try to acquire or renew.
    public var retryPeriod: Nanoseconds

    public init(leaseDuration: Nanoseconds = 15 * Time.second, renewDeadline: Nanoseconds = 10 * Time.second,
        retryPeriod: Nanoseconds = 2 * Time.second)
    {
        // client-go's NewLeaderElector checks the same: leaseDuration > renewDeadline >
        // 1.2 × retryPeriod (its jitter factor), all positive.
        precondition(retryPeriod > 0, "retryPeriod \(Time.describe(retryPeriod)) must be positive")
        precondition(renewDeadline * 10 > retryPeriod * 12,
            "renewDeadline \(Time.describe(renewDeadline)) must exceed 1.2 × retryPeriod \(Time.describe(retryPeriod))")
        precondition(leaseDuration > renewDeadline,
            "leaseDuration \(Time.describe(leaseDuration)) must exceed renewDeadline \(Time.describe(renewDeadline))")
        precondition(leaseDuration % Time.second == 0, "leaseDuration \(leaseDuration) ns must be whole seconds (the Lease stores seconds)")
        self.leaseDuration = leaseDuration
        self.renewDeadline = renewDeadline
        self.retryPeriod = retryPeriod
    }
}

/// What to do after reading the Lease.
public enum LeaseDecision: Sendable, Equatable {
    /// Take the lease: write `record` (create it when the Lease is absent, else update at the
    /// resourceVersion read).
    case acquire(LeaseRecord)
    /// Keep the lease: write `record` (a new renewTime) at the resourceVersion read.
    case renew(LeaseRecord)
    /// `holder` holds the lease; by my clock it expires at `expiresAt` unless it changes first.
    case wait(holder: String, expiresAt: Nanoseconds)
    /// I led and must stop now (why). Callers stop leading before anything else.
    case lost(String)
}

public struct LeaderElection: Sendable {
    public let identity: String
    public let timing: LeaderElectionTiming
    /// The Lease as last read or written, nil before the first read or when absent.
    public private(set) var observed: ObservedLease?
    /// My monotonic time when `observed` was first seen as it is now.
    public private(set) var observedTime: Nanoseconds = 0
    /// While leading: the time by which I stop unless a renewal succeeds first.
    /// Invariant: nil when not leading.
    public private(set) var leadingDeadline: Nanoseconds?

    public init(identity: String, timing: LeaderElectionTiming = LeaderElectionTiming()) {
        precondition(!identity.isEmpty, "a leader-election identity must not be empty")
        self.identity = identity
        self.timing = timing
    }

    /// Whether I lead at `now`.
    public func isLeading(now: Nanoseconds) -> Bool { leadingDeadline.map { now < $0 } ?? false }

    /// Ends leadership whose deadline has passed; true when it just ended (stop leading now).
    public mutating func expire(now: Nanoseconds) -> Bool {
        guard let deadline = leadingDeadline, now >= deadline else { return false }
        leadingDeadline = nil
        return true
    }

    /// Decides, after reading the Lease (`read` nil: it does not exist) at my monotonic `now`;
    /// `wallMicroseconds` only stamps the record written.
    public mutating func decide(read: ObservedLease?, now: Nanoseconds, wallMicroseconds: Int64) -> LeaseDecision {
        if expire(now: now) { return .lost("no renewal succeeded within \(Time.describe(timing.renewDeadline))") }
        if read != observed {
            observed = read
            observedTime = now
        }
        let stamp = MicroTime.format(microseconds: wallMicroseconds)
        let duration = timing.leaseDuration / Time.second
        guard let read else {
            // A leader whose Lease vanished cannot renew it: another candidate may be creating it now.
            if leadingDeadline != nil { return lose("the lease was deleted") }
            return .acquire(LeaseRecord(holderIdentity: identity, leaseDurationSeconds: duration, acquireTime: stamp,
                renewTime: stamp, leaseTransitions: 0))
        }
        let current = read.record
        if current.holderIdentity == identity {
            // Mine: renew it, or (not leading: my earlier term ended) take it back as it stands.
            let record = LeaseRecord(holderIdentity: identity, leaseDurationSeconds: duration,
                acquireTime: current.acquireTime ?? stamp, renewTime: stamp, leaseTransitions: current.leaseTransitions)
            return leadingDeadline != nil ? .renew(record) : .acquire(record)
        }
        if leadingDeadline != nil { return lose("the lease is held by \(current.holderIdentity.isEmpty ? "nobody" : current.holderIdentity)") }
        let expiresAt = observedTime + max(0, current.leaseDurationSeconds) * Time.second
        if !current.holderIdentity.isEmpty && now < expiresAt {
            return .wait(holder: current.holderIdentity, expiresAt: expiresAt)
        }
        return .acquire(LeaseRecord(holderIdentity: identity, leaseDurationSeconds: duration, acquireTime: stamp,
            renewTime: stamp, leaseTransitions: current.leaseTransitions + 1))
    }

    /// The write `decide` asked for succeeded: `written` is the Lease as the server now holds it,
    /// `attemptStart` the `now` given to `decide`. Returns whether I lead: a success that comes
    /// back after the deadline it would set does not count.
    public mutating func writeSucceeded(_ written: ObservedLease, attemptStart: Nanoseconds, now: Nanoseconds) -> Bool {
        precondition(written.record.holderIdentity == identity,
            "\(identity) wrote a lease held by '\(written.record.holderIdentity)'")
        precondition(attemptStart <= now, "attempt started at \(attemptStart), after now \(now)")
        observed = written
        observedTime = now
        let deadline = attemptStart + timing.renewDeadline
        leadingDeadline = now < deadline ? deadline : nil
        return leadingDeadline != nil
    }

    /// Gives up leadership now (stopping): the record to write so others need not wait out the
    /// lease (client-go's ReleaseOnCancel: no holder, a one-second duration), or nil when I do
    /// not hold the lease as last observed.
    public mutating func release(wallMicroseconds: Int64) -> LeaseRecord? {
        leadingDeadline = nil
        guard let observed, observed.record.holderIdentity == identity else { return nil }
        let stamp = MicroTime.format(microseconds: wallMicroseconds)
        return LeaseRecord(holderIdentity: "", leaseDurationSeconds: 1, acquireTime: stamp, renewTime: stamp,
            leaseTransitions: observed.record.leaseTransitions)
    }

    private mutating func lose(_ why: String) -> LeaseDecision {
        leadingDeadline = nil
        return .lost(why)
    }
}
