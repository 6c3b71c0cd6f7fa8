//! A pod waiting in the scheduling queue, with what the queue knows of its attempts.

import Base

public struct PendingPod: Sendable, Equatable {
    public internal(set) var pod: SchedulingPod
    /// Scheduling attempts so far; the backoff doubles with each.
    public internal(set) var attempts = 0
    /// When the pod entered the queue, or last failed: it orders equal priorities in the
    /// active queue, and the backoff counts from it.
    public internal(set) var timestamp: Nanoseconds
    /// When the first attempt began, nil before it.
    public internal(set) var initialAttemptTimestamp: Nanoseconds?
    /// The plugins that rejected the pod last time; only events they care about requeue it.
    public internal(set) var unschedulablePlugins: Set<SchedulerPlugin> = []
    /// The queue's scheduling cycle when the pod was last popped.
    var cycle: Int64 = 0

    init(pod: SchedulingPod, timestamp: Nanoseconds) {
        self.pod = pod
        self.timestamp = timestamp
    }

    public var key: String { pod.key }
}
