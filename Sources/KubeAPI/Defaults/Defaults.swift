//! Defaulting on create and update: the fields a real apiserver fills in before it validates and
//! stores an object, so that `kubectl get -o yaml` shows what it would show against Kubernetes.
//!
//! Deterministic by construction: nothing here reads a clock or draws a number. The one value a
//! server allocates, a Service's cluster IP, comes in as a parameter.
import Wire

extension KubeAPI {
    /// `object` (of `kind`) with the defaults of Kubernetes v1.32 filled in. Fields the client set
    /// are kept; only missing (or zero) fields are filled.
    ///
    /// - Parameter clusterIP: for a Service without a cluster IP (and not of type ExternalName),
    ///   the address the shell allocated for it; nil leaves the IP fields alone.
    /// - Parameter tolerationSeconds: for a Pod, how long the tolerations of `not-ready` and
    ///   `unreachable` nodes that the apiserver adds last (its `--default-…-toleration-seconds`).
    public static func applyDefaults(kind: String, object: JSONValue, clusterIP: String? = nil,
        tolerationSeconds: DefaultTolerationSeconds = .kubernetes) -> JSONValue
    {
        guard case .object(var fields) = object else { return object }
        switch kind {
        case "Pod": PodDefaults.applyToPod(&fields, tolerationSeconds: tolerationSeconds)
        case "Deployment": WorkloadDefaults.applyToDeployment(&fields)
        case "ReplicaSet": WorkloadDefaults.applyToReplicaSet(&fields)
        case "Service": ServiceDefaults.apply(&fields, clusterIP: clusterIP)
        case "Namespace": applyToNamespace(&fields)
        case "Node": applyToNode(&fields)
        case "Secret": fields.fillDefault("type", .string("Opaque"))
        case "Endpoints":
            fields.editEachObject("subsets") { subset in
                subset.editEachObject("ports") { $0.fillDefault("protocol", .string("TCP")) }
            }
        default: break
        }
        return .object(fields)
    }

    /// A namespace carries a label with its own name (for namespace selectors) and starts Active.
    /// (Its `kubernetes` finalizer is set on create, not here: defaulting runs on every update,
    /// and the namespace controller must be able to remove it; see `NamespaceLifecycle`.)
    private static func applyToNamespace(_ namespace: inout JSONObject) {
        if let name = namespace["metadata"]?["name"]?.asString {
            namespace.editObject("metadata", create: true) { metadata in
                metadata.editObject("labels", create: true) { $0.fillDefault("kubernetes.io/metadata.name", .string(name)) }
            }
        }
        namespace.editObject("status", create: true) { $0.fillDefault("phase", .string("Active")) }
    }

    /// A node that reports capacity but no allocatable amount can use all of it.
    private static func applyToNode(_ node: inout JSONObject) {
        node.editObject("status") { status in
            if let capacity = status["capacity"], case .object = capacity { status.fillDefault("allocatable", capacity) }
        }
    }
}

/// Defaulting of Services: the v1 defaults plus the cluster IP fields the registry fills in.
enum ServiceDefaults {
    static func apply(_ service: inout JSONObject, clusterIP: String?) {
        service.editObject("spec", create: true) { spec in
            spec.fillDefault("type", .string("ClusterIP"))
            spec.fillDefault("sessionAffinity", .string("None"))
            // Client-IP affinity sticks for three hours unless told otherwise; without it there is no config.
            if spec["sessionAffinity"]?.asString == "ClientIP" {
                spec.editObject("sessionAffinityConfig", create: true) { config in
                    config.editObject("clientIP", create: true) { $0.fillDefault("timeoutSeconds", .integer(10_800)) }
                }
            } else if spec["sessionAffinity"]?.asString == "None" {
                spec["sessionAffinityConfig"] = nil
            }
            let type = spec["type"]?.asString ?? "ClusterIP"
            spec.editEachObject("ports") { port in
                port.fillDefault("protocol", .string("TCP"))
                // An unset target port (missing, 0 or "") is the service port.
                switch port["targetPort"] {
                case nil, .null?, .integer(0)?, .string("")?: if let number = port["port"] { port["targetPort"] = number }
                default: break
                }
            }
            if type == "NodePort" || type == "LoadBalancer" { spec.fillDefault("externalTrafficPolicy", .string("Cluster")) }
            if type == "LoadBalancer" { spec.fillDefault("allocateLoadBalancerNodePorts", .bool(true)) }
            if type != "ExternalName" {
                spec.fillDefault("internalTrafficPolicy", .string("Cluster"))
                assignClusterIP(&spec, allocated: clusterIP)
            }
        }
        service.editObject("status", create: true) { $0.fillDefault("loadBalancer", .object(JSONObject())) }
    }

    /// Fills `clusterIP` (when the shell allocated one), mirrors it into `clusterIPs`, and records
    /// the single IP family it belongs to.
    private static func assignClusterIP(_ spec: inout JSONObject, allocated: String?) {
        if let allocated { spec.fillDefault("clusterIP", .string(allocated)) }
        guard let address = spec["clusterIP"]?.asString, !address.isEmpty else { return }
        spec.fillDefault("clusterIPs", .array([.string(address)]))
        spec.fillDefault("ipFamilies", .array([.string(address.contains(":") ? "IPv6" : "IPv4")]))
        spec.fillDefault("ipFamilyPolicy", .string("SingleStack"))
    }
}
