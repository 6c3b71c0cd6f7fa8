//! Validation of the cluster's own records: Namespaces (finalizers), Nodes (taints, capacity,
//! pod CIDRs that never change), Leases (durations) and Events (whose involved object must
//! live where the event does).
import Wire

enum ClusterValidation {
    static func validateNamespace(_ namespace: JSONValue) -> [FieldCause] {
        MetadataValidation.finalizers(namespace.arrayMember("spec", "finalizers"), "spec.finalizers", indexed: false)
    }

    static func validateNode(_ node: JSONValue, old: JSONValue?) -> [FieldCause] {
        var causes: [FieldCause] = []
        // Kubernetes reports taints under `metadata`, though they live in the spec.
        causes += taints(node.arrayMember("spec", "taints"), "metadata.taints")
        for section in ["capacity", "allocatable"] {
            for (resource, value) in node.objectMember("status", section)?.members ?? JSONObject().members {
                let path = FieldPath("status").child(section, resource)
                if let quantity = ResourceQuantity(json: value), quantity.milliValue < 0 {
                    causes.append(.invalid(path, .string(ResourceQuantity.text(of: value) ?? ""), CommonValidation.negativeMessage))
                }
            }
        }
        guard let old else { return causes }
        // The pod CIDRs and the provider ID may be set once, never changed.
        let oldCIDRs = old.arrayMember("spec", "podCIDRs")
        if !oldCIDRs.isEmpty && oldCIDRs != node.arrayMember("spec", "podCIDRs") {
            causes.append(.forbidden("spec.podCIDRs", "node updates may not change podCIDR except from \"\" to valid"))
        }
        if let oldProvider = old.stringMember("spec", "providerID"), !oldProvider.isEmpty,
            node.stringMember("spec", "providerID") != oldProvider
        {
            causes.append(.forbidden("spec.providerID", "node updates may not change providerID except from \"\" to valid"))
        }
        return causes
    }

    /// Taints: label keys and values, a known effect, and one taint per key and effect.
    private static func taints(_ taints: [JSONValue], _ path: FieldPath) -> [FieldCause] {
        var causes: [FieldCause] = []
        var seen = Set<String>()
        for (position, taint) in taints.enumerated() {
            let taintPath = path.index(position)
            let key = taint.stringMember("key") ?? ""
            let value = taint.stringMember("value") ?? ""
            let effect = taint.stringMember("effect") ?? ""
            causes += FieldCause.invalidEach(taintPath.child("key"), key, NameRules.qualifiedName(key))
            let valueMessages = NameRules.labelValue(value)
            if !valueMessages.isEmpty {
                causes.append(.invalid(taintPath.child("value"), .string(value), valueMessages.joined(separator: ";")))
            }
            if effect.isEmpty {
                causes.append(.required(taintPath.child("effect")))
            } else {
                causes += CommonValidation.oneOf(.string(effect), taintPath.child("effect"), supported: ContainerValidation.taintEffects)
            }
            if !seen.insert("\(effect)\u{0}\(key)").inserted {
                let rendered = "core.Taint{Key:\(GoSyntax.quoted(key)), Value:\(GoSyntax.quoted(value)), "
                    + "Effect:\(GoSyntax.quoted(effect)), TimeAdded:(*v1.Time)(nil)}"
                causes.append(.duplicate(taintPath, .goSyntax(rendered), "taints must be unique by key and effect pair"))
            }
        }
        return causes
    }

    /// A lease lasts a positive time and counts its transitions from zero.
    static func validateLease(_ lease: JSONValue) -> [FieldCause] {
        var causes: [FieldCause] = []
        if let duration = lease.intMember("spec", "leaseDurationSeconds"), duration <= 0 {
            causes.append(.invalid("spec.leaseDurationSeconds", .integer(duration), "must be greater than 0"))
        }
        causes += CommonValidation.nonNegative(lease["spec"]?["leaseTransitions"], "spec.leaseTransitions")
        return causes
    }

    /// An Event lives in its involved object's namespace (or, for a cluster-scoped object, in
    /// `default` or none); a new-style event (with `eventTime`) also names who reported it and why.
    static func validateEvent(_ event: JSONValue, registry: ResourceRegistry) -> [FieldCause] {
        var causes: [FieldCause] = []
        let namespace = event.stringMember("metadata", "namespace") ?? ""
        let involvedNamespace = event.stringMember("involvedObject", "namespace") ?? ""
        let involvedNamespacePath: FieldPath = "involvedObject.namespace"
        let eventTime = event.stringMember("eventTime") ?? ""
        if eventTime.isEmpty {
            if involvedNamespace.isEmpty ? !(namespace.isEmpty || namespace == "default") : namespace != involvedNamespace {
                causes.append(.invalid(involvedNamespacePath, .string(involvedNamespace), "does not match event.namespace"))
            }
        } else {
            if involvedNamespace.isEmpty && namespace != "default" && namespace != "kube-system" {
                causes.append(.invalid(involvedNamespacePath, .string(involvedNamespace), "does not match event.namespace"))
            }
            // The v1 API calls the reporting controller `reportingComponent`.
            let controller = event.stringMember("reportingComponent") ?? ""
            if controller.isEmpty { causes.append(.required("reportingComponent")) }
            causes += FieldCause.invalidEach("reportingComponent", controller, NameRules.qualifiedName(controller))
            for field in ["reportingInstance", "action", "reason"] where (event.stringMember(field) ?? "").isEmpty {
                causes.append(.required(FieldPath(field)))
            }
        }
        // For kinds it serves, the server knows whether the object lives in a namespace.
        if let kind = event.stringMember("involvedObject", "kind"), let resource = registry.resource(kind: kind) {
            if resource.namespaced && involvedNamespace.isEmpty {
                causes.append(.required(involvedNamespacePath, "required for kind \(kind)"))
            } else if !resource.namespaced && !involvedNamespace.isEmpty {
                causes.append(.invalid(involvedNamespacePath, .string(involvedNamespace), "not allowed for kind \(kind)"))
            }
        }
        return causes
    }
}
