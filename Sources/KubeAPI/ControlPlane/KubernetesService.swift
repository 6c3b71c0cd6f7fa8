//! The `kubernetes` Service in `default` and its Endpoints, as a real apiserver's bootstrap
//! controller keeps them (kubernetes `pkg/controlplane/controller/kubernetesservice` and the
//! lease endpoint reconciler, `pkg/controlplane/reconcilers/lease.go`):
//!
//! - the Service: the first address of the service range, port `https` 443/TCP to the port the
//!   apiservers serve on, no selector (nobody but the apiservers writes its Endpoints);
//! - each apiserver keeps a record `masterleases/<ip>` in the store under a lease it renews, and
//!   the Endpoints list the addresses of the records that are there (one subset, sorted), so
//!   an apiserver that stops renewing drops out when its lease runs out.
//!
//! Pure: the shell reads the store, asks what to write, and writes it.

import Wire

public enum KubernetesService {
    public static let namespace = "default"
    public static let name = "kubernetes"
    public static let portName = "https"
    /// The Service's port (kube-apiserver's `ServicePort`, 443 whatever port it serves on).
    public static let servicePort: Int64 = 443
    /// Kubernetes marks these Endpoints so that EndpointSlice mirroring leaves them alone.
    public static let skipMirrorLabel = "endpointslice.kubernetes.io/skip-mirror"

    /// The Service as the bootstrap controller creates it; `targetPort` is the port the
    /// apiservers serve on.
    public static func service(clusterIP: String, targetPort: Int64) -> JSONValue {
        precondition((1...65535).contains(targetPort), "the kubernetes Service's target port \(targetPort) is not a port")
        let port: JSONObject = ["name": .string(portName), "protocol": .string("TCP"), "port": .integer(servicePort),
            "targetPort": .integer(targetPort)]
        return .object([
            "kind": .string("Service"), "apiVersion": .string("v1"),
            "metadata": .object(["name": .string(name), "namespace": .string(namespace),
                "labels": .object(["component": .string("apiserver"), "provider": .string("kubernetes")])]),
            "spec": .object(["type": .string("ClusterIP"), "sessionAffinity": .string("None"), "clusterIP": .string(clusterIP),
                "clusterIPs": .array([.string(clusterIP)]), "ipFamilyPolicy": .string("SingleStack"),
                "ports": .array([.object(port)])]),
        ])
    }

    // MARK: - Apiserver leases

    /// What an apiserver keeps at `masterleases/<ip>`: an Endpoints record with its address, as
    /// the real one does.
    public static func leaseRecord(ip: String) -> JSONValue {
        .object(["kind": .string("Endpoints"), "apiVersion": .string("v1"), "metadata": .object(["name": .string(ip)]),
            "subsets": .array([.object(["addresses": .array([.object(["ip": .string(ip)])])])])])
    }

    /// The address a lease record names (nil: a record with none, which lists nobody).
    public static func leaseAddress(_ record: JSONValue) -> String? {
        guard let ip = record.arrayMember("subsets").first?.arrayMember("addresses").first?.stringMember("ip"), !ip.isEmpty else {
            return nil
        }
        return ip
    }

    /// The Endpoints to write so that they list exactly `addresses` (the lease records' addresses),
    /// or nil when `current` already does. `current` nil: there are none yet. Like the real
    /// reconciler: addresses are compared as a set and written sorted; the ports are set only
    /// when the object is not one subset with ports (the apiservers agree on their port, and
    /// fighting over it would rewrite the object every round); the skip-mirror label is kept.
    public static func reconciledEndpoints(current: JSONValue?, addresses: [String], port: Int64) -> JSONValue? {
        // With no record at all, even this apiserver's own (just renewed) is missing: the listing
        // is wrong, not the cluster, and the Endpoints are not emptied on its word.
        precondition(!addresses.isEmpty, "the kubernetes Endpoints are never reconciled to no address")
        let wanted = Array(Set(addresses)).sorted()
        let subsets = current?.arrayMember("subsets") ?? []
        let formatCorrect = subsets.count == 1 && !subsets[0].arrayMember("ports").isEmpty
        let listed = formatCorrect ? subsets[0].arrayMember("addresses").map { $0.stringMember("ip") ?? "" } : []
        let addressesCorrect = formatCorrect && listed.count == wanted.count && Set(listed) == Set(wanted)
        let labelled = current?.stringMember("metadata", "labels", skipMirrorLabel) == "true"
        if current != nil && addressesCorrect && labelled { return nil }

        var result = current ?? .object(["kind": .string("Endpoints"), "apiVersion": .string("v1"),
            "metadata": .object(["name": .string(name), "namespace": .string(namespace)])])
        // (Not by dotted path: the label's key has dots of its own.)
        var labels = current?.objectMember("metadata", "labels") ?? JSONObject()
        labels[skipMirrorLabel] = .string("true")
        result.set("metadata.labels", .object(labels))
        let ports: JSONValue = formatCorrect ? subsets[0]["ports"]! : .array([.object([
            "name": .string(portName), "port": .integer(port), "protocol": .string("TCP"),
        ])])
        result.set("subsets", .array([.object(["addresses": .array(wanted.map { .object(["ip": .string($0)]) }), "ports": ports])]))
        return result
    }

    // MARK: - The address an apiserver publishes

    /// Where this apiserver is listed: an address and port, or why it is not listed (and the
    /// port the Service targets anyway).
    public enum PublishedAddress: Equatable, Sendable {
        case listed(ip: String, port: Int64)
        case unlisted(reason: String, port: Int64)

        /// The port the Service's `targetPort` names.
        public var port: Int64 {
            switch self {
            case .listed(_, let port), .unlisted(_, let port): port
            }
        }
    }

    /// From `--advertise-address` (`HOST[:PORT]`, a URL's scheme already removed) or, without
    /// one, the listen address: an IPv4 address other than 0.0.0.0 is listed; the port is the
    /// advertised one, else the one the server listens on.
    public static func publishedAddress(advertise: String?, listenHost: String, listenPort: Int64) -> PublishedAddress {
        guard let advertise, !advertise.isEmpty else {
            guard let parsed = IPv4Range.parse(listenHost), parsed != 0 else {
                return .unlisted(reason: "it listens on \(listenHost) and has no --advertise-address, so no one address reaches it",
                    port: listenPort)
            }
            return .listed(ip: listenHost, port: listenPort)
        }
        var host = Substring(advertise)
        var port = listenPort
        if let colon = advertise.lastIndex(of: ":") {
            host = advertise[..<colon]
            guard let given = Int64(advertise[advertise.index(after: colon)...]), (1...65535).contains(given) else {
                return .unlisted(reason: "--advertise-address \(advertise) has no valid port", port: listenPort)
            }
            port = given
        }
        guard let parsed = IPv4Range.parse(String(host)), parsed != 0 else {
            return .unlisted(reason: "--advertise-address \(advertise) is not an IPv4 address (Endpoints list addresses, not names)",
                port: port)
        }
        return .listed(ip: String(host), port: port)
    }
}
