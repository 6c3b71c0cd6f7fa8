//! Cluster IPs for Services, from `--service-cluster-ip-range`. The first address after the
//! network's is the `kubernetes` Service's, as in a real cluster. An address is free when no
//! Service holds it. There is no allocator key in the store yet, so two Service creates at the
//! same instant on two apiservers could pick one address; a real apiserver keeps a bitmap in
//! etcd for this. Noted as missing.

import KubeAPI
import Wire

extension APIServer {
    /// Gives a Service of type other than ExternalName a cluster IP, or checks the one it asks for.
    func assignClusterIP(_ service: JSONValue) throws(APIFailure) -> JSONValue {
        let type = service.string(at: "spec.type") ?? "ClusterIP"
        guard type != "ExternalName" else { return service }
        let requested = service.string(at: "spec.clusterIP") ?? ""
        if requested == "None" { return service }
        let listed: (items: [StoredObject], revision: Int64)
        do { listed = try store.list(store.collectionPrefix(resource: "services", namespace: nil)) } catch { throw APIFailure(error) }
        let used = Set(listed.items.compactMap { $0.object.string(at: "spec.clusterIP").flatMap(IPv4Range.parse) })
        let name = service.string(at: "metadata.name") ?? ""
        let resource = KubeCore.resource(group: "", version: "v1", plural: "services")!
        let address: UInt32
        if !requested.isEmpty {
            guard let parsed = IPv4Range.parse(requested), clusterIPs.contains(parsed) else {
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
        result.set("spec.clusterIP", .string(IPv4Range.format(address)))
        result.set("spec.clusterIPs", .array([.string(IPv4Range.format(address))]))
        return result
    }
}
