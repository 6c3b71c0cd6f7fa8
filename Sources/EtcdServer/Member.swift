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
    let log: @Sendable (String) -> Void
    /// Called (on the loop) once this member's removal from the cluster is applied; the
    /// command exits, as etcd does. Tests stop the member instead.
    public var onRemoved: (@Sendable () -> Void)?

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
    /// Other members' names and client URLs, as they last announced them.
    var peerAttributes: [UInt64: (name: String, clientURLs: [String])] = [:]
    /// When each peer was last heard from (etcd counts a member "active" within 5 s).
    var lastHeard: [UInt64: Nanoseconds] = [:]
    var removedFromCluster = false
    /// Removed peers stay reachable this long, so answers to requests they forwarded (their own
    /// removal, typically) still reach them.
    static let departureGrace: Nanoseconds = 3 * Time.second
    var departing: [UInt64: (endpoint: Endpoint, until: Nanoseconds)] = [:]
    var nextProgressNotify: Nanoseconds = 0
    /// Since when this member has known no leader (nil while it knows one).
    var leaderlessSince: Nanoseconds?
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
        // Until the log (or a snapshot) says who the members are, talk to the ones the flags
        // name (a joining member: the ones the running cluster named).
        var peers: [UInt64: Endpoint] = [:]
        let ownURLs = Set(configuration.initialAdvertisePeerURLs)
        for member in configuration.members where Set(member.peerURLs) != ownURLs {
            peers[member.id] = Endpoint(host: member.peerURLs[0].host, port: member.peerURLs[0].port)
        }
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
        } else if configuration.initialClusterState == "existing" {
            let joined = try Self.join(configuration, log: log)
            memberID = joined.memberID
            clusterID = joined.answer.clusterID
            peers = Self.peerEndpoints(joined.answer.registry, excluding: memberID)
            let metadata = MemberMetadata(clusterID: clusterID, memberID: memberID, name: configuration.name,
                clusterToken: configuration.initialClusterToken)
            // An empty log: the leader sends the whole history (or a snapshot), membership included.
            let empty = Raft.HardState(term: 0, vote: Raft.none, commit: 0)
            storage = try MemberStorage.create(dataDirectory: configuration.dataDirectory, metadata: metadata,
                hardState: empty, entries: [])
            recovered = RecoveredState(hardState: empty, snapshot: Raft.emptySnapshot, entries: [])
            log("joined cluster \(String(clusterID, radix: 16)) as member \(String(memberID, radix: 16)); catching up from the leader")
        } else {
            memberID = configuration.memberID
            clusterID = configuration.clusterID
            var contexts: [UInt64: [UInt8]] = [:]
            for member in configuration.members {
                contexts[member.id] = MemberRecord(id: member.id, name: member.name,
                    peerURLs: member.peerURLs.map(\.description), isLearner: false).context()
            }
            let bootstrap = Raft.bootstrap(voters: configuration.members.map(\.id), contexts: contexts)
            let metadata = MemberMetadata(clusterID: clusterID, memberID: memberID, name: configuration.name,
                clusterToken: configuration.initialClusterToken)
            storage = try MemberStorage.create(dataDirectory: configuration.dataDirectory, metadata: metadata,
                hardState: bootstrap.hardState, entries: bootstrap.entries)
            recovered = RecoveredState(hardState: bootstrap.hardState, snapshot: Raft.emptySnapshot, entries: bootstrap.entries)
            log("started new member \(String(memberID, radix: 16)) of cluster \(String(clusterID, radix: 16)) with \(configuration.members.count) members")
        }
        var seed = memberID
        seed ^= UInt64(bitPattern: EventLoop.now())
        let config = configuration.raftConfig(id: memberID, seed: seed)
        replica = Replica(config: config, recovered: recovered, snapshotCount: configuration.snapshotCount,
            maxPendingRequests: 10_000, environment: self)
        replica.onApply = { [unowned self] entry, result in applied(entry, result) }
        replica.onConfChange = { [unowned self] change in membershipChanged(change) }
        let listen = configuration.listenPeerURLs[0]
        transport = PeerTransport(localID: memberID, clusterToken: configuration.initialClusterToken,
            listen: Endpoint(host: listen.host, port: listen.port), peers: peers, log: log) { [unowned self] from, payload in
            received(from: from, payload)
        }
        transport.answerQuery = { [unowned self] in
            onLoop { () -> [UInt8]? in
                let registry = self.replica.stateMachine.registry
                return registry.members.isEmpty ? nil : MembershipAnswer(clusterID: self.clusterID, registry: registry).encoded()
            } ?? nil
        }
    }

    /// Asks the running members named in `--initial-cluster` for the membership, and finds this
    /// member in it by its peer URLs (it must have been added with `member add` first).
    static func join(_ configuration: Configuration, log: @Sendable (String) -> Void) throws -> (memberID: UInt64, answer: MembershipAnswer) {
        let ownURLs = Set(configuration.initialAdvertisePeerURLs.map(\.description))
        var failures: [String] = []
        for member in configuration.members where Set(member.peerURLs.map(\.description)) != ownURLs {
            for url in member.peerURLs {
                let endpoint = Endpoint(host: url.host, port: url.port)
                let answer: MembershipAnswer
                do {
                    guard let decoded = MembershipAnswer(decoding: try PeerTransport.query(endpoint,
                        clusterToken: configuration.initialClusterToken))
                    else {
                        failures.append("\(url): an undecodable answer")
                        continue
                    }
                    answer = decoded
                } catch {
                    failures.append("\(url): \(error)")
                    continue
                }
                guard let record = answer.registry.sorted.first(where: { Set($0.peerURLs) == ownURLs }) else {
                    let known = answer.registry.sorted.map { "\($0.name.isEmpty ? "(unstarted)" : $0.name)=\($0.peerURLs.joined(separator: ","))" }
                    throw ConfigurationError("--initial-cluster-state", "this member's peer URLs \(ownURLs.sorted().joined(separator: ",")) are not in the running cluster's membership (\(known.joined(separator: "; "))); add it first: faultline etcdctl member add \(configuration.name) --peer-urls=\(ownURLs.sorted().joined(separator: ","))")
                }
                log("membership from \(url): \(answer.registry.members.count) members; this member is \(String(record.id, radix: 16))")
                return (record.id, answer)
            }
        }
        throw ConfigurationError("--initial-cluster-state", "'existing' joins a running cluster, but no member named in --initial-cluster answered (\(failures.joined(separator: "; "))); start the cluster first, or use 'new' to found one")
    }

    public func start() throws {
        loop.onTick = { [unowned self] in tick() }
        loop.start()
        // Replays committed entries into the store before anything else happens, then talks to
        // the members the log names.
        loop.execute { [self] in
            replica.tick()
            syncPeers()
            replica.raft.advanceElectionTicks()
        }
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

    /// Watch streams that need a leader end once this member has had none for
    /// `leaderlessWatchCancel`; their clients watch again elsewhere.
    private func endLeaderlessWatches(now: Nanoseconds) {
        guard replica.raft.leader == Raft.none else {
            leaderlessSince = nil
            return
        }
        let since = leaderlessSince ?? now
        leaderlessSince = since
        guard now - since >= configuration.leaderlessWatchCancel else { return }
        let ended = watches.endStreamsRequiringLeader()
        if ended > 0 {
            log("no leader for \((now - since) / Time.millisecond) ms: ended \(ended) watch stream(s) that require one")
            metrics.update { $0.watchers = watches.count }
        }
    }

    private func tick() {
        replica.tick()
        expireLeases()
        serveWaitingForLeader()
        if !departing.isEmpty, departing.values.contains(where: { EventLoop.now() >= $0.until }) { syncPeers() }
        let now = EventLoop.now()
        if now >= nextProgressNotify {
            if nextProgressNotify != 0 { watches.notifyProgress(member: self) }
            nextProgressNotify = now + configuration.watchProgressNotifyInterval
        }
        endLeaderlessWatches(now: now)
        if loop.ticks % announceEveryTicks == 1 {
            let announcement = PeerFrame.attributes(name: configuration.name,
                clientURLs: configuration.advertiseClientURLs.map(\.description)).encoded()
            for peer in transport.peers.keys.sorted() { transport.send(to: peer, announcement) }
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
            loop.execute { [self] in
                lastHeard[from] = EventLoop.now()
                replica.receive(message)
            }
        case .forwardRequest(let id, let path, let body):
            // Run like a client request, off the transport's thread (it may wait for a commit).
            DispatchQueue.global().async { [self] in
                let (status, answer) = executeForwarded(path: path, body: body)
                transport.send(to: from, PeerFrame.forwardResponse(id: id, status: status, body: answer).encoded())
            }
        case .forwardResponse(let id, let status, let body):
            loop.execute { [self] in forwards.removeValue(forKey: id)?(status, body) }
        case .attributes(let name, let urls):
            loop.execute { [self] in peerAttributes[from] = (name, urls) }
        }
    }

    /// A committed membership change: dial the new set of peers; stop if this member left.
    private func membershipChanged(_ change: Raft.ConfChange) {
        log("membership: \(change.kind) \(String(change.node, radix: 16)) applied")
        syncPeers()
        if change.kind == .removeNode && change.node == memberID && !removedFromCluster {
            removedFromCluster = true
            log("this member has been removed from the cluster; stopping (its data directory must not be reused)")
            onRemoved?()
        }
    }

    /// Where to dial each member of `registry` but `excluding`: its first peer URL.
    static func peerEndpoints(_ registry: MemberRegistry, excluding: UInt64) -> [UInt64: Endpoint] {
        var peers: [UInt64: Endpoint] = [:]
        for record in registry.sorted where record.id != excluding {
            if let url = record.peerURLs.first, let endpoint = try? Endpoint(parsing: url) { peers[record.id] = endpoint }
        }
        return peers
    }

    /// Makes the transport's peers the registry's members (once the registry knows any), plus
    /// the ones that left within the departure grace.
    func syncPeers() {
        let registry = replica.stateMachine.registry
        guard !registry.members.isEmpty else { return }
        var peers = Self.peerEndpoints(registry, excluding: memberID)
        let now = EventLoop.now()
        let current = transport.peers
        for (id, endpoint) in current where peers[id] == nil && departing[id] == nil && registry.removed.contains(id) {
            departing[id] = (endpoint, now + Self.departureGrace)
        }
        for (id, departure) in departing {
            if now >= departure.until || peers[id] != nil { departing[id] = nil } else { peers[id] = departure.endpoint }
        }
        if peers != current { transport.setPeers(peers) }
        for id in peerAttributes.keys where peers[id] == nil { peerAttributes[id] = nil }
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
            syncPeers()
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
