//! The kube-proxy's sockets: a listener per ClusterIP:port that accepts on its own thread, and
//! the relay of one accepted connection to the backend the balancer chose — a thread per
//! direction, each with one bounded buffer, half-closes passed on (FIN for FIN), and a failure
//! on either side resetting both. The fault proxy's relay (`Proxy/Relay.swift`) is not reused:
//! it is built around the fault table (policies, delay queues, pacing) that has nothing to do
//! here; the socket calls both need are Net's.

import Base
import Foundation
import Glibc
import KubeNode
import Net
import Synchronization

/// The relay's limits; the dial timeouts are kube-proxy userspace's `EndpointDialTimeouts`.
public struct ServiceRelaySettings: Sendable {
    /// One dial per entry, each to the backend the balancer gives next (a client's affinity is
    /// forgotten after a failed dial); the client is reset when all fail.
    public var dialTimeouts: [Nanoseconds] = [250 * Time.millisecond, 500 * Time.millisecond, Time.second, 2 * Time.second]
    /// Each direction's buffer.
    public var bufferBytes = 64 << 10
    /// Connections relayed at once; more are reset on arrival.
    public var connectionsMax = 1024

    public init() {}
}

/// A listening socket on one ClusterIP:port, handing every accepted connection to `accepted`.
final class ServiceSocket: Sendable {
    let address: ServiceAddress
    private let fd: Int32

    /// Binds and starts accepting; throws when the address cannot be bound.
    init(address: ServiceAddress, accepted: @escaping @Sendable (_ client: Int32) -> Void) throws(NetError) {
        self.address = address
        let fd = try Socket.listen(Endpoint(host: address.ip, port: UInt16(address.port)))
        self.fd = fd
        let thread = Thread {
            while let client = Socket.accept(fd) { accepted(client) }
            // Only this thread closes the descriptor, after its last accept: no reuse race.
            close(fd)
        }
        thread.name = "kube-proxy-accept"
        thread.stackSize = 256 << 10
        thread.start()
    }

    /// Stops accepting: the blocked accept returns and its thread closes the socket. Connections
    /// already relayed go on, as they do when kube-proxy removes a Service.
    func stop() { shutdown(fd, Int32(SHUT_RDWR)) }
}

/// One relayed connection: the client's socket and the backend's, a pump each way.
final class RelayedConnection: Sendable {
    let client: Int32
    let backend: Int32
    /// Set once, by the first failure (or a stop): both sockets are reset.
    private let failed = Atomic<Bool>(false)
    /// Pumps still running; the last one out closes both sockets.
    private let pumpsRunning = Atomic<Int>(2)
    private let finished: @Sendable () -> Void

    init(client: Int32, backend: Int32, finished: @escaping @Sendable () -> Void) {
        self.client = client
        self.backend = backend
        self.finished = finished
    }

    /// Runs the backend → client pump on a new thread and the client → backend one on this one.
    func run(bufferBytes: Int) {
        let thread = Thread { [self] in pump(from: backend, to: client, bufferBytes: bufferBytes) }
        thread.name = "kube-proxy-relay"
        thread.stackSize = 256 << 10
        thread.start()
        pump(from: client, to: backend, bufferBytes: bufferBytes)
    }

    /// Resets both sides and wakes both pumps (once).
    func reset() {
        guard !failed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        Socket.resetNow(client)
        Socket.resetNow(backend)
    }

    private func pump(from source: Int32, to destination: Int32, bufferBytes: Int) {
        precondition(bufferBytes > 0, "relay buffer of \(bufferBytes) bytes")
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferBytes, alignment: 64)
        defer {
            buffer.deallocate()
            if pumpsRunning.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                close(client)
                close(backend)
                finished()
            }
        }
        while !failed.load(ordering: .acquiring) {
            switch Socket.receive(source, into: buffer) {
            case .data(let count):
                guard Socket.sendAll(destination, UnsafeRawBufferPointer(rebasing: buffer[..<count])) else { return reset() }
            case .closed:
                // The source finished sending: pass the FIN on; the other direction goes on.
                shutdown(destination, Int32(SHUT_WR))
                return
            case .timedOut:
                continue
            case .failed:
                return reset()
            }
        }
    }
}

/// The connections being relayed, bounded, so a stop can reset them all.
final class RelayedConnections: Sendable {
    private struct Table {
        var next: UInt64 = 0
        var open: [UInt64: RelayedConnection] = [:]
        var closed = false
    }

    private let table = Mutex(Table())
    let limit: Int

    init(limit: Int) {
        precondition(limit > 0, "connection limit \(limit)")
        self.limit = limit
    }

    var count: Int { table.withLock { $0.open.count } }

    /// Reserves a place; nil when full or closed (the caller resets the client).
    func reserve() -> UInt64? {
        table.withLock { table in
            guard !table.closed, table.open.count < limit else { return nil }
            table.next += 1
            return table.next
        }
    }

    /// Records the connection in its place; false when a stop came first (the caller resets it).
    func record(_ id: UInt64, _ connection: RelayedConnection) -> Bool {
        table.withLock { table in
            guard !table.closed else { return false }
            table.open[id] = connection
            return true
        }
    }

    func release(_ id: UInt64) { _ = table.withLock { $0.open.removeValue(forKey: id) } }

    /// Refuses new connections and resets the open ones.
    func closeAll() {
        let open = table.withLock { table in
            table.closed = true
            return Array(table.open.values)
        }
        for connection in open { connection.reset() }
    }
}
