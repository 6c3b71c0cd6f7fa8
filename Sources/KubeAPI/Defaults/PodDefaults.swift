//! Defaulting of pods and of pod templates, as the v1 defaulters and the admission plugins of a
//! real apiserver leave them.
//!
//! A pod template (in a Deployment or ReplicaSet) gets only the pod-spec defaults; a pod also gets
//! the pod-only defaults (`enableServiceLinks`, requests copied from limits) and what two
//! admission plugins add: DefaultTolerationSeconds (tolerate `not-ready` and `unreachable` nodes
//! for a while, 300 s unless the apiserver is told otherwise; DefaultTolerationSeconds.swift) and
//! Priority (priority 0, or that of a system priority class).
import Wire

enum PodDefaults {
    /// The values of the built-in priority classes; other classes are objects the shell would have
    /// to look up, so their pods are left for it to fill.
    static let systemPriorityClasses: [String: Int64] = [
        "system-node-critical": 2_000_001_000,
        "system-cluster-critical": 2_000_000_000,
    ]

    /// Defaults a whole pod: its spec, the pod-only fields, and the admission plugins' additions
    /// (`tolerationSeconds`: those of DefaultTolerationSeconds).
    static func applyToPod(_ pod: inout JSONObject, tolerationSeconds: DefaultTolerationSeconds) {
        pod.editObject("spec", create: true) { spec in
            applyToPodSpec(&spec)
            for containerList in ["containers", "initContainers"] {
                spec.editEachObject(containerList) { copyLimitsToRequests(&$0) }
            }
            spec.fillDefault("enableServiceLinks", .bool(true))
            addDefaultTolerations(&spec, seconds: tolerationSeconds)
            applyPriority(&spec)
        }
    }

    /// The defaults every pod spec gets, in a pod or in a template.
    static func applyToPodSpec(_ spec: inout JSONObject) {
        spec.fillDefault("dnsPolicy", .string("ClusterFirst"))
        spec.fillDefault("restartPolicy", .string("Always"))
        let hostNetwork = spec["hostNetwork"]?.asBool ?? false
        for containerList in ["containers", "initContainers"] {
            spec.editEachObject(containerList) { container in
                applyToContainer(&container, hostNetwork: hostNetwork)
            }
        }
        spec.editEachObject("volumes", applyToVolume)
        spec.fillDefault("securityContext", .object(JSONObject()))
        spec.fillDefault("terminationGracePeriodSeconds", .integer(30))
        spec.fillDefault("schedulerName", .string("default-scheduler"))
    }

    private static func applyToContainer(_ container: inout JSONObject, hostNetwork: Bool) {
        if let image = container["image"]?.asString {
            container.fillDefault("imagePullPolicy", .string(imagePullPolicy(forImage: image)))
        }
        container.fillDefault("terminationMessagePath", .string("/dev/termination-log"))
        container.fillDefault("terminationMessagePolicy", .string("File"))
        // Serialising a Go container always writes `resources`, even when empty.
        container.fillDefault("resources", .object(JSONObject()))
        container.editEachObject("ports") { port in
            port.fillDefault("protocol", .string("TCP"))
            // With the host's network the container port is the host port.
            if hostNetwork, (port["hostPort"]?.asInt64 ?? 0) == 0, let containerPort = port["containerPort"] {
                port["hostPort"] = containerPort
            }
        }
        container.editEachObject("env") { variable in
            variable.editObject("valueFrom") { source in
                source.editObject("fieldRef") { $0.fillDefault("apiVersion", .string("v1")) }
            }
        }
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
            container.editObject(probe, applyToProbe)
        }
        container.editObject("lifecycle") { lifecycle in
            for hook in ["postStart", "preStop"] {
                lifecycle.editObject(hook) { $0.editObject("httpGet", applyToHTTPGet) }
            }
        }
    }

    private static func applyToProbe(_ probe: inout JSONObject) {
        for (field, value) in [("timeoutSeconds", 1), ("periodSeconds", 10), ("successThreshold", 1), ("failureThreshold", 3)] {
            if (probe[field]?.asInt64 ?? 0) == 0 { probe[field] = .integer(Int64(value)) }
        }
        probe.editObject("httpGet", applyToHTTPGet)
    }

    private static func applyToHTTPGet(_ action: inout JSONObject) {
        action.fillDefault("path", .string("/"))
        action.fillDefault("scheme", .string("HTTP"))
    }

    /// Mode 0644, the default of every projected-file volume source.
    private static let defaultFileMode: Int64 = 0o644
    private static let volumeSources = [
        "emptyDir", "hostPath", "secret", "configMap", "persistentVolumeClaim", "projected", "downwardAPI", "nfs",
        "csi", "ephemeral", "iscsi", "rbd", "cephfs", "fc", "glusterfs", "flexVolume", "gitRepo", "image",
    ]

    private static func applyToVolume(_ volume: inout JSONObject) {
        // A volume that names no source is an empty directory.
        if !volumeSources.contains(where: { volume[$0] != nil && volume[$0] != .null }) {
            volume["emptyDir"] = .object(JSONObject())
        }
        for source in ["secret", "configMap", "projected", "downwardAPI"] {
            volume.editObject(source) { $0.fillDefault("defaultMode", .integer(defaultFileMode)) }
        }
        volume.editObject("hostPath") { $0.fillDefault("type", .string("")) }
    }

    /// `Always` for an image without a tag or tagged `latest`, `IfNotPresent` otherwise (a digest
    /// pins the image, so it is never pulled again).
    static func imagePullPolicy(forImage image: String) -> String {
        imageTag(image) == "latest" ? "Always" : "IfNotPresent"
    }

    /// The tag of an image reference: `latest` when it names neither a tag nor a digest, empty when
    /// it has only a digest or does not parse (a repository path must be lowercase).
    static func imageTag(_ image: String) -> String {
        var name = Substring(image)
        var hasDigest = false
        if let at = name.firstIndex(of: "@") {
            hasDigest = true
            name = name[..<at]
        }
        // The tag lives in the last path component; a colon before it is a registry's port.
        var tag = ""
        let lastComponentStart = name.lastIndex(of: "/").map { name.index(after: $0) } ?? name.startIndex
        if let colon = name[lastComponentStart...].lastIndex(of: ":") {
            tag = String(name[name.index(after: colon)...])
            name = name[..<colon]
        }
        var components = name.split(separator: "/", omittingEmptySubsequences: false)
        if components.count > 1, isRegistryHost(components[0]) { components.removeFirst() }
        if name.isEmpty || components.contains(where: { $0.isEmpty || $0.contains(where: \.isUppercase) }) { return "" }
        return tag.isEmpty && !hasDigest ? "latest" : tag
    }

    /// Whether the first component of a reference is a registry host (`localhost`, or one with a
    /// dot or a port), which, unlike the repository path, may contain capitals.
    private static func isRegistryHost(_ component: Substring) -> Bool {
        component == "localhost" || component.contains(".") || component.contains(":")
    }

    /// A pod that sets limits but no requests is scheduled by its limits.
    private static func copyLimitsToRequests(_ container: inout JSONObject) {
        guard case .object(let limits)? = container["resources"]?["limits"] else { return }
        container.editObject("resources", create: true) { resources in
            resources.editObject("requests", create: true) { requests in
                for (name, quantity) in limits.members where requests[name] == nil {
                    requests[name] = quantity
                }
            }
        }
    }

    /// Priority admission: a pod without a priority class gets priority 0; one of the system
    /// classes gets its value. Both may preempt lower priorities.
    private static func applyPriority(_ spec: inout JSONObject) {
        let className = spec["priorityClassName"]?.asString ?? ""
        let priority: Int64? = className.isEmpty ? 0 : systemPriorityClasses[className]
        guard let priority else { return }
        spec.fillDefault("priority", .integer(priority))
        spec.fillDefault("preemptionPolicy", .string("PreemptLowerPriority"))
    }
}
