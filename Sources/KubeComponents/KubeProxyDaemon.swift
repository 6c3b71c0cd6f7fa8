//! `faultline kube-proxy`: Services' ClusterIPs answered on this node, in kube-proxy's old
//! userspace mode — the proxy itself accepts a connection to ClusterIP:port and relays it to a
//! ready endpoint, where iptables or IPVS mode would rewrite the packets in the kernel.
//!
//! Informers on Services and Endpoints feed the pure core (`ServiceListeners`: which listeners,
//! with which backends; `ServiceBalancer`: round robin, ClientIP affinity); each pass opens the
//! listeners that are new, closes the ones that went, and hands changed backends to the
//! balancer in place (connections already relayed go on). ClusterIPs are added as /32s to `lo`
//! of the namespace the proxy runs in (`PodAddressSetup`; 127.x addresses need nothing) and
//! removed when their Service goes. A Service port without a ready endpoint keeps its address
//! but no socket, so a connect is refused (RST), as kube-proxy's REJECT rule refuses it.

import Base
import Foundation
import Glibc
import KubeAPI
import KubeClient
import KubeNode
import Net
import Synchronization
import Wire

public struct KubeProxyConfiguration: Sendable {
    /// The node this proxy serves (its API client's host name, and the logs').
    public var nodeName: String
    public var relay = ServiceRelaySettings()
    public var balancer = ServiceBalancer.Settings()
    /// How soon a listener that could not bind (its address still held by a closing socket, say)
    /// is tried again.
    public var bindRetry: Nanoseconds = Time.second

    public init(nodeName: String) { self.nodeName = nodeName }
}

public final class KubeProxyDaemon: Sendable {
    public let settings: ComponentSettings
    public let configuration: KubeProxyConfiguration
    private let loop = ComponentLoop(name: "kube-proxy")
    private let balancer: Mutex<ServiceBalancer>
    private let connections: RelayedConnections
    private let shell = Mutex(ShellState())
    private let informers = Mutex<(services: Informer, endpoints: Informer)?>(nil)

    /// What the node holds: the sockets listening and the ClusterIPs on `lo`. Only the loop's
    /// pass changes it while running; `stop` empties it.
    private struct ShellState {
        var sockets: [ServiceAddress: ServiceSocket] = [:]
        var addresses: Set<String> = []
        var conflicts: [String] = []
        var stopped = false
    }

    public init(settings: ComponentSettings, configuration: KubeProxyConfiguration) {
        self.settings = settings
        self.configuration = configuration
        balancer = Mutex(ServiceBalancer(settings: configuration.balancer))
        connections = RelayedConnections(limit: configuration.relay.connectionsMax)
    }

    public func start() throws(APIClientConfigurationError) {
        let client = try APIClient(APIClientConfiguration(servers: settings.apiservers, component: "kube-proxy", host: configuration.nodeName))
        var informerConfiguration = InformerConfiguration()
        informerConfiguration.log = settings.log
        let poke: @Sendable (JSONValue) -> Void = { [loop] _ in loop.poke() }
        let handlers = InformerHandlers(onAdd: poke, onUpdate: { _, new in poke(new) }, onDelete: poke)
        let services = Informer(client: client, resource: .standard("services"), configuration: informerConfiguration, handlers: handlers)
        let endpoints = Informer(client: client, resource: .standard("endpoints"), configuration: informerConfiguration, handlers: handlers)
        informers.withLock { $0 = (services, endpoints) }
        services.start()
        endpoints.start()
        loop.start { [self] now in pass(services: services, endpoints: endpoints, now: now) }
    }

    /// The addresses a socket listens on now, sorted.
    public var listening: [ServiceAddress] { shell.withLock { $0.sockets.keys.sorted() } }

    /// Connections being relayed now.
    public var relayedConnections: Int { connections.count }

    private func pass(services: Informer, endpoints: Informer, now: Nanoseconds) -> Nanoseconds? {
        guard services.hasSynced && endpoints.hasSynced else { return nil }
        let plan = ServiceListeners.plan(services: services.list(), endpoints: endpoints.list())
        balancer.withLock { $0.update(plan) }
        let (held, listening, conflicts) = shell.withLock { ($0.addresses, Set($0.sockets.keys), $0.conflicts) }
        if plan.conflicts != conflicts {
            for conflict in plan.conflicts { settings.log("not served: \(conflict)") }
        }
        let wantedAddresses = Set(plan.addresses), wantedSockets = Set(plan.sockets)
        // Sockets go before their addresses, and addresses come before their sockets.
        let closing = shell.withLock { state in listening.subtracting(wantedSockets).compactMap { state.sockets.removeValue(forKey: $0) } }
        for socket in closing {
            socket.stop()
            settings.log("\(socket.address) closed")
        }
        for ip in held.subtracting(wantedAddresses).sorted() { PodAddressSetup.remove(ip, log: settings.log) }
        for ip in wantedAddresses.subtracting(held).sorted() { PodAddressSetup.add(ip, log: settings.log) }
        var failedBinds = false
        for address in wantedSockets.subtracting(listening).sorted() {
            do throws(NetError) {
                let socket = try ServiceSocket(address: address) { [self] client in accepted(client, at: address) }
                let kept = shell.withLock { state -> Bool in
                    guard !state.stopped else { return false }
                    state.sockets[address] = socket
                    return true
                }
                if !kept { socket.stop() }
                settings.log("\(address) listening for \(plan.listener(at: address)?.service ?? "?")")
            } catch {
                failedBinds = true
                settings.log("\(address) not listening yet: \(error.message)")
            }
        }
        shell.withLock { state in
            state.addresses = wantedAddresses
            state.conflicts = plan.conflicts
        }
        return failedBinds ? now + configuration.bindRetry : nil
    }

    /// A client connected to `address`: relay it on a thread of its own, or reset it at once when
    /// the proxy is full.
    private func accepted(_ client: Int32, at address: ServiceAddress) {
        guard let id = connections.reserve() else {
            Socket.setResetOnClose(client)
            close(client)
            return
        }
        let thread = Thread { [self] in relay(client, id: id, at: address) }
        thread.name = "kube-proxy-conn"
        thread.stackSize = 256 << 10
        thread.start()
    }

    private func relay(_ client: Int32, id: UInt64, at address: ServiceAddress) {
        let clientIP = Socket.peerIP(client) ?? ""
        var backendSocket: Int32?
        for timeout in configuration.relay.dialTimeouts {
            guard let backend = balancer.withLock({ $0.choose(address, clientIP: clientIP, now: MonotonicClock.now()) }) else { break }
            do throws(NetError) {
                backendSocket = try Socket.connect(Endpoint(host: backend.ip, port: UInt16(backend.port)), timeout: timeout)
                break
            } catch {
                settings.log("\(address) for \(clientIP): \(error.message)")
                balancer.withLock { $0.forget(address, clientIP: clientIP) }
            }
        }
        guard let backend = backendSocket else {
            // No backend (they all went since the accept) or none answered: refuse with an RST.
            Socket.setResetOnClose(client)
            close(client)
            connections.release(id)
            return
        }
        let connection = RelayedConnection(client: client, backend: backend) { [connections] in connections.release(id) }
        guard connections.record(id, connection) else {
            for fd in [client, backend] {
                Socket.setResetOnClose(fd)
                close(fd)
            }
            return
        }
        connection.run(bufferBytes: configuration.relay.bufferBytes)
    }

    /// Stops watching, closes every listener, resets the connections being relayed and takes
    /// the ClusterIPs off `lo`.
    public func stop() {
        loop.stop()
        if let (services, endpoints) = informers.withLock({ $0 }) {
            services.stop()
            endpoints.stop()
        }
        let (sockets, addresses) = shell.withLock { state in
            state.stopped = true
            defer {
                state.sockets = [:]
                state.addresses = []
            }
            return (Array(state.sockets.values), state.addresses)
        }
        for socket in sockets { socket.stop() }
        connections.closeAll()
        for ip in addresses.sorted() { PodAddressSetup.remove(ip, log: settings.log) }
    }
}
