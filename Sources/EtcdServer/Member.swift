//! One `faultline etcd` member: recovers its storage, runs Raft and the store on the event loop,
//! talks to peers over the peer transport and to clients over HTTP.
//!
//! Threads: the event loop owns `replica`, `lessor`, `watches` and the forwarding table (every
//! access is a job on the loop); one storage queue does WAL and snapshot writes in order; HTTP
//! connection threads decode requests, hand work to the loop and wait for the answer; the peer
//! transport's threads deliver frames by queueing jobs on the loop.

import Base
import Dispatch
import Foundation
import MVCC
import Net
import Raft
import Services
import Storage

public final class EtcdMember: @unchecked Sendable {
    public let configuration: Configuration
    public let metrics = Metrics()
    let loop: EventLoop
    let storage: MemberStorage
    let storageQueue = DispatchQueue(label: "faultline.storage")
    var replica: Replica<StoreMachine, EtcdMember>!
    var transport: PeerTransport!
    var clientServers: [HTTPServer] = []
    public let memberID: UInt64
    public let clusterID: UInt64
    let members: [ClusterMember]
    let log: @Sendable (String) -> Void

    // Loop-owned state.
    var lessor: Lessor
    var revoking: Set<LeaseID> = []
    var watches = WatchHub()
    var forwards: [UInt64: (Int, [UInt8]) -> Void] = [:]
    var nextForwardID: UInt64 = 1
    var leaseIDCounter: UInt64 = 0
    var knownLeader: Raft.NodeID = Raft.none
    /// Requests waiting for an election to end: run once a leader is known, failed at the deadline.
    var waitingForLeader: [(deadline: Nanoseconds, run: () -> Void, fail: () -> Void)] = []
    static let waitingForLeaderMax = 10_000
    /// Other members' client URLs, as they last announced them.
    var peerClientURLs: [UInt64: [String]] = [:]
    /// Announce this member's client URLs every this many ticks (5 s at the default heartbeat).
    let announceEveryTicks: UInt64 = 50
    var currentTerm: Raft.Term = 0

    public init(configuration: Configuration, log: @escaping @Sendable (String) -> Void) throws {
        self.configuration = configuration
        self.log = log
        loop = EventLoop(tickInterval: configuration.heartbeatInterval)
        // etcd's minimum lease TTL: 1.5 election timeouts, rounded up to whole seconds.
        let minimumTTL = (3 * configuration.electionTimeout / 2 + Time.second - 1) / Time.second
        lessor = Lessor(minimumTTL: max(1, minimumTTL))
        let recovered: RecoveredState
        if MemberStorage.exists(configuration.dataDirectory) {
            let (opened, found) = try MemberStorage.open(dataDirectory: configuration.dataDirectory)
            storage = opened
            if found.truncatedTailBytes > 0 {
                log("recovered: truncated a torn WAL tail of \(found.truncatedTailBytes) bytes")
            }
            for skipped in found.skippedSnapshots { log("skipped snapshot: \(skipped)") }
            memberID = found.metadata.memberID
            clusterID = found.metadata.clusterID
            recovered = RecoveredState(hardState: found.hardState, snapshot: found.snapshot, entries: found.entries)
            log("restarted member \(String(memberID, radix: 16)) from \(configuration.dataDirectory): term \(found.hardState.term), commit \(found.hardState.commit), snapshot at \(found.snapshot.index), \(found.entries.count) log entries")
        } else {
            memberID = configuration.memberID
            clusterID = configuration.clusterID
            let bootstrap = Raft.bootstrap(voters: configuration.members.map(\.id))
            let metadata = MemberMetadata(clusterID: clusterID, memberID: memberID, name: configuration.name,
                clusterToken: configuration.initialClusterToken)
            storage = try MemberStorage.create(dataDirectory: configuration.dataDirectory, metadata: metadata,
                hardState: bootstrap.hardState, entries: bootstrap.entries)
            recovered = RecoveredState(hardState: bootstrap.hardState, snapshot: Raft.emptySnapshot, entries: bootstrap.entries)
            log("started new member \(String(memberID, radix: 16)) of cluster \(String(clusterID, radix: 16)) with \(configuration.members.count) members")
        }
        members = configuration.members
        var seed = memberID
        seed ^= UInt64(bitPattern: EventLoop.now())
        let config = configuration.raftConfig(seed: seed)
        replica = Replica(config: config, recovered: recovered, snapshotCount: configuration.snapshotCount,
            maxPendingRequests: 10_000, environment: self)
        replica.onApply = { [unowned self] entry, result in applied(entry, result) }
        var peers: [UInt64: Endpoint] = [:]
        for member in members where member.id != memberID {
            peers[member.id] = Endpoint(host: member.peerURLs[0].host, port: member.peerURLs[0].port)
        }
        let listen = configuration.listenPeerURLs[0]
        transport = PeerTransport(localID: memberID, clusterToken: configuration.initialClusterToken,
            listen: Endpoint(host: listen.host, port: listen.port), peers: peers, log: log) { [unowned self] from, payload in
            received(from: from, payload)
        }
    }

    public func start() throws {
        loop.onTick = { [unowned self] in tick() }
        loop.start()
        // Replays committed entries into the store before anything else happens.
        loop.execute { [self] in replica.tick() }
        try transport.start()
        for url in configuration.listenClientURLs {
            var limits = HTTPServer.Limits()
            // Room for the gateway's JSON overhead around a maximal request, as etcd allows.
            limits.bodyBytesMax = configuration.maxRequestBytes * 2 + 64 << 10
            let server = HTTPServer(endpoint: Endpoint(host: url.host, port: url.port), limits: limits) { [unowned self] request, responder in
                handle(request, responder)
            }
            try server.start()
            clientServers.append(server)
        }
        log("serving clients on \(configuration.listenClientURLs.map(\.description).joined(separator: ", ")), peers on \(configuration.listenPeerURLs.map(\.description).joined(separator: ", "))")
    }

    public func stop() {
        for server in clientServers { server.stop() }
        transport.stop()
        loop.stop()
        storageQueue.sync {}
    }

    // MARK: - Loop events

    private func tick() {
        replica.tick()
        expireLeases()
        serveWaitingForLeader()
        if loop.ticks % announceEveryTicks == 1 {
            let announcement = PeerFrame.clientURLs(configuration.advertiseClientURLs.map(\.description)).encoded()
            for member in members where member.id != memberID { transport.send(to: member.id, announcement) }
        }
    }

    private func received(from: UInt64, _ payload: [UInt8]) {
        guard let frame = PeerFrame(decoding: payload) else {
            log("peer \(String(from, radix: 16)): undecodable frame of \(payload.count) bytes dropped")
            return
        }
        switch frame {
        case .raft(let message):
            guard message.from == from, message.to == memberID else { return }
            loop.execute { [self] in replica.receive(message) }
        case .forwardRequest(let id, let path, let body):
            // Run like a client request, off the transport's thread (it may wait for a commit).
            DispatchQueue.global().async { [self] in
                let (status, answer) = executeForwarded(path: path, body: body)
                transport.send(to: from, PeerFrame.forwardResponse(id: id, status: status, body: answer).encoded())
            }
        case .forwardResponse(let id, let status, let body):
            loop.execute { [self] in forwards.removeValue(forKey: id)?(status, body) }
        case .clientURLs(let urls):
            loop.execute { [self] in peerClientURLs[from] = urls }
        }
    }

    private func applied(_ entry: Raft.Entry, _ applied: AppliedCommand) {
        metrics.update { $0.proposalsApplied += 1 }
        metrics.observeApply(replica.stateMachine.lastApplyDuration)
        switch (applied.command, applied.result.response) {
        case (.leaseGrant, .success(.leaseGrant(let grant))):
            lessor.granted(grant.id, ttl: grant.ttl, now: EventLoop.now())
        case (.leaseRevoke(let id), _):
            // Revoked now, or already gone: either way the lessor stops tracking it.
            lessor.revoked(id)
            revoking.remove(id)
        default:
            break
        }
        if !applied.result.events.isEmpty { watches.publish(applied.result.events, member: self) }
    }

    /// The leader revokes leases whose TTL ran out (only the revoke is replicated).
    private func expireLeases() {
        guard lessor.isPrimary else { return }
        for id in lessor.expired(now: EventLoop.now()) where !revoking.contains(id) {
            revoking.insert(id)
            replica.propose(StoreCommand.leaseRevoke(id: id).encoded()) { [unowned self] outcome in
                if case .applied = outcome { return }
                revoking.remove(id)
            }
        }
    }

    /// Runs `body` now if a leader is known; otherwise once one is (an election in progress
    /// usually ends within an election timeout), or `otherwise` after two election timeouts.
    /// Clients see a short wait instead of a burst of "no leader" during every election.
    func whenLeaderKnown(otherwise: @escaping () -> Void, _ body: @escaping () -> Void) {
        if replica.raft.leader != Raft.none {
            body()
        } else if waitingForLeader.count >= Self.waitingForLeaderMax {
            otherwise()
        } else {
            waitingForLeader.append((EventLoop.now() + 2 * configuration.electionTimeout, body, otherwise))
        }
    }

    private func serveWaitingForLeader() {
        guard !waitingForLeader.isEmpty else { return }
        let now = EventLoop.now()
        let leaderKnown = replica.raft.leader != Raft.none
        let due = waitingForLeader
        waitingForLeader.removeAll()
        for waiting in due {
            if leaderKnown { waiting.run() } else if now >= waiting.deadline { waiting.fail() } else { waitingForLeader.append(waiting) }
        }
    }

    /// A fresh lease id: the member's id in the top bits, then time and a counter, as etcd's
    /// idutil does, so two leaders never pick the same one.
    func newLeaseID() -> LeaseID {
        leaseIDCounter += 1
        let milliseconds = UInt64(EventLoop.now() / Time.millisecond) & 0xff_ffff_ffff
        let raw = (memberID & 0x7fff) << 48 | (milliseconds << 8 & 0xffff_ffff_ff00) | (leaseIDCounter & 0xff)
        return LeaseID(bitPattern: raw == 0 ? 1 : raw)
    }
}

// MARK: - The replica's environment

extension EtcdMember: ReplicaEnvironment {
    public func send(_ message: Raft.Message) {
        if !transport.send(to: message.to, PeerFrame.raft(message).encoded()) {
            metrics.update { $0.peerFramesDropped += 1 }
        }
    }

    public func persist(_ batch: PersistBatch, completion: @escaping () -> Void) {
        let done = UncheckedBox(completion)
        storageQueue.async { [self] in
            let began = EventLoop.now()
            do {
                try storage.persist(hardState: batch.hardState, snapshot: batch.snapshot, entries: batch.entries)
            } catch {
                // etcd panics on a failed WAL write: continuing could acknowledge what is not durable.
                log("fatal: cannot write the WAL: \(error)")
                exit(1)
            }
            metrics.observeFsync(EventLoop.now() - began)
            loop.execute { done.value() }
        }
    }

    public func saveSnapshot(_ snapshot: Raft.Snapshot) {
        storageQueue.async { [self] in
            let began = EventLoop.now()
            do {
                try storage.saveSnapshot(snapshot)
            } catch {
                log("fatal: cannot save a snapshot: \(error)")
                exit(1)
            }
            metrics.observeSnapshotSave(EventLoop.now() - began)
        }
    }

    public func observe(_ observation: ReplicaObservation) {
        switch observation {
        case .applied:
            metrics.update { $0.proposalsCommitted += 1 }
        case .restoredSnapshot(let index, _):
            log("restored the store from a snapshot at index \(index)")
            if lessor.isPrimary { lessor.promote(leases: replica.stateMachine.store.leaseList(), now: EventLoop.now()) }
        case .role(let soft, let term):
            let leaderChanged = soft.leader != knownLeader
            knownLeader = soft.leader
            currentTerm = term
            if soft.role == .leader && !lessor.isPrimary {
                lessor.promote(leases: replica.stateMachine.store.leaseList(), now: EventLoop.now())
            } else if soft.role != .leader && lessor.isPrimary {
                lessor.demote()
                revoking.removeAll()
            }
            if leaderChanged {
                log("term \(term): leader is now \(soft.leader == Raft.none ? "unknown" : String(soft.leader, radix: 16)) (this member is \(soft.role))")
            }
            metrics.update { state in
                if leaderChanged && soft.leader != Raft.none { state.leaderChanges += 1 }
                state.hasLeader = soft.leader != Raft.none
                state.isLeader = soft.role == .leader
                state.term = term
            }
        }
    }
}

/// Carries a non-Sendable value across a thread hop whose ordering makes it safe (the value is
/// used only back on the loop that created it).
final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
