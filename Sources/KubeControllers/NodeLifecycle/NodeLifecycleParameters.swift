//! The node-lifecycle controller's settings, with kube-controller-manager v1.32's defaults
//! (`--node-monitor-period`, `--node-monitor-grace-period`, `--node-startup-grace-period`,
//! `--node-eviction-rate`, `--secondary-node-eviction-rate`, `--large-cluster-size-threshold`,
//! `--unhealthy-zone-threshold`), checked against each other when made.

import Base

public struct NodeLifecycleParameters: Sendable, Equatable {
    /// How often the shell runs a monitor pass.
    public var nodeMonitorPeriod: Nanoseconds = 5 * Time.second
    /// How long a node that has posted Ready may stay silent before it is marked Unknown.
    /// Kubernetes 1.32 raised the default from 40 s to 50 s (kubernetes#126287), so a kubelet's
    /// HTTP/2 health check (30 s ping timeout + 15 s read idle) can fail over first.
    public var nodeMonitorGracePeriod: Nanoseconds = 50 * Time.second
    /// The same for a node that has never posted Ready, counted from its creation.
    public var nodeStartupGracePeriod: Nanoseconds = 60 * Time.second
    /// NoExecute taints a second per zone in a healthy (or fully disrupted) zone.
    public var nodeEvictionRate: Double = 0.1
    /// The same in a partially disrupted zone of a large cluster.
    public var secondaryNodeEvictionRate: Double = 0.01
    /// A zone with more nodes than this counts as large; a small partially disrupted zone stops tainting.
    public var largeClusterSizeThreshold: Int = 50
    /// The share of not-Ready nodes (with more than two of them) at which a zone is partially disrupted.
    public var unhealthyZoneThreshold: Double = 0.55
    /// Not a Kubernetes setting: how long a write made against one resourceVersion is trusted to
    /// be in flight before it is sent again. Kubernetes learns a write's result synchronously;
    /// a pure core does not, so it waits for the object to change or this time to pass.
    public var writeRetryInterval: Nanoseconds = 10 * Time.second
    /// Not a Kubernetes setting: the most nodes the controller tracks (it bounds every queue).
    public var nodesMax: Int = 5000

    public init() {}

    /// Stops on settings that cannot work, saying which and why.
    public func validate() {
        precondition(nodeMonitorPeriod > 0, "nodeMonitorPeriod \(nodeMonitorPeriod) must be > 0")
        precondition(nodeMonitorGracePeriod > nodeMonitorPeriod,
            "nodeMonitorGracePeriod \(Time.describe(nodeMonitorGracePeriod)) must exceed nodeMonitorPeriod \(Time.describe(nodeMonitorPeriod))")
        precondition(nodeStartupGracePeriod > 0, "nodeStartupGracePeriod \(nodeStartupGracePeriod) must be > 0")
        precondition(nodeEvictionRate >= 0 && nodeEvictionRate.isFinite, "nodeEvictionRate \(nodeEvictionRate) must be >= 0")
        precondition(secondaryNodeEvictionRate >= 0 && secondaryNodeEvictionRate.isFinite,
            "secondaryNodeEvictionRate \(secondaryNodeEvictionRate) must be >= 0")
        precondition(largeClusterSizeThreshold >= 0, "largeClusterSizeThreshold \(largeClusterSizeThreshold) must be >= 0")
        precondition(unhealthyZoneThreshold > 0 && unhealthyZoneThreshold <= 1,
            "unhealthyZoneThreshold \(unhealthyZoneThreshold) must be in (0, 1]")
        precondition(writeRetryInterval > 0, "writeRetryInterval \(writeRetryInterval) must be > 0")
        precondition(nodesMax >= 1, "nodesMax \(nodesMax) must be >= 1")
    }
}
