//! Validation of `metadata`, common to every kind: the name (or the `generateName` prefix), the
//! namespace, labels, annotations, owner references and finalizers; and on update, the fields
//! that identify an object and may never change.
import Wire

enum MetadataValidation {
    static let metadataPath: FieldPath = "metadata"
    /// Annotations together may hold at most 256 KiB.
    static let annotationsSizeLimit = 256 * 1024
    /// Finalizers Kubernetes itself defines, which need no domain prefix.
    static let standardFinalizers: Set<String> = ["kubernetes", "orphan", "foregroundDeletion"]

    /// - Parameter namespaced: whether the kind lives in a namespace (which must then be set) or
    ///   not (then it must not be set); nil for an unknown kind, whose namespace is not checked.
    ///   A real apiserver clears the namespace of cluster-scoped objects before validating, and
    ///   fills it in from the path for namespaced ones; the shell is expected to do the same.
    static func validate(_ object: JSONValue, name rule: NameRule, namespaced: Bool?) -> [FieldCause] {
        let metadata = object["metadata"]
        var causes: [FieldCause] = []
        let generateName = metadata?.stringMember("generateName") ?? ""
        if !generateName.isEmpty {
            causes += FieldCause.invalidEach(metadataPath.child("generateName"), generateName, rule.messages(generateName, prefix: true))
        }
        let name = metadata?.stringMember("name") ?? ""
        if !name.isEmpty {
            causes += FieldCause.invalidEach(metadataPath.child("name"), name, rule.messages(name))
        } else if generateName.isEmpty {
            // With a generateName the shell derives the name before storing the object.
            causes.append(.required(metadataPath.child("name"), "name or generateName is required"))
        }
        let namespace = metadata?.stringMember("namespace") ?? ""
        switch namespaced {
        case true?:
            if namespace.isEmpty {
                causes.append(.required(metadataPath.child("namespace")))
            } else {
                causes += FieldCause.invalidEach(metadataPath.child("namespace"), namespace, NameRule.dnsLabel.messages(namespace))
            }
        case false?:
            if !namespace.isEmpty { causes.append(.forbidden(metadataPath.child("namespace"), "not allowed on this type")) }
        case nil: break
        }
        causes += CommonValidation.nonNegative(metadata?["generation"], metadataPath.child("generation"))
        causes += CommonValidation.labels(metadata?["labels"], metadataPath.child("labels"))
        causes += annotations(metadata?["annotations"], metadataPath.child("annotations"))
        causes += ownerReferences(metadata?.arrayMember("ownerReferences") ?? [], metadataPath.child("ownerReferences"))
        causes += finalizers(metadata?.arrayMember("finalizers") ?? [], metadataPath.child("finalizers"))
        return causes
    }

    /// Annotation keys are qualified names in any case, and all annotations share a size limit.
    static func annotations(_ value: JSONValue?, _ path: FieldPath) -> [FieldCause] {
        var causes: [FieldCause] = []
        var totalSize = 0
        for (key, annotationValue) in value?.stringPairs ?? [] {
            causes += FieldCause.invalidEach(path, key, NameRules.qualifiedName(key.lowercased()))
            totalSize += key.utf8.count + annotationValue.utf8.count
        }
        if totalSize > annotationsSizeLimit { causes.append(.tooLong(path, maxBytes: annotationsSizeLimit)) }
        return causes
    }

    /// Each owner reference names its owner fully; Kubernetes reports them on the list's path.
    private static func ownerReferences(_ references: [JSONValue], _ path: FieldPath) -> [FieldCause] {
        var causes: [FieldCause] = []
        for reference in references {
            let apiVersion = reference.stringMember("apiVersion") ?? ""
            let version = apiVersion.split(separator: "/", omittingEmptySubsequences: false).last.map(String.init) ?? ""
            if version.isEmpty { causes.append(.invalid(path.child("apiVersion"), .string(apiVersion), "version must not be empty")) }
            for (field, noun) in [("kind", "kind"), ("name", "name"), ("uid", "uid")] {
                let value = reference.stringMember(field) ?? ""
                if value.isEmpty { causes.append(.invalid(path.child(field), .string(value), "\(noun) must not be empty")) }
            }
        }
        return causes
    }

    /// Finalizers are qualified names, and unprefixed ones must be Kubernetes' own.
    static func finalizers(_ names: [JSONValue], _ path: FieldPath, indexed: Bool = true) -> [FieldCause] {
        var causes: [FieldCause] = []
        for (position, value) in names.enumerated() {
            let name = value.asString ?? ""
            causes += FieldCause.invalidEach(path, name, NameRules.qualifiedName(name))
            if !name.contains("/") && !standardFinalizers.contains(name) {
                causes.append(.invalid(indexed ? path.index(position) : path, .string(name),
                    "name is neither a standard finalizer name nor is it fully qualified"))
            }
        }
        return causes
    }

    /// On update the name, namespace and uid must stay; an update that leaves the uid out keeps
    /// the stored one (the shell copies it over), so only a different uid is an error.
    static func validateUpdate(_ object: JSONValue, old: JSONValue) -> [FieldCause] {
        var causes: [FieldCause] = []
        for field in ["name", "namespace", "uid"] {
            let new = object.stringMember("metadata", field) ?? ""
            let previous = old.stringMember("metadata", field) ?? ""
            if new != previous && !(field == "uid" && new.isEmpty) {
                causes.append(.invalid(metadataPath.child(field), .string(new), "field is immutable"))
            }
        }
        return causes
    }
}
