//! Client requests: decode (EtcdAPI), run on the loop — a proposal for writes, ReadIndex for
//! linearizable reads, the local store for serializable ones — wait, encode. A follower forwards
//! writes and leader-only lease calls to the leader over the peer transport and relays its answer.

import Base
import Dispatch
import EtcdAPI
import Foundation
import MVCC
import Net
import Raft
import Services

/// A one-shot answer handed from the loop to a waiting thread.
final class Waiter<T>: @unchecked Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var value: T?

    func fulfil(_ result: T) {
        lock.lock()
        let first = value == nil
        if first { value = result }
        lock.unlock()
        if first { semaphore.signal() }
    }

    func wait(timeout: Nanoseconds) -> T? {
        guard semaphore.wait(timeout: .now() + .nanoseconds(Int(timeout))) == .success else { return nil }
        lock.lock()
        defer { lock.unlock() }
        return value
    }
}

typealias Answer = (status: Int, body: [UInt8])

extension EtcdMember {
    func handle(_ request: HTTPRequest, _ responder: HTTPResponder) {
        switch EtcdAPI.route(method: request.method, path: request.path) {
        case .notFound: reply(responder, error: .notFound)
        case .pageNotFound: reply(responder, error: .pageNotFound)
        case .methodNotAllowed: reply(responder, error: .methodNotAllowed)
        case .route(.metrics):
            responder.respond(status: 200, body: Array(metrics.render().utf8), contentType: "text/plain; version=0.0.4")
        case .route(.watch):
            serveWatch(request, responder)
        case .route(.leaseKeepAlive):
            serveKeepAlive(request, responder)
        case .route(let route):
            let answer = execute(route, path: request.path, body: request.body, forwarded: false)
            responder.respond(status: answer.status, body: answer.body, contentType: contentType(answer))
        }
    }

    /// A keepalive stream: one answer per message of the request body, as etcd's gateway gives
    /// them. A first message that fails (undecodable, or no leader) fails the call; a later one
    /// ends the stream.
    private func serveKeepAlive(_ request: HTTPRequest, _ responder: HTTPResponder) {
        var started = false
        for (index, message) in EtcdAPI.streamMessages(request.body).enumerated() {
            do {
                _ = try EtcdAPI.decodeLeaseID(message)
            } catch {
                guard index == 0 else { break }
                // The gateway reports a stream's decoding errors with code Unknown (HTTP 500).
                reply(responder, error: APIError(code: .unknown, message: error.message))
                return
            }
            let answer = execute(.leaseKeepAlive, path: request.path, body: message, forwarded: false)
            if answer.status != 200 {
                guard index == 0 else { break }
                responder.respond(status: answer.status, body: answer.body, contentType: contentType(answer))
                return
            }
            if !started {
                guard responder.startStream() else { return }
                started = true
            }
            guard responder.write(answer.body + [10]) else { return }
        }
        if !started {
            guard responder.startStream() else { return }
        }
        responder.finish()
    }

    private func contentType(_ answer: Answer) -> String {
        answer.body.first == UInt8(ascii: "{") ? "application/json" : "text/plain; charset=utf-8"
    }

    func reply(_ responder: HTTPResponder, error: APIError) {
        responder.respond(status: error.httpStatus, body: error.body, contentType: error.contentType)
    }

    static func failure(_ error: APIError) -> Answer { (error.httpStatus, error.body) }

    /// Runs one forwarded call (always a POST to a v3 RPC).
    func executeForwarded(path: String, body: [UInt8]) -> Answer {
        switch EtcdAPI.route(method: "POST", path: path) {
        case .route(let route): return execute(route, path: path, body: body, forwarded: true)
        case .notFound: return Self.failure(.notFound)
        case .pageNotFound: return Self.failure(.pageNotFound)
        case .methodNotAllowed: return Self.failure(.methodNotAllowed)
        }
    }

    /// Runs one non-streaming API call to completion.
    func execute(_ route: Route, path: String, body: [UInt8], forwarded: Bool) -> Answer {
        do throws(APIError) {
            switch route {
            case .version: return (200, EtcdAPI.version)
            case .health: return health()
            case .range:
                let request = try EtcdAPI.decodeRange(body)
                return try read(serializable: request.serializable) { store, header in
                    do throws(StoreError) {
                        return (200, EtcdAPI.encode(try store.range(request), header: header))
                    } catch {
                        return Self.failure(APIError(error))
                    }
                }
            case .put:
                let request = try EtcdAPI.decodePut(body)
                guard !request.key.isEmpty else { throw APIError(StoreError.emptyKey) }
                return try write(.put(request), path: path, body: body, forwarded: forwarded)
            case .deleteRange:
                let request = try EtcdAPI.decodeDeleteRange(body)
                guard !request.key.isEmpty else { throw APIError(StoreError.emptyKey) }
                return try write(.deleteRange(request), path: path, body: body, forwarded: forwarded)
            case .txn:
                let request = try EtcdAPI.decodeTxn(body)
                do throws(StoreError) { try MVCCStore.checkTxn(request) } catch { throw APIError(error) }
                return try write(.txn(request), path: path, body: body, forwarded: forwarded)
            case .compaction:
                return try write(.compaction(try EtcdAPI.decodeCompaction(body)), path: path, body: body, forwarded: forwarded)
            case .leaseGrant:
                let request = try EtcdAPI.decodeLeaseGrant(body)
                guard request.ttl <= MVCCStore.leaseTTLMax else { throw APIError(StoreError.leaseTTLTooLarge) }
                return try leaderOnly(path: path, body: body, forwarded: forwarded) {
                    let id = request.id != 0 ? request.id : self.newLeaseID()
                    return .leaseGrant(id: id, ttl: self.lessor.effectiveTTL(request.ttl))
                }
            case .leaseRevoke:
                let id = try EtcdAPI.decodeLeaseID(body).id
                return try write(.leaseRevoke(id: id), path: path, body: body, forwarded: forwarded)
            case .leaseKeepAlive:
                let id = try EtcdAPI.decodeLeaseID(body).id
                return try leaderQuery(path: path, body: body, forwarded: forwarded) { header in
                    let ttl = self.lessor.keepAlive(id, now: EventLoop.now()) ?? 0
                    return (200, EtcdAPI.encodeKeepAlive(id: id, ttl: ttl, header: header))
                }
            case .leaseTimeToLive:
                let (id, wantKeys) = try EtcdAPI.decodeLeaseID(body)
                return try leaderQuery(path: path, body: body, forwarded: forwarded) { header in
                    let store = self.replica.stateMachine.store
                    guard let granted = store.leaseTTL(id) else {
                        return (200, EtcdAPI.encode(LeaseTimeToLiveResponse(revision: 0, id: id, ttl: -1), header: header))
                    }
                    let remaining = self.lessor.remaining(id, now: EventLoop.now()) ?? granted
                    return (200, EtcdAPI.encode(LeaseTimeToLiveResponse(revision: 0, id: id, ttl: remaining, grantedTTL: granted,
                        keys: wantKeys ? store.leaseKeys(id) : []), header: header))
                }
            case .leaseLeases:
                return try read(serializable: false) { store, header in
                    (200, EtcdAPI.encodeLeases(store.leaseList().map(\.id), header: header))
                }
            case .memberList:
                return try memberList()
            case .memberAdd, .memberRemove, .memberUpdate, .memberPromote:
                return try changeMembership(route, path: path, body: body, forwarded: forwarded)
            case .status:
                guard let answer = onLoop({ () -> Answer in
                    let raft = self.replica.raft
                    var status = StatusResponse()
                    status.leader = raft.leader
                    status.raftIndex = raft.log.lastIndex
                    status.raftTerm = raft.term
                    status.raftAppliedIndex = raft.log.applied
                    status.dbSize = Int64(self.replica.stateMachine.store.approximateBytes)
                    status.dbSizeInUse = status.dbSize
                    return (200, EtcdAPI.encode(status, header: self.header()))
                }) else { throw APIError.stopped }
                return answer
            case .moveLeader:
                return try moveLeader(to: try EtcdAPI.decodeMoveLeader(body))
            case .alarm:
                return (200, EtcdAPI.noAlarms)
            case .hash:
                return try read(serializable: true) { store, header in (200, EtcdAPI.encodeHash(store.hash(), header: header)) }
            case .watch, .metrics:
                return Self.failure(.notFound)
            }
        } catch {
            return Self.failure(error)
        }
    }

    /// The response header as this member sees it now (call on the loop).
    func header(revision: Int64? = nil) -> ResponseHeader {
        ResponseHeader(clusterID: clusterID, memberID: memberID,
            revision: revision ?? replica.stateMachine.store.currentRevision, raftTerm: replica.raft.term)
    }

    func header(revision: Int64, term: UInt64) -> ResponseHeader {
        ResponseHeader(clusterID: clusterID, memberID: memberID, revision: revision, raftTerm: term)
    }

    /// Runs `job` on the loop and waits for it.
    func onLoop<T>(_ job: @escaping () -> T) -> T? {
        let box = UncheckedBox(job)
        return loop.sync { box.value() }
    }

    private var requestTimeout: Nanoseconds { configuration.requestTimeout }

    /// A read: linearizable through ReadIndex (served once the store has applied that far), or
    /// serializable from the local store as it is.
    func read(serializable: Bool, _ body: @escaping (MVCCStore, ResponseHeader) -> Answer) throws(APIError) -> Answer {
        let waiter = Waiter<Answer>()
        let job = UncheckedBox(body)
        let local = serializable || configuration.unsafeLocalReads
        let accepted = loop.execute { [self] in
            if local {
                waiter.fulfil(job.value(replica.stateMachine.store, header()))
                return
            }
            whenLeaderKnown(otherwise: { waiter.fulfil(Self.failure(.noLeader)) }) { [self] in
                replica.read { [self] outcome in
                    switch outcome {
                    case .ready: waiter.fulfil(job.value(replica.stateMachine.store, header()))
                    case .notLeader: waiter.fulfil(Self.failure(.noLeader))
                    }
                }
            }
        }
        guard accepted else { throw .tooManyRequests }
        guard let answer = waiter.wait(timeout: requestTimeout) else { throw .timeout }
        return answer
    }

    /// A write: proposed here when this member leads, forwarded to the leader otherwise.
    func write(_ command: StoreCommand, path: String, body: [UInt8], forwarded: Bool) throws(APIError) -> Answer {
        // etcd limits the request as it would enter the log (--max-request-bytes), not the JSON.
        guard command.encoded().count <= configuration.maxRequestBytes else { throw .requestTooLarge }
        return try leaderOnly(path: path, body: body, forwarded: forwarded) { command }
    }

    /// Proposes the command `make` builds on the loop (so it may use leader-local state), or
    /// forwards the original request to the leader.
    func leaderOnly(path: String, body: [UInt8], forwarded: Bool, _ make: @escaping () -> StoreCommand) throws(APIError) -> Answer {
        let waiter = Waiter<Answer>()
        let maker = UncheckedBox(make)
        let accepted = loop.execute { [self] in
            whenLeaderKnown(otherwise: { waiter.fulfil(Self.failure(.noLeader)) }) { [self] in
            guard replica.raft.role == .leader else {
                forward(path: path, body: body, forwarded: forwarded, to: waiter)
                return
            }
            let command = maker.value()
            replica.propose(command.encoded()) { [self] outcome in
                switch outcome {
                case .applied(let applied):
                    waiter.fulfil(encode(applied.result, header: header()))
                case .notLeader:
                    metrics.update { $0.proposalsFailed += 1 }
                    waiter.fulfil(Self.failure(.noLeader))
                case .dropped:
                    metrics.update { $0.proposalsFailed += 1 }
                    waiter.fulfil(Self.failure(.leaderChanged))
                }
            }
            }
        }
        guard accepted else { throw .tooManyRequests }
        guard let answer = waiter.wait(timeout: requestTimeout) else { throw .timeout }
        return answer
    }

    /// A question only the leader can answer (lease TTLs live there).
    func leaderQuery(path: String, body: [UInt8], forwarded: Bool, _ answer: @escaping (ResponseHeader) -> Answer) throws(APIError) -> Answer {
        let waiter = Waiter<Answer>()
        let job = UncheckedBox(answer)
        let accepted = loop.execute { [self] in
            whenLeaderKnown(otherwise: { waiter.fulfil(Self.failure(.noLeader)) }) { [self] in
                guard replica.raft.role == .leader else {
                    forward(path: path, body: body, forwarded: forwarded, to: waiter)
                    return
                }
                waiter.fulfil(job.value(header()))
            }
        }
        guard accepted else { throw .tooManyRequests }
        guard let answer = waiter.wait(timeout: requestTimeout) else { throw .timeout }
        return answer
    }

    /// On the loop: sends the request to the leader, or fails when there is none (or when this
    /// request was itself forwarded: no second hop, leadership just moved).
    func forward(path: String, body: [UInt8], forwarded: Bool, to waiter: Waiter<Answer>) {
        let leader = replica.raft.leader
        guard !forwarded else {
            waiter.fulfil(Self.failure(.leaderChanged))
            return
        }
        guard leader != Raft.none, leader != memberID else {
            waiter.fulfil(Self.failure(.noLeader))
            return
        }
        let id = nextForwardID
        nextForwardID += 1
        forwards[id] = { status, answer in waiter.fulfil((status, answer)) }
        if forwards.count > 10_000, let oldest = forwards.keys.min() {
            forwards.removeValue(forKey: oldest)?(Self.failure(.timeout).status, Self.failure(.timeout).body)
        }
        if !transport.send(to: leader, PeerFrame.forwardRequest(id: id, path: path, body: body).encoded()) {
            forwards.removeValue(forKey: id)
            waiter.fulfil(Self.failure(.noLeader))
        }
    }

    private func encode(_ result: StoreApplyResult, header: ResponseHeader) -> Answer {
        switch result.response {
        case .failure(let error): return Self.failure(APIError(error))
        case .success(let response):
            var header = header
            switch response {
            case .put(let put):
                header.revision = put.revision
                return (200, EtcdAPI.encode(put, header: header))
            case .deleteRange(let delete):
                header.revision = delete.revision
                return (200, EtcdAPI.encode(delete, header: header))
            case .txn(let txn):
                header.revision = txn.revision
                return (200, EtcdAPI.encode(txn, header: header))
            case .compaction(let revision):
                header.revision = revision
                return (200, EtcdAPI.encodeHeaderOnly(header))
            case .leaseGrant(let grant):
                header.revision = grant.revision
                return (200, EtcdAPI.encode(grant, header: header))
            case .leaseRevoke(let revision):
                header.revision = revision
                return (200, EtcdAPI.encodeHeaderOnly(header))
            }
        }
    }

    /// etcd's /health: healthy when there is a leader and a linearizable read goes through.
    private func health() -> Answer {
        let hasLeader = onLoop { self.replica.raft.leader != Raft.none } ?? false
        guard hasLeader else { return (503, EtcdAPI.health(false, reason: "NO_LEADER")) }
        do {
            _ = try read(serializable: false) { _, _ in (200, []) }
            return (200, EtcdAPI.health(true))
        } catch {
            return (503, EtcdAPI.health(false, reason: "QGET_FAILED"))
        }
    }
}
