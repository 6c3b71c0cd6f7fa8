//! Read-only views of the node-lifecycle controller's state, for traces and reports: per node
//! (when it was last heard from, its Ready status, whether it waits for a taint) and per zone
//! (state, size, tainting rate, queue length). Sorted, so they print the same every time.

import Base

public struct NodeLifecycleNodeView: Sendable, Equatable {
    public var name: String
    /// `region/zone`, or empty when the node has no zone labels.
    public var zone: String
    /// When the controller last saw the node's heartbeat or lease change (its monotonic clock).
    public var lastHeardFrom: Nanoseconds
    /// When the controller last saw the Ready condition change.
    public var readyTransitionAt: Nanoseconds
    /// The Ready status after the last pass (nil: the node has none).
    public var readyStatus: String?
    /// Waiting in its zone's queue for a NoExecute taint.
    public var queuedForTainting: Bool
}

public struct NodeLifecycleZoneView: Sendable, Equatable {
    /// `region/zone`, or empty for nodes without zone labels.
    public var name: String
    public var state: ZoneState
    /// Nodes counted for disruption (excluded ones left out) and how many were not Ready.
    public var nodes: Int
    public var notReadyNodes: Int
    /// NoExecute taints a second the zone's queue may hand out now.
    public var taintingRate: Double
    public var queuedNodes: Int
}

extension NodeLifecycleController {
    public var nodeViews: [NodeLifecycleNodeView] {
        health.keys.sorted().map { name in
            let record = health[name]!
            let zone = lastZoneOfNode[name] ?? ""
            return NodeLifecycleNodeView(
                name: name, zone: ZoneDisruption.displayName(zone), lastHeardFrom: record.probeTimestamp,
                readyTransitionAt: record.readyTransitionTimestamp, readyStatus: lastReadyOfNode[name],
                queuedForTainting: tainters[zone]?.values.contains { $0.value == name } ?? false)
        }
    }

    public var zoneViews: [NodeLifecycleZoneView] {
        zoneStates.keys.sorted().map { zone in
            let counts = lastZoneCounts[zone]
            let queue = tainters[zone]
            return NodeLifecycleZoneView(
                name: ZoneDisruption.displayName(zone), state: zoneStates[zone]!, nodes: counts?.nodes ?? 0,
                notReadyNodes: counts?.notReady ?? 0, taintingRate: queue?.limiter.ratePerSecond ?? 0,
                queuedNodes: queue?.count ?? 0)
        }
    }
}
