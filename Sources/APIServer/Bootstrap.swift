//! What a real apiserver creates at start and keeps afterwards, on one background thread:
//! first the system namespaces, retried until the store answers (an apiserver may start before
//! etcd has a leader; several apiservers racing to create them is fine, the guarded create lets
//! one win); then, until the apiserver stops, the `kubernetes` Service, its Endpoints and the
//! cluster-IP repair (`KubernetesServiceLoop`).

import Base
import Foundation
import Net
import KubeAPI
import Wire

extension APIServer {
    static let systemNamespaces = ["default", "kube-system", "kube-public", "kube-node-lease"]
    /// How long the namespaces' creation waits between attempts while the store does not answer.
    static let namespaceRetryInterval: Nanoseconds = 500 * Time.millisecond

    public func bootstrapInBackground() {
        background.begin()
        let thread = Thread { [self] in
            defer { background.end() }
            var missing = Self.systemNamespaces
            while !missing.isEmpty {
                missing = missing.filter { !ensureNamespace($0) }
                if !missing.isEmpty && background.sleep(Self.namespaceRetryInterval) { return }
            }
            bootstrapped.store(true, ordering: .sequentiallyConsistent)
            configuration.log("system namespaces present: \(Self.systemNamespaces.joined(separator: ", "))")
            runKubernetesServiceLoop()
        }
        thread.name = "apiserver-bootstrap"
        thread.start()
    }

    /// Rounds of the bootstrap loop until the apiserver stops, then its clean-up.
    private func runKubernetesServiceLoop() {
        let published = KubernetesService.publishedAddress(advertise: configuration.advertise, listenHost: configuration.listen.host,
            listenPort: Int64(port))
        if case .unlisted(let reason, _) = published {
            configuration.log("kubernetes Endpoints: this apiserver is not listed in them: \(reason)")
        }
        var loop = KubernetesServiceLoop(server: self, published: published)
        repeat {
            loop.round()
        } while !background.sleep(configuration.endpointReconcilerInterval)
        loop.finish()
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
