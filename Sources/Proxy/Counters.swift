//! Per-link counters: atomics the relay bumps on its fast path without a lock.

import Faults
import Synchronization
import Wire

/// What happened on one directed link. Connection counters count connections dialled on this
/// link (caller -> host); byte counters count bytes travelling this way, whoever dialled.
final class LinkCounters: Sendable {
    let link: Link
    let connectionsAccepted = Atomic<Int>(0)
    let connectionsOpen = Atomic<Int>(0)
    /// Accepted while the link was blackholed: held without dialling the target until healed.
    let connectionsHeld = Atomic<Int>(0)
    /// Reset at accept by a reject rule.
    let connectionsRefused = Atomic<Int>(0)
    /// Open connections reset by a reject rule, a reset action, or a failure on the other side.
    let connectionsReset = Atomic<Int>(0)
    /// Dialling the target failed (the caller was reset).
    let dialFailures = Atomic<Int>(0)
    let bytesForwarded = Atomic<Int>(0)
    let bytesDelayed = Atomic<Int>(0)
    let chunksDelayed = Atomic<Int>(0)
    /// Bytes that arrived while the link was blackholed (held; delivered if it heals in time).
    let bytesStalled = Atomic<Int>(0)
    /// Bytes read but never delivered: held or queued when their connection was reset or closed.
    let bytesDropped = Atomic<Int>(0)

    init(link: Link) { self.link = link }

    /// The counters by name, as `GET /links` shows them.
    enum Name: String, CaseIterable {
        case connectionsAccepted = "connections_accepted"
        case connectionsOpen = "connections_open"
        case connectionsHeld = "connections_held"
        case connectionsRefused = "connections_refused"
        case connectionsReset = "connections_reset"
        case dialFailures = "dial_failures"
        case bytesForwarded = "bytes_forwarded"
        case bytesDelayed = "bytes_delayed"
        case chunksDelayed = "chunks_delayed"
        case bytesStalled = "bytes_stalled"
        case bytesDropped = "bytes_dropped"
    }

    /// Adds to a counter off the fast path (the relay's hot loop names its atomics directly).
    func add(_ name: Name, _ amount: Int = 1) {
        switch name {
        case .connectionsAccepted: connectionsAccepted.add(amount, ordering: .relaxed)
        case .connectionsOpen: connectionsOpen.add(amount, ordering: .relaxed)
        case .connectionsHeld: connectionsHeld.add(amount, ordering: .relaxed)
        case .connectionsRefused: connectionsRefused.add(amount, ordering: .relaxed)
        case .connectionsReset: connectionsReset.add(amount, ordering: .relaxed)
        case .dialFailures: dialFailures.add(amount, ordering: .relaxed)
        case .bytesForwarded: bytesForwarded.add(amount, ordering: .relaxed)
        case .bytesDelayed: bytesDelayed.add(amount, ordering: .relaxed)
        case .chunksDelayed: chunksDelayed.add(amount, ordering: .relaxed)
        case .bytesStalled: bytesStalled.add(amount, ordering: .relaxed)
        case .bytesDropped: bytesDropped.add(amount, ordering: .relaxed)
        }
    }

    func value(_ name: Name) -> Int {
        switch name {
        case .connectionsAccepted: connectionsAccepted.load(ordering: .relaxed)
        case .connectionsOpen: connectionsOpen.load(ordering: .relaxed)
        case .connectionsHeld: connectionsHeld.load(ordering: .relaxed)
        case .connectionsRefused: connectionsRefused.load(ordering: .relaxed)
        case .connectionsReset: connectionsReset.load(ordering: .relaxed)
        case .dialFailures: dialFailures.load(ordering: .relaxed)
        case .bytesForwarded: bytesForwarded.load(ordering: .relaxed)
        case .bytesDelayed: bytesDelayed.load(ordering: .relaxed)
        case .chunksDelayed: chunksDelayed.load(ordering: .relaxed)
        case .bytesStalled: bytesStalled.load(ordering: .relaxed)
        case .bytesDropped: bytesDropped.load(ordering: .relaxed)
        }
    }

    var json: JSONObject {
        var object: JSONObject = ["from": .string(link.from), "to": .string(link.to)]
        for name in Name.allCases { object[name.rawValue] = .integer(Int64(value(name))) }
        return object
    }
}
