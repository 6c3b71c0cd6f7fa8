//! The scheduling queue (Kubernetes' `PriorityQueue`): an active queue ordered by priority,
//! then by the time a pod entered the queue; a backoff queue of pods waiting out their
//! backoff after a failure (1 s doubling to 10 s by default); and the unschedulable pods,
//! which go back when a cluster event may help or after five minutes. Pure: every call
//! takes the current time.

import Base

public struct SchedulingQueue: Sendable {
    /// Where a known pod is.
    public enum Location: Sendable, Equatable {
        case active
        case backoff
        case unschedulable
        /// Waiting for its scheduling gates to be removed.
        case gated
        /// Popped and being scheduled.
        case inFlight
        /// Assumed onto a node; the binding is on its way. Leaves the queue when a watch shows
        /// the pod bound (or it is deleted), returns to backoff if the binding fails.
        case binding
    }

    /// What `add` or `update` did with a pod.
    public enum Admission: Sendable, Equatable {
        case queued
        case updated
        /// Not this scheduler's to place (another scheduler, already bound, being deleted or
        /// finished) and not in the queue.
        case notPending
        /// It was queued but no longer needs scheduling, so it left the queue.
        case removed
        /// The queue holds `queueCapacity` pods; the pod was not taken.
        case full
    }

    private struct Entry: Sendable {
        var pending: PendingPod
        var location: Location
        /// Bumped on every move, so heap records of an earlier place are recognised as stale.
        var generation: UInt64 = 0
        /// The pod changed while in flight: a failure sends it to backoff, not unschedulable.
        var updatedInFlight = false
    }

    private struct ActiveRecord: Comparable, Sendable {
        var priority: Int64
        var timestamp: Nanoseconds
        var sequence: UInt64
        var key: String
        var generation: UInt64

        static func < (left: ActiveRecord, right: ActiveRecord) -> Bool {
            if left.priority != right.priority { return left.priority > right.priority }
            if left.timestamp != right.timestamp { return left.timestamp < right.timestamp }
            return left.sequence < right.sequence
        }
    }

    private struct BackoffRecord: Comparable, Sendable {
        var expiry: Nanoseconds
        var sequence: UInt64
        var key: String
        var generation: UInt64

        static func < (left: BackoffRecord, right: BackoffRecord) -> Bool {
            left.expiry != right.expiry ? left.expiry < right.expiry : left.sequence < right.sequence
        }
    }

    public let configuration: SchedulerConfiguration
    private var entries: [String: Entry] = [:]
    private var active = BinaryHeap<ActiveRecord>()
    private var backoff = BinaryHeap<BackoffRecord>()
    private var unschedulableKeys: Set<String> = []
    private var sequence: UInt64 = 0
    /// Counts pops; a pod popped in cycle c whose failure comes after a move request in cycle
    /// c or later may have missed the event that would have helped it.
    private var schedulingCycle: Int64 = 0
    private var moveRequestCycle: Int64 = -1
    private var nextUnschedulableFlush: Nanoseconds?
    /// Invariant: the number of entries whose location is `.active`.
    private var activeCount = 0

    public init(configuration: SchedulerConfiguration = SchedulerConfiguration()) {
        configuration.validate()
        self.configuration = configuration
    }

    public var count: Int { entries.count }
    public func location(ofKey key: String) -> Location? { entries[key]?.location }
    public func pending(key: String) -> PendingPod? { entries[key]?.pending }
    public var unschedulableCount: Int { unschedulableKeys.count }
    /// Pods ready to pop (their backoff over).
    public var readyCount: Int { activeCount }

    // MARK: - Pod events

    /// Queues a pod from a watch event if this scheduler should place it.
    @discardableResult
    public mutating func add(_ pod: SchedulingPod, now: Nanoseconds) -> Admission {
        if entries[pod.key] != nil { return update(pod, now: now) }
        guard pod.awaitsScheduling(by: configuration.schedulerName) else { return .notPending }
        guard entries.count < configuration.queueCapacity else { return .full }
        entries[pod.key] = Entry(pending: PendingPod(pod: pod, timestamp: now), location: .gated)
        if pod.schedulingGates.isEmpty { pushActive(pod.key) }
        return .queued
    }

    /// Records a changed pod: one that no longer needs scheduling leaves; one that changed in
    /// a way scheduling reads, while unschedulable or gated, gets another try.
    @discardableResult
    public mutating func update(_ pod: SchedulingPod, now: Nanoseconds) -> Admission {
        guard var entry = entries[pod.key] else { return add(pod, now: now) }
        guard pod.awaitsScheduling(by: configuration.schedulerName) else {
            delete(key: pod.key)
            return .removed
        }
        let relevant = Self.schedulingRelevantChange(entry.pending.pod, pod)
        entry.pending.pod = pod
        switch entry.location {
        case .active:
            entries[pod.key] = entry
            if relevant { pushActive(pod.key) }  // The priority may have changed.
        case .backoff:
            entries[pod.key] = entry
        case .inFlight, .binding:
            entry.updatedInFlight = entry.updatedInFlight || relevant
            entries[pod.key] = entry
        case .unschedulable:
            entries[pod.key] = entry
            if relevant { move(pod.key, now: now) }
        case .gated:
            entries[pod.key] = entry
            if pod.schedulingGates.isEmpty { pushActive(pod.key) }
        }
        return .updated
    }

    /// Forgets a pod (deleted, or bound by someone else).
    public mutating func delete(key: String) {
        guard let entry = entries.removeValue(forKey: key) else { return }
        if entry.location == .active { activeCount -= 1 }
        unschedulableKeys.remove(key)
    }

    // MARK: - Scheduling

    /// The next pod to schedule, if one is ready at `now`: first pods whose backoff has
    /// expired move to the active queue, and (every `unschedulableFlushPeriod`) pods
    /// unschedulable for longer than `podMaxInUnschedulablePodsDuration` go back too.
    public mutating func popReady(now: Nanoseconds) -> PendingPod? {
        flushBackoff(now: now)
        flushLongUnschedulable(now: now)
        while let record = active.popMinimum() {
            guard entries[record.key].map({ $0.location == .active && $0.generation == record.generation }) ?? false else { continue }
            setLocation(record.key, .inFlight)
            var entry = entries[record.key]!
            schedulingCycle += 1
            entry.updatedInFlight = false
            entry.pending.attempts += 1
            entry.pending.cycle = schedulingCycle
            if entry.pending.initialAttemptTimestamp == nil { entry.pending.initialAttemptTimestamp = now }
            entries[record.key] = entry
            return entry.pending
        }
        return nil
    }

    /// The pod was assumed onto a node: it waits for its binding to be confirmed.
    public mutating func assumed(key: String) {
        precondition(entries[key]?.location == .inFlight,
            "pod \(key) was assumed but is \(String(describing: entries[key]?.location)), not in flight")
        setLocation(key, .binding)
    }

    /// Puts back a pod that fit no node (rejected by `plugins`) or whose attempt failed with an
    /// error (`plugins` empty). It waits among the unschedulable pods unless a cluster event
    /// came during its attempt, it changed meanwhile, or it failed for an error: then it only
    /// backs off. A pod deleted meanwhile is dropped.
    public mutating func requeueUnschedulable(_ pending: PendingPod, plugins: Set<SchedulerPlugin>, now: Nanoseconds) {
        guard var entry = entries[pending.key], entry.location == .inFlight || entry.location == .binding else { return }
        entry.pending.timestamp = now
        entry.pending.unschedulablePlugins = plugins
        let retrySoon = plugins.isEmpty || entry.updatedInFlight || moveRequestCycle >= entry.pending.cycle
        entry.updatedInFlight = false
        entries[pending.key] = entry
        if retrySoon {
            move(pending.key, now: now)
        } else {
            setLocation(pending.key, .unschedulable)
        }
    }

    /// A cluster event that may make pods schedulable: every unschedulable pod for which
    /// `mayHelp` says yes goes to the backoff queue (or straight to active once its backoff
    /// is over). Returns how many moved.
    @discardableResult
    public mutating func moveOnClusterChange(now: Nanoseconds, where mayHelp: (PendingPod) -> Bool) -> Int {
        moveRequestCycle = schedulingCycle
        var moved = 0
        for key in unschedulableKeys.sorted() {
            guard let entry = entries[key], mayHelp(entry.pending) else { continue }
            move(key, now: now)
            moved += 1
        }
        return moved
    }

    /// Moves every unschedulable pod (a change that may help any of them).
    @discardableResult
    public mutating func moveAllOnClusterChange(now: Nanoseconds) -> Int {
        moveOnClusterChange(now: now) { _ in true }
    }

    /// When the queue next has something to do without a new event: now if a pod is active,
    /// else the earliest backoff expiry or unschedulable flush; nil when idle.
    public func nextWakeup(now: Nanoseconds) -> Nanoseconds? {
        if activeCount > 0 { return now }
        var wakeup: Nanoseconds?
        if let expiry = backoff.minimum?.expiry { wakeup = expiry }
        if !unschedulableKeys.isEmpty {
            let flush = nextUnschedulableFlush ?? now
            wakeup = min(wakeup ?? flush, flush)
        }
        return wakeup
    }

    /// How long a pod backs off after `attempts` attempts: nothing before the first, then the
    /// initial backoff doubling per further attempt up to the maximum.
    public func backoffDuration(attempts: Int) -> Nanoseconds {
        guard attempts > 0 else { return 0 }
        var duration = configuration.podInitialBackoff
        for _ in 1..<attempts {
            if duration > configuration.podMaxBackoff - duration { return configuration.podMaxBackoff }
            duration += duration
        }
        return duration
    }

    // MARK: - Moves

    private func backoffExpiry(_ pending: PendingPod) -> Nanoseconds { pending.timestamp + backoffDuration(attempts: pending.attempts) }

    /// To the backoff queue while the pod is still backing off, else to the active queue.
    private mutating func move(_ key: String, now: Nanoseconds) {
        guard let entry = entries[key] else { return }
        let expiry = backoffExpiry(entry.pending)
        if expiry > now {
            setLocation(key, .backoff)
            sequence += 1
            backoff.insert(BackoffRecord(expiry: expiry, sequence: sequence, key: key, generation: entries[key]!.generation))
        } else {
            pushActive(key)
        }
    }

    private mutating func pushActive(_ key: String) {
        setLocation(key, .active)
        let entry = entries[key]!
        sequence += 1
        active.insert(
            ActiveRecord(
                priority: entry.pending.pod.priority, timestamp: entry.pending.timestamp, sequence: sequence, key: key,
                generation: entry.generation))
        compactIfStale()
    }

    private mutating func setLocation(_ key: String, _ location: Location) {
        guard var entry = entries[key] else { preconditionFailure("moving unknown pod \(key) to \(location)") }
        if entry.location == .active { activeCount -= 1 }
        if location == .active { activeCount += 1 }
        precondition(activeCount >= 0, "active count went negative moving \(key) from \(entry.location) to \(location)")
        entry.location = location
        entry.generation += 1
        entries[key] = entry
        if location == .unschedulable { unschedulableKeys.insert(key) } else { unschedulableKeys.remove(key) }
    }

    private mutating func flushBackoff(now: Nanoseconds) {
        while let record = backoff.minimum, record.expiry <= now {
            _ = backoff.popMinimum()
            guard let entry = entries[record.key], entry.location == .backoff, entry.generation == record.generation else { continue }
            pushActive(record.key)
        }
    }

    private mutating func flushLongUnschedulable(now: Nanoseconds) {
        let due = nextUnschedulableFlush ?? now
        guard now >= due else { return }
        nextUnschedulableFlush = now + configuration.unschedulableFlushPeriod
        for key in unschedulableKeys.sorted() {
            guard let entry = entries[key], now - entry.pending.timestamp > configuration.podMaxInUnschedulablePodsDuration else { continue }
            move(key, now: now)
        }
    }

    /// Heap records left behind by moves are skipped when popped; rebuild the heaps when they
    /// outnumber the live pods, so memory stays bounded by the queue's capacity.
    private mutating func compactIfStale() {
        guard active.count + backoff.count > 2 * entries.count + 1024 else { return }
        active = BinaryHeap(active.elements.filter { isLive($0.key, $0.generation, at: .active) })
        backoff = BinaryHeap(backoff.elements.filter { isLive($0.key, $0.generation, at: .backoff) })
    }

    private func isLive(_ key: String, _ generation: UInt64, at location: Location) -> Bool {
        guard let entry = entries[key] else { return false }
        return entry.location == location && entry.generation == generation
    }

    /// Whether a pod changed in something scheduling reads (not just its status).
    static func schedulingRelevantChange(_ old: SchedulingPod, _ new: SchedulingPod) -> Bool {
        var oldSpec = old
        var newSpec = new
        oldSpec.conditions = []
        newSpec.conditions = []
        oldSpec.phase = ""
        newSpec.phase = ""
        return oldSpec != newSpec
    }
}
