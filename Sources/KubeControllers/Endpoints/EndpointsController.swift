//! The Endpoints controller (kube-controller-manager's `pkg/controller/endpoint`): for each
//! service with a selector, an Endpoints object of the same name listing the IPs of the pods it
//! selects, ready ones under `addresses` and the others under `notReadyAddresses`, with the ports
//! the service's target ports resolve to in each pod. It writes only when the canonical form of
//! what it wants differs from what is stored, and deletes the Endpoints of a service that is gone.
//!
//! Pure: the shell calls `sync` for one service key with what its caches hold and sends the
//! actions; a failed write is retried by syncing the key again (the stored object's
//! resourceVersion travels in every update, so a write from a stale cache gets 409).

import KubeAPI
import Wire

public struct EndpointsController: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// The most addresses one Endpoints object lists; beyond it the controller truncates and
        /// annotates `endpoints.kubernetes.io/over-capacity: truncated` (Kubernetes' `maxCapacity`).
        public var addressesMax: Int = 1000

        public init(addressesMax: Int = 1000) {
            precondition(addressesMax > 0, "addressesMax must be positive, is \(addressesMax)")
            self.addressesMax = addressesMax
        }
    }

    public let configuration: Configuration

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    static let endpointsResource = APIResource.standard("endpoints")
    /// The label an Endpoints object of a headless service carries (not on the service itself).
    static let headlessLabel = "service.kubernetes.io/headless"
    static let triggerTimeAnnotation = "endpoints.kubernetes.io/last-change-trigger-time"
    static let overCapacityAnnotation = "endpoints.kubernetes.io/over-capacity"
    /// Endpoints used as a leader-election lock carry this, and are never the controller's to delete.
    static let leaderAnnotation = "control-plane.alpha.kubernetes.io/leader"

    /// What to write for the service `namespace/name`. `service` and `existing` (its Endpoints)
    /// are nil when the caches have none; `pods` are the cached pods (any namespace: those outside
    /// the service's namespace or selector are ignored). `triggerTime`, when given, is written as
    /// `endpoints.kubernetes.io/last-change-trigger-time` (RFC 3339) on a create or update.
    public func sync(namespace: String, name: String, service: JSONValue?, pods: [JSONValue], existing: JSONValue?,
        triggerTime: String? = nil) -> [ObjectAction]
    {
        let reference = ObjectReference(Self.endpointsResource, namespace: namespace, name: name)
        guard let service else {
            // The service is gone: so are its endpoints (a leader-election lock excepted).
            guard let existing, existing.member("metadata", "annotations", Self.leaderAnnotation) == nil else { return [] }
            return [.delete(reference, uid: existing.stringMember("metadata", "uid"))]
        }
        // ExternalName services and services without a selector get no endpoints from here;
        // whoever wrote theirs by hand keeps them.
        if service.stringMember("spec", "type") == "ExternalName" { return [] }
        let selector = service.member("spec", "selector")?.stringPairs ?? []
        if selector.isEmpty { return [] }

        let selected = pods.filter { pod in
            pod.stringMember("metadata", "namespace") ?? "default" == namespace
                && selector.allSatisfy { pod.member("metadata", "labels", $0.key)?.asString == $0.value }
        }
        var subsets = EndpointSubsets.repack(selected.flatMap { entries(for: $0, service: service, name: name, namespace: namespace) })
        let truncated = truncate(&subsets)
        let labels = service.member("metadata", "labels")?.stringPairs ?? []
        if let existing, !needsWrite(existing, subsets: subsets, truncated: truncated, labels: labels) { return [] }

        var endpoints = existing ?? .object(["kind": .string("Endpoints"), "apiVersion": .string("v1")])
        var metadata = endpoints.objectMember("metadata") ?? JSONObject()
        if existing == nil {
            metadata["name"] = .string(name)
            metadata["namespace"] = .string(namespace)
        }
        var labelObject = JSONObject()
        for (key, value) in labels where key != Self.headlessLabel { labelObject[key] = .string(value) }
        if !Self.hasServiceIP(service) { labelObject[Self.headlessLabel] = .string("") }
        metadata["labels"] = labelObject.count == 0 ? nil : .object(labelObject)
        var annotations = metadata["annotations"]?.asObject ?? JSONObject()
        annotations[Self.triggerTimeAnnotation] = triggerTime.map(JSONValue.string)
        annotations[Self.overCapacityAnnotation] = truncated ? .string("truncated") : nil
        metadata["annotations"] = annotations.count == 0 ? nil : .object(annotations)
        endpoints.set("metadata", .object(metadata))
        endpoints.set("subsets", subsets.isEmpty ? nil : EndpointSubsets.json(subsets))
        if existing == nil { return [.create(Self.endpointsResource, namespace: namespace, object: endpoints)] }
        return [.update(reference, object: endpoints)]
    }

    /// Whether the stored Endpoints differ from what the controller wants: other subsets (compared
    /// in canonical form), other labels (the headless label aside), or a capacity annotation that
    /// no longer tells the truth.
    func needsWrite(_ existing: JSONValue, subsets: [EndpointSubset], truncated: Bool, labels: [(key: String, value: String)]) -> Bool {
        if EndpointSubsets.canonical(from: existing) != subsets { return true }
        let stored = (existing.member("metadata", "labels")?.stringPairs ?? []).filter { $0.key != Self.headlessLabel }
        if Dictionary(stored, uniquingKeysWith: { first, _ in first }) != Dictionary(labels, uniquingKeysWith: { first, _ in first }) {
            return true
        }
        return (existing.member("metadata", "annotations", Self.overCapacityAnnotation) != nil) != truncated
    }

    static func hasServiceIP(_ service: JSONValue) -> Bool {
        let clusterIP = service.stringMember("spec", "clusterIP") ?? ""
        return !clusterIP.isEmpty && clusterIP != "None"
    }
}

// MARK: - Pods to addresses

extension EndpointsController {
    /// The entries one pod contributes: its address once per service port it offers (once with
    /// no port for a headless service without ports), or none when it is not to be listed.
    func entries(for pod: JSONValue, service: JSONValue, name: String, namespace: String) -> [EndpointEntry] {
        let publishNotReady = service.boolMember("spec", "publishNotReadyAddresses") ?? false
        guard Self.belongsInEndpoints(pod, includeTerminating: publishNotReady),
            var address = Self.address(of: pod, service: service)
        else { return [] }
        if let hostname = pod.stringMember("spec", "hostname"), !hostname.isEmpty, pod.stringMember("spec", "subdomain") == name {
            address.hostname = hostname
        }
        let ready = publishNotReady || Self.isReady(pod)
        let servicePorts = service.arrayMember("spec", "ports")
        if servicePorts.isEmpty {
            // Only a headless service may have no ports; it lists its pods' addresses alone.
            guard service.stringMember("spec", "clusterIP") == "None" else { return [] }
            return [EndpointEntry(address: address, port: nil, ready: ready)]
        }
        return servicePorts.compactMap { servicePort in
            guard let number = Self.targetPort(of: servicePort, in: pod) else { return nil }
            let port = EndpointPort(name: servicePort.stringMember("name") ?? "", port: number,
                protocol: servicePort.stringMember("protocol") ?? "TCP", appProtocol: servicePort.stringMember("appProtocol"))
            return EndpointEntry(address: address, port: port, ready: ready)
        }
    }

    /// Kubernetes' `ShouldPodBeInEndpoints`: not terminal (Succeeded, Failed), has an IP, and is
    /// not being deleted unless the service publishes not-ready addresses.
    static func belongsInEndpoints(_ pod: JSONValue, includeTerminating: Bool) -> Bool {
        let phase = pod.stringMember("status", "phase")
        if phase == "Succeeded" || phase == "Failed" { return false }
        if (pod.stringMember("status", "podIP") ?? "").isEmpty && pod.arrayMember("status", "podIPs").isEmpty { return false }
        if !includeTerminating && pod.member("metadata", "deletionTimestamp") != nil { return false }
        return true
    }

    static func isReady(_ pod: JSONValue) -> Bool {
        pod.arrayMember("status", "conditions").contains { $0.stringMember("type") == "Ready" && $0.stringMember("status") == "True" }
    }

    /// The pod's address of the service's IP family (its first `ipFamilies`, else its cluster
    /// IP's family, else the pod's primary IP's), with its node and a reference to the pod.
    static func address(of pod: JSONValue, service: JSONValue) -> EndpointAddress? {
        var ips = pod.arrayMember("status", "podIPs").compactMap { $0.stringMember("ip") }
        if let primary = pod.stringMember("status", "podIP"), !primary.isEmpty, !ips.contains(primary) { ips.insert(primary, at: 0) }
        guard let first = ips.first else { return nil }
        let wantsIPv6: Bool
        if let family = service.arrayMember("spec", "ipFamilies").first?.asString {
            wantsIPv6 = family == "IPv6"
        } else if hasServiceIP(service), let clusterIP = service.stringMember("spec", "clusterIP") {
            wantsIPv6 = clusterIP.contains(":")
        } else {
            wantsIPv6 = first.contains(":")
        }
        guard let ip = ips.first(where: { $0.contains(":") == wantsIPv6 }) else { return nil }
        let node = pod.stringMember("spec", "nodeName") ?? ""
        let reference = EndpointAddress.TargetReference(kind: "Pod", namespace: pod.stringMember("metadata", "namespace") ?? "default",
            name: pod.stringMember("metadata", "name") ?? "", uid: pod.stringMember("metadata", "uid") ?? "")
        return EndpointAddress(ip: ip, hostname: nil, nodeName: node.isEmpty ? nil : node, targetRef: reference)
    }

    /// Kubernetes' `FindPort`: a numeric target port as it is; a named one is the container port
    /// of that name and the service port's protocol in the pod's containers (or its sidecars,
    /// init containers that restart always); nil when the pod has no such port.
    static func targetPort(of servicePort: JSONValue, in pod: JSONValue) -> Int64? {
        let target = servicePort["targetPort"] ?? servicePort["port"]
        if let number = target?.asInt64 { return number }
        guard let portName = target?.asString else { return nil }
        let serviceProtocol = servicePort.stringMember("protocol") ?? "TCP"
        let sidecars = pod.arrayMember("spec", "initContainers").filter { $0.stringMember("restartPolicy") == "Always" }
        for container in pod.arrayMember("spec", "containers") + sidecars {
            for port in container.arrayMember("ports")
            where port.stringMember("name") == portName && (port.stringMember("protocol") ?? "TCP") == serviceProtocol {
                return port.intMember("containerPort")
            }
        }
        return nil
    }
}

// MARK: - Capacity

extension EndpointsController {
    /// Trims the subsets to `addressesMax` addresses as Kubernetes' `truncateEndpoints` does:
    /// ready addresses first, each subset keeping its share (rounded up) of what fits. True when
    /// anything was cut.
    func truncate(_ subsets: inout [EndpointSubset]) -> Bool {
        let ready = subsets.reduce(0) { $0 + $1.addresses.count }
        let notReady = subsets.reduce(0) { $0 + $1.notReadyAddresses.count }
        let limit = configuration.addressesMax
        guard ready + notReady > limit else { return false }
        let cutReady = ready > limit
        let room = cutReady ? limit : limit - ready
        let total = cutReady ? ready : notReady
        var left = room
        for index in subsets.indices {
            let inSubset = cutReady ? subsets[index].addresses.count : subsets[index].notReadyAddresses.count
            let share = min((inSubset * room + total - 1) / total, left)
            if cutReady {
                subsets[index].addresses = Array(subsets[index].addresses.prefix(share))
                subsets[index].notReadyAddresses = []
                left -= subsets[index].addresses.count
            } else {
                subsets[index].notReadyAddresses = Array(subsets[index].notReadyAddresses.prefix(share))
                left -= subsets[index].notReadyAddresses.count
            }
        }
        return true
    }
}
