//! The namespaces as of a moment ago, kept by a list and a watch on the store, so that a create
//! checks its namespace without a store round trip (the real apiserver's NamespaceLifecycle
//! admission reads its informer cache the same way). A namespace the cache does not know is
//! looked up in the store, so one created a moment ago on another apiserver is never refused;
//! one deleted a moment ago may still take a create, as in Kubernetes.

import Base
import EtcdClient
import Foundation
import Synchronization
import Wire

final class NamespaceCache: Sendable {
    private let phases = Mutex<[String: String]?>(nil)
    private let cancel = WatchCancel()
    private let running = Atomic<Bool>(true)

    /// The namespace's `status.phase` if the cache is synced and holds it, else nil.
    func phase(of name: String) -> String? { phases.withLock { $0?[name] } }

    func start(_ store: ObjectStore, log: @escaping @Sendable (String) -> Void) {
        let thread = Thread { [self] in
            let prefix = store.collectionPrefix(resource: "namespaces", namespace: nil)
            while running.load(ordering: .relaxed) {
                do {
                    let listed = try store.list(prefix)
                    var known: [String: String] = [:]
                    for item in listed.items { Self.note(item.object, in: &known) }
                    phases.withLock { $0 = known }
                    try store.watch(prefix, from: listed.revision + 1, cancel: cancel) { [self] events in
                        phases.withLock { phases in
                            for event in events {
                                if event.isDelete {
                                    let name = String(event.kv.keyString.dropFirst(prefix.count))
                                    phases?[name] = nil
                                } else if let object = try? store.decode(event.kv) {
                                    if phases == nil { phases = [:] }
                                    Self.note(object.object, in: &phases!)
                                }
                            }
                        }
                        return running.load(ordering: .relaxed)
                    }
                } catch {
                    log("namespace cache: \(error); listing again")
                }
                // Until it has listed again, everything is looked up in the store.
                phases.withLock { $0 = nil }
                if running.load(ordering: .relaxed) { usleep(500_000) }
            }
        }
        thread.name = "namespace-cache"
        thread.start()
    }

    func stop() {
        running.store(false, ordering: .relaxed)
        cancel.cancel()
    }

    private static func note(_ object: JSONValue, in phases: inout [String: String]) {
        guard case .string(let name)? = object["metadata"]?["name"] else { return }
        if case .string(let phase)? = object["status"]?["phase"] { phases[name] = phase } else { phases[name] = "Active" }
    }
}
