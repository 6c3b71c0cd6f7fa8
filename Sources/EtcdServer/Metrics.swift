//! `/metrics` in Prometheus' text format, under etcd's metric names where etcd has one, so
//! dashboards and scrapers built for etcd read ours. Updated from the loop and the storage
//! thread, read by HTTP threads: one lock, held for a few arithmetic operations.

import Base
import Synchronization

public final class Metrics: Sendable {
    /// Histogram bucket upper bounds in seconds, etcd's for fsync (0.001 × 2^k).
    static let latencyBuckets: [Double] = (0..<14).map { 0.001 * Double(1 << $0) }

    struct Histogram {
        var counts = [UInt64](repeating: 0, count: Metrics.latencyBuckets.count)
        var sum = 0.0
        var count: UInt64 = 0

        mutating func observe(_ seconds: Double) {
            for (index, bound) in Metrics.latencyBuckets.enumerated() where seconds <= bound { counts[index] += 1 }
            sum += seconds
            count += 1
        }
    }

    struct State {
        var term: UInt64 = 0
        var hasLeader = false
        var isLeader = false
        var leaderChanges: UInt64 = 0
        var proposalsCommitted: UInt64 = 0
        var proposalsApplied: UInt64 = 0
        var proposalsFailed: UInt64 = 0
        var proposalsPending: Int = 0
        var fsync = Histogram()
        var apply = Histogram()
        var snapshotSave = Histogram()
        var peerFramesDropped: UInt64 = 0
        var watchers = 0
        var slowWatchersCancelled: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    func update(_ change: (inout State) -> Void) { state.withLock { change(&$0) } }

    public func observeFsync(_ duration: Nanoseconds) { update { $0.fsync.observe(Double(duration) / 1e9) } }
    public func observeApply(_ duration: Nanoseconds) { update { $0.apply.observe(Double(duration) / 1e9) } }
    public func observeSnapshotSave(_ duration: Nanoseconds) { update { $0.snapshotSave.observe(Double(duration) / 1e9) } }

    public func render() -> String {
        let snapshot = state.withLock { $0 }
        var text = ""
        func metric(_ name: String, _ type: String, _ help: String, _ value: String) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(value)\n"
        }
        func histogram(_ name: String, _ help: String, _ histogram: Histogram) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
            for (bound, count) in zip(Metrics.latencyBuckets, histogram.counts) {
                text += "\(name)_bucket{le=\"\(bound)\"} \(count)\n"
            }
            text += "\(name)_bucket{le=\"+Inf\"} \(histogram.count)\n"
            text += "\(name)_sum \(histogram.sum)\n\(name)_count \(histogram.count)\n"
        }
        metric("etcd_server_has_leader", "gauge", "Whether or not a leader exists. 1 is existence, 0 is not.", snapshot.hasLeader ? "1" : "0")
        metric("etcd_server_is_leader", "gauge", "Whether or not this member is a leader. 1 if is, 0 otherwise.", snapshot.isLeader ? "1" : "0")
        metric("etcd_server_term", "gauge", "The current Raft term of this member.", "\(snapshot.term)")
        metric("etcd_server_leader_changes_seen_total", "counter", "The number of leader changes seen.", "\(snapshot.leaderChanges)")
        metric("etcd_server_proposals_committed_total", "counter", "The total number of consensus proposals committed.", "\(snapshot.proposalsCommitted)")
        metric("etcd_server_proposals_applied_total", "counter", "The total number of consensus proposals applied.", "\(snapshot.proposalsApplied)")
        metric("etcd_server_proposals_pending", "gauge", "The current number of pending proposals to commit.", "\(snapshot.proposalsPending)")
        metric("etcd_server_proposals_failed_total", "counter", "The total number of failed proposals seen.", "\(snapshot.proposalsFailed)")
        histogram("etcd_disk_wal_fsync_duration_seconds", "The latency distributions of fsync called by WAL.", snapshot.fsync)
        histogram("etcd_server_apply_duration_seconds", "The latency distributions of applying a committed entry to the store.", snapshot.apply)
        histogram("etcd_debugging_snap_save_total_duration_seconds", "The total latency distributions of save called by snapshot.", snapshot.snapshotSave)
        metric("etcd_network_peer_frames_dropped_total", "counter", "Peer frames dropped because a send queue was full.", "\(snapshot.peerFramesDropped)")
        metric("etcd_debugging_mvcc_watcher_total", "gauge", "Total number of watchers.", "\(snapshot.watchers)")
        metric("faultline_slow_watchers_cancelled_total", "counter", "Watchers cancelled because they fell too far behind.", "\(snapshot.slowWatchersCancelled)")
        return text
    }
}
