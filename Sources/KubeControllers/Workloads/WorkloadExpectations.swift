//! Expectations: what keeps a controller from acting twice on a cache that has not caught up.
//!
//! After a controller asks for N pod creations it must not count pods again until the watch has
//! shown those N pods (or the wait has run out), or every sync in between would see the same
//! shortfall and create N more. Deletions are tracked by pod key, so a pod seen first with a
//! deletion timestamp and then gone is counted once (`UIDTrackingControllerExpectations`).
import Base

/// Outstanding creations and deletions per controller key (`namespace/name`).
///
/// Invariant: an entry exists only while something is outstanding or until it is next checked;
/// fulfilled entries are dropped then, so the table holds at most one entry per live controller
/// (the shell calls `forget` when one is deleted).
struct WorkloadExpectations: Sendable {
    struct Entry: Sendable, Equatable {
        /// Creations not yet observed; may go below zero when more pods show up than were asked for.
        var creations: Int
        /// Keys (`namespace/name`) of the pods whose deletion has not been observed yet.
        var deletions: Set<String>
        var setAt: Nanoseconds
    }

    /// After this long without the watch showing what was expected, act anyway: a lost watch event
    /// must not leave the controller asleep forever (Kubernetes' `ExpectationsTimeout`, 5 min).
    let timeout: Nanoseconds
    private(set) var entries: [String: Entry] = [:]

    init(timeout: Nanoseconds) {
        precondition(timeout >= 0, "expectations timeout \(timeout) must not be negative")
        self.timeout = timeout
    }

    /// True when the controller may act: nothing outstanding, or the expectation has expired.
    /// A fulfilled entry is dropped here.
    mutating func satisfied(_ key: String, now: Nanoseconds) -> Bool {
        let result = isSatisfied(key, now: now)
        if let entry = entries[key], entry.creations <= 0 && entry.deletions.isEmpty { entries[key] = nil }
        return result
    }

    func isSatisfied(_ key: String, now: Nanoseconds) -> Bool {
        guard let entry = entries[key] else { return true }
        if entry.creations <= 0 && entry.deletions.isEmpty { return true }
        return now - entry.setAt > timeout
    }

    /// When the outstanding expectation for `key` will expire, if there is one.
    func expiry(_ key: String) -> Nanoseconds? {
        guard let entry = entries[key], entry.creations > 0 || !entry.deletions.isEmpty else { return nil }
        return entry.setAt + timeout
    }

    /// Replaces whatever was expected for `key` (Kubernetes' `SetExpectations` forgets the old one).
    mutating func expectCreations(_ key: String, count: Int, now: Nanoseconds) {
        precondition(count > 0, "expecting \(count) creations for \(key)")
        entries[key] = Entry(creations: count, deletions: [], setAt: now)
    }

    mutating func expectDeletions(_ key: String, podKeys: [String], now: Nanoseconds) {
        precondition(!podKeys.isEmpty, "expecting no deletions for \(key)")
        let unique = Set(podKeys)
        precondition(unique.count == podKeys.count, "pod keys to delete for \(key) repeat: \(podKeys)")
        entries[key] = Entry(creations: 0, deletions: unique, setAt: now)
    }

    mutating func creationObserved(_ key: String, count: Int = 1) {
        entries[key]?.creations -= count
    }

    /// Counts the deletion of `podKey` once, and only if it was one this controller asked for.
    mutating func deletionObserved(_ key: String, podKey: String) {
        entries[key]?.deletions.remove(podKey)
    }

    mutating func forget(_ key: String) {
        entries[key] = nil
    }
}
