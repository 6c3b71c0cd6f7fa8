//! What a scheduler is configured with: its name, the scoring strategy, the queue's backoff
//! and timeouts and the cache's assumed-pod expiry, each defaulting to kube-scheduler's own
//! default (v1.32, default profile).

import Base

public struct SchedulerConfiguration: Sendable, Equatable {
    /// How NodeResourcesFit scores a node by what its pods request.
    public enum ScoringStrategy: String, Sendable, Equatable {
        /// Prefer the emptiest node: pods spread (the default).
        case leastAllocated = "LeastAllocated"
        /// Prefer the fullest node that still fits: pods pack (bin packing).
        case mostAllocated = "MostAllocated"
    }

    /// A resource the NodeResourcesFit score weighs, and its weight.
    public struct ResourceWeight: Sendable, Equatable {
        public var name: String
        public var weight: Int64

        public init(name: String, weight: Int64) {
            precondition(weight > 0, "resource weight for \(name) must be positive, not \(weight)")
            self.name = name
            self.weight = weight
        }
    }

    public static let nanosecondsPerSecond: Nanoseconds = 1_000_000_000

    /// Pods naming another scheduler in `spec.schedulerName` are left alone.
    public var schedulerName = "default-scheduler"
    public var scoringStrategy = ScoringStrategy.leastAllocated
    /// NodeResourcesFit's resources (Kubernetes: cpu and memory, weight 1 each).
    public var scoringResources = [ResourceWeight(name: "cpu", weight: 1), ResourceWeight(name: "memory", weight: 1)]
    /// `podInitialBackoffSeconds`: the wait after a pod's first failed attempt.
    public var podInitialBackoff: Nanoseconds = 1 * nanosecondsPerSecond
    /// `podMaxBackoffSeconds`: the wait doubles per attempt up to this.
    public var podMaxBackoff: Nanoseconds = 10 * nanosecondsPerSecond
    /// `podMaxInUnschedulablePodsDuration`: an unschedulable pod is retried after this even if
    /// no cluster event suggested it could fit.
    public var podMaxInUnschedulablePodsDuration: Nanoseconds = 300 * nanosecondsPerSecond
    /// How often the queue looks for pods past `podMaxInUnschedulablePodsDuration` (30 s in
    /// Kubernetes).
    public var unschedulableFlushPeriod: Nanoseconds = 30 * nanosecondsPerSecond
    /// How long a pod assumed onto a node may wait for the watch to confirm its binding
    /// before the cache drops it; nil waits forever (Kubernetes' `durationToExpireAssumedPod`
    /// is 0, meaning never).
    public var assumedPodExpiry: Nanoseconds?
    /// `percentageOfNodesToScore`: stop filtering once this share of the nodes has been found
    /// feasible; nil uses Kubernetes' adaptive share (50% minus 1% per 125 nodes, at least 5%,
    /// never fewer than 100 nodes).
    public var percentageOfNodesToScore: Int?
    /// `hardPodAffinityWeight`: what an existing pod's required affinity to the incoming pod
    /// adds to the InterPodAffinity score.
    public var hardPodAffinityWeight: Int64 = 1
    /// How many pods the scheduling queue holds at most (Kubernetes' is unbounded; pods past
    /// this are refused and must come back with a later watch event or relist).
    public var queueCapacity = 100_000

    public init() {}

    /// Checks the settings against each other; a violation is a programming error.
    public func validate() {
        precondition(!schedulerName.isEmpty, "schedulerName must not be empty")
        precondition(podInitialBackoff > 0, "podInitialBackoff must be positive, not \(podInitialBackoff)")
        precondition(podMaxBackoff >= podInitialBackoff, "podMaxBackoff \(podMaxBackoff) < podInitialBackoff \(podInitialBackoff)")
        precondition(podMaxInUnschedulablePodsDuration > 0, "podMaxInUnschedulablePodsDuration must be positive")
        precondition(unschedulableFlushPeriod > 0, "unschedulableFlushPeriod must be positive")
        precondition(assumedPodExpiry.map { $0 > 0 } ?? true, "assumedPodExpiry must be positive when set")
        precondition(percentageOfNodesToScore.map { (1...100).contains($0) } ?? true,
            "percentageOfNodesToScore must be 1...100, not \(percentageOfNodesToScore!)")
        precondition((0...100).contains(hardPodAffinityWeight), "hardPodAffinityWeight must be 0...100, not \(hardPodAffinityWeight)")
        precondition(queueCapacity > 0, "queueCapacity must be positive, not \(queueCapacity)")
        precondition(!scoringResources.isEmpty, "scoringResources must name at least one resource")
    }

    /// How many feasible nodes to find before scoring, out of `nodeCount` (Kubernetes'
    /// `numFeasibleNodesToFind`).
    public func feasibleNodesToFind(nodeCount: Int) -> Int {
        let minimumNodes = 100
        guard nodeCount >= minimumNodes else { return nodeCount }
        let percentage = percentageOfNodesToScore ?? max(5, 50 - nodeCount / 125)
        return max(minimumNodes, nodeCount * percentage / 100)
    }
}
