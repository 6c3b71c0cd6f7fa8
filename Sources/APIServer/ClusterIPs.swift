//! Cluster IPs for Services, from `--service-cluster-ip-range`. The first address after the
//! network's is the `kubernetes` Service's, as in a real cluster. An address is free when no
//! Service holds it. There is no allocator key in the store yet, so two Service creates at the
//! same instant on two apiservers could pick one address; a real apiserver keeps a bitmap in
//! etcd for this. Noted as missing.

import KubeAPI
import Wire

struct ClusterIPAllocator: Sendable {
    let network: UInt32
    let size: UInt32

    init?(cidr: String) {
        let parts = cidr.split(separator: "/")
        guard parts.count == 2, let bits = UInt32(parts[1]), (8...30).contains(bits), let base = Self.parse(String(parts[0])) else { return nil }
        let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << (32 - bits)
        network = base & mask
        size = ~mask &+ 1
    }

    static func parse(_ text: String) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false).compactMap { UInt32($0) }
        guard octets.count == 4, octets.allSatisfy({ $0 <= 255 }) else { return nil }
        return octets.reduce(0) { $0 << 8 | $1 }
    }

    static func format(_ address: UInt32) -> String {
        [24, 16, 8, 0].map { String(address >> UInt32($0) & 0xff) }.joined(separator: ".")
    }

    func contains(_ address: UInt32) -> Bool { address > network && address < network &+ size &- 1 }

    /// The lowest free address (skipping the network and broadcast addresses), nil when full.
    func first(notIn used: Set<UInt32>) -> UInt32? {
        var candidate = network &+ 1
        while candidate < network &+ size &- 1 {
            if !used.contains(candidate) { return candidate }
            candidate &+= 1
        }
        return nil
    }
}

extension APIServer {
    /// Gives a Service of type other than ExternalName a cluster IP, or checks the one it asks for.
    func assignClusterIP(_ service: JSONValue) throws(APIFailure) -> JSONValue {
        let type = service.string(at: "spec.type") ?? "ClusterIP"
        guard type != "ExternalName" else { return service }
        let requested = service.string(at: "spec.clusterIP") ?? ""
        if requested == "None" { return service }
        let listed: (items: [StoredObject], revision: Int64)
        do { listed = try store.list(store.collectionPrefix(resource: "services", namespace: nil)) } catch { throw APIFailure(error) }
        let used = Set(listed.items.compactMap { $0.object.string(at: "spec.clusterIP").flatMap(ClusterIPAllocator.parse) })
        let name = service.string(at: "metadata.name") ?? ""
        let resource = KubeCore.resource(group: "", version: "v1", plural: "services")!
        let address: UInt32
        if !requested.isEmpty {
            guard let parsed = ClusterIPAllocator.parse(requested), clusterIPs.contains(parsed) else {
                throw .invalid(resource, name: name, causes: [FieldCause(field: "spec.clusterIPs", reason: .invalid,
                    message: "Invalid value: []string{\"\(requested)\"}: failed to allocate IP \(requested): the provided IP (\(requested)) is not in the valid range. The range of valid IPs is \(configuration.serviceClusterIPRange)")])
            }
            guard !used.contains(parsed) else {
                throw .invalid(resource, name: name, causes: [FieldCause(field: "spec.clusterIPs", reason: .invalid,
                    message: "Invalid value: []string{\"\(requested)\"}: failed to allocate IP \(requested): provided IP is already allocated")])
            }
            address = parsed
        } else {
            guard let free = clusterIPs.first(notIn: used) else {
                throw .internalError("failed to allocate a serviceIP: range is full")
            }
            address = free
        }
        var result = service
        result.set("spec.clusterIP", .string(ClusterIPAllocator.format(address)))
        result.set("spec.clusterIPs", .array([.string(ClusterIPAllocator.format(address))]))
        return result
    }
}
