//! KubeWorkloadSpec: the `kubernetes:` section of a scenario file as written — the Deployment
//! the run keeps alive, an optional rollout during the faults, how long the nemesis clock runs
//! and how long the runner waits for the workload to settle — and `KubeWorkload`, the same
//! validated. See docs/scenarios.md.

import Base
import Topology

public struct KubeWorkloadSpec: Decodable, Sendable {
    public var duration: Located<GoDuration>
    public var settle: Located<GoDuration>?
    public var deployment: Located<DeploymentSpec>
    public var rollout: Located<RolloutSpec>?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case duration, settle, deployment, rollout
    }
}

public struct DeploymentSpec: Decodable, Sendable {
    public var name: Located<String>?
    public var replicas: Located<Int>
    public var image: Located<String>?
    public var strategy: Located<DeploymentStrategy>?
    public var maxSurge: Located<Int>?
    public var maxUnavailable: Located<Int>?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, replicas, image, strategy
        case maxSurge = "max-surge"
        case maxUnavailable = "max-unavailable"
    }
}

public struct RolloutSpec: Decodable, Sendable {
    public var at: Located<GoDuration>
    public var image: Located<String>

    enum CodingKeys: String, CodingKey, CaseIterable {
        case at, image
    }
}

/// A Deployment's update strategy, as `spec.strategy.type` spells it.
public enum DeploymentStrategy: String, CaseIterable, Sendable, Decodable, SpelledEnumeration, CustomStringConvertible {
    case rollingUpdate = "RollingUpdate"
    case recreate = "Recreate"
    static var noun: String { "strategy" }
    public var description: String { rawValue }
}

/// The Kubernetes workload, validated.
public struct KubeWorkload: Sendable, Equatable {
    /// How long the nemesis clock runs; the observer records all along.
    public var duration: Nanoseconds
    /// After `duration`, how long the runner keeps observing while it waits for the Deployment
    /// to be fully available and every node Ready again.
    public var settle: Nanoseconds
    public var deployment: DeploymentPlan
    public var rollout: RolloutPlan?

    public static let settleDefault = 60 * Time.second
    public static let replicasMax = 1_000
    public static let defaultImage = "faultline/http:v1"
    /// The namespace the Deployment lives in.
    public static let namespace = "default"
}

public struct DeploymentPlan: Sendable, Equatable {
    public var name: String
    public var replicas: Int
    public var image: String
    public var strategy: DeploymentStrategy
    /// Pods above `replicas` a rolling update may create (0 with Recreate).
    public var maxSurge: Int
    /// Pods below `replicas` a rolling update may leave unavailable (`replicas` with Recreate).
    public var maxUnavailable: Int

    public init(name: String, replicas: Int, image: String, strategy: DeploymentStrategy, maxSurge: Int, maxUnavailable: Int) {
        (self.name, self.replicas, self.image, self.strategy) = (name, replicas, image, strategy)
        (self.maxSurge, self.maxUnavailable) = (maxSurge, maxUnavailable)
    }
}

public struct RolloutPlan: Sendable, Equatable {
    /// When the runner changes the Deployment's image (since the workload began).
    public var at: Nanoseconds
    public var image: String

    public init(at: Nanoseconds, image: String) {
        self.at = at
        self.image = image
    }
}
