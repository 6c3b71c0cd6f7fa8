//! kube-proxy's pure core, part two: which backend a new connection goes to. Round robin over a
//! listener's backends (sorted, so the order is the same on every run; kube-proxy shuffles them
//! instead), and with ClientIP session affinity the backend a client last got, while it comes
//! back within the timeout — the rules of kube-proxy's userspace `LoadBalancerRR`: a client's
//! entry remembers its backend and when it was last used, every use renews it, and the entries
//! of a backend that left are dropped. When the backends change the turn starts again at the
//! first. Time is a parameter.

import Base

public struct ServiceBalancer: Sendable {
    public struct Settings: Sendable, Equatable {
        /// Clients remembered per listener for session affinity; when full, the expired ones go
        /// first, then the least recently used (kube-proxy keeps them all).
        public var affinityClientsMax: Int

        public init(affinityClientsMax: Int = 65_536) {
            precondition(affinityClientsMax > 0, "affinityClientsMax \(affinityClientsMax)")
            self.affinityClientsMax = affinityClientsMax
        }
    }

    struct Sticky: Sendable, Equatable {
        var backend: ProxyBackend
        var lastUsed: Nanoseconds
    }

    struct ListenerState: Sendable {
        var backends: [ProxyBackend]
        var affinity: SessionAffinity
        /// Invariant: `0 <= next < max(1, backends.count)`.
        var next = 0
        /// Client IP → its backend; only with ClientIP affinity, and only backends in `backends`.
        var clients: [String: Sticky] = [:]
    }

    public let settings: Settings
    private var listeners: [ServiceAddress: ListenerState] = [:]

    public init(settings: Settings = Settings()) { self.settings = settings }

    /// Takes the plan's listeners: new ones start their turn at the first backend, removed ones
    /// are forgotten, changed ones keep the clients whose backends remain.
    public mutating func update(_ plan: ProxyPlan) {
        var updated: [ServiceAddress: ListenerState] = [:]
        for listener in plan.listeners {
            guard var state = listeners[listener.address] else {
                updated[listener.address] = ListenerState(backends: listener.backends, affinity: listener.affinity)
                continue
            }
            if state.backends != listener.backends {
                let remaining = Set(listener.backends)
                state.clients = state.clients.filter { remaining.contains($0.value.backend) }
                state.backends = listener.backends
                state.next = 0
            }
            if state.affinity != listener.affinity {
                state.clients = [:]
                state.affinity = listener.affinity
            }
            updated[listener.address] = state
        }
        listeners = updated
    }

    /// The backend for a new connection from `clientIP` to `address`, taking its turn (or
    /// renewing the client's affinity); nil when the listener is unknown or has no backend.
    public mutating func choose(_ address: ServiceAddress, clientIP: String, now: Nanoseconds) -> ProxyBackend? {
        guard var state = listeners[address], !state.backends.isEmpty else { return nil }
        precondition(state.next >= 0 && state.next < state.backends.count, "turn \(state.next) of \(state.backends.count) backends at \(address)")
        defer { listeners[address] = state }
        guard case .clientIP(let timeoutSeconds) = state.affinity else { return Self.takeTurn(&state) }
        let timeout = timeoutSeconds * Time.second
        if var sticky = state.clients[clientIP], now - sticky.lastUsed < timeout {
            sticky.lastUsed = now
            state.clients[clientIP] = sticky
            return sticky.backend
        }
        let backend = Self.takeTurn(&state)
        if state.clients[clientIP] == nil && state.clients.count >= settings.affinityClientsMax {
            makeRoom(&state, now: now, timeout: timeout)
        }
        state.clients[clientIP] = Sticky(backend: backend, lastUsed: now)
        return backend
    }

    /// Forgets `clientIP`'s backend at `address` (the shell could not reach it: the next
    /// attempt takes a turn, as kube-proxy resets affinity after a failed dial).
    public mutating func forget(_ address: ServiceAddress, clientIP: String) {
        listeners[address]?.clients[clientIP] = nil
    }

    /// The listeners known, sorted (for tests and logs).
    public var addresses: [ServiceAddress] { listeners.keys.sorted() }

    /// How many clients `address` remembers.
    public func rememberedClients(_ address: ServiceAddress) -> Int { listeners[address]?.clients.count ?? 0 }

    private static func takeTurn(_ state: inout ListenerState) -> ProxyBackend {
        let backend = state.backends[state.next]
        state.next = (state.next + 1) % state.backends.count
        return backend
    }

    /// Drops the expired clients; if none had expired, the least recently used one (ties: the
    /// smallest IP, so the choice does not depend on the dictionary's order).
    private func makeRoom(_ state: inout ListenerState, now: Nanoseconds, timeout: Nanoseconds) {
        let before = state.clients.count
        state.clients = state.clients.filter { now - $0.value.lastUsed < timeout }
        guard state.clients.count == before,
            let oldest = state.clients.min(by: { ($0.value.lastUsed, $0.key) < ($1.value.lastUsed, $1.key) })
        else { return }
        state.clients[oldest.key] = nil
    }
}
