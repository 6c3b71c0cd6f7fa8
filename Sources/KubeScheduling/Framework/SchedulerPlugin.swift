//! The plugins of Kubernetes' default profile that this scheduler runs, in the order the
//! default profile runs its filters, and what a filter answers when a node will not do.

import KubeAPI

/// A plugin of the default profile, by its Kubernetes name.
public enum SchedulerPlugin: String, Sendable, Hashable, CaseIterable, Comparable {
    case nodeUnschedulable = "NodeUnschedulable"
    case nodeName = "NodeName"
    case taintToleration = "TaintToleration"
    case nodeAffinity = "NodeAffinity"
    case nodeResourcesFit = "NodeResourcesFit"
    case interPodAffinity = "InterPodAffinity"
    case nodeResourcesBalancedAllocation = "NodeResourcesBalancedAllocation"

    /// The filters in the order the default profile runs them; the first that rejects a node
    /// decides its reasons.
    public static let filters: [SchedulerPlugin] = [
        .nodeUnschedulable, .nodeName, .taintToleration, .nodeAffinity, .nodeResourcesFit, .interPodAffinity,
    ]

    /// The plugin's weight in the total score (0 for a filter-only plugin).
    public var scoreWeight: Int64 {
        switch self {
        case .taintToleration: 3
        case .nodeAffinity, .interPodAffinity: 2
        case .nodeResourcesFit, .nodeResourcesBalancedAllocation: 1
        case .nodeUnschedulable, .nodeName: 0
        }
    }

    public static func < (left: SchedulerPlugin, right: SchedulerPlugin) -> Bool { left.rawValue < right.rawValue }
}

/// Why a filter turned a node down.
public struct FilterRejection: Sendable, Equatable {
    public var plugin: SchedulerPlugin
    /// False for Kubernetes' `UnschedulableAndUnresolvable`: evicting pods from the node
    /// cannot help, so preemption does not consider it.
    public var resolvableByPreemption: Bool
    /// The reasons as the FailedScheduling message counts them.
    public var reasons: [String]

    public init(plugin: SchedulerPlugin, resolvableByPreemption: Bool, reasons: [String]) {
        precondition(!reasons.isEmpty, "a rejection by \(plugin.rawValue) needs a reason")
        self.plugin = plugin
        self.resolvableByPreemption = resolvableByPreemption
        self.reasons = reasons
    }
}

/// Kubernetes' reason texts.
public enum FilterReason {
    public static let unschedulable = "node(s) were unschedulable"
    public static let nodeNameMismatch = "node(s) didn't match the requested node name"
    public static let nodeAffinityMismatch = "node(s) didn't match Pod's node affinity/selector"
    public static let podAffinityMismatch = "node(s) didn't match pod affinity rules"
    public static let podAntiAffinityMismatch = "node(s) didn't match pod anti-affinity rules"
    public static let existingAntiAffinityMismatch = "node(s) didn't satisfy existing pods anti-affinity rules"
    public static let tooManyPods = "Too many pods"
    public static let noPreemptionVictims = "No preemption victims found for incoming pod"
    public static let preemptionNotHelpful = "Preemption is not helpful for scheduling"
    public static let noNodesAvailable = "no nodes available to schedule pods"

    public static func untoleratedTaint(_ taint: Taint) -> String { "node(s) had untolerated taint {\(taint.key): \(taint.value)}" }
    public static func insufficient(_ resource: String) -> String { "Insufficient \(resource)" }
}
