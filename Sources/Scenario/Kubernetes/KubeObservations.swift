//! KubeObservations: what the runner saw of a Kubernetes control plane during a run, in the
//! shape the Kubernetes checks take: periodic snapshots of the nodes, the workload's pods and
//! ReplicaSets and its Deployment; the components' leadership spans (from their logs); and the
//! spans during which a node's kubelet could not reach any apiserver. Every time is on the
//! run's clock: nanoseconds since the workload began.

import Base

/// One node at one poll.
public struct NodeObservation: Sendable, Equatable {
    public var name: String
    /// The Ready condition's status: `True`, `False` or `Unknown`; empty when the node has none.
    public var ready: String
    /// Whether the node carries the `node.kubernetes.io/unreachable` or `…/not-ready` NoExecute taint.
    public var noExecuteTaint: Bool
    /// The node's Lease's `renewTime` on the run's clock; nil when it has no lease yet.
    public var leaseRenewed: Nanoseconds?

    public init(name: String, ready: String, noExecuteTaint: Bool = false, leaseRenewed: Nanoseconds? = nil) {
        self.name = name
        self.ready = ready
        self.noExecuteTaint = noExecuteTaint
        self.leaseRenewed = leaseRenewed
    }
}

/// One pod of the workload's namespace at one poll.
public struct PodObservation: Sendable, Equatable {
    public var name: String
    public var uid: String
    /// The ReplicaSet that controls it; empty when none.
    public var replicaSet: String
    /// The node it is bound to; empty while unscheduled.
    public var node: String
    /// `Pending`, `Running`, `Succeeded`, `Failed` or `Unknown`.
    public var phase: String
    /// Its Ready condition is `True`.
    public var ready: Bool
    /// It has a deletionTimestamp (evicted or deleted, not yet gone).
    public var terminating: Bool
    /// Its creationTimestamp on the run's clock (whole seconds, as Kubernetes keeps it).
    public var created: Nanoseconds

    public init(name: String, uid: String, replicaSet: String, node: String, phase: String, ready: Bool,
        terminating: Bool, created: Nanoseconds)
    {
        (self.name, self.uid, self.replicaSet, self.node, self.phase) = (name, uid, replicaSet, node, phase)
        (self.ready, self.terminating, self.created) = (ready, terminating, created)
    }

    /// Counted as one of the workload's replicas: not being deleted and not finished.
    public var isLive: Bool { !terminating && phase != "Succeeded" && phase != "Failed" }
}

/// One ReplicaSet of the workload's namespace at one poll.
public struct ReplicaSetObservation: Sendable, Equatable {
    public var name: String
    /// The Deployment that controls it; empty when none.
    public var deployment: String
    /// `spec.replicas`.
    public var replicas: Int

    public init(name: String, deployment: String, replicas: Int) {
        (self.name, self.deployment, self.replicas) = (name, deployment, replicas)
    }
}

/// The workload's Deployment at one poll.
public struct DeploymentObservation: Sendable, Equatable {
    public var name: String
    /// `spec.replicas`: the desired count.
    public var replicas: Int
    /// The RollingUpdate bounds resolved to pod counts (percentages: surge rounds up,
    /// unavailable down, as the Deployment controller does); Recreate: 0 and `replicas`.
    public var maxSurge: Int
    public var maxUnavailable: Int

    public init(name: String, replicas: Int, maxSurge: Int, maxUnavailable: Int) {
        (self.name, self.replicas, self.maxSurge, self.maxUnavailable) = (name, replicas, maxSurge, maxUnavailable)
    }
}

/// Everything one poll saw. Each list comes from one LIST, so it is consistent in itself; the
/// lists of one snapshot are read a few milliseconds apart.
public struct KubeSnapshot: Sendable, Equatable {
    public var time: Nanoseconds
    public var nodes: [NodeObservation]
    public var pods: [PodObservation]
    public var replicaSets: [ReplicaSetObservation]
    /// Nil when the poll could not read it.
    public var deployment: DeploymentObservation?

    public init(time: Nanoseconds, nodes: [NodeObservation], pods: [PodObservation], replicaSets: [ReplicaSetObservation],
        deployment: DeploymentObservation?)
    {
        (self.time, self.nodes, self.pods, self.replicaSets, self.deployment) = (time, nodes, pods, replicaSets, deployment)
    }

    /// The pods controlled by the Deployment `name` (through any of its ReplicaSets).
    public func pods(ofDeployment name: String) -> [PodObservation] {
        let owned = Set(replicaSets.filter { $0.deployment == name }.map(\.name))
        return pods.filter { owned.contains($0.replicaSet) }
    }

    /// The node named `name`, if the poll saw it.
    public func node(_ name: String) -> NodeObservation? { nodes.first { $0.name == name } }
}

/// A span during which one component instance said it was leading a lease (from its log:
/// `started leading` to `stopped leading`).
public struct LeadershipSpan: Sendable, Equatable {
    /// The lease, `kube-system/kube-scheduler`.
    public var lease: String
    /// The host the leading process runs on.
    public var holder: String
    public var start: Nanoseconds
    /// Nil: still leading when the run ended, or the process died while leading (then the
    /// runner closes the span at the kill).
    public var end: Nanoseconds?

    public init(lease: String, holder: String, start: Nanoseconds, end: Nanoseconds?) {
        (self.lease, self.holder, self.start, self.end) = (lease, holder, start, end)
    }
}

/// A span during which a node's kubelet could not renew its lease: its host was isolated or
/// partitioned from every apiserver, or its process was killed or paused.
public struct NodeSilence: Sendable, Equatable {
    public var node: String
    public var start: Nanoseconds
    /// Nil: not healed before the run ended.
    public var end: Nanoseconds?
    /// The fault, for messages: `isolate worker-1`.
    public var cause: String

    public init(node: String, start: Nanoseconds, end: Nanoseconds?, cause: String) {
        (self.node, self.start, self.end, self.cause) = (node, start, end, cause)
    }
}
