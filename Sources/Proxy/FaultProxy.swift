//! FaultProxy: every byte between hosts passes through here, and the `FaultTable` decides what
//! happens to it.
//!
//! One thread accepts on each route's listening endpoint. Each relayed connection gets one thread
//! per direction that reads a chunk and writes it on (blocking I/O, big buffers, TCP_NODELAY), and
//! a writer thread per direction only while a latency rule holds chunks back. The fast path takes
//! no lock and allocates nothing: it compares the table's version (an atomic) with the one its
//! policy came from, and only recomputes the policy when they differ.
//!
//! Pod traffic (namespace mode): one more thread accepts on each pod port, for every address of
//! the switch namespace, where the whole pod supernet is local. A connection's destination host
//! is the one whose pod network holds the address it was sent to, its source host is found as
//! for service traffic, and from there it is relayed like any other connection, to the same pod
//! address and port, by a marked socket that the switch's policy routing sends to that host.
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
    /// Accepted on a pod port but sent to an address no pod network holds (reset).
    let podConnectionsUnrouted = Atomic<Int>(0)
    /// Accepted on a pod port from an address no host claims (reset; see `PodConnectionDecision`).
    let podConnectionsUnknownSource = Atomic<Int>(0)
    /// Accepted on a pod port for a pod address of the caller's own host (reset).
    let podConnectionsOwnHost = Atomic<Int>(0)
    /// Relay threads polling before they block (at most two; see `Relay.spinIfWorthIt`).
    let spinners = Atomic<Int>(0)
    let connectionsOverLimit = Atomic<Int>(0)
    private let threadsRunning = Atomic<Int>(0)
    private var listeners: [Int32] = []
    /// The endpoint each route listens on (with the port the kernel chose for port 0).
    public private(set) var listening: [Endpoint] = []
    /// The endpoint each pod port listens on (0.0.0.0, with the port the kernel chose for 0).
    public private(set) var podListening: [Endpoint] = []
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
        // Service listeners bind their own address; pod listeners bind 0.0.0.0, because a socket
        // cannot bind an address range and the connections they take are sent to any pod address
        // (local in the switch by one `local 10.244.0.0/16` route). The kernel refuses a wildcard
        // bind next to a listener on the same port at a particular address (EADDRINUSE, even with
        // SO_REUSEADDR), so pod ports are ports no route uses (`validate`); the alternatives —
        // one socket per pod address (IP_FREEBIND: 254 listeners and threads per host and port),
        // or SO_REUSEPORT on every listener so that the exact address wins the lookup — cost far
        // more or rely on the kernel's lookup order.
        let podPorts = configuration.pods?.ports ?? []
        let endpoints = configuration.routes.map(\.listen) + podPorts.map { Endpoint(host: "0.0.0.0", port: $0) }
        let owners = configuration.routes.map { "for \($0.host)" } + podPorts.map { _ in "for pod traffic" }
        let mark = configuration.pods?.mark ?? 0
        for (endpoint, owner) in zip(endpoints, owners) {
            do throws(ProxyError) {
                let listener: Int32
                do { listener = try Socket.listen(endpoint) } catch { throw ProxyError("cannot listen \(owner): \(error.message)") }
                listeners.append(listener)
                // Marked so that answers to a caller dialling from a pod address go to its host
                // (see `PodTraffic.mark`); accepted sockets inherit the mark.
                guard mark == 0 || Socket.setMark(listener, mark) else {
                    throw ProxyError("cannot mark the listener on \(endpoint) with \(mark) (SO_MARK needs CAP_NET_ADMIN): \(String(cString: strerror(errno)))")
                }
            } catch {
                for listener in listeners { close(listener) }
                listeners = []
                throw error
            }
        }
        listening = zip(configuration.routes, listeners).map { Endpoint(host: $0.listen.host, port: Socket.localPort($1)) }
        podListening = listeners.dropFirst(configuration.routes.count).map { Endpoint(host: "0.0.0.0", port: Socket.localPort($0)) }
        for (index, route) in configuration.routes.enumerated() {
            let listener = listeners[index]
            let endpoint = listening[index]
            spawn("proxy-accept") { [self] in acceptLoop(listener, route: route, endpoint: endpoint) }
        }
        if let pods = configuration.pods {
            for (listener, endpoint) in zip(listeners.dropFirst(configuration.routes.count), podListening) {
                spawn("proxy-accept-pods") { [self] in podAcceptLoop(listener, pods: pods, endpoint: endpoint) }
            }
        }
        spawn("proxy-expiry") { [self] in expiryLoop() }
        for (index, route) in configuration.routes.enumerated() {
            log("relaying \(listening[index]) -> \(route.host) at \(route.target)")
        }
        if let pods = configuration.pods {
            let networks = pods.networks.entries.map { "\($0.network) \($0.host)" }.joined(separator: ", ")
            log("relaying pod traffic on \(podListening.map(\.description).joined(separator: ", ")) to \(networks), mark \(pods.mark)")
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

    /// The host a caller is, by its address: the one that claims it, else the one whose pod
    /// network holds it (a pod dialling from its own address); nil for anyone else.
    func sourceHost(of peer: String) -> HostName? {
        configuration.pods?.networks.sourceHost(of: peer, sources: configuration.sources) ?? configuration.sources[peer]
    }

    private func acceptLoop(_ listener: Int32, route: Route, endpoint: Endpoint) {
        while let (fd, peer) = ProxySocket.accept(listener) {
            let source: HostName
            if let known = sourceHost(of: peer) {
                source = known
            } else {
                source = peer
                unknownSourceConnections.add(1, ordering: .relaxed)
            }
            guard admit(fd, source: source, route: route) else { break }
        }
    }

    /// Accepts connections to any pod address on one pod port: `PodNetworks.decide` names the
    /// link, and the connection is relayed to the address and port it was sent to.
    private func podAcceptLoop(_ listener: Int32, pods: PodTraffic, endpoint: Endpoint) {
        while let (fd, peer) = ProxySocket.accept(listener) {
            let destination = ProxySocket.localAddress(fd)
            switch pods.networks.decide(peer: peer, destination: destination, sources: configuration.sources) {
            case .relay(let source, let host):
                let route = Route(host: host, listen: endpoint, target: Endpoint(host: destination, port: endpoint.port), mark: pods.mark)
                guard admit(fd, source: source, route: route) else { return }
            case .notAPodAddress:
                refuse(fd, counting: podConnectionsUnrouted,
                    "no pod network holds \(destination) (from \(peer), port \(endpoint.port); see pod_connections_unrouted)")
            case .unknownSource:
                refuse(fd, counting: podConnectionsUnknownSource,
                    "no host claims \(peer) (to pod \(destination):\(endpoint.port); see pod_connections_unknown_source)")
            case .ownHost(let host):
                refuse(fd, counting: podConnectionsOwnHost,
                    "\(peer) and \(destination):\(endpoint.port) are both \(host)'s, whose own lo answers for its pods (see pod_connections_own_host)")
            }
        }
    }

    /// Resets a pod-port connection the proxy will not relay, counts it, and logs the first of
    /// its kind (a caller retrying in a loop must not flood the log).
    private func refuse(_ fd: Int32, counting counter: borrowing Atomic<Int>, _ why: @autoclosure () -> String) {
        if counter.wrappingAdd(1, ordering: .relaxed).newValue == 1 { log("reset a pod connection: \(why()) (logged once)") }
        ProxySocket.setResetOnClose(fd)
        close(fd)
    }

    /// Registers an accepted connection on the link `source -> route.host` and starts relaying
    /// it; resets it when `connectionsMax` are open. False when the proxy is stopping (the
    /// descriptor is closed and the accept loop should end).
    private func admit(_ fd: Int32, source: HostName, route: Route) -> Bool {
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
                return false
            }
            connectionsOverLimit.add(1, ordering: .relaxed)
            ProxySocket.setResetOnClose(fd)
            close(fd)
            return true
        }
        forward.add(.connectionsOpen)
        spawn("proxy-relay") { connection.run() }
        return true
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
    /// Pod-port connections reset because no pod network holds the address they were sent to.
    public var podUnroutedCount: Int { podConnectionsUnrouted.load(ordering: .relaxed) }
    /// Pod-port connections reset because no host claims their source address.
    public var podUnknownSourceCount: Int { podConnectionsUnknownSource.load(ordering: .relaxed) }
    /// Pod-port connections reset because they were for a pod address of the caller's own host.
    public var podOwnHostCount: Int { podConnectionsOwnHost.load(ordering: .relaxed) }
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
            "pod_connections_unrouted": .integer(Int64(podConnectionsUnrouted.load(ordering: .relaxed))),
            "pod_connections_unknown_source": .integer(Int64(podConnectionsUnknownSource.load(ordering: .relaxed))),
            "pod_connections_own_host": .integer(Int64(podConnectionsOwnHost.load(ordering: .relaxed))),
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
