//! The subsets of an Endpoints object in their canonical form: every address offering the same
//! ports in one subset, ready and not-ready addresses apart, everything sorted. Kubernetes'
//! `RepackSubsets` builds this form so that two computations of the same endpoints compare equal;
//! the controller compares the form it wants with the stored one (repacked too) and writes only
//! when they differ.

import KubeAPI
import Wire

/// One address of an Endpoints subset: a pod's IP and who it is.
struct EndpointAddress: Hashable {
    var ip: String
    var hostname: String?
    var nodeName: String?
    /// The pod behind the address (kind, namespace, name, uid); nil for addresses written by hand.
    var targetRef: TargetReference?

    struct TargetReference: Hashable {
        var kind: String
        var namespace: String
        var name: String
        var uid: String
    }

    /// Addresses are the same endpoint when IP and pod uid agree (Kubernetes' `addressKey`).
    var key: AddressKey { AddressKey(ip: ip, uid: targetRef?.uid ?? "") }

    struct AddressKey: Hashable, Comparable {
        var ip: String
        var uid: String

        static func < (left: AddressKey, right: AddressKey) -> Bool { (left.ip, left.uid) < (right.ip, right.uid) }
    }
}

/// One port of an Endpoints subset.
struct EndpointPort: Hashable, Comparable {
    var name: String
    var port: Int64
    var `protocol`: String
    var appProtocol: String?

    static func < (left: EndpointPort, right: EndpointPort) -> Bool {
        (left.port, left.name, left.protocol, left.appProtocol ?? "") < (right.port, right.name, right.protocol, right.appProtocol ?? "")
    }
}

/// One subset: addresses that all offer the same ports.
struct EndpointSubset: Equatable {
    var addresses: [EndpointAddress] = []
    var notReadyAddresses: [EndpointAddress] = []
    var ports: [EndpointPort] = []
}

/// One address offering one port (nil: a headless service without ports), ready or not: what the
/// controller finds per pod and service port before repacking.
struct EndpointEntry {
    var address: EndpointAddress
    var port: EndpointPort?
    var ready: Bool
}

enum EndpointSubsets {
    /// The canonical subsets of `entries`: addresses grouped by the set of ports they offer, an
    /// address not ready for a port when any entry says so ("not ready trumps ready").
    static func repack(_ entries: [EndpointEntry]) -> [EndpointSubset] {
        var addressByKey: [EndpointAddress.AddressKey: EndpointAddress] = [:]
        // Per port (nil: the no-port sentinel), the readiness of each address offering it.
        var readinessByPort: [EndpointPort?: [EndpointAddress.AddressKey: Bool]] = [:]
        for entry in entries {
            let key = entry.address.key
            if addressByKey[key] == nil { addressByKey[key] = entry.address }
            let wasReady = readinessByPort[entry.port, default: [:]][key]
            if wasReady == nil || wasReady == true { readinessByPort[entry.port, default: [:]][key] = entry.ready }
        }
        // Ports offered by exactly the same addresses (with the same readiness) share a subset.
        struct Group {
            var readiness: [(key: EndpointAddress.AddressKey, ready: Bool)]
            var ports: [EndpointPort]
        }
        var groups: [String: Group] = [:]
        for (port, readiness) in readinessByPort {
            let sorted = readiness.map { (key: $0.key, ready: $0.value) }.sorted { $0.key < $1.key }
            let signature = sorted.map { "\($0.key.ip)\u{0}\($0.key.uid)\u{0}\($0.ready)" }.joined(separator: "\u{1}")
            groups[signature, default: Group(readiness: sorted, ports: [])].ports += port.map { [$0] } ?? []
        }
        let subsets = groups.values.map { group in
            EndpointSubset(
                addresses: group.readiness.filter(\.ready).map { addressByKey[$0.key]! },
                notReadyAddresses: group.readiness.filter { !$0.ready }.map { addressByKey[$0.key]! },
                ports: group.ports.sorted())
        }
        return sorted(subsets)
    }

    /// Subsets in a fixed order (Kubernetes orders them by a hash; any fixed order serves to compare).
    static func sorted(_ subsets: [EndpointSubset]) -> [EndpointSubset] {
        subsets.sorted { orderKey($0) < orderKey($1) }
    }

    private static func orderKey(_ subset: EndpointSubset) -> String {
        let addresses = (subset.addresses.map { "r\($0.ip)/\($0.targetRef?.uid ?? "")" }
            + subset.notReadyAddresses.map { "n\($0.ip)/\($0.targetRef?.uid ?? "")" }).joined(separator: ",")
        let ports = subset.ports.map { "\($0.port)/\($0.name)/\($0.protocol)" }.joined(separator: ",")
        return addresses + "|" + ports
    }

    // MARK: - JSON

    /// The subsets stored in an Endpoints object, repacked so that any layout of the same
    /// endpoints reads the same.
    static func canonical(from endpoints: JSONValue) -> [EndpointSubset] {
        var entries: [EndpointEntry] = []
        for subset in endpoints.arrayMember("subsets") {
            let ports = subset.arrayMember("ports").map(port(from:))
            for (field, ready) in [("addresses", true), ("notReadyAddresses", false)] {
                for address in subset.arrayMember(field).map(address(from:)) {
                    if ports.isEmpty {
                        entries.append(EndpointEntry(address: address, port: nil, ready: ready))
                    } else {
                        for port in ports { entries.append(EndpointEntry(address: address, port: port, ready: ready)) }
                    }
                }
            }
        }
        return repack(entries)
    }

    static func address(from json: JSONValue) -> EndpointAddress {
        var targetRef: EndpointAddress.TargetReference?
        if let reference = json["targetRef"], reference.asObject != nil {
            targetRef = EndpointAddress.TargetReference(
                kind: reference.stringMember("kind") ?? "", namespace: reference.stringMember("namespace") ?? "",
                name: reference.stringMember("name") ?? "", uid: reference.stringMember("uid") ?? "")
        }
        return EndpointAddress(ip: json.stringMember("ip") ?? "", hostname: nonEmpty(json.stringMember("hostname")),
            nodeName: nonEmpty(json.stringMember("nodeName")), targetRef: targetRef)
    }

    static func port(from json: JSONValue) -> EndpointPort {
        EndpointPort(name: json.stringMember("name") ?? "", port: json.intMember("port") ?? 0,
            protocol: json.stringMember("protocol") ?? "TCP", appProtocol: nonEmpty(json.stringMember("appProtocol")))
    }

    /// The subsets as the API writes them (empty lists and strings left out).
    static func json(_ subsets: [EndpointSubset]) -> JSONValue {
        .array(subsets.map { subset in
            var object = JSONObject()
            if !subset.addresses.isEmpty { object["addresses"] = .array(subset.addresses.map(json)) }
            if !subset.notReadyAddresses.isEmpty { object["notReadyAddresses"] = .array(subset.notReadyAddresses.map(json)) }
            if !subset.ports.isEmpty { object["ports"] = .array(subset.ports.map(json)) }
            return .object(object)
        })
    }

    static func json(_ address: EndpointAddress) -> JSONValue {
        var object: JSONObject = ["ip": .string(address.ip)]
        if let hostname = address.hostname { object["hostname"] = .string(hostname) }
        if let nodeName = address.nodeName { object["nodeName"] = .string(nodeName) }
        if let reference = address.targetRef {
            object["targetRef"] = .object([
                "kind": .string(reference.kind), "namespace": .string(reference.namespace), "name": .string(reference.name),
                "uid": .string(reference.uid),
            ])
        }
        return .object(object)
    }

    static func json(_ port: EndpointPort) -> JSONValue {
        var object = JSONObject()
        if !port.name.isEmpty { object["name"] = .string(port.name) }
        object["port"] = .integer(port.port)
        object["protocol"] = .string(port.protocol)
        if let appProtocol = port.appProtocol { object["appProtocol"] = .string(appProtocol) }
        return .object(object)
    }

    private static func nonEmpty(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return text
    }
}
