//! Writes this controller has sent and not yet seen land, by object and resourceVersion.
//!
//! Every write carries the resourceVersion it was computed from, so a stale one fails with 409
//! instead of undoing someone's change. Until the cache shows the object's next version, a second
//! write from the same version would only fail the same way, so it is held back; after
//! `retryInterval` it is sent anyway, in case the first was lost on the way.

import Base

struct WriteLedger: Sendable {
    struct Entry: Sendable, Equatable {
        var resourceVersion: String
        var sentAt: Nanoseconds
    }

    let retryInterval: Nanoseconds
    /// The most entries; one per object this controller writes, so the callers' object limits bound it.
    let capacity: Int
    /// Keyed by `resource/namespace/name`. Invariant: `entries.count <= capacity`.
    private(set) var entries: [String: Entry] = [:]

    init(retryInterval: Nanoseconds, capacity: Int) {
        precondition(retryInterval > 0 && capacity >= 1, "ledger retry \(retryInterval) and capacity \(capacity) must be positive")
        self.retryInterval = retryInterval
        self.capacity = capacity
    }

    /// Whether a write to `key` computed from `resourceVersion` may go out at `now`.
    func allows(_ key: String, resourceVersion: String, now: Nanoseconds) -> Bool {
        guard let entry = entries[key], entry.resourceVersion == resourceVersion else { return true }
        return now - entry.sentAt >= retryInterval
    }

    mutating func record(_ key: String, resourceVersion: String, now: Nanoseconds) {
        entries[key] = Entry(resourceVersion: resourceVersion, sentAt: now)
        precondition(entries.count <= capacity, "write ledger over capacity \(capacity) recording \(key)")
    }

    /// Drops entries whose object is gone or has moved past the version written from.
    mutating func prune(current: [String: String]) {
        entries = entries.filter { key, entry in current[key] == entry.resourceVersion }
    }
}
