//! Where a run had no quorum: from the fault bands, the times at which the whole cluster, or one
//! member, could not reach a majority of the members. The no-minority-writes check holds writes
//! invoked there to "never acknowledged inside the window".
//!
//! The model is a graph of the members that are up (not killed, terminated or paused), with an
//! edge where two members can exchange messages both ways: isolation removes a member's edges, a
//! partition the edges between its groups, a one-way cut the edge it cuts (Raft needs replies,
//! so a one-way link completes nothing). A member lacks a quorum while its connected component
//! holds fewer than a majority of all members: no leader with it in reach can commit. That is
//! conservative — a component can be connected without every pair talking directly (a bridge)
//! — so a window it names is certainly without quorum. Latency, bandwidth and skew leave the
//! graph alone.

import Base
import Scenario

public struct QuorumWindows: Sendable, Equatable {
    /// When no member could reach a quorum.
    public var cluster: [TimeWindow] = []
    /// When each member could not (a superset of `cluster` for every member that was up).
    public var byHost: [String: [TimeWindow]] = [:]

    public init(cluster: [TimeWindow] = [], byHost: [String: [TimeWindow]] = [:]) {
        self.cluster = cluster
        self.byHost = byHost
    }

    static let downKinds: Set<String> = ["kill", "terminate", "pause"]
    static let graphKinds: Set<String> = downKinds.union(["isolate", "partition", "cut"])

    /// The windows of a run with `members` (in order) and `faults`; open bands end at `end`.
    public static func compute(members: [String], faults: [FaultBand], end: Nanoseconds) -> QuorumWindows {
        var result = QuorumWindows()
        guard !members.isEmpty else { return result }
        let quorum = members.count / 2 + 1
        let bands = faults.filter { graphKinds.contains($0.kind) }
        let edges = Set(bands.flatMap { [$0.start, $0.end ?? end] }).sorted()
        for (start, stop) in zip(edges, edges.dropFirst()) where start < stop {
            let active = bands.filter { $0.start <= start && ($0.end ?? end) >= stop }
            let components = Self.components(members: members, active: active)
            if components.allSatisfy({ $0.count < quorum }) { append(TimeWindow(start: start, end: stop), to: &result.cluster) }
            for component in components where component.count < quorum {
                for host in component { append(TimeWindow(start: start, end: stop), to: &result.byHost[host, default: []]) }
            }
        }
        return result
    }

    /// Connected components of the members that are up, under the active bands.
    static func components(members: [String], active: [FaultBand]) -> [[String]] {
        let down = Set(active.filter { downKinds.contains($0.kind) }.flatMap(\.hosts))
        let up = members.filter { !down.contains($0) }
        let isolated = Set(active.filter { $0.kind == "isolate" }.flatMap(\.hosts))
        var cut: Set<[String]> = []
        for band in active where band.kind == "cut" && band.hosts.count == 2 { cut.insert(band.hosts.sorted()) }
        let partitions = active.filter { $0.kind == "partition" }
        func connected(_ a: String, _ b: String) -> Bool {
            if isolated.contains(a) || isolated.contains(b) || cut.contains([a, b].sorted()) { return false }
            for partition in partitions {
                // Hosts in no group share one more group.
                let groupOf = { (host: String) in partition.groups.firstIndex { $0.contains(host) } ?? -1 }
                if groupOf(a) != groupOf(b) { return false }
            }
            return true
        }
        var seen: Set<String> = []
        var result: [[String]] = []
        for root in up where !seen.contains(root) {
            var component: [String] = []
            var stack = [root]
            seen.insert(root)
            while let host = stack.popLast() {
                component.append(host)
                for other in up where !seen.contains(other) && connected(host, other) {
                    seen.insert(other)
                    stack.append(other)
                }
            }
            result.append(members.filter(component.contains))
        }
        return result
    }

    private static func append(_ window: TimeWindow, to windows: inout [TimeWindow]) {
        if let last = windows.last, last.end == window.start {
            windows[windows.count - 1].end = window.end
        } else {
            windows.append(window)
        }
    }
}
