//! Node selector terms as pods carry them in `spec.affinity.nodeAffinity`: requirements on a
//! node's labels (`In`, `NotIn`, `Exists`, `DoesNotExist`, `Gt`, `Lt`) and on its fields (only
//! `metadata.name`, as Kubernetes). Expressions of a term are ANDed; terms are ORed.

import Wire

/// One requirement of a node selector term.
public struct NodeSelectorRequirement: Sendable, Equatable {
    public enum Operator: String, Sendable, Equatable {
        case `in` = "In"
        case notIn = "NotIn"
        case exists = "Exists"
        case doesNotExist = "DoesNotExist"
        case greaterThan = "Gt"
        case lessThan = "Lt"
    }

    public var key: String
    public var `operator`: Operator
    public var values: [String]

    public init(key: String, operator: Operator, values: [String] = []) {
        self.key = key
        self.operator = `operator`
        self.values = values
    }

    /// Nil for an operator Kubernetes does not know, or values that do not suit the operator
    /// (validation refuses both; Kubernetes' scheduler then treats the term as matching nothing).
    init?(json: JSONValue) {
        guard let key = json.stringMember("key"),
            let parsedOperator = json.stringMember("operator").flatMap(Operator.init(rawValue:))
        else { return nil }
        let values = json.arrayMember("values").compactMap(\.asString)
        switch parsedOperator {
        case .in, .notIn: guard !values.isEmpty else { return nil }
        case .exists, .doesNotExist: guard values.isEmpty else { return nil }
        case .greaterThan, .lessThan: guard values.count == 1, Int64(values[0]) != nil else { return nil }
        }
        self.init(key: key, operator: parsedOperator, values: values)
    }

    /// Whether a node whose value for `key` is `value` (nil: no such label) satisfies this.
    func matches(value: String?) -> Bool {
        switch self.operator {
        case .in: return value.map(values.contains) ?? false
        case .notIn: return !(value.map(values.contains) ?? false)
        case .exists: return value != nil
        case .doesNotExist: return value == nil
        case .greaterThan, .lessThan:
            guard let value, let number = Int64(value), let bound = Int64(values[0]) else { return false }
            return self.operator == .greaterThan ? number > bound : number < bound
        }
    }
}

/// One node selector term: every label expression and every field expression must hold.
public struct NodeSelectorTerm: Sendable, Equatable {
    public var matchExpressions: [NodeSelectorRequirement]
    public var matchFields: [NodeSelectorRequirement]
    /// False when some requirement did not parse: such a term matches no node.
    public var isValid: Bool

    public init(matchExpressions: [NodeSelectorRequirement] = [], matchFields: [NodeSelectorRequirement] = []) {
        self.matchExpressions = matchExpressions
        self.matchFields = matchFields
        self.isValid = true
    }

    init(json: JSONValue) {
        let expressionsJSON = json.arrayMember("matchExpressions")
        let fieldsJSON = json.arrayMember("matchFields")
        let expressions = expressionsJSON.compactMap(NodeSelectorRequirement.init(json:))
        // Only metadata.name is a selectable field, and only with In or NotIn.
        let fields = fieldsJSON.compactMap(NodeSelectorRequirement.init(json:)).filter {
            $0.key == "metadata.name" && ($0.operator == .in || $0.operator == .notIn)
        }
        self.init(matchExpressions: expressions, matchFields: fields)
        isValid = expressions.count == expressionsJSON.count && fields.count == fieldsJSON.count
    }

    /// Whether `node` satisfies the term. An empty term matches nothing, as in Kubernetes.
    public func matches(_ node: SchedulingNode) -> Bool {
        guard isValid, !(matchExpressions.isEmpty && matchFields.isEmpty) else { return false }
        return matchExpressions.allSatisfy { $0.matches(value: node.labels[$0.key]) }
            && matchFields.allSatisfy { $0.matches(value: node.name) }
    }
}

/// A preferred term and its weight (1-100).
public struct WeightedNodeSelectorTerm: Sendable, Equatable {
    public var weight: Int64
    public var term: NodeSelectorTerm
}

/// What a pod asks of a node's labels: its `nodeSelector` and its node affinity.
public struct NodePlacement: Sendable, Equatable {
    /// `spec.nodeSelector`: every label must be present with this value.
    public var nodeSelector: [String: String] = [:]
    /// `requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`; nil when absent.
    /// Some term must match.
    public var requiredTerms: [NodeSelectorTerm]?
    /// `preferredDuringSchedulingIgnoredDuringExecution`.
    public var preferredTerms: [WeightedNodeSelectorTerm] = []

    init(pod: JSONValue) {
        for (key, value) in (pod.member("spec", "nodeSelector")?.stringPairs ?? []) { nodeSelector[key] = value }
        let affinity = pod.member("spec", "affinity", "nodeAffinity")
        if let required = affinity?.member("requiredDuringSchedulingIgnoredDuringExecution"), required.asObject != nil {
            requiredTerms = required.arrayMember("nodeSelectorTerms").map(NodeSelectorTerm.init(json:))
        }
        preferredTerms = (affinity?.arrayMember("preferredDuringSchedulingIgnoredDuringExecution") ?? []).compactMap { entry in
            guard let weight = entry.intMember("weight"), weight != 0, let term = entry.member("preference") else { return nil }
            return WeightedNodeSelectorTerm(weight: weight, term: NodeSelectorTerm(json: term))
        }
    }

    /// The NodeAffinity filter: the node selector and some required term both hold.
    public func requiredMatch(_ node: SchedulingNode) -> Bool {
        for (key, value) in nodeSelector where node.labels[key] != value { return false }
        guard let requiredTerms else { return true }
        return requiredTerms.contains { $0.matches(node) }
    }

    /// The NodeAffinity score before normalising: the weights of the preferred terms that match.
    public func preferredWeight(_ node: SchedulingNode) -> Int64 {
        preferredTerms.reduce(0) { sum, preferred in preferred.term.matches(node) ? sum + preferred.weight : sum }
    }
}
