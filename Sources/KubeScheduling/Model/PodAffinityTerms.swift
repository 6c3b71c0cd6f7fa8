//! Inter-pod affinity and anti-affinity terms (`spec.affinity.podAffinity` and
//! `podAntiAffinity`): which pods a term selects (label selector, namespaces, namespace
//! selector) and the topology key whose value defines "the same place".

import KubeAPI
import Wire

/// One pod affinity term, resolved against the pod that carries it.
public struct PodAffinityTerm: Sendable, Equatable {
    /// Selects the pods the term is about; a missing selector selects none.
    public var labelSelector: LabelSelector
    /// The namespaces named by the term, or the carrying pod's own when neither namespaces nor
    /// a namespace selector is given.
    public var namespaces: Set<String>
    /// Selects further namespaces by their labels; nil when absent (`{}` selects all).
    public var namespaceSelector: LabelSelector?
    public var topologyKey: String

    public init(labelSelector: LabelSelector, namespaces: Set<String>, namespaceSelector: LabelSelector? = nil, topologyKey: String) {
        self.labelSelector = labelSelector
        self.namespaces = namespaces
        self.namespaceSelector = namespaceSelector
        self.topologyKey = topologyKey
    }

    /// The term from JSON, carried by a pod in `ownerNamespace`. A selector that does not parse
    /// selects nothing (Kubernetes refuses the pod's terms the same way).
    init(json: JSONValue, ownerNamespace: String) {
        let selector = json.member("labelSelector") ?? .null
        labelSelector = (try? LabelSelector(structured: selector)) ?? .nothing
        let listed = json.arrayMember("namespaces").compactMap(\.asString)
        if let namespaceJSON = json.member("namespaceSelector"), namespaceJSON != .null {
            namespaceSelector = (try? LabelSelector(structured: namespaceJSON)) ?? .nothing
        }
        namespaces = listed.isEmpty && namespaceSelector == nil ? [ownerNamespace] : Set(listed)
        topologyKey = json.stringMember("topologyKey") ?? ""
    }

    /// Whether the term selects `pod`, given the labels of the pod's namespace.
    public func matches(_ pod: SchedulingPod, namespaceLabels: [String: String]) -> Bool {
        let namespaceSelected = namespaces.contains(pod.namespace) || (namespaceSelector?.matches(labels: namespaceLabels) ?? false)
        return namespaceSelected && labelSelector.matches(labels: pod.labels)
    }
}

/// A preferred term and its weight (1-100).
public struct WeightedPodAffinityTerm: Sendable, Equatable {
    public var weight: Int64
    public var term: PodAffinityTerm
}

/// All inter-pod terms of one pod.
public struct PodAffinityRules: Sendable, Equatable {
    public var requiredAffinity: [PodAffinityTerm] = []
    public var requiredAntiAffinity: [PodAffinityTerm] = []
    public var preferredAffinity: [WeightedPodAffinityTerm] = []
    public var preferredAntiAffinity: [WeightedPodAffinityTerm] = []
    /// Whether the pod spec has a podAffinity or podAntiAffinity section at all (Kubernetes
    /// indexes such pods for scoring even when the section is empty).
    public var declared = false

    init(pod: JSONValue, namespace: String) {
        let affinity = pod.member("spec", "affinity", "podAffinity")
        let antiAffinity = pod.member("spec", "affinity", "podAntiAffinity")
        declared = (affinity.map { $0 != .null } ?? false) || (antiAffinity.map { $0 != .null } ?? false)
        func required(_ section: JSONValue?) -> [PodAffinityTerm] {
            (section?.arrayMember("requiredDuringSchedulingIgnoredDuringExecution") ?? []).map {
                PodAffinityTerm(json: $0, ownerNamespace: namespace)
            }
        }
        func preferred(_ section: JSONValue?) -> [WeightedPodAffinityTerm] {
            (section?.arrayMember("preferredDuringSchedulingIgnoredDuringExecution") ?? []).compactMap { entry in
                guard let weight = entry.intMember("weight"), let term = entry.member("podAffinityTerm") else { return nil }
                return WeightedPodAffinityTerm(weight: weight, term: PodAffinityTerm(json: term, ownerNamespace: namespace))
            }
        }
        requiredAffinity = required(affinity)
        requiredAntiAffinity = required(antiAffinity)
        preferredAffinity = preferred(affinity)
        preferredAntiAffinity = preferred(antiAffinity)
    }

    var hasRequired: Bool { !requiredAffinity.isEmpty || !requiredAntiAffinity.isEmpty }
    var hasPreferred: Bool { !preferredAffinity.isEmpty || !preferredAntiAffinity.isEmpty }
}
