//! Validation of Services (ports, types, affinity, traffic policies, a cluster IP that never
//! changes) and of Endpoints (addresses and ports of each subset).
import Wire

enum ServiceValidation {
    static let types = ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]
    static let sessionAffinities = ["ClientIP", "None"]
    static let trafficPolicies = ["Cluster", "Local"]
    /// The kubelet's port, which a load balancer must not expose.
    static let kubeletPort: Int64 = 10250

    static func validate(_ service: JSONValue, old: JSONValue?) -> [FieldCause] {
        let spec = service["spec"]
        let specPath: FieldPath = "spec"
        let type = spec?.stringMember("type") ?? "ClusterIP"
        let headless = spec?.stringMember("clusterIP") == "None"
        let ports = spec?.arrayMember("ports") ?? []
        var causes: [FieldCause] = []
        if ports.isEmpty && !headless && type != "ExternalName" {
            causes.append(.required(specPath.child("ports")))
        }
        switch type {
        case "LoadBalancer", "NodePort":
            if type == "LoadBalancer" {
                for (position, port) in ports.enumerated() where port.intMember("port") == kubeletPort {
                    causes.append(.invalid(specPath.child("ports").index(position), .integer(kubeletPort),
                        "may not expose port \(kubeletPort) externally since it is used by kubelet"))
                }
            }
            if headless {
                causes.append(.invalid(
                    specPath.child("clusterIPs").index(0), .string("None"), "may not be set to 'None' for \(type) services"))
            }
        case "ExternalName":
            if !(spec?.arrayMember("clusterIPs") ?? []).isEmpty {
                causes.append(.forbidden(specPath.child("clusterIPs"), "may not be set for ExternalName services"))
            }
            var externalName = spec?.stringMember("externalName") ?? ""
            if externalName.hasSuffix(".") { externalName.removeLast() }
            if externalName.isEmpty {
                causes.append(.required(specPath.child("externalName")))
            } else {
                causes += FieldCause.invalidEach(specPath.child("externalName"), externalName, NameRules.dnsSubdomain(externalName))
            }
        default: break
        }
        var portNames = Set<String>()
        for (position, port) in ports.enumerated() {
            causes += servicePort(port, specPath.child("ports").index(position), nameRequired: ports.count > 1, names: &portNames)
        }
        causes += CommonValidation.labels(spec?["selector"], specPath.child("selector"))
        causes += CommonValidation.oneOf(spec?["sessionAffinity"], specPath.child("sessionAffinity"), supported: sessionAffinities)
        causes += CommonValidation.oneOf(spec?["type"], specPath.child("type"), supported: types)
        if type == "ClusterIP" {
            for (position, port) in ports.enumerated() where (port.intMember("nodePort") ?? 0) != 0 {
                causes.append(.forbidden(
                    specPath.child("ports").index(position).child("nodePort"), "may not be used when `type` is 'ClusterIP'"))
            }
        }
        causes += duplicateNodePorts(ports, specPath.child("ports"))
        causes += trafficPolicies(spec, specPath, type: type)
        if let old { causes += unchangedClusterIPs(service, old: old) }
        return causes
    }

    private static func servicePort(_ port: JSONValue, _ path: FieldPath, nameRequired: Bool, names: inout Set<String>) -> [FieldCause] {
        var causes: [FieldCause] = []
        let name = port.stringMember("name") ?? ""
        if nameRequired && name.isEmpty {
            causes.append(.required(path.child("name")))
        } else if !name.isEmpty {
            causes += FieldCause.invalidEach(path.child("name"), name, NameRules.dnsLabel(name))
            if !names.insert(name).inserted { causes.append(.duplicate(path.child("name"), .string(name))) }
        }
        causes += CommonValidation.portNumber(port.intMember("port") ?? 0, path.child("port"))
        causes += CommonValidation.oneOf(port["protocol"], path.child("protocol"), supported: ContainerValidation.protocols)
        switch port["targetPort"] {
        case .string(let target)?: causes += FieldCause.invalidEach(path.child("targetPort"), target, NameRules.portName(target))
        case let target?: if let number = target.asInt64 { causes += CommonValidation.portNumber(number, path.child("targetPort")) }
        case nil: break
        }
        if let appProtocol = port.stringMember("appProtocol") {
            causes += FieldCause.invalidEach(path.child("appProtocol"), appProtocol, NameRules.qualifiedName(appProtocol))
        }
        return causes
    }

    /// A node port serves one protocol once.
    private static func duplicateNodePorts(_ ports: [JSONValue], _ path: FieldPath) -> [FieldCause] {
        var seen = Set<String>()
        var causes: [FieldCause] = []
        for (position, port) in ports.enumerated() {
            guard let nodePort = port.intMember("nodePort"), nodePort != 0 else { continue }
            if !seen.insert("\(port.stringMember("protocol") ?? "")/\(nodePort)").inserted {
                causes.append(.duplicate(path.index(position).child("nodePort"), .integer(nodePort)))
            }
        }
        return causes
    }

    /// `externalTrafficPolicy` only for services reachable from outside; `internalTrafficPolicy`
    /// one of its two values.
    private static func trafficPolicies(_ spec: JSONValue?, _ specPath: FieldPath, type: String) -> [FieldCause] {
        var causes: [FieldCause] = []
        let externallyAccessible = type == "LoadBalancer" || type == "NodePort"
            || (type == "ClusterIP" && !(spec?.arrayMember("externalIPs") ?? []).isEmpty)
        if let policy = spec?.stringMember("externalTrafficPolicy"), !policy.isEmpty {
            if !externallyAccessible {
                causes.append(.invalid(
                    specPath.child("externalTrafficPolicy"), .string(policy), "may only be set for externally-accessible services"))
            } else {
                causes += CommonValidation.oneOf(.string(policy), specPath.child("externalTrafficPolicy"), supported: trafficPolicies)
            }
        }
        causes += CommonValidation.oneOf(
            spec?["internalTrafficPolicy"], specPath.child("internalTrafficPolicy"), supported: trafficPolicies)
        return causes
    }

    /// A cluster IP, once allocated, stays (the shell copies it into an update that leaves it
    /// out); ExternalName and headless services have none to keep.
    private static func unchangedClusterIPs(_ service: JSONValue, old: JSONValue) -> [FieldCause] {
        let types = [service, old].map { $0.stringMember("spec", "type") ?? "ClusterIP" }
        guard !types.contains("ExternalName") else { return [] }
        let new = service.arrayMember("spec", "clusterIPs").compactMap(\.asString)
        let previous = old.arrayMember("spec", "clusterIPs").compactMap(\.asString)
        guard !new.isEmpty, !previous.isEmpty, !(new == ["None"] && previous == ["None"]) else { return [] }
        let rendered = GoSyntax.stringSlice(service["spec"]?["clusterIPs"])
        return zip(previous, new).enumerated().compactMap { position, pair in
            pair.0 == pair.1
                ? nil : .invalid(FieldPath("spec").child("clusterIPs").index(position), .goSyntax(rendered), "may not change once set")
        }
    }

    /// Each subset names at least one address, and its ports are valid (named when several).
    static func validateEndpoints(_ endpoints: JSONValue) -> [FieldCause] {
        var causes: [FieldCause] = []
        for (position, subset) in endpoints.arrayMember("subsets").enumerated() {
            let subsetPath = FieldPath("subsets").index(position)
            if subset.arrayMember("addresses").isEmpty && subset.arrayMember("notReadyAddresses").isEmpty {
                causes.append(.required(subsetPath, "must specify `addresses` or `notReadyAddresses`"))
            }
            let ports = subset.arrayMember("ports")
            for (portPosition, port) in ports.enumerated() {
                let portPath = subsetPath.child("ports").index(portPosition)
                let name = port.stringMember("name") ?? ""
                if ports.count > 1 && name.isEmpty {
                    causes.append(.required(portPath.child("name")))
                } else if !name.isEmpty {
                    causes += FieldCause.invalidEach(portPath.child("name"), name, NameRules.dnsLabel(name))
                }
                causes += CommonValidation.portNumber(port.intMember("port") ?? 0, portPath.child("port"))
                causes += CommonValidation.oneOf(port["protocol"], portPath.child("protocol"), supported: ContainerValidation.protocols)
            }
        }
        return causes
    }
}
