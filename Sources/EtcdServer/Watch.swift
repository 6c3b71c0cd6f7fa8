//! Watches: a client's stream of events on a key or range, from a past revision (replayed from
//! the store's history) and then live, one message per revision, in order, none missing. The loop
//! fans each applied write's events out to matching watchers; each watcher's HTTP thread drains a
//! bounded queue. A watcher that falls behind by more than the queue holds is cancelled (etcd
//! would slow it down; cancelling is honest and the client can resume from its last revision).

import Base
import EtcdAPI
import Foundation
import MVCC
import Net

final class WatchSubscription: @unchecked Sendable {
    let request: WatchCreateRequest
    let watchID: Int64
    static let queueMessagesMax = 10_000
    private let condition = NSCondition()
    private var messages: [[UInt8]] = []
    private(set) var overflowed = false
    private(set) var closed = false

    init(request: WatchCreateRequest, watchID: Int64) {
        self.request = request
        self.watchID = watchID
    }

    func push(_ message: [UInt8]) {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return }
        if messages.count >= Self.queueMessagesMax {
            overflowed = true
            closed = true
        } else {
            messages.append(message)
        }
        condition.signal()
    }

    func close() {
        condition.lock()
        closed = true
        condition.signal()
        condition.unlock()
    }

    /// Everything queued, waiting up to `timeout` for something; nil once closed and drained.
    func take(timeout: TimeInterval) -> [[UInt8]]? {
        condition.lock()
        defer { condition.unlock() }
        if messages.isEmpty && !closed { _ = condition.wait(until: Date().addingTimeInterval(timeout)) }
        if messages.isEmpty && closed { return nil }
        let batch = messages
        messages.removeAll(keepingCapacity: true)
        return batch
    }

    /// The events of one revision this watcher wants, as it wants them.
    func select(_ events: [Event]) -> [Event] {
        var selected: [Event] = []
        for event in events where MVCCStore.inRange(event.kv.key, request.key, request.rangeEnd) {
            if event.kind == .put && request.filters.contains(.noPut) { continue }
            if event.kind == .delete && request.filters.contains(.noDelete) { continue }
            var copy = event
            if !request.prevKV { copy.prevKV = nil }
            selected.append(copy)
        }
        return selected
    }
}

struct WatchHub {
    private var subscriptions: [Int: WatchSubscription] = [:]
    private var nextKey = 0

    var count: Int { subscriptions.count }

    mutating func add(_ subscription: WatchSubscription) -> Int {
        nextKey += 1
        subscriptions[nextKey] = subscription
        return nextKey
    }

    mutating func remove(_ key: Int) { subscriptions.removeValue(forKey: key)?.close() }

    /// Called on the loop with one revision's events.
    func publish(_ events: [Event], member: EtcdMember) {
        guard !subscriptions.isEmpty, let revision = events.last?.kv.modRevision else { return }
        for subscription in subscriptions.values {
            let selected = subscription.select(events)
            guard !selected.isEmpty else { continue }
            var message = EtcdAPI.WatchMessage(header: member.header(revision: revision))
            message.watchID = subscription.watchID
            message.events = selected
            subscription.push(EtcdAPI.encode(message))
        }
    }
}

extension EtcdMember {
    func serveWatch(_ request: HTTPRequest, _ responder: HTTPResponder) {
        let create: WatchCreateRequest
        do {
            guard case .create(let decoded) = try EtcdAPI.decodeWatch(request.body) else {
                reply(responder, error: .invalidArgument("a watch stream over HTTP/1.1 must start with a create_request"))
                return
            }
            create = decoded
        } catch {
            reply(responder, error: error)
            return
        }
        let subscription = WatchSubscription(request: create, watchID: create.watchID)
        let registered = Waiter<Int?>()
        let accepted = loop.execute { [self] in
            let store = replica.stateMachine.store
            var created = EtcdAPI.WatchMessage(header: header())
            created.watchID = create.watchID
            created.created = true
            subscription.push(EtcdAPI.encode(created))
            if create.startRevision > 0 && create.startRevision < store.compactedRevision {
                var canceled = EtcdAPI.WatchMessage(header: ResponseHeader(clusterID: clusterID, memberID: memberID, revision: 0, raftTerm: replica.raft.term))
                canceled.watchID = create.watchID
                canceled.canceled = true
                canceled.compactRevision = store.compactedRevision
                subscription.push(EtcdAPI.encode(canceled))
                subscription.close()
                registered.fulfil(nil)
                return
            }
            if create.startRevision > 0 && create.startRevision <= store.currentRevision,
                let history = try? store.events(key: create.key, rangeEnd: create.rangeEnd, from: create.startRevision)
            {
                let selected = subscription.select(history)
                if !selected.isEmpty {
                    var replay = EtcdAPI.WatchMessage(header: header())
                    replay.watchID = create.watchID
                    replay.events = selected
                    subscription.push(EtcdAPI.encode(replay))
                }
            }
            let key = watches.add(subscription)
            metrics.update { $0.watchers = watches.count }
            registered.fulfil(key)
        }
        guard accepted, let outcome = registered.wait(timeout: configuration.requestTimeout) else {
            reply(responder, error: .timeout)
            return
        }
        defer {
            if let key = outcome {
                loop.execute { [self] in
                    watches.remove(key)
                    metrics.update { $0.watchers = watches.count }
                }
            }
        }
        guard responder.startStream() else { return }
        while let batch = subscription.take(timeout: 0.25) {
            for message in batch where !responder.write(message + [10]) { return }
            if batch.isEmpty && responder.clientGone { return }
        }
        if subscription.overflowed {
            metrics.update { $0.slowWatchersCancelled += 1 }
            var canceled = EtcdAPI.WatchMessage(header: ResponseHeader(clusterID: clusterID, memberID: memberID, revision: 0, raftTerm: 0))
            canceled.watchID = create.watchID
            canceled.canceled = true
            canceled.cancelReason = "watcher fell too far behind; resume from its last revision"
            responder.write(EtcdAPI.encode(canceled) + [10])
        }
        responder.finish()
    }
}
