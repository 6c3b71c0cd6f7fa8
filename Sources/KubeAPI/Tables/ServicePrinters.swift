//! Rows of `kubectl get services` (Type, Cluster-IP, External-IP, Port(s) as `80/TCP` or
//! `80:30080/TCP`) and `kubectl get endpoints` (the first three `ip:port` pairs).
import Wire

enum ServicePrinters {
    static let services = TablePrinter(
        columns: [
            TablePrinters.nameColumn,
            TableColumn(name: "Type", description: "How the service is exposed."),
            TableColumn(name: "Cluster-IP", description: "The service's virtual IP inside the cluster."),
            TableColumn(name: "External-IP", description: "Addresses the service is reachable at from outside."),
            TableColumn(name: "Port(s)", description: "The ports the service serves."),
            TablePrinters.ageColumn,
            TableColumn(name: "Selector", description: "The labels of the pods that back the service.", priority: 1),
        ],
        cells: { service, now in
            let clusterIP = service.arrayMember("spec", "clusterIPs").first?.asString ?? service.stringMember("spec", "clusterIP")
            return [
                TablePrinters.name(service), .string(service.stringMember("spec", "type") ?? ""),
                .string(clusterIP.flatMap { $0.isEmpty ? nil : $0 } ?? "<none>"),
                .string(externalIP(service)), .string(ports(service)), TablePrinters.age(service, now),
                .string(TablePrinters.formatLabels(service["spec"]?["selector"])),
            ]
        })

    /// Assigned external IPs; for a LoadBalancer also its ingress addresses, `<pending>` until it
    /// has one; for an ExternalName the name.
    private static func externalIP(_ service: JSONValue) -> String {
        let externalIPs = service.arrayMember("spec", "externalIPs").compactMap(\.asString)
        switch service.stringMember("spec", "type") ?? "" {
        case "ClusterIP", "NodePort":
            return externalIPs.isEmpty ? "<none>" : externalIPs.joined(separator: ",")
        case "LoadBalancer":
            var ingress: [String] = []
            for entry in service.arrayMember("status", "loadBalancer", "ingress") {
                let address = entry.stringMember("ip").flatMap { $0.isEmpty ? nil : $0 } ?? entry.stringMember("hostname") ?? ""
                if !address.isEmpty && !ingress.contains(address) { ingress.append(address) }
            }
            let all = ingress + externalIPs
            return all.isEmpty ? "<pending>" : all.joined(separator: ",")
        case "ExternalName":
            return service.stringMember("spec", "externalName") ?? ""
        default:
            return "<unknown>"
        }
    }

    /// `80/TCP`, or `80:30080/TCP` with a node port, comma-separated; `<none>` without ports.
    private static func ports(_ service: JSONValue) -> String {
        let pieces = service.arrayMember("spec", "ports").map { port -> String in
            let number = port.intMember("port") ?? 0
            let proto = port.stringMember("protocol") ?? ""
            if let nodePort = port.intMember("nodePort"), nodePort > 0 { return "\(number):\(nodePort)/\(proto)" }
            return "\(number)/\(proto)"
        }
        return pieces.isEmpty ? "<none>" : pieces.joined(separator: ",")
    }

    static let endpoints = TablePrinter(
        columns: [
            TablePrinters.nameColumn,
            TableColumn(name: "Endpoints", description: "The addresses and ports that back the service."),
            TablePrinters.ageColumn,
        ],
        cells: { endpoints, now in
            [TablePrinters.name(endpoints), .string(formatEndpoints(endpoints)), TablePrinters.age(endpoints, now)]
        })

    /// At most three `ip:port` entries (bare IPs for subsets without ports), then `+ N more...`.
    static func formatEndpoints(_ endpoints: JSONValue) -> String {
        let subsets = endpoints.arrayMember("subsets")
        guard !subsets.isEmpty else { return "<none>" }
        let shown = 3
        var list: [String] = []
        var count = 0
        for subset in subsets {
            let addresses = subset.arrayMember("addresses").map { $0.stringMember("ip") ?? "" }
            let ports = subset.arrayMember("ports")
            // A headless service's endpoints may have no ports: list the addresses alone.
            let entries = ports.isEmpty
                ? addresses
                : ports.flatMap { port in addresses.map { hostPort($0, port.intMember("port") ?? 0) } }
            count += entries.count
            list += entries.prefix(max(0, shown - list.count))
        }
        let joined = list.joined(separator: ",")
        return count > shown ? "\(joined) + \(count - shown) more..." : joined
    }

    /// `ip:port`, with an IPv6 address in brackets.
    private static func hostPort(_ address: String, _ port: Int64) -> String {
        address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)"
    }
}
