//! The namespaces as of a moment ago, kept by a list and a watch on the store, so that a create
//! checks its namespace without a store round trip (the real apiserver's NamespaceLifecycle
//! admission reads its informer cache the same way). A namespace the cache does not know is
//! looked up in the store, so one created a moment ago on another apiserver is never refused.
//! A namespace this apiserver marks Terminating is refused here at once, without waiting for the
//! watch to bring the change back (so after `kubectl delete namespace` returns, a create through
//! the same apiserver is refused); through another apiserver it may still take a create for a
//! moment, as in Kubernetes.

import Base
import EtcdClient
import Foundation
import Synchronization
import Wire

final class NamespaceCache: Sendable {
    /// Name → phase and the store revision it was read at; nil until listed.
    private let phases = Mutex<[String: Entry]?>(nil)

    struct Entry {
        var phase: String
        var revision: Int64
    }
    private let cancel = WatchCancel()
    private let running = Atomic<Bool>(true)

    /// The namespace's `status.phase` if the cache is synced and holds it, else nil.
    func phase(of name: String) -> String? { phases.withLock { $0?[name]?.phase } }

    /// This apiserver just wrote the namespace Terminating at `revision`: an older watch event
    /// still on its way cannot make it Active again.
    func noteTerminating(_ name: String, revision: Int64) {
        phases.withLock { phases in
            guard phases != nil, (phases![name]?.revision ?? 0) < revision else { return }
            phases![name] = Entry(phase: "Terminating", revision: revision)
        }
    }

    func start(_ store: ObjectStore, log: @escaping @Sendable (String) -> Void) {
        let thread = Thread { [self] in
            let prefix = store.collectionPrefix(resource: "namespaces", namespace: nil)
            while running.load(ordering: .relaxed) {
                do {
                    let listed = try store.list(prefix)
                    var known: [String: Entry] = [:]
                    for item in listed.items { Self.note(item.object, revision: item.revision, in: &known) }
                    phases.withLock { $0 = known }
                    try store.watch(prefix, from: listed.revision + 1, cancel: cancel) { [self] events in
                        phases.withLock { phases in
                            for event in events {
                                if event.isDelete {
                                    let name = String(event.kv.keyString.dropFirst(prefix.count))
                                    phases?[name] = nil
                                } else if let object = try? store.decode(event.kv) {
                                    if phases == nil { phases = [:] }
                                    Self.note(object.object, revision: object.revision, in: &phases!)
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

    private static func note(_ object: JSONValue, revision: Int64, in phases: inout [String: Entry]) {
        guard case .string(let name)? = object["metadata"]?["name"], (phases[name]?.revision ?? 0) <= revision else { return }
        let phase: String = if case .string(let phase)? = object["status"]?["phase"] { phase } else { "Active" }
        phases[name] = Entry(phase: phase, revision: revision)
    }
}
