//! The serial loop that owns a member's Raft instance and store. Everything that touches them
//! runs here, one job at a time, so the pure cores never see two threads. Other threads hand in
//! jobs through a bounded queue; the loop also fires the Raft tick on a monotonic timer, so wall
//! clock jumps (a skewed host) never stall or rush elections.

import Base
import Foundation
import Glibc
import Net

public final class EventLoop: @unchecked Sendable {
    // Invariant: `jobs`, `stopping` are guarded by `mutex`; `onTick` is set before `start` and
    // read only on the loop thread.
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var jobs: [() -> Void] = []
    private var jobsHead = 0
    private var stopping = false
    private var thread: Thread?
    private var loopThreadID: pthread_t?
    private let finished = DispatchSemaphore(value: 0)
    public let tickInterval: Nanoseconds
    /// Jobs queued at most; `execute` refuses beyond this (the caller answers "too many requests").
    public let queueCapacity: Int
    public var onTick: (() -> Void)?
    public private(set) var ticks: UInt64 = 0

    public init(tickInterval: Nanoseconds, queueCapacity: Int = 65_536) {
        precondition(tickInterval > 0, "tick interval must be positive, got \(tickInterval)")
        self.tickInterval = tickInterval
        self.queueCapacity = queueCapacity
        pthread_mutex_init(&mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(&condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(&condition)
        pthread_mutex_destroy(&mutex)
    }

    /// The member's monotonic clock: the real one, unless the testbed makes it drift
    /// (`FaultClock`), in which case ticks and lease expiry follow the drifting clock.
    public static func now() -> Nanoseconds { FaultClock.shared.monotonic() }

    public var isLoopThread: Bool {
        guard let loopThreadID else { return false }
        return pthread_equal(loopThreadID, pthread_self()) != 0
    }

    /// Queues `job` to run on the loop. False when the queue is full or the loop stopped.
    @discardableResult
    public func execute(_ job: @escaping @Sendable () -> Void) -> Bool {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        guard !stopping, jobs.count - jobsHead < queueCapacity else { return false }
        jobs.append(job)
        pthread_cond_signal(&condition)
        return true
    }

    /// Runs `job` on the loop and waits for its result (never call it from the loop itself).
    public func sync<T>(_ job: @escaping @Sendable () -> T) -> T? {
        precondition(!isLoopThread, "EventLoop.sync called on the loop thread would deadlock")
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox<T>()
        let accepted = execute { [box] in
            box.value = job()
            done.signal()
        }
        guard accepted else { return nil }
        done.wait()
        return box.value
    }

    public func start() {
        precondition(thread == nil, "EventLoop started twice")
        let thread = Thread { [self] in run() }
        thread.name = "event-loop"
        thread.stackSize = 8 << 20
        self.thread = thread
        thread.start()
    }

    /// Stops after the jobs already queued; waits for the loop thread to finish.
    public func stop() {
        pthread_mutex_lock(&mutex)
        let wasRunning = !stopping && thread != nil
        stopping = true
        pthread_cond_signal(&condition)
        pthread_mutex_unlock(&mutex)
        if wasRunning { finished.wait() }
    }

    private func run() {
        loopThreadID = pthread_self()
        var nextTick = Self.now() + tickInterval
        while true {
            pthread_mutex_lock(&mutex)
            while jobsHead == jobs.count && !stopping && Self.now() < nextTick {
                let realDeadline = FaultClock.shared.realInstant(of: nextTick)
                var deadline = timespec(tv_sec: Int(realDeadline / Time.second), tv_nsec: Int(realDeadline % Time.second))
                pthread_cond_timedwait(&condition, &mutex, &deadline)
            }
            if stopping && jobsHead == jobs.count {
                pthread_mutex_unlock(&mutex)
                break
            }
            let batch = Array(jobs[jobsHead...])
            jobs.removeAll(keepingCapacity: jobs.capacity < 4096)
            jobsHead = 0
            pthread_mutex_unlock(&mutex)
            for job in batch { job() }
            let now = Self.now()
            if now >= nextTick {
                ticks += 1
                onTick?()
                // A loop that fell far behind ticks once, not in a burst: Raft counts ticks as
                // elapsed time, and a burst after a stall would fire elections at once.
                nextTick = max(nextTick + tickInterval, now + tickInterval / 2)
            }
        }
        finished.signal()
    }
}

private final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}
