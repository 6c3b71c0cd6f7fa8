//! One relayed connection: admission (refuse, hold, or dial the target), then one reader thread
//! per direction, and a writer thread per direction while latency rules queue its chunks.
//!
//! Order within a direction is always kept: once a chunk is queued (delayed), every later chunk
//! goes through the queue too until it drains, and a chunk is never due before the one ahead.

import Base
import Faults
import Glibc
import Net
import Synchronization

/// One direction of a connection: its link's counters and, while latency applies, the queue of
/// chunks waiting for their due time.
final class Direction: @unchecked Sendable {
    let counters: LinkCounters
    let isForward: Bool
    /// Guards `ring`, `entries`, `head` and `lastDue`; the writer sleeps on it.
    let monitor = Monitor()
    var ring: ByteRing?
    var entries: [QueuedChunk] = []
    /// Invariant: `entries[head...]` are the chunks waiting, oldest first.
    var head = 0
    /// The due time of the newest queued chunk; a later chunk is never due before it.
    var lastDue: Nanoseconds = 0
    /// Set once by the reader thread when it starts the writer; read only by the reader.
    var writerStarted = false

    init(counters: LinkCounters, isForward: Bool) {
        self.counters = counters
        self.isForward = isForward
    }

    var waiting: Int { entries.count - head }
}

struct QueuedChunk {
    var count: Int
    var due: Nanoseconds
    /// The end of the stream (FIN): the writer shuts the destination's writing side.
    var end: Bool
}

/// A bounded byte queue (the bytes of the queued chunks, in order).
struct ByteRing {
    let storage: UnsafeMutableRawPointer
    let capacity: Int
    /// Invariant: `0 <= start < capacity` and `0 <= used <= capacity`.
    private(set) var start = 0
    private(set) var used = 0

    init(capacity: Int) {
        precondition(capacity > 0, "ring capacity \(capacity)")
        self.capacity = capacity
        storage = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
    }

    var free: Int { capacity - used }

    mutating func write(_ bytes: UnsafeRawPointer, _ count: Int) {
        precondition(count <= free, "ring write of \(count) with \(free) free")
        let end = (start + used) % capacity
        let first = min(count, capacity - end)
        (storage + end).copyMemory(from: bytes, byteCount: first)
        if first < count { storage.copyMemory(from: bytes + first, byteCount: count - first) }
        used += count
    }

    /// The oldest `count` bytes as up to two contiguous pieces (the second empty unless wrapped).
    func front(_ count: Int) -> (UnsafeRawBufferPointer, UnsafeRawBufferPointer) {
        precondition(count <= used, "ring front of \(count) with \(used) used")
        let first = min(count, capacity - start)
        return (UnsafeRawBufferPointer(start: storage + start, count: first),
            UnsafeRawBufferPointer(start: storage, count: count - first))
    }

    mutating func consume(_ count: Int) {
        precondition(count <= used, "ring consume of \(count) with \(used) used")
        start = (start + count) % capacity
        used -= count
    }

    func deallocate() { storage.deallocate() }
}

/// A thread's cached view of its direction's policy, refreshed only when the table changes.
struct PolicyView {
    var version: UInt64 = .max
    var policy = LinkPolicy.open
    /// `policy.isClear`, cached for the fast path.
    var clear = true
}

/// Paces a direction's bytes to a bandwidth cap (no burst credit beyond one slice).
struct Pacer {
    var next: Nanoseconds = 0
}

final class Connection: @unchecked Sendable {
    let proxy: FaultProxy
    let id: UInt64
    let client: Int32
    let route: Route
    let source: HostName
    var destination: HostName { route.host }
    let forward: Direction
    let backward: Direction
    /// Set once, by `abort`: every thread of the connection stops and the sockets are reset.
    let closing = Atomic<Bool>(false)
    private let serverSocket = Atomic<Int32>(-1)
    /// Running threads of this connection; the last one out closes the sockets.
    private let threads = Atomic<Int>(1)
    private let draws: Mutex<RuleDraws>
    private let chunkSeed: SeededRandom

    init(proxy: FaultProxy, id: UInt64, client: Int32, route: Route, source: HostName, forward: LinkCounters,
        backward: LinkCounters)
    {
        self.proxy = proxy
        self.id = id
        self.client = client
        self.route = route
        self.source = source
        self.forward = Direction(counters: forward, isForward: true)
        self.backward = Direction(counters: backward, isForward: false)
        let seed = SeededRandom(seed: proxy.configuration.seed)
        draws = Mutex(RuleDraws(random: seed.derived(id)))
        chunkSeed = seed.derived(id ^ 0x6368_756E_6B00_0000)
    }

    // MARK: - Policies

    /// Both directions' policies as this connection sees them (its own probability draws).
    func policies(_ table: FaultTable, now: Nanoseconds) -> (forward: LinkPolicy, backward: LinkPolicy) {
        draws.withLock { draws in
            (table.policy(from: source, to: destination, now: now, draws: &draws),
                table.policy(from: destination, to: source, now: now, draws: &draws))
        }
    }

    private func refresh(_ view: inout PolicyView, _ direction: Direction) {
        let table = proxy.snapshot()
        let both = policies(table, now: ProxyClock.now())
        view.policy = direction.isForward ? both.forward : both.backward
        view.version = table.version
        view.clear = view.policy.isClear
    }

    /// Waits while the direction is blackholed. False when the connection is closing, or was
    /// just reset because a reject rule covers the direction.
    private func awaitPassable(_ direction: Direction, _ view: inout PolicyView, bytes: Int) -> Bool {
        var stalled = false
        while true {
            if closing.load(ordering: .acquiring) { return false }
            if proxy.version.load(ordering: .acquiring) != view.version { refresh(&view, direction) }
            switch view.policy.blocking {
            case .open:
                return true
            case .reject:
                if abort() { forward.counters.add(.connectionsReset) }
                return false
            case .blackhole:
                if !stalled && bytes > 0 {
                    direction.counters.bytesStalled.add(bytes, ordering: .relaxed)
                    stalled = true
                }
                waitForChange(seen: view.version, until: ProxyClock.now() + 250 * Time.millisecond)
            }
        }
    }

    /// Sleeps until the table changes, the connection aborts, or `deadline`.
    private func waitForChange(seen: UInt64, until deadline: Nanoseconds) {
        proxy.changes.withLock {
            if proxy.version.load(ordering: .acquiring) == seen && !closing.load(ordering: .acquiring) {
                proxy.changes.wait(until: deadline)
            }
        }
    }

    // MARK: - Lifecycle

    /// The connection's first thread: admission, dialling, then the caller -> host direction.
    func run() {
        var view = PolicyView()
        var held = false
        while true {
            if closing.load(ordering: .acquiring) { return threadFinished() }
            let table = proxy.snapshot()
            let both = policies(table, now: ProxyClock.now())
            if both.forward.blocking == .reject || both.backward.blocking == .reject {
                forward.counters.add(.connectionsRefused)
                abort()
                return threadFinished()
            }
            guard both.forward.blocking == .blackhole else {
                view = PolicyView(version: table.version, policy: both.forward, clear: both.forward.isClear)
                break
            }
            // The "SYN" cannot reach the host: hold the caller without dialling until healed.
            if !held {
                forward.counters.add(.connectionsHeld)
                held = true
            }
            waitForChange(seen: table.version, until: ProxyClock.now() + 250 * Time.millisecond)
        }
        let server: Int32
        do throws(NetError) {
            server = try Socket.connect(route.target, mark: route.mark, timeout: proxy.configuration.limits.dialTimeout)
        } catch {
            forward.counters.add(.dialFailures)
            proxy.log("dial \(route.host) at \(route.target) for \(source) failed: \(error.message)")
            abort()
            return threadFinished()
        }
        serverSocket.store(server, ordering: .releasing)
        if closing.load(ordering: .acquiring) {
            // Aborted while dialling: the abort did not see this socket.
            ProxySocket.resetNow(server)
            return threadFinished()
        }
        for fd in [client, server] { ProxySocket.setSendTimeout(fd, 100 * Time.millisecond) }
        threads.add(1, ordering: .relaxed)
        proxy.spawn("proxy-relay") { [self] in relay(backward, from: server, to: client, view: PolicyView()) }
        relay(forward, from: client, to: server, view: view)
    }

    /// Resets both sides now (RST, not FIN) and wakes every thread of the connection. Answers
    /// true for the call that did it (a connection aborts once).
    @discardableResult
    func abort() -> Bool {
        guard !closing.exchange(true, ordering: .acquiringAndReleasing) else { return false }
        ProxySocket.resetNow(client)
        let server = serverSocket.load(ordering: .acquiring)
        if server >= 0 { ProxySocket.resetNow(server) }
        proxy.changes.withLock { proxy.changes.broadcast() }
        for direction in [forward, backward] { direction.monitor.withLock { direction.monitor.broadcast() } }
        return true
    }

    private func threadFinished() {
        if threads.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { proxy.finished(self) }
    }

    /// Closes both sockets; only the connection's last thread calls this (via the proxy).
    func closeSockets() {
        close(client)
        let server = serverSocket.load(ordering: .acquiring)
        if server >= 0 { close(server) }
        for direction in [forward, backward] { direction.monitor.withLock { direction.ring?.deallocate() } }
    }

    // MARK: - Reading

    /// Reads chunks from `source` and forwards them to `destination` under the direction's
    /// policy, until end of stream, a failure or an abort.
    private func relay(_ direction: Direction, from source: Int32, to destination: Int32, view initial: PolicyView) {
        let chunk = proxy.configuration.limits.chunkBytes
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 64)
        defer {
            buffer.deallocate()
            threadFinished()
        }
        var view = initial
        var pacer = Pacer()
        var random = chunkSeed.derived(direction.isForward ? 1 : 2)
        // Bytes go socket -> pipe -> socket (splice) while nothing applies, and through
        // `buffer` as soon as anything does (the pipe is then emptied into it first).
        let pipe = proxy.configuration.limits.splice ? Splice.pipe(capacity: chunk) : nil
        defer {
            if let pipe {
                close(pipe.read)
                close(pipe.write)
            }
        }
        var lastWait: Nanoseconds = .max
        while true {
            let waitStarted = ProxyClock.now()
            spinIfWorthIt(on: source, lastWait: lastWait)
            let count = pipe.map { Splice.function!(source, nil, $0.write, nil, chunk, Splice.move) } ?? recv(source, buffer, chunk, 0)
            lastWait = ProxyClock.now() - waitStarted
            if count > 0 {
                // The fast path: nothing changed, nothing applies, nothing queued.
                if view.clear && !direction.writerStarted && proxy.version.load(ordering: .acquiring) == view.version
                    && !closing.load(ordering: .relaxed)
                {
                    let sent = pipe.map { drain($0.read, count, to: destination) }
                        ?? sendAll(destination, UnsafeRawBufferPointer(start: buffer, count: count))
                    guard sent else {
                        direction.counters.bytesDropped.add(count, ordering: .relaxed)
                        abort()
                        return
                    }
                    direction.counters.bytesForwarded.add(count, ordering: .relaxed)
                    continue
                }
                if let pipe, !readAll(pipe.read, buffer, count) {
                    direction.counters.bytesDropped.add(count, ordering: .relaxed)
                    abort()
                    return
                }
                guard awaitPassable(direction, &view, bytes: count) else {
                    direction.counters.bytesDropped.add(count, ordering: .relaxed)
                    return
                }
                if view.policy.latencies.isEmpty && queueEmpty(direction) {
                    guard sendPaced(direction, &view, &pacer, destination, UnsafeRawBufferPointer(start: buffer, count: count)) else {
                        return
                    }
                } else {
                    let delay = view.policy.chunkDelay(random: &random)
                    guard enqueue(direction, buffer, count, delay: delay, destination: destination) else {
                        direction.counters.bytesDropped.add(count, ordering: .relaxed)
                        return
                    }
                }
            } else if count == 0 {
                // End of stream: the FIN waits for a blackhole to heal like any byte.
                guard awaitPassable(direction, &view, bytes: 0) else { return }
                if direction.writerStarted {
                    _ = enqueue(direction, buffer, 0, delay: 0, destination: destination)
                } else {
                    shutdown(destination, Int32(SHUT_WR))
                }
                return
            } else {
                if errno == EINTR { continue }
                // The source failed (reset by its peer, or by our own abort): reset the other
                // side too, once a blackhole on this direction lets anything through.
                if awaitPassable(direction, &view, bytes: 0) { abort() }
                return
            }
        }
    }

    /// Polls the source for up to `limits.spin` before the blocking read, when the previous wait
    /// on this direction was short (a request/response exchange: its next answer is likely
    /// just as quick) and at most one other relay thread is spinning. On an idle machine a blocked thread
    /// takes tens of microseconds to wake, which every hop of an exchange would otherwise pay;
    /// the two conditions keep the spinning to at most two threads (one exchange's two directions), and only where it pays off
    /// (not for heartbeats that arrive every 100 ms).
    private static let spinnersMax = 2

    private func spinIfWorthIt(on source: Int32, lastWait: Nanoseconds) {
        let spin = proxy.configuration.limits.spin
        // Five times the spin, so that one wait slowed by a blocked wake-up does not end it.
        guard spin > 0, lastWait <= 5 * spin else { return }
        guard proxy.spinners.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue <= Self.spinnersMax else {
            proxy.spinners.wrappingSubtract(1, ordering: .releasing)
            return
        }
        defer { proxy.spinners.wrappingSubtract(1, ordering: .releasing) }
        let start = ProxyClock.now()
        var poller = pollfd(fd: source, events: Int16(POLLIN), revents: 0)
        while ProxyClock.now() - start < spin {
            if poll(&poller, 1, 0) != 0 { return }
        }
    }

    /// Moves `count` bytes from the pipe to the socket; false once the connection fails or aborts.
    private func drain(_ pipe: Int32, _ count: Int, to fd: Int32) -> Bool {
        var left = count
        while left > 0 {
            let moved = Splice.function!(pipe, nil, fd, nil, left, Splice.move)
            if moved > 0 {
                left -= moved
                continue
            }
            guard moved < 0, errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK else { return false }
            if closing.load(ordering: .acquiring) { return false }
        }
        return true
    }

    /// Reads exactly `count` bytes that are already in the pipe.
    private func readAll(_ pipe: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Bool {
        var done = 0
        while done < count {
            let got = Glibc.read(pipe, buffer + done, count - done)
            if got > 0 {
                done += got
            } else if got < 0 && errno == EINTR {
                continue
            } else {
                return false
            }
        }
        return true
    }

    /// Writes every byte; false once the connection fails or aborts. A send timeout (a peer not
    /// reading) only makes it look at `closing` and carry on.
    private func sendAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var done = 0
        while done < bytes.count {
            let count = send(fd, bytes.baseAddress! + done, bytes.count - done, Int32(MSG_NOSIGNAL))
            if count > 0 {
                done += count
                continue
            }
            guard count < 0, errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK else { return false }
            if closing.load(ordering: .acquiring) { return false }
        }
        return true
    }

    /// Sends under the direction's bandwidth cap (slices of 10 ms worth of bytes), re-checking
    /// the policy between slices; false once the connection failed or aborted.
    private func sendPaced(_ direction: Direction, _ view: inout PolicyView, _ pacer: inout Pacer, _ destination: Int32,
        _ bytes: UnsafeRawBufferPointer) -> Bool
    {
        var offset = 0
        while offset < bytes.count {
            guard let rate = view.policy.bytesPerSecond else {
                let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
                guard sendAll(destination, rest) else { return failed(direction, dropping: rest.count) }
                direction.counters.bytesForwarded.add(rest.count, ordering: .relaxed)
                return true
            }
            let now = ProxyClock.now()
            if pacer.next > now {
                waitForChange(seen: view.version, until: pacer.next)
                guard awaitPassable(direction, &view, bytes: 0) else { return failed(direction, dropping: bytes.count - offset) }
                continue
            }
            let slice = min(bytes.count - offset, max(1, Int(rate / 100)))
            let piece = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + slice)])
            guard sendAll(destination, piece) else { return failed(direction, dropping: bytes.count - offset) }
            direction.counters.bytesForwarded.add(slice, ordering: .relaxed)
            offset += slice
            pacer.next = max(pacer.next, now) + Nanoseconds(slice) * Time.second / rate
        }
        return true
    }

    private func failed(_ direction: Direction, dropping count: Int) -> Bool {
        direction.counters.bytesDropped.add(count, ordering: .relaxed)
        abort()
        return false
    }

    // MARK: - The delay queue

    private func queueEmpty(_ direction: Direction) -> Bool {
        guard direction.writerStarted else { return true }
        return direction.monitor.withLock { direction.waiting == 0 }
    }

    /// Queues a chunk (or, with count 0, the end of stream) due after `delay`, waiting while the
    /// queue is full (the reader stops reading: backpressure). Starts the writer the first time.
    private func enqueue(_ direction: Direction, _ bytes: UnsafeRawPointer, _ count: Int, delay: Nanoseconds,
        destination: Int32) -> Bool
    {
        let capacity = proxy.configuration.limits.queuedBytesMax
        let queued = direction.monitor.withLock { () -> Bool in
            if direction.ring == nil { direction.ring = ByteRing(capacity: capacity) }
            while direction.ring!.free < count && !closing.load(ordering: .acquiring) { direction.monitor.wait(until: nil) }
            if closing.load(ordering: .acquiring) { return false }
            let due = max(ProxyClock.now() + delay, direction.lastDue)
            direction.lastDue = due
            direction.ring!.write(bytes, count)
            direction.entries.append(QueuedChunk(count: count, due: due, end: count == 0))
            direction.monitor.broadcast()
            return true
        }
        guard queued else { return false }
        if delay > 0 && count > 0 {
            direction.counters.chunksDelayed.add(1, ordering: .relaxed)
            direction.counters.bytesDelayed.add(count, ordering: .relaxed)
        }
        if !direction.writerStarted {
            direction.writerStarted = true
            threads.add(1, ordering: .relaxed)
            proxy.spawn("proxy-delay") { [self] in writeLoop(direction, to: destination) }
        }
        return true
    }

    /// Sends queued chunks when they fall due, in order, under the direction's policy.
    private func writeLoop(_ direction: Direction, to destination: Int32) {
        defer { threadFinished() }
        var view = PolicyView()
        var pacer = Pacer()
        while true {
            direction.monitor.lock()
            while direction.waiting == 0 && !closing.load(ordering: .acquiring) { direction.monitor.wait(until: nil) }
            var entry = direction.waiting > 0 ? direction.entries[direction.head] : nil
            while let waiting = entry, !closing.load(ordering: .acquiring), ProxyClock.now() < waiting.due {
                direction.monitor.wait(until: waiting.due)
                entry = direction.entries[direction.head]
            }
            guard let entry, !closing.load(ordering: .acquiring) else {
                let left = direction.ring?.used ?? 0
                direction.monitor.unlock()
                direction.counters.bytesDropped.add(left, ordering: .relaxed)
                return
            }
            let (first, second) = direction.ring!.front(entry.count)
            direction.monitor.unlock()
            guard awaitPassable(direction, &view, bytes: entry.count) else {
                direction.counters.bytesDropped.add(direction.monitor.withLock { direction.ring?.used ?? 0 }, ordering: .relaxed)
                return
            }
            if entry.end {
                shutdown(destination, Int32(SHUT_WR))
                return
            }
            guard sendPaced(direction, &view, &pacer, destination, first),
                second.isEmpty || sendPaced(direction, &view, &pacer, destination, second)
            else { return }
            direction.monitor.withLock {
                direction.ring!.consume(entry.count)
                direction.head += 1
                if direction.head == direction.entries.count {
                    direction.entries.removeAll(keepingCapacity: true)
                    direction.head = 0
                } else if direction.head >= 1024 {
                    direction.entries.removeFirst(direction.head)
                    direction.head = 0
                }
                direction.monitor.broadcast()
            }
        }
    }
}
