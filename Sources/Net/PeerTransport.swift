//! Framed messages between cluster members over TCP: the peer protocol.
//!
//! Each direction of each pair is its own connection, dialled by the sender. A connection opens
//! with a handshake — magic, protocol version, cluster token, sender id, receiver id — and the
//! receiver drops it unless all match, so members of another cluster (or a stale address reused
//! by someone else) are never heard. Then frames: payload length u32, CRC-32C u32, payload.
//!
//! A handshake addressed to member 0 is a membership query: the receiver answers with one frame
//! (what `answerQuery` returns) and closes — how a member joining a running cluster learns its id.
//!
//! The set of peers changes with the cluster's membership (`setPeers`); a removed peer's link
//! stops and its connections are no longer accepted.
//!
//! Sending never blocks the caller: frames go to a bounded per-peer queue (the newest frame is
//! dropped and counted when it is full — Raft recovers from loss), and a sender thread per peer
//! dials with exponential backoff, batches queued frames into one write, and redials on failure.

import Base
import Foundation
import Glibc
import Synchronization

public final class PeerTransport: @unchecked Sendable {
    public static let protocolVersion: UInt32 = 1
    static let magic: UInt32 = 0x5450_4C46  // "FLPT"

    public struct Options: Sendable {
        public var queueFramesMax = 4096
        public var frameBytesMax = 16 << 20
        public var backoffInitial: Nanoseconds = 100 * Time.millisecond
        public var backoffMax: Nanoseconds = 5 * Time.second
        public var dialTimeout: Nanoseconds = 1 * Time.second
        public init() {}
    }

    public struct Counters: Sendable {
        public var framesSent: UInt64 = 0
        public var framesReceived: UInt64 = 0
        public var framesDropped: UInt64 = 0
        public var connects: UInt64 = 0
        public var connectFailures: UInt64 = 0
        public var handshakesRejected: UInt64 = 0
    }

    public let localID: UInt64
    public let clusterToken: String
    public let listenEndpoint: Endpoint
    public let options: Options
    private let onFrame: @Sendable (UInt64, [UInt8]) -> Void
    let log: @Sendable (String) -> Void
    private let links = Mutex<[UInt64: PeerLink]>([:])
    private let started = Atomic<Bool>(false)
    /// Answers a membership query (a handshake addressed to member 0); nil refuses queries.
    public var answerQuery: (@Sendable () -> [UInt8]?)?
    private let counters = Mutex(Counters())
    private let inbound = Mutex(Set<Int32>())
    private let stopped = Atomic<Bool>(false)
    private var listener: Int32 = -1
    public private(set) var port: UInt16 = 0
    private let threadsDone = DispatchGroup()

    public init(localID: UInt64, clusterToken: String, listen: Endpoint, peers: [UInt64: Endpoint],
        options: Options = Options(), log: @escaping @Sendable (String) -> Void = { _ in },
        onFrame: @escaping @Sendable (UInt64, [UInt8]) -> Void)
    {
        precondition(!peers.keys.contains(localID), "peer list contains this member \(localID)")
        self.localID = localID
        self.clusterToken = clusterToken
        self.listenEndpoint = listen
        self.options = options
        self.onFrame = onFrame
        self.log = log
        links.withLock { links in
            for (id, endpoint) in peers { links[id] = PeerLink(peer: id, endpoint: endpoint, transport: self) }
        }
    }

    /// The current peers, by id.
    public var peers: [UInt64: Endpoint] { links.withLock { $0.mapValues(\.endpoint) } }

    /// Makes `peers` the set of members this one talks to: new ones get a link, removed ones
    /// (or ones whose address changed) lose theirs and their frames.
    public func setPeers(_ peers: [UInt64: Endpoint]) {
        precondition(!peers.keys.contains(localID), "peer list contains this member \(localID)")
        var added: [PeerLink] = []
        var retired: [PeerLink] = []
        links.withLock { links in
            for (id, link) in links where peers[id] != link.endpoint {
                retired.append(link)
                links[id] = nil
            }
            for (id, endpoint) in peers.sorted(by: { $0.key < $1.key }) where links[id] == nil {
                let link = PeerLink(peer: id, endpoint: endpoint, transport: self)
                links[id] = link
                added.append(link)
            }
        }
        for link in retired { link.retire() }
        if started.load(ordering: .relaxed) {
            for link in added { spawn("peer-send-\(link.peer)") { link.run() } }
        }
    }

    public var snapshotCounters: Counters { counters.withLock { $0 } }
    func count(_ change: (inout Counters) -> Void) { counters.withLock { change(&$0) } }
    var isStopped: Bool { stopped.load(ordering: .relaxed) }

    public func start() throws(NetError) {
        Socket.ignoreBrokenPipes()
        listener = try Socket.listen(listenEndpoint)
        port = Socket.localPort(listener)
        spawn("peer-accept") { [self] in acceptLoop() }
        let current = links.withLock { links in
            started.store(true, ordering: .relaxed)
            return Array(links.values)
        }
        for link in current { spawn("peer-send-\(link.peer)") { link.run() } }
    }

    func spawn(_ name: String, _ body: @escaping @Sendable () -> Void) {
        threadsDone.enter()
        let thread = Thread { [threadsDone] in
            body()
            threadsDone.leave()
        }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Queues `payload` for `peer`; false (and counted) when its queue is full or unknown.
    @discardableResult
    public func send(to peer: UInt64, _ payload: [UInt8]) -> Bool {
        guard let link = links.withLock({ $0[peer] }), payload.count <= options.frameBytesMax else {
            count { $0.framesDropped += 1 }
            return false
        }
        let queued = link.enqueue(payload)
        if !queued { count { $0.framesDropped += 1 } }
        return queued
    }

    public func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        if listener >= 0 { shutdown(listener, Int32(SHUT_RDWR)) }
        for link in links.withLock({ Array($0.values) }) { link.wake() }
        for fd in inbound.withLock({ $0 }) { shutdown(fd, Int32(SHUT_RDWR)) }
        threadsDone.wait()
        if listener >= 0 { close(listener) }
    }

    // MARK: - Frames

    static func frame(_ payload: [UInt8], into output: inout [UInt8]) {
        var header = ByteWriter(capacity: 8)
        header.uint32(UInt32(payload.count))
        header.uint32(CRC32C.checksum(payload))
        output += header.bytes
        output += payload
    }

    func handshake(to peer: UInt64) -> [UInt8] { Self.handshake(token: clusterToken, from: localID, to: peer) }

    /// The framed handshake; `to` 0 asks for the membership instead of opening a link.
    static func handshake(token: String, from: UInt64, to: UInt64) -> [UInt8] {
        var writer = ByteWriter()
        writer.uint32(magic)
        writer.uint32(protocolVersion)
        writer.string(token)
        writer.uint64(from)
        writer.uint64(to)
        var output: [UInt8] = []
        frame(writer.bytes, into: &output)
        return output
    }

    // MARK: - Inbound

    private func acceptLoop() {
        while !isStopped, let fd = Socket.accept(listener) {
            if isStopped {
                close(fd)
                break
            }
            inbound.withLock { _ = $0.insert(fd) }
            spawn("peer-recv") { [self] in
                receive(fd)
                inbound.withLock { _ = $0.remove(fd) }
                close(fd)
            }
        }
    }

    private func receive(_ fd: Int32) {
        Socket.setReceiveTimeout(fd, 5 * Time.second)
        var reader = FrameReader(fd: fd, frameBytesMax: options.frameBytesMax)
        guard case .frame(let hello) = reader.next() else { return }
        var handshake = ByteReader(hello)
        guard handshake.uint32() == Self.magic else {
            reject("a connection that does not speak the peer protocol")
            return
        }
        guard let version = handshake.uint32(), version == Self.protocolVersion else {
            reject("a peer speaking protocol version \(String(describing: handshake.uint32())), not \(Self.protocolVersion)")
            return
        }
        guard let token = handshake.string(), let from = handshake.uint64(), let to = handshake.uint64(), handshake.atEnd else {
            reject("a malformed handshake")
            return
        }
        guard token == clusterToken else {
            reject("member \(String(from, radix: 16)) of cluster '\(token)' (this is cluster '\(clusterToken)')")
            return
        }
        if to == 0 {
            answer(query: fd, from: from)
            return
        }
        guard to == localID else {
            reject("member \(String(from, radix: 16)) addressing member \(String(to, radix: 16)) (this is \(String(localID, radix: 16)))")
            return
        }
        guard links.withLock({ $0[from] != nil }) else {
            reject("member \(String(from, radix: 16)), which is not in this cluster's membership")
            return
        }
        // Peers may be quiet between heartbeats; only a dead connection ends the read.
        Socket.setReceiveTimeout(fd, 0)
        while !isStopped {
            switch reader.next() {
            case .frame(let payload):
                count { $0.framesReceived += 1 }
                onFrame(from, payload)
            case .closed: return
            case .corrupt(let why):
                log("peer \(String(from, radix: 16)): dropping connection: \(why)")
                return
            }
        }
    }

    private func answer(query fd: Int32, from: UInt64) {
        guard let answer = answerQuery?() else {
            reject("member \(String(from, radix: 16)) asking for the membership, which this member cannot answer yet")
            return
        }
        var output: [UInt8] = []
        Self.frame(answer, into: &output)
        Socket.setSendTimeout(fd, 5 * Time.second)
        _ = Socket.sendAll(fd, output)
    }

    /// Asks the member at `endpoint` for its cluster's membership (what its `answerQuery`
    /// returns). `localID` is the asker's id if it has one (0 when it does not know it yet).
    public static func query(_ endpoint: Endpoint, clusterToken: String, localID: UInt64 = 0,
        timeout: Nanoseconds = 2 * Time.second, frameBytesMax: Int = 16 << 20) throws(NetError) -> [UInt8]
    {
        Socket.ignoreBrokenPipes()
        let fd = try Socket.connect(endpoint, timeout: timeout)
        defer { close(fd) }
        Socket.setSendTimeout(fd, timeout)
        guard Socket.sendAll(fd, handshake(token: clusterToken, from: localID, to: 0)) else { throw NetError("\(endpoint) closed the connection before the query was sent") }
        Socket.setReceiveTimeout(fd, timeout)
        var reader = FrameReader(fd: fd, frameBytesMax: frameBytesMax)
        switch reader.next() {
        case .frame(let payload): return payload
        case .closed: throw NetError("\(endpoint) did not answer the membership query (another cluster's token, or not running yet?)")
        case .corrupt(let why): throw NetError("\(endpoint) answered the membership query with a corrupt frame: \(why)")
        }
    }

    private func reject(_ who: String) {
        count { $0.handshakesRejected += 1 }
        log("rejected a peer connection from \(who)")
    }
}

/// Reads length-prefixed, checksummed frames from a socket.
struct FrameReader {
    enum Result { case frame([UInt8]), closed, corrupt(String) }
    let fd: Int32
    let frameBytesMax: Int
    private var buffer: [UInt8] = []
    private var start = 0
    private var scratch = [UInt8](repeating: 0, count: 256 << 10)

    init(fd: Int32, frameBytesMax: Int) {
        self.fd = fd
        self.frameBytesMax = frameBytesMax
    }

    mutating func next() -> Result {
        while true {
            if buffer.count - start >= 8 {
                var header = ByteReader(buffer, position: start)
                let length = Int(header.uint32()!)
                let checksum = header.uint32()!
                guard length <= frameBytesMax else { return .corrupt("frame of \(length) bytes exceeds \(frameBytesMax)") }
                if buffer.count - start >= 8 + length {
                    let payload = Array(buffer[(start + 8)..<(start + 8 + length)])
                    start += 8 + length
                    if start > 1 << 20 || start == buffer.count {
                        buffer.removeFirst(start)
                        start = 0
                    }
                    guard CRC32C.checksum(payload) == checksum else { return .corrupt("frame checksum mismatch") }
                    return .frame(payload)
                }
            }
            let result = scratch.withUnsafeMutableBytes { Socket.receive(fd, into: $0) }
            switch result {
            case .data(let count): buffer.append(contentsOf: scratch[..<count])
            case .closed, .failed, .timedOut: return .closed
            }
        }
    }
}

/// The outbound side for one peer: a bounded queue and the thread that drains it.
final class PeerLink: @unchecked Sendable {
    let peer: UInt64
    let endpoint: Endpoint
    unowned let transport: PeerTransport
    private let condition = NSCondition()
    private var queue: [[UInt8]] = []
    /// Set when the peer left the membership: the link's thread ends.
    private let retired = Atomic<Bool>(false)
    private var isDone: Bool { transport.isStopped || retired.load(ordering: .relaxed) }

    init(peer: UInt64, endpoint: Endpoint, transport: PeerTransport) {
        self.peer = peer
        self.endpoint = endpoint
        self.transport = transport
    }

    func enqueue(_ payload: [UInt8]) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard queue.count < transport.options.queueFramesMax else { return false }
        queue.append(payload)
        condition.signal()
        return true
    }

    func retire() {
        retired.store(true, ordering: .relaxed)
        wake()
    }

    func wake() {
        condition.lock()
        condition.broadcast()
        condition.unlock()
    }

    private func takeBatch() -> [[UInt8]]? {
        condition.lock()
        defer { condition.unlock() }
        while queue.isEmpty && !isDone { _ = condition.wait(until: Date().addingTimeInterval(0.5)) }
        guard !isDone else { return nil }
        let batch = queue
        queue.removeAll(keepingCapacity: true)
        return batch
    }

    private func dropQueued() {
        condition.lock()
        let dropped = queue.count
        queue.removeAll()
        condition.unlock()
        if dropped > 0 { transport.count { $0.framesDropped += UInt64(dropped) } }
    }

    func run() {
        var backoff = transport.options.backoffInitial
        var random = SeededRandom(seed: peer ^ transport.localID)
        var failuresLogged = 0
        while !isDone {
            let fd: Int32
            do {
                fd = try Socket.connect(endpoint, timeout: transport.options.dialTimeout)
            } catch {
                transport.count { $0.connectFailures += 1 }
                if failuresLogged < 3 || failuresLogged % 50 == 0 {
                    transport.log("peer \(String(peer, radix: 16)) at \(endpoint) unreachable: \(error)")
                }
                failuresLogged += 1
                // While the peer is down its queue only fills with stale messages: drop them.
                dropQueued()
                let jitter = Nanoseconds(random.int(in: 0...Int(backoff / 2)))
                sleep(backoff / 2 + jitter)
                backoff = min(backoff * 2, transport.options.backoffMax)
                continue
            }
            transport.count { $0.connects += 1 }
            if failuresLogged > 0 { transport.log("peer \(String(peer, radix: 16)) at \(endpoint) reachable again") }
            failuresLogged = 0
            backoff = transport.options.backoffInitial
            Socket.setSendTimeout(fd, 5 * Time.second)
            var healthy = Socket.sendAll(fd, transport.handshake(to: peer))
            while healthy, let batch = takeBatch() {
                var output: [UInt8] = []
                output.reserveCapacity(batch.reduce(0) { $0 + $1.count + 8 })
                for payload in batch { PeerTransport.frame(payload, into: &output) }
                healthy = Socket.sendAll(fd, output)
                if healthy {
                    transport.count { $0.framesSent += UInt64(batch.count) }
                } else {
                    transport.count { $0.framesDropped += UInt64(batch.count) }
                }
                // The peer closing on us (it restarted, or rejected our handshake) shows as EOF.
                if healthy && Socket.peerClosed(fd) { healthy = false }
            }
            close(fd)
        }
    }

    private func sleep(_ duration: Nanoseconds) {
        let deadline = MonotonicClock.now() + duration
        while !isDone, MonotonicClock.now() < deadline { usleep(20_000) }
    }
}
