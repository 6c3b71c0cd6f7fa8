//! Watches: a client's stream of events on a key or range, from a past revision (replayed from
//! the store's history) and then live, one message per revision, in order, none missing. The loop
//! fans each applied write's events out to matching watchers; each watcher's HTTP thread drains a
//! bounded queue. A watcher that falls behind by more than the queue holds is cancelled (etcd
//! would slow it down; cancelling is honest and the client can resume from its last revision).

import Base
import EtcdAPI
import Foundation
import MVCC
import Raft
import Net

/// One HTTP watch stream: the watchers its request body created, sharing one bounded queue of
/// encoded messages that the stream's HTTP thread drains.
final class WatchStream: @unchecked Sendable {
    static let queueMessagesMax = 10_000
    /// The client asked to be cut off when this member has no leader (the gateway's
    /// `Grpc-Metadata-Hasleader: true`): a member on the wrong side of a partition would
    /// otherwise keep its watchers waiting for events that never come.
    let requiresLeader: Bool
    private let condition = NSCondition()
    private var messages: [[UInt8]] = []
    private(set) var overflowed = false
    private(set) var closed = false
    // Loop-owned: this stream's watchers by watch id (hub keys), and the next automatic id.
    var watcherKeys: [Int64: Int] = [:]
    var nextWatchID: Int64 = 0

    init(requiresLeader: Bool) {
        self.requiresLeader = requiresLeader
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

    /// Closes the stream with `last` as its final message, after what is queued.
    func end(with last: [UInt8]) {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { return }
        messages.append(last)
        closed = true
        condition.signal()
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
}

/// One watch: what it asked for, and the stream its messages go to.
struct Watcher {
    let request: WatchCreateRequest
    let watchID: Int64
    let stream: WatchStream

    /// The events of one revision this watcher wants, as it wants them.
    func select(_ events: [Event]) -> [Event] {
        var selected: [Event] = []
        // A watch from a revision the member has not reached yet (a follower behind the
        // client) must not see the revisions before it when they arrive.
        for event in events where event.kv.modRevision >= request.startRevision && MVCCStore.inRange(event.kv.key, request.key, request.rangeEnd) {
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
    private var watchers: [Int: Watcher] = [:]
    private var nextKey = 0

    var count: Int { watchers.count }

    mutating func add(_ watcher: Watcher) -> Int {
        nextKey += 1
        watchers[nextKey] = watcher
        return nextKey
    }

    mutating func remove(_ key: Int) { watchers.removeValue(forKey: key) }

    /// Called on the loop every progress-notify interval: watchers that asked for it learn the
    /// store's revision (they have seen every event up to it: ours are always in sync).
    func notifyProgress(member: EtcdMember) {
        for key in watchers.keys.sorted() where watchers[key]!.request.progressNotify {
            var message = EtcdAPI.WatchMessage(header: member.header())
            message.watchID = watchers[key]!.watchID
            watchers[key]!.stream.push(EtcdAPI.encode(message))
        }
    }

    /// Called on the loop when this member has been without a leader too long: every stream
    /// that needs one ends with etcd's "no leader" error, and its watchers go.
    mutating func endStreamsRequiringLeader() -> Int {
        var ended: [ObjectIdentifier: WatchStream] = [:]
        for key in watchers.keys.sorted() where watchers[key]!.stream.requiresLeader {
            let stream = watchers[key]!.stream
            ended[ObjectIdentifier(stream)] = stream
            watchers.removeValue(forKey: key)
        }
        for stream in ended.values {
            stream.watcherKeys.removeAll()
            stream.end(with: APIError.noLeader.streamBody)
        }
        return ended.count
    }

    /// Called on the loop with one revision's events.
    func publish(_ events: [Event], member: EtcdMember) {
        guard !watchers.isEmpty, let revision = events.last?.kv.modRevision else { return }
        for key in watchers.keys.sorted() {
            let watcher = watchers[key]!
            let selected = watcher.select(events)
            guard !selected.isEmpty else { continue }
            var message = EtcdAPI.WatchMessage(header: member.header(revision: revision))
            message.watchID = watcher.watchID
            message.events = selected
            watcher.stream.push(EtcdAPI.encode(message))
        }
    }
}

extension EtcdMember {
    /// A watch stream: every message of the request body in order — create (an automatic or a
    /// chosen watch id), cancel, progress — then events until the client leaves. As etcd's
    /// gateway does: a first message that does not decode fails the call (code Unknown, HTTP
    /// 500); a later one ends the reading of requests; an empty request is skipped.
    func serveWatch(_ request: HTTPRequest, _ responder: HTTPResponder) {
        var requests: [EtcdAPI.WatchRequest] = []
        for (index, message) in EtcdAPI.streamMessages(request.body).enumerated() {
            do {
                if let decoded = try EtcdAPI.decodeWatch(message) { requests.append(decoded) }
            } catch {
                if index == 0 {
                    reply(responder, error: APIError(code: .unknown, message: error.message))
                    return
                }
                break
            }
        }
        let requiresLeader = request.header("grpc-metadata-hasleader") == "true"
        // As etcd's interceptor does: a stream that needs a leader is refused while there is none.
        if requiresLeader, onLoop({ [self] in replica.raft.leader == Raft.none }) ?? true {
            // etcd's gateway answers with a chunked 503 whose one message is the error.
            if responder.startStream(status: APIError.noLeader.httpStatus) {
                _ = responder.write(APIError.noLeader.streamBody)
                responder.finish()
            }
            return
        }
        let stream = WatchStream(requiresLeader: requiresLeader)
        let accepted = loop.execute { [self, requests] in
            // As with etcd, every request's answer (created, canceled, progress) comes before
            // any replayed history: etcd replays from a separate loop.
            var replays: [Watcher] = []
            for request in requests {
                if let watcher = handleWatchRequest(request, stream) { replays.append(watcher) }
            }
            for watcher in replays where stream.watcherKeys[watcher.watchID] != nil { replayHistory(watcher) }
            metrics.update { $0.watchers = watches.count }
        }
        guard accepted else {
            reply(responder, error: .tooManyRequests)
            return
        }
        defer {
            loop.execute { [self] in
                for key in stream.watcherKeys.values { watches.remove(key) }
                stream.watcherKeys.removeAll()
                metrics.update { $0.watchers = watches.count }
            }
        }
        guard responder.startStream() else { return }
        while let batch = stream.take(timeout: 0.25) {
            for message in batch where !responder.write(message + [10]) { return }
            if batch.isEmpty && responder.clientGone { return }
        }
        if stream.overflowed {
            metrics.update { $0.slowWatchersCancelled += 1 }
            let ids = onLoop { stream.watcherKeys.keys.sorted() } ?? []
            for id in ids {
                var canceled = EtcdAPI.WatchMessage(header: ResponseHeader(clusterID: clusterID, memberID: memberID, revision: 0, raftTerm: 0))
                canceled.watchID = id
                canceled.canceled = true
                canceled.cancelReason = "watcher fell too far behind; resume from its last revision"
                if !responder.write(EtcdAPI.encode(canceled) + [10]) { break }
            }
        }
        responder.finish()
    }

    /// On the loop: one request of a watch stream; a created watcher whose history is to be
    /// replayed.
    private func handleWatchRequest(_ request: EtcdAPI.WatchRequest, _ stream: WatchStream) -> Watcher? {
        switch request {
        case .create(let create):
            var watchID = create.watchID
            if watchID == 0 {
                while stream.watcherKeys[stream.nextWatchID] != nil { stream.nextWatchID += 1 }
                watchID = stream.nextWatchID
                stream.nextWatchID += 1
            } else if stream.watcherKeys[watchID] != nil {
                var refused = EtcdAPI.WatchMessage(header: header())
                refused.watchID = -1
                refused.created = true
                refused.canceled = true
                refused.cancelReason = "mvcc: duplicate watch ID provided on the WatchStream"
                stream.push(EtcdAPI.encode(refused))
                return nil
            }
            return createWatch(create, watchID: watchID, stream)
        case .cancel(let watchID):
            // etcd answers nothing for an id this stream does not have.
            guard let key = stream.watcherKeys.removeValue(forKey: watchID) else { return nil }
            watches.remove(key)
            var canceled = EtcdAPI.WatchMessage(header: header())
            canceled.watchID = watchID
            canceled.canceled = true
            stream.push(EtcdAPI.encode(canceled))
            return nil
        case .progress:
            // etcd 3.4 answers a progress request with watch id -1.
            var progress = EtcdAPI.WatchMessage(header: header())
            progress.watchID = -1
            stream.push(EtcdAPI.encode(progress))
        }
        return nil
    }

    /// On the loop: the created message (or the compaction error) and the registration; the
    /// caller replays history before live events arrive.
    private func createWatch(_ create: WatchCreateRequest, watchID: Int64, _ stream: WatchStream) -> Watcher? {
        let store = replica.stateMachine.store
        let watcher = Watcher(request: create, watchID: watchID, stream: stream)
        var created = EtcdAPI.WatchMessage(header: header())
        created.watchID = watchID
        created.created = true
        stream.push(EtcdAPI.encode(created))
        if create.startRevision > 0 && create.startRevision < store.compactedRevision {
            var canceled = EtcdAPI.WatchMessage(header: ResponseHeader(clusterID: clusterID, memberID: memberID, revision: 0, raftTerm: replica.raft.term))
            canceled.watchID = watchID
            canceled.canceled = true
            canceled.compactRevision = store.compactedRevision
            stream.push(EtcdAPI.encode(canceled))
            return nil
        }
        stream.watcherKeys[watchID] = watches.add(watcher)
        return watcher
    }

    /// On the loop, before any later write is published: the events from the start revision.
    private func replayHistory(_ watcher: Watcher) {
        let store = replica.stateMachine.store
        let create = watcher.request
        guard create.startRevision > 0 && create.startRevision <= store.currentRevision,
            let history = try? store.events(key: create.key, rangeEnd: create.rangeEnd, from: create.startRevision)
        else { return }
        let selected = watcher.select(history)
        guard !selected.isEmpty else { return }
        var replay = EtcdAPI.WatchMessage(header: header())
        replay.watchID = watcher.watchID
        replay.events = selected
        watcher.stream.push(EtcdAPI.encode(replay))
    }
}
