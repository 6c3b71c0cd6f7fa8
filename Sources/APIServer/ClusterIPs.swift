//! Cluster IPs for Services, from `--service-cluster-ip-range`, race-free across apiservers.
//!
//! An address is taken by claiming it in the store first: a create-only write of
//! `<prefix>/ranges/serviceips/<ip>` naming the Service (`ClusterIPClaim`). Of two apiservers
//! creating Services at the same instant, one wins each address and the other moves on to the
//! next free one. The claim is released when the Service is deleted, or when its create fails
//! after the claim (the name was taken). A claim left behind otherwise (a crash between the
//! two writes, a write whose answer was lost) is freed by the repair pass in the bootstrap loop
//! after a few passes with no Service holding it (`ClusterIPRepair`), as kube-apiserver's
//! repair controller frees leaked addresses.
//!
//! The range's first host address is the `kubernetes` Service's, as in a real cluster: it is
//! never handed out here, and asking for it is refused as already allocated.

import Base
import KubeAPI
import Wire

extension APIServer {
    /// The `kubernetes` Service's address: the first host address of the range (10.96.0.1).
    var kubernetesServiceAddress: UInt32 { clusterIPs.network &+ 1 }

    /// Where the claims live, one key per address.
    var clusterIPClaimPrefix: String { "\(store.prefix)/ranges/serviceips/" }

    func clusterIPClaimKey(_ address: UInt32) -> String { clusterIPClaimPrefix + IPv4Range.format(address) }

    /// How many addresses one create tries to claim before giving up: each lost claim means
    /// another Service took that address at the same moment, so this bounds how many racing
    /// creates one create outlasts.
    static let clusterIPClaimAttemptsMax = 64

    /// Gives a Service of type other than ExternalName a cluster IP, or checks the one it asks
    /// for, and claims it in the store (a dry run checks and claims nothing).
    func assignClusterIP(_ service: JSONValue, dryRun: Bool = false) throws(APIFailure) -> JSONValue {
        let type = service.string(at: "spec.type") ?? "ClusterIP"
        guard type != "ExternalName" else { return service }
        let requested = service.string(at: "spec.clusterIP") ?? ""
        if requested == "None" { return service }
        let name = service.string(at: "metadata.name") ?? ""
        let resource = KubeCore.resource(group: "", version: "v1", plural: "services")!
        guard let claim = ClusterIPClaim(service: service) else {
            preconditionFailure("a Service reaches allocation validated, so named: \(JSON.serialize(service))")
        }
        var used: Set<UInt32>
        do { used = try allocatedClusterIPs() } catch { throw APIFailure(error) }
        let address: UInt32
        if !requested.isEmpty {
            guard let parsed = IPv4Range.parse(requested), clusterIPs.contains(parsed) else {
                throw .invalid(resource, name: name, causes: [FieldCause(field: "spec.clusterIPs", reason: .invalid,
                    message: "Invalid value: []string{\"\(requested)\"}: failed to allocate IP \(requested): the provided IP (\(requested)) is not in the valid range. The range of valid IPs is \(configuration.serviceClusterIPRange)")])
            }
            let taken = FieldCause(field: "spec.clusterIPs", reason: .invalid,
                message: "Invalid value: []string{\"\(requested)\"}: failed to allocate IP \(requested): provided IP is already allocated")
            guard !used.contains(parsed) else { throw .invalid(resource, name: name, causes: [taken]) }
            if !dryRun {
                let won: Bool
                do { won = try claimClusterIP(parsed, for: claim) } catch { throw APIFailure(error) }
                guard won else { throw .invalid(resource, name: name, causes: [taken]) }
            }
            address = parsed
        } else {
            var chosen: UInt32?
            for _ in 0..<Self.clusterIPClaimAttemptsMax {
                guard let free = clusterIPs.first(notIn: used) else { throw .internalError("failed to allocate a serviceIP: range is full") }
                let won: Bool
                if dryRun { won = true } else {
                    do { won = try claimClusterIP(free, for: claim) } catch { throw APIFailure(error) }
                }
                if won {
                    chosen = free
                    break
                }
                used.insert(free)  // another Service took it a moment ago: the next one
            }
            guard let chosen else {
                throw .internalError("failed to allocate a serviceIP: \(Self.clusterIPClaimAttemptsMax) addresses in a row were claimed by others first")
            }
            address = chosen
        }
        precondition(address != kubernetesServiceAddress,
            "allocation handed the kubernetes Service's address \(IPv4Range.format(address)) to \(claim)")
        var result = service
        result.set("spec.clusterIP", .string(IPv4Range.format(address)))
        result.set("spec.clusterIPs", .array([.string(IPv4Range.format(address))]))
        return result
    }

    /// Releases the claims of a Service that is gone (deleted, or its create failed after the
    /// claim): each address it holds whose claim names this very Service (same uid). Any other
    /// object holds no cluster IP and costs nothing. A failure is logged and left to the repair
    /// pass; the `kubernetes` Service's address stays claimed for good.
    func releaseClusterIP(of service: JSONValue) {
        let addresses = ClusterIPClaim.addresses(of: service, in: clusterIPs).filter { $0 != kubernetesServiceAddress }
        guard !addresses.isEmpty, let owner = ClusterIPClaim(service: service), !owner.uid.isEmpty else { return }
        for address in addresses {
            let key = clusterIPClaimKey(address)
            do {
                guard let stored = try store.get(key), ClusterIPClaim(record: stored.object) == owner else { continue }
                _ = try store.delete(key, ifRevision: stored.revision)
            } catch {
                configuration.log("cluster IP \(IPv4Range.format(address)) of \(owner) not released (the repair pass will free it): \(error)")
            }
        }
    }

    /// Claims `address` for `claim` if nobody has: true when this call did.
    func claimClusterIP(_ address: UInt32, for claim: ClusterIPClaim) throws(StoreFailure) -> Bool {
        try store.write(clusterIPClaimKey(address), claim.record(address: address), ifRevision: 0).revision != nil
    }

    /// The addresses no new Service may take: the claimed ones, the ones Services hold (those
    /// written before claims existed have none), and the `kubernetes` Service's.
    func allocatedClusterIPs() throws(StoreFailure) -> Set<UInt32> {
        var used: Set<UInt32> = [kubernetesServiceAddress]
        for item in try store.list(store.collectionPrefix(resource: "services", namespace: nil)).items {
            used.formUnion(ClusterIPClaim.addresses(of: item.object, in: clusterIPs))
        }
        for item in try store.list(clusterIPClaimPrefix).items {
            if let address = ClusterIPClaim.address(ofRecord: item.object) { used.insert(address) }
        }
        return used
    }
}
