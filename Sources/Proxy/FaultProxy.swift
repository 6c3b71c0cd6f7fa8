//! FaultProxy: every byte between hosts passes through here, and the `FaultTable` decides what
//! happens to it.
//!
//! One thread accepts on each route's listening endpoint. Each relayed connection gets one thread
//! per direction that reads a chunk and writes it on (blocking I/O, big buffers, TCP_NODELAY), and
//! a writer thread per direction only while a latency rule holds chunks back. The fast path takes
//! no lock and allocates nothing: it compares the table's version (an atomic) with the one its
//! policy came from, and only recomputes the policy when they differ.
//!
//! A change to the rules takes effect on open connections at once: a blackholed direction holds
//! the next chunk it reads (the kernel buffers the rest, so the sender stalls as in a real
//! partition) until the table changes again; a reject rule resets both sides of every open
//! connection on its links right away; healing wakes the held threads, which deliver what they
//! hold, in order.

import Base
import Faults
import Foundation
import Glibc
import Net
import Synchronization
import Wire

public final class FaultProxy: @unchecked Sendable {
    public let configuration: ProxyConfiguration
    let log: @Sendable (String) -> Void

    /// The rules. Invariant: `version` equals `table.version` whenever the lock is free.
    private let table: Mutex<FaultTable>
    /// The table's version, read without a lock on the relay's fast path.
    let version = Atomic<UInt64>(0)
    /// Broadcast on every table change and every connection abort; held directions wait on it.
    let changes = Monitor()

    private struct Registry {
        var connections: [UInt64: Connection] = [:]
        var nextID: UInt64 = 1
        var counters: [Link: LinkCounters] = [:]
        /// Draws for reset actions with a probability.
        var random: SeededRandom
        var stopping = false
    }
    private let registry: Mutex<Registry>

    let unknownSourceConnections = Atomic<Int>(0)
    /// Relay threads polling before they block (at most two; see `Relay.spinIfWorthIt`).
    let spinners = Atomic<Int>(0)
    let connectionsOverLimit = Atomic<Int>(0)
    private let threadsRunning = Atomic<Int>(0)
    private var listeners: [Int32] = []
    /// The endpoint each route listens on (with the port the kernel chose for port 0).
    public private(set) var listening: [Endpoint] = []
    private var housekeeper: Thread?

    public init(configuration: ProxyConfiguration, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.configuration = configuration
        self.log = log
        table = Mutex(FaultTable(hosts: configuration.hosts))
        registry = Mutex(Registry(random: SeededRandom(seed: configuration.seed).derived(0x7265_7365_74)))
    }

    // MARK: - Start and stop

    public func start() throws(ProxyError) {
        try configuration.validate()
        Socket.ignoreBrokenPipes()
        for route in configuration.routes {
            do {
                let listener = try Socket.listen(route.listen)
                listeners.append(listener)
                listening.append(Endpoint(host: route.listen.host, port: Socket.localPort(listener)))
            } catch {
                for listener in listeners { close(listener) }
                listeners = []
                throw ProxyError("cannot listen for \(route.host): \(error.message)")
            }
        }
        for (index, route) in configuration.routes.enumerated() {
            let listener = listeners[index]
            let endpoint = listening[index]
            spawn("proxy-accept") { [self] in acceptLoop(listener, route: route, endpoint: endpoint) }
        }
        spawn("proxy-expiry") { [self] in expiryLoop() }
        for (index, route) in configuration.routes.enumerated() {
            log("relaying \(listening[index]) -> \(route.host) at \(route.target)")
        }
    }

    /// Stops accepting, resets every open connection, and waits for every thread to end.
    public func stop() {
        let connections = registry.withLock { state -> [Connection] in
            state.stopping = true
            return Array(state.connections.values)
        }
        for listener in listeners { shutdown(listener, Int32(SHUT_RDWR)) }
        registry.withLock { _ in for connection in connections { connection.abort() } }
        changes.withLock { changes.broadcast() }
        let deadline = ProxyClock.now() + 5 * Time.second
        while threadsRunning.load(ordering: .acquiring) > 0 && ProxyClock.now() < deadline { usleep(2000) }
        for listener in listeners { close(listener) }
        listeners = []
    }

    /// Runs `body` on a new thread, counted so `stop` can wait for it.
    func spawn(_ name: String, _ body: @escaping @Sendable () -> Void) {
        threadsRunning.add(1, ordering: .relaxed)
        let thread = Thread { [self] in
            body()
            threadsRunning.subtract(1, ordering: .releasing)
        }
        thread.name = name
        thread.stackSize = 512 << 10
        thread.start()
    }

    // MARK: - Rules

    /// Adds rules atomically and performs their one-shot resets; answers the change and how many
    /// connections the resets and any new reject rule reset.
    public func apply(_ rules: [FaultRule]) throws(FaultError) -> (change: FaultChange, connectionsReset: Int) {
        let change = try changeTable { table throws(FaultError) in try table.add(rules, now: ProxyClock.now()) }
        for id in change.ids.compactMap({ $0 }) { log("rule \(id) added: \(ruleText(id))") }
        var reset = resetRejected()
        for action in change.resets { reset += self.reset(action) }
        return (change, reset)
    }

    @discardableResult
    public func remove(id: String) -> Bool {
        let removed = changeTable { table in table.remove(id: id) }
        if removed { log("rule \(id) removed") }
        return removed
    }

    /// Heals: removes every rule; answers how many there were.
    @discardableResult
    public func heal() -> Int {
        let count = changeTable { table in table.removeAll() }
        log("healed: \(count) rules removed")
        return count
    }

    public var rules: [ActiveRule] { table.withLock { $0.rules } }
    public var tableVersion: UInt64 { version.load(ordering: .acquiring) }

    /// The table as of now and its version, for computing a connection's policies off the lock.
    func snapshot() -> FaultTable { table.withLock { $0 } }

    private func ruleText(_ id: String) -> String {
        table.withLock { $0.rule(id: id).map { JSON.serialize($0.rule.json) } ?? "?" }
    }

    /// Changes the table under its lock, publishes the new version and wakes every waiting thread.
    private func changeTable<T, E: Error>(_ body: (inout FaultTable) throws(E) -> T) throws(E) -> T {
        let result = try table.withLock { table throws(E) -> T in
            let value = try body(&table)
            version.store(table.version, ordering: .releasing)
            return value
        }
        changes.withLock { changes.broadcast() }
        return result
    }

    /// Resets every open connection a reject rule now covers (either direction).
    private func resetRejected() -> Int {
        let table = snapshot()
        let now = ProxyClock.now()
        return registry.withLock { state in
            var count = 0
            for connection in state.connections.values.sorted(by: { $0.id < $1.id }) {
                let (forward, backward) = connection.policies(table, now: now)
                guard forward.blocking == .reject || backward.blocking == .reject else { continue }
                if connection.abort() {
                    connection.forward.counters.add(.connectionsReset)
                    count += 1
                }
            }
            return count
        }
    }

    /// Performs a reset action on the open connections dialled on its link; answers how many.
    public func reset(_ action: ResetAction) -> Int {
        let count = registry.withLock { state in
            var count = 0
            for connection in state.connections.values.sorted(by: { $0.id < $1.id })
            where action.matches(from: connection.source, to: connection.destination) {
                if let probability = action.probability, !state.random.chance(probability) { continue }
                if connection.abort() {
                    connection.forward.counters.add(.connectionsReset)
                    count += 1
                }
            }
            return count
        }
        log("reset \(action.link): \(count) connections")
        return count
    }

    /// Expires rules by their TTL: sleeps until the next expiry or a change to the table.
    private func expiryLoop() {
        while !registry.withLock({ $0.stopping }) {
            let now = ProxyClock.now()
            let gone = changeTableIfExpired(now: now)
            for id in gone { log("rule \(id) expired") }
            let next = table.withLock { $0.nextExpiry } ?? now + Time.second
            let seen = version.load(ordering: .acquiring)
            changes.withLock {
                if version.load(ordering: .acquiring) == seen { changes.wait(until: min(next, now + Time.second)) }
            }
        }
    }

    private func changeTableIfExpired(now: Nanoseconds) -> [String] {
        guard table.withLock({ ($0.nextExpiry ?? .max) <= now }) else { return [] }
        return changeTable { table in table.expire(now: now) }
    }

    // MARK: - Connections

    func counters(_ link: Link) -> LinkCounters {
        registry.withLock { state in
            if let existing = state.counters[link] { return existing }
            let created = LinkCounters(link: link)
            state.counters[link] = created
            return created
        }
    }

    private func acceptLoop(_ listener: Int32, route: Route, endpoint: Endpoint) {
        while let (fd, peer) = ProxySocket.accept(listener) {
            let source: HostName
            if let known = configuration.sources[peer] {
                source = known
            } else {
                source = peer
                unknownSourceConnections.add(1, ordering: .relaxed)
            }
            let forward = counters(Link(from: source, to: route.host))
            let backward = counters(forward.link.reversed)
            forward.add(.connectionsAccepted)
            let connection = registry.withLock { state -> Connection? in
                guard !state.stopping, state.connections.count < configuration.limits.connectionsMax else { return nil }
                let connection = Connection(proxy: self, id: state.nextID, client: fd, route: route, source: source,
                    forward: forward, backward: backward)
                state.nextID += 1
                state.connections[connection.id] = connection
                return connection
            }
            guard let connection else {
                if registry.withLock({ $0.stopping }) {
                    close(fd)
                    break
                }
                connectionsOverLimit.add(1, ordering: .relaxed)
                ProxySocket.setResetOnClose(fd)
                close(fd)
                continue
            }
            forward.add(.connectionsOpen)
            spawn("proxy-relay") { connection.run() }
        }
    }

    /// Called by the last thread of a connection: forget it, then close its sockets (in that
    /// order, so no one holding the registry lock can touch a descriptor after its close).
    func finished(_ connection: Connection) {
        registry.withLock { _ = $0.connections.removeValue(forKey: connection.id) }
        connection.forward.counters.connectionsOpen.subtract(1, ordering: .relaxed)
        connection.closeSockets()
    }

    public var connectionCount: Int { registry.withLock { $0.connections.count } }
    /// Connections from addresses no host claims (relayed, and named by their address).
    public var unknownSourceCount: Int { unknownSourceConnections.load(ordering: .relaxed) }
    /// Connections reset on accept because `connectionsMax` were open.
    public var overLimitCount: Int { connectionsOverLimit.load(ordering: .relaxed) }

    // MARK: - Reports

    /// Per-link counters (and each link's policy now), links sorted, plus the proxy's totals.
    public func linksReport() -> JSONValue {
        let all = registry.withLock { state in state.counters.values.sorted { $0.link < $1.link } }
        let table = snapshot()
        let now = ProxyClock.now()
        let links: [JSONValue] = all.map { counters in
            var object = counters.json
            object["policy"] = table.policy(from: counters.link.from, to: counters.link.to, now: now).json
            return .object(object)
        }
        return .object([
            "version": .integer(Int64(table.version)),
            "connections_open": .integer(Int64(connectionCount)),
            "unknown_source_connections": .integer(Int64(unknownSourceConnections.load(ordering: .relaxed))),
            "connections_over_limit": .integer(Int64(connectionsOverLimit.load(ordering: .relaxed))),
            "links": .array(links),
        ])
    }

    /// The counters of one link as plain numbers (tests and the benchmark read these).
    public func counterValues(from: HostName, to: HostName) -> [String: Int] {
        let counters = registry.withLock { $0.counters[Link(from: from, to: to)] }
        guard let counters else { return [:] }
        var values: [String: Int] = [:]
        for (key, value) in counters.json.members {
            if case .integer(let number) = value { values[key] = Int(number) }
        }
        return values
    }
}
