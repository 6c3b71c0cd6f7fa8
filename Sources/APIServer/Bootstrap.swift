//! What a real apiserver creates at start: the system namespaces. It retries until the store
//! answers (an apiserver may start before etcd has a leader); several apiservers racing to
//! create them is fine, the guarded create lets one win.

import Base
import Foundation
import KubeAPI
import Wire

extension APIServer {
    static let systemNamespaces = ["default", "kube-system", "kube-public", "kube-node-lease"]

    public func bootstrapInBackground() {
        let thread = Thread { [self] in
            var missing = Self.systemNamespaces
            while !missing.isEmpty {
                missing = missing.filter { !ensureNamespace($0) }
                if !missing.isEmpty { usleep(500_000) }
            }
            bootstrapped.store(true, ordering: .sequentiallyConsistent)
            configuration.log("system namespaces present: \(Self.systemNamespaces.joined(separator: ", "))")
        }
        thread.name = "apiserver-bootstrap"
        thread.start()
    }

    /// True once the namespace exists (created now or before).
    func ensureNamespace(_ name: String) -> Bool {
        let key = store.key(resource: "namespaces", namespace: nil, name: name)
        switch Result(catching: { () throws(StoreFailure) in try store.get(key) }) {
        case .failure: return false
        case .success(.some): return true
        case .success(.none): break
        }
        var object: JSONValue = .object(["kind": .string("Namespace"), "apiVersion": .string("v1"), "metadata": .object(["name": .string(name)])])
        object = KubeCore.defaulted(KubeCore.prepareForCreate(object, resource: KubeCore.namespaces, now: now(), uid: Identifiers.uid(),
            generatedSuffix: ""), resource: KubeCore.namespaces, tolerationSeconds: tolerationSeconds)
        guard let outcome = try? store.write(key, object, ifRevision: 0) else { return false }
        return outcome.revision != nil || outcome.current != nil
    }
}
