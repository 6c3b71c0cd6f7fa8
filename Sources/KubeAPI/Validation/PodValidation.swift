//! Validation of pods and pod specs (also those inside Deployment and ReplicaSet templates), and
//! the rules of pod updates: once created, a pod may change only its images, its active deadline,
//! its tolerations (by adding some) and its scheduling gates (by removing some).
import Wire

enum PodValidation {
    static let restartPolicies = ["Always", "OnFailure", "Never"]
    static let dnsPolicies = ["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"]
    static let preemptionPolicies = ["PreemptLowerPriority", "PreemptNever"]
    /// What `kubectl` prints when an update touches anything else.
    static let updatableFieldsMessage = "pod updates may not change fields other than "
        + [
            "`spec.containers[*].image`", "`spec.initContainers[*].image`", "`spec.activeDeadlineSeconds`",
            "`spec.tolerations` (only additions to existing tolerations)",
            "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
        ].joined(separator: ",")

    static let specPath: FieldPath = "spec"

    static func validatePod(_ pod: JSONValue, old: JSONValue?) -> [FieldCause] {
        var causes = validateSpec(pod["spec"], specPath, isPod: true)
        if let old {
            causes += validateUpdate(pod, old: old)
        } else {
            if !pod.arrayMember("spec", "ephemeralContainers").isEmpty {
                causes.append(.forbidden(specPath.child("ephemeralContainers"), "cannot be set on create"))
            }
            if !(pod.stringMember("spec", "nodeName") ?? "").isEmpty && !pod.arrayMember("spec", "schedulingGates").isEmpty {
                causes.append(.forbidden(specPath.child("nodeName"), "cannot be set until all schedulingGates have been cleared"))
            }
        }
        return causes
    }

    /// A pod spec, in the order Kubernetes checks it. `isPod` adds the checks only a pod (not a
    /// template) gets: a host-network pod's host ports must equal its container ports.
    static func validateSpec(_ spec: JSONValue?, _ path: FieldPath, isPod: Bool) -> [FieldCause] {
        var causes = volumes(spec?.arrayMember("volumes") ?? [], path.child("volumes"))
        causes += containers(spec, path, isPod: isPod)
        causes += CommonValidation.oneOf(spec?["restartPolicy"], path.child("restartPolicy"), supported: restartPolicies)
        causes += CommonValidation.oneOf(spec?["dnsPolicy"], path.child("dnsPolicy"), supported: dnsPolicies)
        causes += CommonValidation.labels(spec?["nodeSelector"], path.child("nodeSelector"))
        if spec?.stringMember("dnsPolicy") == "None" && spec?["dnsConfig"]?.asObject == nil {
            causes.append(.required(path.child("dnsConfig"), "must provide `dnsConfig` when `dnsPolicy` is None"))
        }
        for (position, gate) in (spec?.arrayMember("readinessGates") ?? []).enumerated() {
            let condition = gate.stringMember("conditionType") ?? ""
            causes += FieldCause.invalidEach(
                path.child("readinessGates").index(position).child("conditionType"), condition, NameRules.qualifiedName(condition))
        }
        for field in ["serviceAccountName", "nodeName"] {
            if let name = spec?.stringMember(field), !name.isEmpty {
                causes += FieldCause.invalidEach(path.child(field), name, NameRules.dnsSubdomain(name))
            }
        }
        if let deadline = spec?.intMember("activeDeadlineSeconds"), !(1...Int64(Int32.max)).contains(deadline) {
            causes.append(.invalid(path.child("activeDeadlineSeconds"), .integer(deadline), "must be between 1 and 2147483647, inclusive"))
        }
        for field in ["hostname", "subdomain"] {
            if let label = spec?.stringMember(field), !label.isEmpty {
                causes += FieldCause.invalidEach(path.child(field), label, NameRules.dnsLabel(label))
            }
        }
        causes += ContainerValidation.tolerations(spec?.arrayMember("tolerations") ?? [], path.child("tolerations"))
        if let className = spec?.stringMember("priorityClassName"), !className.isEmpty {
            causes += FieldCause.invalidEach(path.child("priorityClassName"), className, NameRules.dnsSubdomain(className))
        }
        causes += CommonValidation.oneOf(spec?["preemptionPolicy"], path.child("preemptionPolicy"), supported: preemptionPolicies)
        return causes
    }

    private static func volumes(_ volumes: [JSONValue], _ path: FieldPath) -> [FieldCause] {
        var causes: [FieldCause] = []
        var names = Set<String>()
        for (position, volume) in volumes.enumerated() {
            let namePath = path.index(position).child("name")
            let name = volume.stringMember("name") ?? ""
            var volumeCauses = name.isEmpty ? [.required(namePath)] : FieldCause.invalidEach(namePath, name, NameRules.dnsLabel(name))
            if names.contains(name) { volumeCauses.append(.duplicate(namePath, .string(name))) }
            // Only a valid volume claims its name, as in Kubernetes.
            if volumeCauses.isEmpty { names.insert(name) }
            causes += volumeCauses
        }
        return causes
    }

    /// Regular containers (at least one, unique names), then init containers (unique among all).
    private static func containers(_ spec: JSONValue?, _ path: FieldPath, isPod: Bool) -> [FieldCause] {
        let regular = spec?.arrayMember("containers") ?? []
        var causes: [FieldCause] = []
        var names = Set<String>()
        let hostNetwork = spec?.boolMember("hostNetwork") ?? false
        if regular.isEmpty {
            causes.append(.required(path.child("containers")))
        }
        for (position, container) in regular.enumerated() {
            let containerPath = path.child("containers").index(position)
            causes += ContainerValidation.common(container, containerPath)
            let name = container.stringMember("name") ?? ""
            if !names.insert(name).inserted { causes.append(.duplicate(containerPath.child("name"), .string(name))) }
            if container["restartPolicy"] != nil && container["restartPolicy"] != .null {
                causes.append(.forbidden(containerPath.child("restartPolicy"), "may not be set for non-init containers"))
            }
        }
        for (position, container) in (spec?.arrayMember("initContainers") ?? []).enumerated() {
            let containerPath = path.child("initContainers").index(position)
            causes += ContainerValidation.common(container, containerPath)
            causes += CommonValidation.oneOf(container["restartPolicy"], containerPath.child("restartPolicy"), supported: ["Always"])
            let name = container.stringMember("name") ?? ""
            if names.contains(name) {
                causes.append(.duplicate(containerPath.child("name"), .string(name)))
            } else if !name.isEmpty {
                names.insert(name)
            }
        }
        if hostNetwork {
            causes += hostNetworkPorts(regular, path.child("containers"), isPod: isPod)
        }
        return causes
    }

    /// With the host's network a container port is a host port, so the two must agree; a
    /// template may leave the host port out, as it is defaulted when the pod is created.
    private static func hostNetworkPorts(_ containers: [JSONValue], _ path: FieldPath, isPod: Bool) -> [FieldCause] {
        var causes: [FieldCause] = []
        for (containerPosition, container) in containers.enumerated() {
            for (portPosition, port) in container.arrayMember("ports").enumerated() {
                let hostPort = port.intMember("hostPort") ?? 0
                let containerPort = port.intMember("containerPort") ?? 0
                if (isPod || hostPort != 0) && hostPort != containerPort {
                    causes.append(.invalid(path.index(containerPosition).child("ports").index(portPosition).child("hostPort"),
                        .integer(hostPort), "must match `containerPort` when `hostNetwork` is true"))
                }
            }
        }
        return causes
    }

    /// The rules of a pod update, after the new pod itself was found valid.
    private static func validateUpdate(_ pod: JSONValue, old: JSONValue) -> [FieldCause] {
        var causes: [FieldCause] = []
        for list in ["containers", "initContainers"] {
            let new = pod.arrayMember("spec", list)
            guard new.count == old.arrayMember("spec", list).count else {
                return causes + [.forbidden(specPath.child(list), "pod updates may not add or remove containers")]
            }
            for (position, container) in new.enumerated() where (container.stringMember("image") ?? "").isEmpty {
                causes.append(.required(specPath.child(list).index(position).child("image")))
            }
        }
        let deadlinePath = specPath.child("activeDeadlineSeconds")
        let oldDeadline = old.intMember("spec", "activeDeadlineSeconds")
        if let deadline = pod.intMember("spec", "activeDeadlineSeconds") {
            if !(0...Int64(Int32.max)).contains(deadline) {
                return causes + [.invalid(deadlinePath, .integer(deadline), "must be between 0 and 2147483647, inclusive")]
            }
            if let oldDeadline, oldDeadline < deadline {
                return causes + [.invalid(deadlinePath, .integer(deadline), "must be less than or equal to previous value")]
            }
        } else if oldDeadline != nil {
            causes.append(.invalid(deadlinePath, .string("null"), "must not update from a positive integer to nil value"))
        }
        causes += onlyAddedTolerations(pod.arrayMember("spec", "tolerations"), old: old.arrayMember("spec", "tolerations"))
        causes += onlyDeletedSchedulingGates(pod.arrayMember("spec", "schedulingGates"), old: old.arrayMember("spec", "schedulingGates"))
        if !GoSyntax.equivalent(mungedSpec(pod, old: old), old["spec"]) {
            causes.append(.forbidden(specPath, updatableFieldsMessage))
        }
        return causes
    }

    /// Existing tolerations may only change their seconds; new ones may be added.
    private static func onlyAddedTolerations(_ new: [JSONValue], old: [JSONValue]) -> [FieldCause] {
        let path = specPath.child("tolerations")
        for previous in old {
            let kept = new.contains { candidate in
                guard case .object(var withOldSeconds) = candidate, case .object(let previousFields) = previous else { return false }
                withOldSeconds["tolerationSeconds"] = previousFields["tolerationSeconds"]
                return GoSyntax.equivalent(.object(withOldSeconds), previous)
            }
            if !kept { return [.forbidden(path, "existing toleration can not be modified except its tolerationSeconds")] }
        }
        return ContainerValidation.tolerations(new, path)
    }

    /// Scheduling gates may only be removed.
    private static func onlyDeletedSchedulingGates(_ new: [JSONValue], old: [JSONValue]) -> [FieldCause] {
        let oldNames = Set(old.compactMap { $0.stringMember("name") })
        return new.enumerated().compactMap { position, gate in
            let name = gate.stringMember("name") ?? ""
            guard !oldNames.contains(name) else { return nil }
            return .forbidden(specPath.child("schedulingGates").index(position).child("name"),
                "only deletion is allowed, but found new scheduling gate '\(name)'")
        }
    }

    /// The new spec with every field an update may change put back to its old value: what is left
    /// must equal the old spec.
    private static func mungedSpec(_ pod: JSONValue, old: JSONValue) -> JSONValue {
        guard case .object(var spec)? = pod["spec"], let oldSpec = old["spec"] else { return pod["spec"] ?? .null }
        for list in ["containers", "initContainers"] {
            let oldContainers = oldSpec.arrayMember(list)
            guard case .array(var containers)? = spec[list] else { continue }
            for position in containers.indices where position < oldContainers.count {
                guard case .object(var container) = containers[position] else { continue }
                container["image"] = oldContainers[position]["image"]
                containers[position] = .object(container)
            }
            spec[list] = .array(containers)
        }
        for field in ["activeDeadlineSeconds", "tolerations", "schedulingGates"] {
            spec[field] = oldSpec[field]
        }
        // A pod stuck with a negative grace period may be given 1 second to finally terminate.
        if let oldGrace = oldSpec.intMember("terminationGracePeriodSeconds"), oldGrace < 0,
            spec["terminationGracePeriodSeconds"]?.asInt64 == 1
        {
            spec["terminationGracePeriodSeconds"] = .integer(oldGrace)
        }
        return .object(spec)
    }
}
