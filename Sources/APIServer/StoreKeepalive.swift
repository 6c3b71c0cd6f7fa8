//! Keepalive for the store watches: what gRPC keepalive does for kube-apiserver's etcd client.
//! A watch on a member whose link went silent (a blackholed partition, a paused process) gets
//! no error and no bytes: it would wait quietly until its client's watch timed out. So every
//! `interval` (kube-apiserver: 30 s) each member that has watches is asked for its status, on
//! a fresh connection along the same path; one that does not answer within `timeout` (10 s)
//! has its watches cut, and they are watched again on the next member.
//!
//! One probe per member per interval, however many watches it carries, as gRPC pings one
//! connection rather than each stream.

import Base
import EtcdClient
import Foundation
import Net
import Synchronization

final class StoreKeepalive: Sendable {
    let interval: Nanoseconds
    let timeout: Nanoseconds
    private struct Entry {
        var endpoint: String
        var cancel: WatchCancel
        var cut = false
    }
    private let entries = Mutex<[UInt64: Entry]>([:])
    private let nextToken = Atomic<UInt64>(1)

    init(interval: Nanoseconds, timeout: Nanoseconds) {
        precondition(interval > 0 && timeout > 0, "store keepalive needs a positive interval and timeout (got \(interval) ns, \(timeout) ns)")
        self.interval = interval
        self.timeout = timeout
    }

    /// Watches running on `endpoint`, ended through `cancel` when it stops answering.
    func register(endpoint: String, cancel: WatchCancel) -> UInt64 {
        let token = nextToken.add(1, ordering: .relaxed).oldValue
        entries.withLock { $0[token] = Entry(endpoint: endpoint, cancel: cancel) }
        return token
    }

    /// The watch is over; true when it was this keepalive that ended it.
    func unregister(_ token: UInt64) -> Bool {
        entries.withLock { $0.removeValue(forKey: token)?.cut ?? false }
    }

    /// Probes every `interval` on a thread of its own until `stop` is signalled (the apiserver's
    /// stop, which then waits for the probe under way).
    func start(until stop: StopSignal) {
        stop.begin()
        let thread = Thread { [self] in
            defer { stop.end() }
            while !stop.sleep(interval) { probeAll() }
        }
        thread.name = "store-keepalive"
        thread.start()
    }

    /// Probes every member that carries watches, one after another (a silent one costs `timeout`).
    private func probeAll() {
        let endpoints = Set(entries.withLock { $0.values.map(\.endpoint) }).sorted()
        for endpoint in endpoints where !answers(endpoint) {
            let cut = entries.withLock { entries -> [WatchCancel] in
                var cancels: [WatchCancel] = []
                for token in entries.keys where entries[token]!.endpoint == endpoint {
                    entries[token]!.cut = true
                    cancels.append(entries[token]!.cancel)
                }
                return cancels
            }
            for cancel in cut { cancel.cancel() }
        }
    }

    /// Any answer counts, a "no leader" too: the question is whether the link is alive.
    private func answers(_ endpoint: String) -> Bool {
        let client = EtcdClient(endpoints: [endpoint], timeout: timeout, connectTimeout: timeout)
        do {
            _ = try client.status()
            return true
        } catch {
            if case .server = error { return true }
            return false
        }
    }
}
