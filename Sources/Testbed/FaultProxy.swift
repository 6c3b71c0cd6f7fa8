//! The fault proxy: it listens on every host's service address, learns who is calling from the
//! connection's source address, dials the host's real address, and relays both directions under
//! the rules of `FaultRules` — stalling (blackhole), refusing and resetting (reject) or delaying
//! (latency, order preserved) the bytes of each directed link. Rule changes take effect on open
//! connections within milliseconds. Every link keeps counters, so each fault's effect shows.
//!
//! Each connection has four threads: for each direction a reader that stamps chunks with their
//! due time into a bounded queue, and a writer that sends them when due and while the link is
//! open. The queue bound (1 MiB) stops the reader, so a stalled link pushes back on the sender.

import Base
import FaultRules
import Foundation
import Glibc
import Net
import Synchronization

public final class FaultProxy: @unchecked Sendable {
    public struct Route: Sendable, Equatable {
        public var listen: Endpoint
        public var target: Endpoint
        public var host: String
        public init(listen: Endpoint, target: Endpoint, host: String) {
            self.listen = listen
            self.target = target
            self.host = host
        }
    }

    public struct LinkCounters: Codable, Sendable, Equatable {
        public var from: String
        public var to: String
        public var connections = 0
        public var refused = 0
        public var resets = 0
        public var bytes = 0
        public var stalledChunks = 0
        public var delayedChunks = 0
        enum CodingKeys: String, CodingKey {
            case from, to, connections, refused, resets, bytes
            case stalledChunks = "stalled_chunks"
            case delayedChunks = "delayed_chunks"
        }
    }

    public let routes: [Route]
    /// Source IP address → host name.
    let sources: [String: String]
    private let table: Mutex<FaultTable>
    private let version = Atomic<UInt64>(0)
    private let counters = Mutex<[String: LinkCounters]>([:])
    private let open = Mutex<[Int: ProxiedConnection]>([:])
    private let nextConnection = Atomic<Int>(0)
    private let stopped = Atomic<Bool>(false)
    private var listeners: [Int32] = []
    private let random = Mutex(SeededRandom(seed: 0x5EED))
    static let queueBytesMax = 1 << 20

    public init(routes: [Route], sources: [String: String]) {
        self.routes = routes
        self.sources = sources
        table = Mutex(FaultTable(hosts: Set(routes.map(\.host)).union(sources.values)))
    }

    // MARK: - Rules

    public func apply(_ rules: [FaultRule]) throws(FaultRuleError) -> [String] {
        let outcome = table.withLock { table -> Result<[String], FaultRuleError> in
            do throws(FaultRuleError) { return .success(try table.add(rules, now: MonotonicClock.now())) } catch { return .failure(error) }
        }
        let ids = try outcome.get()
        changed()
        return ids
    }

    @discardableResult
    public func remove(_ id: String) -> Bool {
        let removed = table.withLock { $0.remove(id) }
        if removed { changed() }
        return removed
    }

    public func heal() {
        table.withLock { $0.removeAll() }
        changed()
    }

    public var rules: [FaultRule] { table.withLock { $0.rules } }

    /// Resets (RST) the open connections from `source` to `target` (dialled by `source`), once;
    /// how many.
    @discardableResult
    public func reset(from source: String, to target: String) -> Int {
        let matching = open.withLock { $0.values.filter { $0.source == source && $0.target == target } }
        for connection in matching {
            count(source, target) { $0.resets += 1 }
            connection.reset()
        }
        return matching.count
    }

    public var links: [LinkCounters] {
        counters.withLock { Array($0.values) }.sorted { ($0.from, $0.to) < ($1.from, $1.to) }
    }

    func policy(_ source: String, _ target: String) -> LinkPolicy { table.withLock { $0.policy(from: source, to: target) } }

    private func changed() {
        version.add(1, ordering: .releasing)
        // Reject resets the open connections of every link it now blocks.
        for connection in open.withLock({ Array($0.values) }) {
            if policy(connection.source, connection.target).block == .reject || policy(connection.target, connection.source).block == .reject {
                count(connection.source, connection.target) { $0.resets += 1 }
                connection.reset()
            }
        }
    }

    func count(_ source: String, _ target: String, _ change: (inout LinkCounters) -> Void) {
        counters.withLock { all in
            let key = source + "->" + target
            var entry = all[key] ?? LinkCounters(from: source, to: target)
            change(&entry)
            all[key] = entry
        }
    }

    func jitter(_ amount: Nanoseconds) -> Nanoseconds {
        amount == 0 ? 0 : random.withLock { Nanoseconds($0.int(in: 0...Int(2 * amount))) } - amount
    }

    var currentVersion: UInt64 { version.load(ordering: .acquiring) }
    var isStopped: Bool { stopped.load(ordering: .relaxed) }

    // MARK: - Serving

    public func start() throws(NetError) {
        Socket.ignoreBrokenPipes()
        // Rules with a TTL heal themselves.
        spawn("proxy-expiry") { [self] in
            while !isStopped {
                usleep(20_000)
                if !table.withLock({ $0.expire(now: MonotonicClock.now()) }).isEmpty { changed() }
            }
        }
        for route in routes {
            let listener = try Socket.listen(route.listen)
            listeners.append(listener)
            spawn("proxy-accept") { [self] in
                while !isStopped, let fd = Socket.accept(listener) {
                    accepted(fd, route)
                }
            }
        }
    }

    public func stop() {
        guard !stopped.exchange(true, ordering: .relaxed) else { return }
        for listener in listeners { shutdown(listener, Int32(SHUT_RDWR)) }
        for connection in open.withLock({ Array($0.values) }) { connection.terminate() }
    }

    private func accepted(_ client: Int32, _ route: Route) {
        let peer = Self.peerAddress(client)
        let source = sources[peer] ?? peer
        let target = route.host
        count(source, target) { $0.connections += 1 }
        if policy(source, target).block == .reject {
            count(source, target) { $0.refused += 1 }
            Self.resetAndClose(client)
            return
        }
        spawn("proxy-dial") { [self] in
            guard let upstream = try? Socket.connect(route.target, timeout: 2 * Time.second) else {
                Self.resetAndClose(client)
                return
            }
            Socket.setNoDelay(client)
            Socket.setNoDelay(upstream)
            let id = nextConnection.add(1, ordering: .relaxed).newValue
            let connection = ProxiedConnection(id: id, client: client, upstream: upstream, source: source, target: target, proxy: self)
            open.withLock { $0[id] = connection }
            connection.run { [self] in _ = open.withLock { $0.removeValue(forKey: id) } }
        }
    }

    func spawn(_ name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.name = name
        thread.stackSize = 256 << 10
        thread.start()
    }

    static func peerAddress(_ fd: Int32) -> String {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
        }
        guard result == 0 else { return "unknown" }
        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        var raw = address.sin_addr
        inet_ntop(AF_INET, &raw, &text, socklen_t(INET_ADDRSTRLEN))
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Closes with RST instead of FIN (SO_LINGER 0): a refused connection, as `reject` promises.
    static func resetAndClose(_ fd: Int32) {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        close(fd)
    }
}

/// One relayed connection: client ⇄ proxy ⇄ upstream.
final class ProxiedConnection: @unchecked Sendable {
    let id: Int
    let client: Int32
    let upstream: Int32
    /// The dialling host and the host dialled.
    let source: String
    let target: String
    unowned let proxy: FaultProxy
    private let ended = Atomic<Bool>(false)
    private let wasReset = Atomic<Bool>(false)
    private let threads = DispatchGroup()

    init(id: Int, client: Int32, upstream: Int32, source: String, target: String, proxy: FaultProxy) {
        self.id = id
        self.client = client
        self.upstream = upstream
        self.source = source
        self.target = target
        self.proxy = proxy
    }

    func run(whenDone: @escaping @Sendable () -> Void) {
        let forward = DirectionQueue(), backward = DirectionQueue()
        for (queue, input, output, from, to) in [(forward, client, upstream, source, target), (backward, upstream, client, target, source)] {
            threads.enter()
            proxy.spawn("proxy-read") { [self] in
                read(input, into: queue, from: from, to: to)
                threads.leave()
            }
            threads.enter()
            proxy.spawn("proxy-write") { [self] in
                write(queue, to: output, from: from, to: to)
                threads.leave()
            }
        }
        threads.notify(queue: .global()) { [self] in
            if wasReset.load(ordering: .relaxed) {
                FaultProxy.resetAndClose(client)
                FaultProxy.resetAndClose(upstream)
            } else {
                close(client)
                close(upstream)
            }
            whenDone()
        }
    }

    /// Ends the connection: every thread wakes and stops.
    func terminate() {
        guard !ended.exchange(true, ordering: .relaxed) else { return }
        shutdown(client, Int32(SHUT_RDWR))
        shutdown(upstream, Int32(SHUT_RDWR))
    }

    func reset() {
        wasReset.store(true, ordering: .relaxed)
        terminate()
    }

    var isEnded: Bool { ended.load(ordering: .relaxed) || proxy.isStopped }

    private func read(_ fd: Int32, into queue: DirectionQueue, from: String, to: String) {
        var buffer = [UInt8](repeating: 0, count: 256 << 10)
        var lastVersion = UInt64.max
        var policy = LinkPolicy.open
        // Bytes sent on the fast path are counted in batches (at most 50 ms late), so the hot
        // path takes no lock per chunk.
        var uncounted = 0
        var lastFlush = MonotonicClock.now()
        func flush() {
            guard uncounted > 0 else { return }
            let bytes = uncounted
            proxy.count(from, to) { $0.bytes += bytes }
            uncounted = 0
            lastFlush = MonotonicClock.now()
        }
        defer { flush() }
        while !isEnded {
            let result = buffer.withUnsafeMutableBytes { Socket.receive(fd, into: $0) }
            switch result {
            case .data(let count):
                if proxy.currentVersion != lastVersion {
                    lastVersion = proxy.currentVersion
                    policy = proxy.policy(from, to)
                }
                // The fast path: an open link with nothing queued or in flight is written here,
                // without waking the writer (order holds: nothing is ahead of this chunk).
                if policy == .open, let sent = queue.sendIfIdle({ buffer.withUnsafeBytes { Socket.sendAll(output(of: fd), UnsafeRawBufferPointer(rebasing: $0[..<count])) } }) {
                    guard sent else {
                        terminate()
                        return
                    }
                    uncounted += count
                    if MonotonicClock.now() - lastFlush >= 50 * Time.millisecond { flush() }
                    continue
                }
                flush()
                let due = policy.delay > 0 ? MonotonicClock.now() + policy.delay + proxy.jitter(policy.jitter) : 0
                if policy.delay > 0 { proxy.count(from, to) { $0.delayedChunks += 1 } }
                if !queue.push(Array(buffer[..<count]), due: due, isEnded: { self.isEnded }) { return }
            case .closed:
                queue.finish()
                return
            case .timedOut:
                continue
            case .failed:
                queue.finish()
                terminate()
                return
            }
        }
        queue.finish()
    }

    /// Sends `chunk`, paced to `rate` bytes per second when capped: in slices of a fiftieth of a
    /// second's worth, each sent no earlier than the bytes before it allow.
    private func send(_ chunk: [UInt8], to fd: Int32, rate: Int64?, pacing nextSendAllowed: inout Nanoseconds) -> Bool {
        guard let rate else { return Socket.sendAll(fd, chunk) }
        let slice = max(512, Int(rate / 50))
        var offset = 0
        while offset < chunk.count {
            while !isEnded, MonotonicClock.now() < nextSendAllowed {
                usleep(UInt32(min(nextSendAllowed - MonotonicClock.now(), 20 * Time.millisecond) / Time.microsecond))
            }
            guard !isEnded else { return false }
            let end = min(chunk.count, offset + slice)
            guard chunk.withUnsafeBytes({ Socket.sendAll(fd, UnsafeRawBufferPointer(rebasing: $0[offset..<end])) }) else { return false }
            nextSendAllowed = max(nextSendAllowed, MonotonicClock.now() - 100 * Time.millisecond)
                + Nanoseconds(end - offset) * Time.second / Nanoseconds(rate)
            offset = end
        }
        return true
    }

    /// The other end of the pair `fd` belongs to.
    private func output(of fd: Int32) -> Int32 { fd == client ? upstream : client }

    private func write(_ queue: DirectionQueue, to fd: Int32, from: String, to: String) {
        var lastVersion = UInt64.max
        var policy = LinkPolicy.open
        var stalled = false
        var nextSendAllowed = MonotonicClock.now()
        while let (chunk, due) = queue.pop(isEnded: { self.isEnded }) {
            // Order is kept: a chunk never overtakes the one before it, even with jitter.
            while !isEnded {
                let now = MonotonicClock.now()
                if proxy.currentVersion != lastVersion {
                    lastVersion = proxy.currentVersion
                    policy = proxy.policy(from, to)
                }
                if policy.block == .reject {
                    reset()
                    return
                }
                if policy.block == .blackhole {
                    if !stalled { proxy.count(from, to) { $0.stalledChunks += 1 } }
                    stalled = true
                    usleep(5_000)
                    continue
                }
                stalled = false
                if due > now {
                    usleep(UInt32(min(due - now, 5 * Time.millisecond) / Time.microsecond))
                    continue
                }
                break
            }
            guard !isEnded, send(chunk, to: fd, rate: policy.bytesPerSecond, pacing: &nextSendAllowed) else {
                queue.delivered()
                terminate()
                return
            }
            queue.delivered()
            proxy.count(from, to) { $0.bytes += chunk.count }
        }
        // The sender finished: pass the half-close on.
        _ = nextSendAllowed
        if !isEnded { shutdown(fd, Int32(SHUT_WR)) }
    }
}

/// A bounded FIFO of chunks with due times, between one direction's reader and writer.
final class DirectionQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var chunks: [([UInt8], Nanoseconds)] = []
    private var head = 0
    private var bytes = 0
    private var finished = false
    /// The writer popped a chunk and has not sent it yet.
    private var inFlight = false

    /// Runs `send` (returning whether it succeeded) if nothing is queued or in flight; nil if
    /// the writer has work, so the caller queues instead.
    func sendIfIdle(_ send: () -> Bool) -> Bool? {
        condition.lock()
        defer { condition.unlock() }
        guard head == chunks.count && !inFlight else { return nil }
        return send()
    }

    func delivered() {
        condition.lock()
        inFlight = false
        condition.unlock()
    }

    func push(_ chunk: [UInt8], due: Nanoseconds, isEnded: () -> Bool) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while bytes >= FaultProxy.queueBytesMax && !isEnded() { _ = condition.wait(until: Date().addingTimeInterval(0.05)) }
        guard !isEnded() else { return false }
        chunks.append((chunk, due))
        bytes += chunk.count
        condition.broadcast()
        return true
    }

    func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// The next chunk; nil once the reader finished and everything was taken, or the connection ended.
    func pop(isEnded: () -> Bool) -> ([UInt8], Nanoseconds)? {
        condition.lock()
        defer { condition.unlock() }
        while head == chunks.count && !finished && !isEnded() { _ = condition.wait(until: Date().addingTimeInterval(0.05)) }
        guard head < chunks.count, !isEnded() else { return nil }
        let next = chunks[head]
        head += 1
        inFlight = true
        bytes -= next.0.count
        if head > 1024 && head * 2 > chunks.count {
            chunks.removeFirst(head)
            head = 0
        }
        condition.broadcast()
        return next
    }
}
