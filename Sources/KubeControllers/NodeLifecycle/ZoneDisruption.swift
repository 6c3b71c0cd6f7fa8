//! Zones and how disrupted they are (Kubernetes' `ComputeZoneState` and the rates of
//! `setLimiterInZone`): the rule that keeps the controller from tainting a whole zone away when
//! the trouble is more likely its own view of the network than the nodes.

/// A zone's health as the controller judges it.
public enum ZoneState: String, Sendable, Equatable {
    /// Just seen; becomes one of the others on the next pass.
    case initial = "Initial"
    case normal = "Normal"
    /// No node in the zone is Ready.
    case fullDisruption = "FullDisruption"
    /// More than two nodes, and at least `unhealthyZoneThreshold` of them, are not Ready.
    case partialDisruption = "PartialDisruption"
}

enum ZoneDisruption {
    /// The zone's state from its nodes' Ready statuses (nil: no Ready condition, counted not Ready),
    /// and how many are not Ready.
    static func state(readyStatuses: [String?], unhealthyThreshold: Double) -> (notReady: Int, state: ZoneState) {
        let ready = readyStatuses.filter { $0 == NodeLifecycleVocabulary.conditionTrue }.count
        let notReady = readyStatuses.count - ready
        if ready == 0 && notReady > 0 { return (notReady, .fullDisruption) }
        if notReady > 2 && Double(notReady) / Double(notReady + ready) >= unhealthyThreshold {
            return (notReady, .partialDisruption)
        }
        return (notReady, .normal)
    }

    /// The tainting rate for a zone of `size` nodes in `state` (`HealthyQPSFunc`, `ReducedQPSFunc`).
    static func rate(for state: ZoneState, size: Int, parameters: NodeLifecycleParameters) -> Double? {
        switch state {
        case .initial: return nil
        case .normal, .fullDisruption: return parameters.nodeEvictionRate
        case .partialDisruption:
            return size > parameters.largeClusterSizeThreshold ? parameters.secondaryNodeEvictionRate : 0
        }
    }

    /// `region/zone` for people, from a zone key (which joins them with `:\0:`).
    static func displayName(_ key: String) -> String {
        key.isEmpty ? "" : key.replacingOccurrences(of: ":\u{0}:", with: "/")
    }
}

extension String {
    fileprivate func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
