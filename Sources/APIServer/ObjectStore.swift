//! Kubernetes objects in the etcd-compatible store, as the real apiserver keeps them: compact
//! JSON under `/registry/<resource>/<namespace>/<name>` (cluster-scoped: no namespace), with no
//! resourceVersion inside — an object's resourceVersion is its key's mod revision, filled in
//! on every read. Creates, updates and deletes are single guarded transactions
//! (`GuardedWrites`), so two writers never both win.
//!
//! `EtcdClient` is not thread-safe and the HTTP server runs a thread per connection, so clients
//! come from a small bounded pool.

import Base
import EtcdClient
import Synchronization
import Wire

/// One stored object and the revision it was last written at.
struct StoredObject {
    var object: JSONValue
    var revision: Int64
}

enum StoreFailure: Error, CustomStringConvertible {
    /// The store did not answer, or refused (no leader, timeout): 500/503/504 for the client.
    case unavailable(String)
    /// A value that is not a JSON object (written by someone else): 500.
    case corrupt(key: String, String)
    /// A watch from a revision the store has compacted: 410 Gone.
    case compacted(String)

    var description: String {
        switch self {
        case .unavailable(let why): return "the store is unavailable: \(why)"
        case .corrupt(let key, let why): return "the value at \(key) is not an object: \(why)"
        case .compacted(let why): return why
        }
    }
}

final class ObjectStore: Sendable {
    let prefix: String
    let endpoints: [String]
    let requestTimeout: Nanoseconds
    private let idle = Mutex<[UncheckedClient]>([])
    /// Where new clients start: moved on past an endpoint that failed, so that one isolated or
    /// dead member costs one timeout, not one per request.
    private let preferred = Atomic<Int>(0)
    /// Idle clients kept for reuse; more threads than this just make new ones.
    static let idleClientsMax = 64

    /// Cuts the watches of a member that stopped answering (see `StoreKeepalive`).
    let keepalive: StoreKeepalive

    init(endpoints: [String], prefix: String = "/registry", requestTimeout: Nanoseconds = 10 * Time.second,
        keepaliveTime: Nanoseconds = 30 * Time.second, keepaliveTimeout: Nanoseconds = 10 * Time.second)
    {
        precondition(!endpoints.isEmpty, "the apiserver needs at least one store endpoint")
        self.endpoints = endpoints
        self.prefix = prefix
        self.requestTimeout = requestTimeout
        keepalive = StoreKeepalive(interval: keepaliveTime, timeout: keepaliveTimeout)
    }

    // MARK: - Keys

    /// The key of one object.
    func key(resource: String, namespace: String?, name: String) -> String {
        collectionPrefix(resource: resource, namespace: namespace) + name
    }

    /// The prefix of a collection: every namespace's objects when `namespace` is nil.
    func collectionPrefix(resource: String, namespace: String?) -> String {
        namespace.map { "\(prefix)/\(resource)/\($0)/" } ?? "\(prefix)/\(resource)/"
    }

    // MARK: - Reads

    func get(_ key: String) throws(StoreFailure) -> StoredObject? {
        let result = try withClient(idempotent: true) { client throws(EtcdClientError) in try client.get(key) }
        return try result.kvs.first.map { kv throws(StoreFailure) in try decode(kv) }
    }

    /// Every object under `prefix`, and the store's revision the list is consistent with.
    func list(_ prefix: String) throws(StoreFailure) -> (items: [StoredObject], revision: Int64) {
        let result = try withClient(idempotent: true) { client throws(EtcdClientError) in try client.get(prefix, prefix: true) }
        var items: [StoredObject] = []
        for kv in result.kvs { items.append(try decode(kv)) }
        return (items, result.header.revision)
    }

    // MARK: - Guarded writes

    /// Writes `object` at `key` if the key's mod revision is `expected` (0: only if absent).
    /// Returns the new revision, or nil (and what is there now) when the guard failed.
    func write(_ key: String, _ object: JSONValue, ifRevision expected: Int64) throws(StoreFailure) -> (revision: Int64?, current: StoredObject?) {
        let text = JSON.serialize(Self.withoutResourceVersion(object))
        let outcome = try withClient(idempotent: false) { client throws(EtcdClientError) in try client.put(key, text, ifModRevision: expected) }
        if outcome.succeeded { return (outcome.revision, nil) }
        return (nil, try outcome.current.map { kv throws(StoreFailure) in try decode(kv) })
    }

    /// Deletes `key` if its mod revision is `expected`. Returns the revision of the delete, or
    /// nil (and what is there now) when the guard failed.
    func delete(_ key: String, ifRevision expected: Int64) throws(StoreFailure) -> (revision: Int64?, current: StoredObject?) {
        let outcome = try withClient(idempotent: false) { client throws(EtcdClientError) in try client.delete(key, ifModRevision: expected) }
        if outcome.succeeded { return (outcome.revision, nil) }
        return (nil, try outcome.current.map { kv throws(StoreFailure) in try decode(kv) })
    }

    // MARK: - Watch

    /// Watches every key under `prefix` from `revision` (inclusive), with previous values, until
    /// `onEvents` returns false, `cancel` fires or the store ends the stream. Throws `compacted`
    /// when the revision is gone.
    ///
    /// As kube-apiserver's watches do, it needs a leader: a member that loses its own (cut off
    /// from the others) ends the stream within three election timeouts instead of leaving it
    /// quiet, and the next watch starts past that member. `onProgress` hears the store's
    /// progress notifications: the revision everything up to has been seen.
    func watch(_ prefix: String, from revision: Int64, cancel: WatchCancel, onProgress: @escaping (Int64) -> Void = { _ in },
        onEvents: @escaping ([WatchEvent]) -> Bool) throws(StoreFailure)
    {
        // A watch holds its connection for as long as it runs: a client of its own.
        let client = newClient()
        let endpoint = client.currentEndpoint
        let keepaliveToken = keepalive.register(endpoint: endpoint, cancel: cancel)
        let reason: String?
        do {
            reason = try client.watch(prefix, prefix: true, revision: revision, prevKV: true, cancel: cancel,
                requireLeader: true, progressNotify: true, onProgress: onProgress, onEvents: onEvents)
        } catch {
            if keepalive.unregister(keepaliveToken) { throw silentMember(endpoint) }
            if cancel.isCancelled { return }
            passOver(endpoint)
            throw .unavailable("\(error)")
        }
        if keepalive.unregister(keepaliveToken) { throw silentMember(endpoint) }
        if let reason, reason.contains("compacted") { throw .compacted(reason) }
    }

    // MARK: - Plumbing

    func decode(_ kv: EtcdKeyValue) throws(StoreFailure) -> StoredObject {
        let value: JSONValue
        do {
            value = try kv.value.withUnsafeBufferPointer { buffer throws(JSONParseError) in try JSON.parse(bytes: buffer) }
        } catch {
            throw .corrupt(key: kv.keyString, "\(error)")
        }
        guard case .object(var object) = value else { throw .corrupt(key: kv.keyString, "found \(value.kindName)") }
        var metadata = object["metadata"].flatMap { if case .object(let m) = $0 { m } else { nil } } ?? JSONObject()
        metadata["resourceVersion"] = .string(String(kv.modRevision))
        object["metadata"] = .object(metadata)
        return StoredObject(object: .object(object), revision: kv.modRevision)
    }

    /// The stored form carries no resourceVersion (it would be stale the moment it is written).
    static func withoutResourceVersion(_ object: JSONValue) -> JSONValue {
        guard case .object(var top) = object, case .object(var metadata)? = top["metadata"] else { return object }
        metadata["resourceVersion"] = nil
        top["metadata"] = .object(metadata)
        return .object(top)
    }

    /// Runs `body` with a pooled client. A failure moves new clients on to the next endpoint;
    /// an `idempotent` call (a read) is tried again there, once per endpoint. A write is not:
    /// one that got no answer may have been applied, and the client must hear that it failed.
    private func withClient<T>(idempotent: Bool, _ body: (EtcdClient) throws(EtcdClientError) -> T) throws(StoreFailure) -> T {
        var lastError = ""
        for _ in 0..<(idempotent ? endpoints.count : 1) {
            let client = idle.withLock { $0.popLast() }?.value ?? newClient()
            do {
                let result = try body(client)
                idle.withLock { if $0.count < Self.idleClientsMax { $0.append(UncheckedClient(value: client)) } }
                return result
            } catch {
                // A client that failed may hold a broken connection: let it go, and start the
                // next ones past the endpoint it used.
                lastError = "\(error)"
                passOver(client.currentEndpoint)
                idle.withLock { $0.removeAll() }
            }
        }
        throw .unavailable(lastError)
    }

    /// The failure of a watch the keepalive cut; new clients start past that member.
    private func silentMember(_ endpoint: String) -> StoreFailure {
        passOver(endpoint)
        return .unavailable("\(endpoint) did not answer a keepalive within \(Time.describe(keepalive.timeout)); watching elsewhere")
    }

    /// New clients start at the endpoint after `failed`.
    func passOver(_ failed: String) {
        if let index = endpoints.firstIndex(of: failed) {
            preferred.store((index + 1) % endpoints.count, ordering: .relaxed)
        }
    }

    /// A client of its own, starting at the preferred endpoint (a watch, the bootstrap loop's lease).
    func newClient() -> EtcdClient {
        let start = preferred.load(ordering: .relaxed) % endpoints.count
        return EtcdClient(endpoints: Array(endpoints[start...] + endpoints[..<start]), timeout: requestTimeout)
    }
}

/// A pooled client is used by one thread at a time: taken out under the lock, put back after.
private struct UncheckedClient: @unchecked Sendable { let value: EtcdClient }
