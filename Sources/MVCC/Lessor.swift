//! The leader-local half of leases: when each one expires. Not replicated (as in etcd): a new
//! leader gives every lease a full TTL from the moment it takes over, so a lease never expires
//! early because leadership moved; keepalives go to the leader; expiry is proposed by the leader
//! as a revoke, and only the revoke is replicated. Time is a parameter, never read here.

import Base

public struct Lessor: Sendable {
    /// etcd's minimum TTL: long enough to survive a leader election (1.5 election timeouts).
    public let minimumTTL: Int64
    private var expiries: [LeaseID: Nanoseconds] = [:]
    private var ttls: [LeaseID: Int64] = [:]
    /// Whether this member is the leader and tracks expiry at all.
    public private(set) var isPrimary = false

    public init(minimumTTL: Int64) {
        precondition(minimumTTL >= 1, "minimum lease TTL must be at least 1 s, got \(minimumTTL)")
        self.minimumTTL = minimumTTL
    }

    /// The TTL a grant of `requested` seconds gets.
    public func effectiveTTL(_ requested: Int64) -> Int64 { max(requested, minimumTTL) }

    /// This member became leader at `now`: every known lease gets its full TTL from now.
    public mutating func promote(leases: [(id: LeaseID, ttl: Int64)], now: Nanoseconds) {
        isPrimary = true
        expiries.removeAll()
        ttls.removeAll()
        for lease in leases { track(lease.id, ttl: lease.ttl, now: now) }
    }

    public mutating func demote() {
        isPrimary = false
        expiries.removeAll()
        ttls.removeAll()
    }

    /// A grant applied: if leader, the lease starts counting down now.
    public mutating func granted(_ id: LeaseID, ttl: Int64, now: Nanoseconds) {
        guard isPrimary else { return }
        track(id, ttl: ttl, now: now)
    }

    public mutating func revoked(_ id: LeaseID) {
        expiries[id] = nil
        ttls[id] = nil
    }

    private mutating func track(_ id: LeaseID, ttl: Int64, now: Nanoseconds) {
        ttls[id] = ttl
        expiries[id] = now + ttl * Time.second
    }

    /// Renews a lease; its TTL, or nil when not leader or the lease is unknown or expired.
    public mutating func keepAlive(_ id: LeaseID, now: Nanoseconds) -> Int64? {
        guard isPrimary, let ttl = ttls[id], let expiry = expiries[id], expiry > now else { return nil }
        expiries[id] = now + ttl * Time.second
        return ttl
    }

    /// Whole seconds left (rounded up, as etcd), nil when unknown here.
    public func remaining(_ id: LeaseID, now: Nanoseconds) -> Int64? {
        guard let expiry = expiries[id] else { return nil }
        let left = expiry - now
        return left <= 0 ? 0 : (left + Time.second - 1) / Time.second
    }

    /// Leases past their expiry, oldest first (ties by id), at most `limit` of them.
    public func expired(now: Nanoseconds, limit: Int = 500) -> [LeaseID] {
        guard isPrimary else { return [] }
        let due = expiries.filter { $0.value <= now }.sorted { ($0.value, $0.key) < ($1.value, $1.key) }
        return due.prefix(limit).map(\.key)
    }
}
