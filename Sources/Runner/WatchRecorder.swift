//! WatchRecorder: watch streams on the insert prefix, kept for the run, recording every message
//! with its events as delivered. When a stream breaks (a partition, a killed member) it resumes
//! on the next member from the revision after the last one it saw, as a careful etcd client
//! does; the watch check then verifies order, uniqueness, atomicity per revision, completeness
//! against the committed inserts, and that resuming neither skipped nor repeated anything.

import Base
import EtcdClient
import Foundation

public struct WatchDelivery: Sendable {
    public struct Event: Sendable {
        public var revision: Int64
        public var key: String
        public var value: String
        public var isDelete: Bool
    }
    public var watcher: Int
    public var time: Nanoseconds
    public var events: [Event]
    /// True for the first message after the stream was resumed.
    public var resumed: Bool
}

public final class WatchRecorder: @unchecked Sendable {
    private let prefix: String
    private let endpoints: [String]
    private let startRevision: Int64
    private let clock: @Sendable () -> Nanoseconds
    private let lock = NSLock()
    private var messages: [WatchDelivery] = []
    private var stopping = false
    private var resumes = 0
    private var stopped = 0
    public static let messagesMax = 1_000_000

    /// Watchers start at `startRevision` on `endpoints` (watcher i starts on endpoint i).
    public init(prefix: String, endpoints: [String], startRevision: Int64, clock: @escaping @Sendable () -> Nanoseconds) {
        self.prefix = prefix
        self.endpoints = endpoints
        self.startRevision = startRevision
        self.clock = clock
    }

    public func start(watchers: Int) {
        for watcher in 0..<watchers {
            Thread { [self] in run(watcher) }.start()
        }
    }

    /// Stops resuming; a stream still open ends when the caller writes `stopKey` (every watcher
    /// returns on it) or when the cluster goes down.
    public func stop() { lock.withLock { stopping = true } }

    public var recorded: [WatchDelivery] { lock.withLock { messages } }
    public var resumeCount: Int { lock.withLock { resumes } }
    /// Watchers that saw the stop key and ended.
    public var stoppedCount: Int { lock.withLock { stopped } }
    public var stopKey: String { prefix + "~stop" }

    private func run(_ watcher: Int) {
        var next = startRevision
        var attempt = watcher
        var resumed = false
        while !lock.withLock({ stopping }) {
            let endpoint = endpoints[attempt % endpoints.count]
            let client = EtcdClient(endpoints: [endpoint], timeout: 2 * Time.second)
            var sawStop = false
            _ = try? client.watch(prefix, prefix: true, revision: next) { [self] events in
                let converted = events.map {
                    WatchDelivery.Event(revision: $0.kv.modRevision, key: $0.kv.keyString, value: $0.kv.valueString, isDelete: $0.isDelete)
                }
                let message = WatchDelivery(watcher: watcher, time: clock(), events: converted.filter { $0.key != stopKey }, resumed: resumed)
                resumed = false
                lock.withLock { if messages.count < Self.messagesMax && !message.events.isEmpty { messages.append(message) } }
                if let last = converted.last { next = last.revision + 1 }
                sawStop = converted.contains { $0.key == stopKey }
                return !sawStop
            }
            if sawStop {
                lock.withLock { stopped += 1 }
                return
            }
            attempt += 1
            resumed = true
            lock.withLock { resumes += 1 }
            usleep(100_000)
        }
    }
}
