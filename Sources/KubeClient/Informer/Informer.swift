//! Informer: a local, watched copy of one collection (a resource in a namespace, with
//! selectors), as client-go's reflector and shared informer keep one.
//!
//! Its thread lists, then watches from the list's resourceVersion with bookmarks and a
//! `timeoutSeconds` drawn between 5 and 10 minutes (client-go's reflector: minWatchTimeout 5 min
//! times 1–2). When the stream ends it watches again from the last resourceVersion it saw (an
//! event's or a bookmark's). On 410 Gone/Expired it lists again and delivers the differences to
//! the handlers. Failed attempts back off (0.8 s doubling to 30 s, as client-go's reflector).
//! The requests go through the `APIClient`, so when an apiserver dies the next list or watch
//! goes to another.
//!
//! Handlers run on the informer's thread, one at a time, in the order the cache changed; the
//! cache already holds the new state when a handler runs. They must be quick (enqueue a key, as
//! controllers do) — a slow handler delays every later event.

import Base
import Foundation
import Glibc
import KubeAPI
import Net
import Synchronization
import Wire

/// What an informer calls as its cache changes.
public struct InformerHandlers: Sendable {
    public var onAdd: @Sendable (JSONValue) -> Void
    public var onUpdate: @Sendable (_ old: JSONValue, _ new: JSONValue) -> Void
    public var onDelete: @Sendable (JSONValue) -> Void

    public init(
        onAdd: @escaping @Sendable (JSONValue) -> Void = { _ in },
        onUpdate: @escaping @Sendable (_ old: JSONValue, _ new: JSONValue) -> Void = { _, _ in },
        onDelete: @escaping @Sendable (JSONValue) -> Void = { _ in }
    ) {
        self.onAdd = onAdd
        self.onUpdate = onUpdate
        self.onDelete = onDelete
    }
}

public struct InformerConfiguration: Sendable {
    /// A watch asks the server to end it after a whole number of seconds drawn from this range.
    public var watchTimeoutSeconds: ClosedRange<Int64> = 300...600
    /// A stream silent this long is given up (the apiserver sends a BOOKMARK every minute).
    public var watchIdleTimeout: Nanoseconds = 90 * Time.second
    public var backoffInitial: Nanoseconds = 800 * Time.millisecond
    public var backoffMaximum: Nanoseconds = 30 * Time.second
    /// A watch that ends sooner than this without delivering anything counts as a failure (backs
    /// off), so a server that closes streams at once is not hammered.
    public var watchShortest: Nanoseconds = Time.second
    public var log: @Sendable (String) -> Void = { _ in }

    public init() {}
}

public final class Informer: Sendable {
    public let resource: APIResource
    public let namespace: String?
    public let labelSelector: String?
    public let fieldSelector: String?
    public let configuration: InformerConfiguration
    private let client: APIClient
    private let handlers: InformerHandlers
    private let cache = Mutex(InformerCache())
    private let synced = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)
    private let lastResourceVersion = Mutex("")
    private let stopSignal = StopSignal()
    private let cancellation = WatchCancellation()
    /// Held while a handler runs, so `stop` can wait for the one in progress.
    private let delivering = NSLock()
    /// The informer thread's id, so `stop` called from a handler does not wait for itself.
    private let threadID = Mutex<pthread_t?>(nil)

    public init(
        client: APIClient, resource: APIResource, namespace: String? = nil, labelSelector: String? = nil, fieldSelector: String? = nil,
        configuration: InformerConfiguration = InformerConfiguration(), handlers: InformerHandlers = InformerHandlers()
    ) {
        precondition(namespace == nil || resource.namespaced, "\(resource.plural) is cluster-scoped; namespace \(namespace!) makes no sense")
        precondition(configuration.watchTimeoutSeconds.lowerBound > 0, "watch timeouts \(configuration.watchTimeoutSeconds) must be positive")
        self.client = client
        self.resource = resource
        self.namespace = namespace
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.configuration = configuration
        self.handlers = handlers
    }

    // MARK: - The cache

    /// True once the first list is in the cache (and delivered to the handlers).
    public var hasSynced: Bool { synced.load(ordering: .acquiring) }

    /// Waits up to `timeout` for the first list; true when synced.
    public func waitForSync(timeout: Nanoseconds) -> Bool {
        let deadline = monotonicNow() + timeout
        while !hasSynced {
            if monotonicNow() >= deadline || stopSignal.isStopped { return hasSynced }
            usleep(10_000)
        }
        return true
    }

    /// Every cached object, sorted by key.
    public func list() -> [JSONValue] { cache.withLock { $0.sortedObjects } }

    /// The cached object of `key` (`namespace/name`, or `name` when cluster-scoped).
    public func get(_ key: String) -> JSONValue? { cache.withLock { $0.objects[key] } }

    /// The resourceVersion the informer has seen up to (its next watch starts there).
    public var resourceVersion: String { lastResourceVersion.withLock { $0 } }

    // MARK: - Running

    /// Starts the informer's thread (once).
    public func start() {
        guard !started.exchange(true, ordering: .sequentiallyConsistent) else { return }
        let thread = Thread { [self] in
            threadID.withLock { $0 = pthread_self() }
            run()
        }
        thread.name = "informer-\(resource.plural)"
        thread.start()
    }

    /// Stops promptly: the watch stream is interrupted and no handler starts after this returns
    /// (one already running is waited for, unless `stop` is called from a handler). A list in
    /// flight finishes within the client's request timeout, but is not delivered.
    public func stop() {
        stopSignal.stop()
        cancellation.cancel()
        let onInformerThread = threadID.withLock { id in id.map { pthread_equal($0, pthread_self()) != 0 } ?? false }
        if !onInformerThread {
            delivering.lock()
            delivering.unlock()
        }
    }

    private func run() {
        var backoff = Backoff(initial: configuration.backoffInitial, maximum: configuration.backoffMaximum)
        var needsList = true
        while !stopSignal.isStopped {
            if needsList {
                guard relist() else {
                    if stopSignal.sleep(backoff.failed()) { return }
                    continue
                }
                needsList = false
                backoff.reset()
            }
            let outcome = watchOnce()
            if stopSignal.isStopped { return }
            switch outcome {
            case .expired:
                configuration.log("informer \(resource.qualifiedName): resourceVersion \(resourceVersion) expired; listing again")
                needsList = true
            case .progressed:
                backoff.reset()
            case .failed:
                if stopSignal.sleep(backoff.failed()) { return }
            }
        }
    }

    /// Lists and replaces the cache; false when the list failed.
    private func relist() -> Bool {
        let listed: ObjectList
        do {
            listed = try client.list(resource, namespace: namespace, labelSelector: labelSelector, fieldSelector: fieldSelector)
        } catch {
            configuration.log("informer \(resource.qualifiedName): list failed: \(error)")
            return false
        }
        let changes = cache.withLock { $0.replace(with: listed.items) }
        lastResourceVersion.withLock { $0 = listed.resourceVersion }
        deliver(changes)
        synced.store(true, ordering: .releasing)
        return true
    }

    private enum WatchOutcome { case progressed, expired, failed }

    /// One watch stream from the last resourceVersion.
    private func watchOnce() -> WatchOutcome {
        let startedAt = monotonicNow()
        var delivered = false
        var failure: APIError?
        let from = resourceVersion
        do {
            _ = try client.watch(
                resource, namespace: namespace, labelSelector: labelSelector, fieldSelector: fieldSelector, resourceVersion: from,
                timeoutSeconds: Int64.random(in: configuration.watchTimeoutSeconds), idleTimeout: configuration.watchIdleTimeout,
                cancellation: cancellation
            ) { event in
                switch event {
                case .bookmark(let version):
                    if !version.isEmpty { lastResourceVersion.withLock { $0 = version } }
                case .error(let error):
                    failure = error
                    return false
                case .added(let object), .modified(let object), .deleted(let object):
                    let change = cache.withLock { $0.apply(event) }
                    if let version = object.stringMember("metadata", "resourceVersion") {
                        lastResourceVersion.withLock { $0 = version }
                    }
                    if let change { deliver([change]) }
                }
                delivered = true
                return !stopSignal.isStopped
            }
        } catch {
            failure = error
        }
        if let failure {
            if failure.isExpired { return .expired }
            configuration.log("informer \(resource.qualifiedName): watch from \(from) failed: \(failure)")
            return .failed
        }
        return delivered || monotonicNow() - startedAt >= configuration.watchShortest ? .progressed : .failed
    }

    private func deliver(_ changes: [CacheChange]) {
        for change in changes {
            delivering.lock()
            defer { delivering.unlock() }
            if stopSignal.isStopped { return }
            switch change {
            case .added(let object): handlers.onAdd(object)
            case .updated(let old, let new): handlers.onUpdate(old, new)
            case .deleted(let object): handlers.onDelete(object)
            }
        }
    }
}

/// Real monotonic time for the informer's own waits (not the skewable component clock: these are
/// I/O timeouts, not decisions).
private func monotonicNow() -> Nanoseconds { Net.MonotonicClock.now() }
