//! The bootstrap loop: what a real apiserver's bootstrap controller and lease endpoint
//! reconciler do, every `endpointReconcilerInterval` (10 s), on every apiserver of the cluster.
//!
//! 1. The `kubernetes` Service in `default`: created if missing (so recreated within an interval
//!    of a delete), with the range's first address, claimed for it for good.
//! 2. This apiserver's lease record `<prefix>/masterleases/<ip>`: put under a store lease of
//!    `masterEndpointReconcileTTL` (15 s) kept alive each round; then the Endpoints `kubernetes`
//!    are set to the addresses of the records there, when they differ (a guarded write: one
//!    that loses to another apiserver is left to the next round). An apiserver that dies stops
//!    renewing, and its record goes with its lease. One stopped cleanly revokes its lease and
//!    reconciles once more, so it leaves the Endpoints at once. One with no address to list
//!    (listening on 0.0.0.0 with no --advertise-address) does only step 1, and says so.
//! 3. Every `repairServicesInterval` (3 min), the repair pass over the cluster-IP claims
//!    (`ClusterIPRepair`).
//!
//! It runs on the bootstrap thread alone, so its state needs no lock.

import Base
import EtcdClient
import Foundation
import KubeAPI
import Net
import Wire

struct KubernetesServiceLoop {
    let server: APIServer
    let published: KubernetesService.PublishedAddress
    /// The lease's client: the pooled ones of `ObjectStore` offer no leases. Dropped after a
    /// failure, and the next one starts past the endpoint that failed (`ObjectStore.passOver`).
    private var leaseClient: EtcdClient?
    /// The store lease this apiserver's record is attached to; 0: none yet (or it lapsed).
    private var leaseID: Int64 = 0
    private var repair = ClusterIPRepair()
    private var nextRepair: Nanoseconds = 0
    /// The last problem logged per step, so that a store outage is logged once, not every round.
    private var lastProblem: [String: String] = [:]

    init(server: APIServer, published: KubernetesService.PublishedAddress) {
        self.server = server
        self.published = published
    }

    var configuration: APIServerConfiguration { server.configuration }
    var store: ObjectStore { server.store }
    var leaseTTLSeconds: Int64 { max(1, (configuration.masterEndpointReconcileTTL + Time.second - 1) / Time.second) }

    func leaseKey(_ ip: String) -> String { "\(store.prefix)/masterleases/\(ip)" }

    /// One round: the Service, this apiserver's lease and the Endpoints, the repair pass when due.
    /// A stop between its steps ends the round early: with the store out of reach each step
    /// costs a request timeout, and the stop waits for the round.
    mutating func round() {
        ensureService()
        if server.background.isStopped { return }
        if case .listed(let ip, let port) = published, renewLease(ip) {
            if server.background.isStopped { return }
            reconcileEndpoints(port: port)
        }
        if server.background.isStopped { return }
        let now = FaultClock.shared.monotonic()
        if now >= nextRepair {
            repairClusterIPs()
            nextRepair = now + configuration.repairServicesInterval
        }
    }

    /// On a clean stop: this apiserver's record goes (its lease revoked, which deletes only what
    /// is attached to it: another apiserver advertising the same address keeps its own), and the
    /// Endpoints follow at once rather than when another apiserver's round comes.
    mutating func finish() {
        guard case .listed(_, let port) = published, leaseID != 0 else { return }
        do {
            try client().leaseRevoke(leaseID)
            leaseID = 0
        } catch {
            configuration.log("kubernetes Endpoints: could not revoke this apiserver's lease (it lapses within \(leaseTTLSeconds) s): \(error)")
            return
        }
        reconcileEndpoints(port: port)
    }

    // MARK: - The Service

    mutating func ensureService() {
        let key = store.key(resource: "services", namespace: KubernetesService.namespace, name: KubernetesService.name)
        let reserved = server.kubernetesServiceAddress
        do {
            if try store.get(key) != nil { return settled("service") }
            // A Service written before claims existed may hold the address: then it is not the
            // kubernetes Service's to take (a real apiserver fails to create it in that case too).
            let services = try store.list(store.collectionPrefix(resource: "services", namespace: nil)).items
            if let holder = services.first(where: { ClusterIPClaim.addresses(of: $0.object, in: server.clusterIPs).contains(reserved) }) {
                let owner = ClusterIPClaim(service: holder.object)?.description ?? "?"
                return problem("service", "cannot create the kubernetes Service: its address \(IPv4Range.format(reserved)) is held by \(owner)")
            }
            if !(try server.claimClusterIP(reserved, for: .kubernetesService)) {
                let stored = try store.get(server.clusterIPClaimKey(reserved))
                let owner = stored.flatMap { ClusterIPClaim(record: $0.object) }
                guard owner == .kubernetesService else {
                    return problem("service", "cannot create the kubernetes Service: its address \(IPv4Range.format(reserved)) is claimed by \(owner?.description ?? "an unreadable claim")")
                }
            }
            let resource = KubeCore.resource(group: "", version: "v1", plural: "services")!
            var object = KubernetesService.service(clusterIP: IPv4Range.format(reserved), targetPort: published.port)
            object = KubeCore.defaulted(KubeCore.prepareForCreate(object, resource: resource, now: server.now(), uid: Identifiers.uid(),
                generatedSuffix: ""), resource: resource, tolerationSeconds: server.tolerationSeconds)
            let causes = KubeCore.validate(object, old: nil, resource: resource)
            precondition(causes.isEmpty, "the kubernetes Service as built is invalid: \(causes) \(JSON.serialize(object))")
            if try store.write(key, object, ifRevision: 0).revision != nil {
                configuration.log("created the kubernetes Service: \(IPv4Range.format(reserved)):\(KubernetesService.servicePort) to port \(published.port)")
            }
            settled("service")
        } catch {
            problem("service", "the kubernetes Service: \(error)")
        }
    }

    // MARK: - Lease and Endpoints

    /// Keeps this apiserver's record in the store under a live lease: true when it is there.
    mutating func renewLease(_ ip: String) -> Bool {
        do {
            let client = client()
            if leaseID != 0 {
                // TTL 0: the lease lapsed (this apiserver could not reach the store for a while),
                // and its record went with it.
                if try client.leaseKeepAliveOnce(leaseID) <= 0 { leaseID = 0 }
            }
            if leaseID == 0 { leaseID = try client.leaseGrant(ttl: leaseTTLSeconds).id }
            // Put every round, as the real reconciler rewrites its record: one deleted by hand,
            // or by another apiserver of the same address stopping, comes back.
            try client.put(leaseKey(ip), JSON.serialize(KubernetesService.leaseRecord(ip: ip)), lease: leaseID)
            settled("lease")
            return true
        } catch {
            // A lease this client no longer knows is granted anew next round; one that is still
            // alive lapses on its own, its record moved to the new one.
            leaseID = 0
            dropClient()
            problem("lease", "kubernetes Endpoints: renewing this apiserver's lease: \(error)")
            return false
        }
    }

    /// Sets the Endpoints `kubernetes` to the addresses of the lease records, when they differ.
    mutating func reconcileEndpoints(port: Int64) {
        do {
            let records = try store.list("\(store.prefix)/masterleases/").items
            let addresses = records.compactMap { KubernetesService.leaseAddress($0.object) }
            guard !addresses.isEmpty else {
                return problem("endpoints", "no apiserver lease records in the store; leaving the kubernetes Endpoints as they are")
            }
            let key = store.key(resource: "endpoints", namespace: KubernetesService.namespace, name: KubernetesService.name)
            let current = try store.get(key)
            guard var next = KubernetesService.reconciledEndpoints(current: current?.object, addresses: addresses, port: port) else {
                return settled("endpoints")
            }
            let resource = KubeCore.resource(group: "", version: "v1", plural: "endpoints")!
            if current == nil {
                next = KubeCore.prepareForCreate(next, resource: resource, now: server.now(), uid: Identifiers.uid(), generatedSuffix: "")
            }
            next = KubeCore.defaulted(next, resource: resource, tolerationSeconds: server.tolerationSeconds)
            // Lost to another apiserver's write: fine, the next round looks again.
            if try store.write(key, next, ifRevision: current?.revision ?? 0).revision != nil {
                configuration.log("kubernetes Endpoints set to \(Array(Set(addresses)).sorted().joined(separator: ","))")
            }
            settled("endpoints")
        } catch {
            problem("endpoints", "the kubernetes Endpoints: \(error)")
        }
    }

    // MARK: - Cluster IP repair

    mutating func repairClusterIPs() {
        do {
            // Services first: a claim written after this read, for a Service written after it
            // too, is then at worst suspected once (it takes several passes to be freed).
            let services = try store.list(store.collectionPrefix(resource: "services", namespace: nil)).items.map(\.object)
            let claims = try store.list(server.clusterIPClaimPrefix).items.compactMap { item in
                ClusterIPClaim.address(ofRecord: item.object).map {
                    ClusterIPRepair.StoredClaim(address: $0, claim: ClusterIPClaim(record: item.object), revision: item.revision)
                }
            }
            let plan = repair.pass(claims: claims, services: services, range: server.clusterIPs, reserved: server.kubernetesServiceAddress)
            for (address, claim) in plan.missing {
                guard try server.claimClusterIP(address, for: claim) else { continue }
                configuration.log("cluster IP repair: \(IPv4Range.format(address)) held by \(claim) had no claim; claimed it")
            }
            for (address, revision) in plan.leaked {
                // Guarded: a claim rewritten since it was read (freed and claimed again) stays.
                guard try store.delete(server.clusterIPClaimKey(address), ifRevision: revision).revision != nil else { continue }
                configuration.log("cluster IP repair: \(IPv4Range.format(address)) was claimed but no Service held it in \(ClusterIPRepair.passesBeforeLeakCleanup) passes; freed it")
            }
            for (address, holders) in plan.duplicates {
                configuration.log("cluster IP repair: \(IPv4Range.format(address)) is held by several Services: \(holders.joined(separator: ", "))")
            }
            settled("repair")
        } catch {
            problem("repair", "cluster IP repair: \(error)")
        }
    }

    // MARK: - Plumbing

    private mutating func client() -> EtcdClient {
        if let leaseClient { return leaseClient }
        let client = store.newClient()
        leaseClient = client
        return client
    }

    private mutating func dropClient() {
        if let leaseClient { store.passOver(leaseClient.currentEndpoint) }
        leaseClient = nil
    }

    /// Logs a step's problem once until it changes or the step succeeds.
    private mutating func problem(_ step: String, _ message: String) {
        guard lastProblem[step] != message else { return }
        lastProblem[step] = message
        configuration.log(message)
    }

    private mutating func settled(_ step: String) {
        if lastProblem.removeValue(forKey: step) != nil { configuration.log("\(step): working again") }
    }
}
