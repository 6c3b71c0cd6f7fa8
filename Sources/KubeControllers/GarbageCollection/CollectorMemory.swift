//! What the garbage collector remembers between passes, all of it bounded:
//!
//! - `PendingWrites`: the writes it has asked for and when to ask again. The shell calls the
//!   collector after every change, and until the caches show a write's effect the same write
//!   would be wanted again; it is asked for again only after a backoff (doubling from
//!   `retryDelayMin` to `retryDelayMax`, as Kubernetes' rate-limited requeue does).
//! - `OwnerAbsence`: which owners are known to be gone. Kubernetes' collector asks the apiserver
//!   before taking an owner for absent (caches of different kinds lag each other: a new pod can
//!   be seen before its new ReplicaSet). A pure core cannot ask, so an owner counts as gone when
//!   the collector saw it and then saw it disappear (its informer delivered the deletion), or
//!   when it has been missing for `absentOwnerConfirmation` (an owner deleted before this
//!   collector started, or a uid that never existed).

import Base

/// Writes asked for, by a key naming the write, with when they may be asked for again.
struct PendingWrites {
    struct Entry: Equatable {
        var attempts: Int
        var dueAt: Nanoseconds
    }

    let capacity: Int
    let retryDelayMin: Nanoseconds
    let retryDelayMax: Nanoseconds
    /// Invariant: `entries.count <= capacity`.
    private(set) var entries: [String: Entry] = [:]

    init(capacity: Int, retryDelayMin: Nanoseconds, retryDelayMax: Nanoseconds) {
        precondition(capacity > 0, "pending writes capacity must be positive, is \(capacity)")
        precondition(retryDelayMin > 0 && retryDelayMin <= retryDelayMax,
            "retry delays must satisfy 0 < min <= max, are \(retryDelayMin) and \(retryDelayMax)")
        self.capacity = capacity
        self.retryDelayMin = retryDelayMin
        self.retryDelayMax = retryDelayMax
    }

    /// Whether the write `key` is to be sent now; if so it is recorded with its next retry time.
    /// A new write finds no room when `capacity` writes are pending: it waits for a later pass.
    mutating func claim(_ key: String, now: Nanoseconds) -> Bool {
        if let entry = entries[key] {
            guard now >= entry.dueAt else { return false }
            entries[key] = Entry(attempts: entry.attempts + 1, dueAt: now + delay(afterAttempts: entry.attempts + 1))
            return true
        }
        guard entries.count < capacity else { return false }
        entries[key] = Entry(attempts: 1, dueAt: now + delay(afterAttempts: 1))
        precondition(entries.count <= capacity, "pending writes \(entries.count) exceed capacity \(capacity)")
        return true
    }

    /// Forgets every write not in `wanted`: it took effect, or is no longer the right one.
    mutating func retain(_ wanted: Set<String>) {
        entries = entries.filter { wanted.contains($0.key) }
    }

    /// The earliest time a pending write may be asked for again.
    var earliestDue: Nanoseconds? { entries.values.map(\.dueAt).min() }

    func delay(afterAttempts attempts: Int) -> Nanoseconds {
        precondition(attempts >= 1, "attempts must be at least 1, is \(attempts)")
        let doublings = min(attempts - 1, 40)
        let (delay, overflow) = retryDelayMin.multipliedReportingOverflow(by: Nanoseconds(1) << doublings)
        return overflow ? retryDelayMax : min(delay, retryDelayMax)
    }
}

/// Which missing owners count as gone.
struct OwnerAbsence {
    let capacity: Int
    let confirmation: Nanoseconds
    /// The uids of the last pass's objects and their kinds: an owner seen there and missing now
    /// was deleted. Mirrors the caches, which bound it.
    private var previous: [String: KindKey] = [:]
    /// Uids seen to disappear, oldest first; the oldest is forgotten when full.
    /// Invariant: `vanishedOrder.count == vanished.count <= capacity`.
    private var vanished: Set<String> = []
    private var vanishedOrder: [String] = []
    /// When each missing owner was first found missing. Invariant: `count <= capacity`.
    private(set) var missingSince: [String: Nanoseconds] = [:]
    /// The missing owners judged in the current pass (the others are forgotten at its end).
    private var judged: Set<String> = []

    init(capacity: Int, confirmation: Nanoseconds) {
        precondition(capacity > 0, "absent owner capacity must be positive, is \(capacity)")
        precondition(confirmation >= 0, "absentOwnerConfirmation must not be negative, is \(confirmation)")
        self.capacity = capacity
        self.confirmation = confirmation
    }

    /// Starts a pass over `graph`: the uids gone since the last pass, of kinds still cached, are
    /// gone for sure.
    mutating func begin(_ graph: OwnerGraph) {
        for (uid, kind) in previous.sorted(by: { $0.key < $1.key }) where graph.nodes[uid] == nil && graph.cachedKinds[kind] != nil {
            if vanished.contains(uid) { continue }
            if vanishedOrder.count == capacity { vanished.remove(vanishedOrder.removeFirst()) }
            vanished.insert(uid)
            vanishedOrder.append(uid)
        }
        precondition(vanished.count == vanishedOrder.count && vanished.count <= capacity,
            "vanished owners out of step: \(vanished.count) in the set, \(vanishedOrder.count) in order, capacity \(capacity)")
        previous = graph.nodes.mapValues(\.kind)
        judged = []
    }

    /// Whether the missing owner `uid` counts as gone at `now`.
    mutating func isGone(_ uid: String, now: Nanoseconds) -> Bool {
        if vanished.contains(uid) { return true }
        judged.insert(uid)
        if let since = missingSince[uid] { return now - since >= confirmation }
        guard missingSince.count < capacity else { return false }
        missingSince[uid] = now
        return confirmation == 0
    }

    /// Ends a pass: owners not missing any more are forgotten. Returns when the earliest
    /// still-unconfirmed owner will count as gone.
    mutating func end(now: Nanoseconds) -> Nanoseconds? {
        missingSince = missingSince.filter { judged.contains($0.key) }
        return missingSince.values.map { $0 + confirmation }.filter { $0 > now }.min()
    }
}
