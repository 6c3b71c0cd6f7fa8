//! TimingProfile: every timeout the control plane's daemons take, with the real systems'
//! defaults, a scaled-down profile for tests, and the relations between them that must hold.

/// The timing fields, named as in topology files.
public enum TimingField: String, CaseIterable, Sendable, CodingKey {
    /// etcd --heartbeat-interval.
    case heartbeat
    /// etcd --election-timeout.
    case election
    /// kubelet --node-status-update-frequency.
    case nodeStatusUpdateFrequency = "node_status_update_frequency"
    /// kubelet nodeLeaseDurationSeconds.
    case nodeLeaseDuration = "node_lease_duration"
    /// How often the kubelet renews its node lease (a quarter of the lease duration upstream).
    case nodeLeaseRenewInterval = "node_lease_renew_interval"
    /// kube-controller-manager --node-monitor-period.
    case nodeMonitorPeriod = "node_monitor_period"
    /// kube-controller-manager --node-monitor-grace-period.
    case nodeMonitorGracePeriod = "node_monitor_grace_period"
    /// How long pods tolerate a not-ready or unreachable node before eviction (the default
    /// tolerations' tolerationSeconds, which replaced --pod-eviction-timeout).
    case podEvictionTimeout = "pod_eviction_timeout"
}

/// A complete set of timeouts.
public struct TimingProfile: Sendable, Equatable, Encodable {
    public var heartbeat: GoDuration
    public var election: GoDuration
    public var nodeStatusUpdateFrequency: GoDuration
    public var nodeLeaseDuration: GoDuration
    public var nodeLeaseRenewInterval: GoDuration
    public var nodeMonitorPeriod: GoDuration
    public var nodeMonitorGracePeriod: GoDuration
    public var podEvictionTimeout: GoDuration

    public subscript(field: TimingField) -> GoDuration {
        get {
            switch field {
            case .heartbeat: return heartbeat
            case .election: return election
            case .nodeStatusUpdateFrequency: return nodeStatusUpdateFrequency
            case .nodeLeaseDuration: return nodeLeaseDuration
            case .nodeLeaseRenewInterval: return nodeLeaseRenewInterval
            case .nodeMonitorPeriod: return nodeMonitorPeriod
            case .nodeMonitorGracePeriod: return nodeMonitorGracePeriod
            case .podEvictionTimeout: return podEvictionTimeout
            }
        }
        set {
            switch field {
            case .heartbeat: heartbeat = newValue
            case .election: election = newValue
            case .nodeStatusUpdateFrequency: nodeStatusUpdateFrequency = newValue
            case .nodeLeaseDuration: nodeLeaseDuration = newValue
            case .nodeLeaseRenewInterval: nodeLeaseRenewInterval = newValue
            case .nodeMonitorPeriod: nodeMonitorPeriod = newValue
            case .nodeMonitorGracePeriod: nodeMonitorGracePeriod = newValue
            case .podEvictionTimeout: podEvictionTimeout = newValue
            }
        }
    }

    /// The real systems' defaults: etcd 3.4 and Kubernetes (kubelet, kube-controller-manager).
    public static let `default` = TimingProfile(
        heartbeat: .milliseconds(100), election: .milliseconds(1000),
        nodeStatusUpdateFrequency: .seconds(10), nodeLeaseDuration: .seconds(40), nodeLeaseRenewInterval: .seconds(10),
        nodeMonitorPeriod: .seconds(5), nodeMonitorGracePeriod: .seconds(40), podEvictionTimeout: .minutes(5))

    /// Scaled down for tests, keeping the defaults' ratios where they matter: election is 10
    /// heartbeats, the lease is renewed four times per duration, the grace period spans eight
    /// monitor periods and four status updates, and eviction waits well past the grace period.
    public static let fast = TimingProfile(
        heartbeat: .milliseconds(50), election: .milliseconds(500),
        nodeStatusUpdateFrequency: .seconds(2), nodeLeaseDuration: .seconds(8), nodeLeaseRenewInterval: .seconds(2),
        nodeMonitorPeriod: .seconds(1), nodeMonitorGracePeriod: .seconds(8), podEvictionTimeout: .seconds(30))

    /// The profiles every topology has, by name.
    public static let builtIn: [String: TimingProfile] = ["default": .default, "fast": .fast]

    /// etcd refuses election timeouts above 50 s (etcd's maxElectionMs).
    public static let electionMax = GoDuration.seconds(50)

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: TimingField.self)
        for field in TimingField.allCases { try container.encode(self[field], forKey: field) }
    }

    // MARK: - Relations

    /// A relation the profile breaks. `fields` lists the fields involved, the one to change
    /// first; the message says what holds and why.
    public struct Violation: Sendable, Equatable {
        public var fields: [TimingField]
        public var message: String
    }

    /// Every broken relation, in a fixed order; empty for a usable profile.
    public func violations() -> [Violation] {
        var found: [Violation] = []
        for field in TimingField.allCases where self[field].nanoseconds == 0 {
            found.append(Violation(fields: [field], message: "\(field.rawValue) must be more than 0"))
        }
        for field in [TimingField.heartbeat, .election] where self[field].wholeMilliseconds == nil {
            found.append(Violation(fields: [field],
                message: "\(field.rawValue) (\(self[field])) must be a whole number of milliseconds, as etcd's flags take milliseconds"))
        }
        if election.nanoseconds < 5 * heartbeat.nanoseconds {
            found.append(Violation(fields: [.election, .heartbeat],
                message: "election (\(election)) must be at least 5 × heartbeat (\(heartbeat)) = \(GoDuration(nanoseconds: 5 * heartbeat.nanoseconds)), as etcd requires; raise election or lower heartbeat"))
        }
        if election > Self.electionMax {
            found.append(Violation(fields: [.election],
                message: "election (\(election)) exceeds etcd's limit of \(Self.electionMax)"))
        }
        if nodeLeaseRenewInterval >= nodeLeaseDuration {
            found.append(Violation(fields: [.nodeLeaseRenewInterval, .nodeLeaseDuration],
                message: "node_lease_renew_interval (\(nodeLeaseRenewInterval)) must be shorter than node_lease_duration (\(nodeLeaseDuration)), or the kubelet's lease expires before it is renewed"))
        }
        if nodeMonitorGracePeriod <= nodeMonitorPeriod {
            found.append(Violation(fields: [.nodeMonitorGracePeriod, .nodeMonitorPeriod],
                message: "node_monitor_grace_period (\(nodeMonitorGracePeriod)) must be longer than node_monitor_period (\(nodeMonitorPeriod)), or healthy nodes are marked unknown between two checks"))
        }
        return found
    }

    /// One line for people: `heartbeat 100ms, election 1s, …`.
    public var summary: String {
        TimingField.allCases.map { "\($0.rawValue) \(self[$0])" }.joined(separator: ", ")
    }
}
