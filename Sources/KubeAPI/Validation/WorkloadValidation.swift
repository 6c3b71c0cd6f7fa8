//! Validation of Deployments and ReplicaSets: a non-empty selector that matches the template's
//! labels (and never changes in apps/v1), a valid template that restarts its pods Always,
//! non-negative counts, and for Deployments a valid rollout strategy.
import Wire

enum WorkloadValidation {
    static let strategyTypes = ["Recreate", "RollingUpdate"]

    /// - Parameter kind: `Deployment` or `ReplicaSet`.
    static func validate(_ workload: JSONValue, kind: String, old: JSONValue?) -> [FieldCause] {
        let isDeployment = kind == "Deployment"
        let spec = workload["spec"]
        let specPath: FieldPath = "spec"
        var causes = CommonValidation.nonNegative(spec?["replicas"], specPath.child("replicas"))
        if !isDeployment { causes += CommonValidation.nonNegative(spec?["minReadySeconds"], specPath.child("minReadySeconds")) }
        causes += selectorAndTemplate(spec, specPath)
        if isDeployment {
            causes += strategy(spec?["strategy"], specPath.child("strategy"))
            causes += CommonValidation.nonNegative(spec?["minReadySeconds"], specPath.child("minReadySeconds"))
            causes += CommonValidation.nonNegative(spec?["revisionHistoryLimit"], specPath.child("revisionHistoryLimit"))
            if let deadline = spec?.intMember("progressDeadlineSeconds") {
                causes += CommonValidation.nonNegative(.integer(deadline), specPath.child("progressDeadlineSeconds"))
                if deadline <= spec?.intMember("minReadySeconds") ?? 0 {
                    causes.append(.invalid(
                        specPath.child("progressDeadlineSeconds"), .integer(deadline), "must be greater than minReadySeconds"))
                }
            }
        }
        // apps/v1 forbids changing the selector: the controller would lose its pods.
        if let old, !GoSyntax.equivalent(spec?["selector"], old["spec"]?["selector"]) {
            // Go prints a missing (nil) selector as the string "null".
            let selector = spec?["selector"].flatMap { $0 == .null ? nil : $0 }
            let value: BadValue = selector.map { .goSyntax(GoSyntax.labelSelector($0)) } ?? .string("null")
            causes.append(.invalid(specPath.child("selector"), value, "field is immutable"))
        }
        return causes
    }

    /// The selector is required and not empty, and must select the template's own pods.
    private static func selectorAndTemplate(_ spec: JSONValue?, _ specPath: FieldPath) -> [FieldCause] {
        let selectorPath = specPath.child("selector")
        var causes: [FieldCause] = []
        let selector = spec?["selector"].flatMap { $0 == .null ? nil : $0 }
        if let selector {
            causes += LabelSelectors.validate(selector, selectorPath)
            if selector.objectMember("matchLabels")?.count ?? 0 == 0 && selector.arrayMember("matchExpressions").isEmpty {
                // Kubernetes says "deployment" for ReplicaSets too.
                causes.append(.invalid(
                    selectorPath, .goSyntax(GoSyntax.labelSelector(selector)), "empty selector is invalid for deployment"))
            }
        } else {
            causes.append(.required(selectorPath))
        }
        let templatePath = specPath.child("template")
        guard let template = spec?["template"], template != .null else {
            return causes + [.required(templatePath)]
        }
        // A missing selector selects nothing, so the template never matches it either; an
        // empty one selects everything.
        let parsed: LabelSelector
        do {
            parsed = try LabelSelector(structured: selector ?? .null)
        } catch {
            causes.append(.invalid(selectorPath, .goSyntax(GoSyntax.labelSelector(selector)), "invalid label selector"))
            return causes
        }
        if !parsed.isEverything && !parsed.matches(object: template) {
            let labels = template["metadata"]?["labels"]
            causes.append(.invalid(templatePath.child("metadata", "labels"), .goSyntax(GoSyntax.stringMap(labels)),
                "`selector` does not match template `labels`"))
        }
        causes += CommonValidation.labels(template["metadata"]?["labels"], templatePath.child("labels"))
        causes += MetadataValidation.annotations(template["metadata"]?["annotations"], templatePath.child("annotations"))
        causes += PodValidation.validateSpec(template["spec"], templatePath.child("spec"), isPod: false)
        // Controllers replace pods that end, so their pods must always restart.
        if let restartPolicy = template.stringMember("spec", "restartPolicy"), restartPolicy != "Always" {
            causes.append(.notSupported(templatePath.child("spec", "restartPolicy"), .string(restartPolicy), supported: ["Always"]))
        }
        if template.intMember("spec", "activeDeadlineSeconds") != nil {
            causes.append(.forbidden(
                templatePath.child("spec", "activeDeadlineSeconds"), "activeDeadlineSeconds in ReplicaSet is not Supported"))
        }
        return causes
    }

    private static func strategy(_ strategy: JSONValue?, _ path: FieldPath) -> [FieldCause] {
        let rollingUpdate = strategy?["rollingUpdate"].flatMap { $0 == .null ? nil : $0 }
        switch strategy?.stringMember("type") ?? "" {
        case "Recreate":
            guard rollingUpdate != nil else { return [] }
            return [.forbidden(path.child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'")]
        case "RollingUpdate":
            guard let rollingUpdate else {
                return [.required(path.child("rollingUpdate"), "this should be defaulted and never be nil")]
            }
            return self.rollingUpdate(rollingUpdate, path.child("rollingUpdate"))
        case let type:
            let rendered = "apps.DeploymentStrategy{Type:\(GoSyntax.quoted(type)), RollingUpdate:"
                + (rollingUpdate == nil ? "(*apps.RollingUpdateDeployment)(nil)}" : "&apps.RollingUpdateDeployment{...}}")
            return [.notSupported(path, .goSyntax(rendered), supported: strategyTypes)]
        }
    }

    /// maxUnavailable and maxSurge are counts or percentages; not both zero, nor above 100%.
    private static func rollingUpdate(_ rollingUpdate: JSONValue, _ path: FieldPath) -> [FieldCause] {
        let maxUnavailable = rollingUpdate["maxUnavailable"]
        let maxSurge = rollingUpdate["maxSurge"]
        var causes = intOrPercent(maxUnavailable, path.child("maxUnavailable"))
        causes += intOrPercent(maxSurge, path.child("maxSurge"))
        let renderedMaxUnavailable = BadValue.goSyntax(GoSyntax.intOrString(maxUnavailable))
        if amount(maxUnavailable) == 0 && amount(maxSurge) == 0 {
            causes.append(.invalid(path.child("maxUnavailable"), renderedMaxUnavailable, "may not be 0 when `maxSurge` is 0"))
        }
        if case .string(let text)? = maxUnavailable, text.hasSuffix("%"), let percent = Int(text.dropLast()), percent > 100 {
            causes.append(.invalid(path.child("maxUnavailable"), renderedMaxUnavailable, "must not be greater than 100%"))
        }
        return causes
    }

    private static func intOrPercent(_ value: JSONValue?, _ path: FieldPath) -> [FieldCause] {
        switch value {
        case .string(let text)?:
            return NameRules.percent(text).map { .invalid(path, .goSyntax(GoSyntax.intOrString(value)), $0) }
        case let number?:
            guard let count = number.asInt64, count < 0 else { return [] }
            return [.invalid(path, .integer(count), CommonValidation.negativeMessage)]
        case nil:
            return []
        }
    }

    /// The number in an int-or-percent, as Kubernetes reads it for the both-zero check.
    private static func amount(_ value: JSONValue?) -> Int64 {
        if case .string(let text)? = value { return Int64(text.hasSuffix("%") ? text.dropLast() : Substring(text)) ?? 0 }
        return value?.asInt64 ?? 0
    }
}

/// Label selectors (`matchLabels` and `matchExpressions`): their validation, and matching labels
/// against them, which validation needs to check a template against its selector.
enum LabelSelectors {

    static func validate(_ selector: JSONValue, _ path: FieldPath) -> [FieldCause] {
        var causes = CommonValidation.labels(selector["matchLabels"], path.child("matchLabels"))
        for (position, requirement) in selector.arrayMember("matchExpressions").enumerated() {
            let requirementPath = path.child("matchExpressions").index(position)
            let values = requirement.arrayMember("values")
            switch requirement.stringMember("operator") ?? "" {
            case "In", "NotIn":
                if values.isEmpty {
                    causes.append(.required(requirementPath.child("values"), "must be specified when `operator` is 'In' or 'NotIn'"))
                }
            case "Exists", "DoesNotExist":
                if !values.isEmpty {
                    causes.append(.forbidden(
                        requirementPath.child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
                }
            case let operation:
                causes.append(.invalid(requirementPath.child("operator"), .string(operation), "not a valid selector operator"))
            }
            let key = requirement.stringMember("key") ?? ""
            causes += FieldCause.invalidEach(requirementPath.child("key"), key, NameRules.qualifiedName(key))
            for (valuePosition, value) in values.enumerated() {
                let text = value.asString ?? ""
                causes += FieldCause.invalidEach(requirementPath.child("values").index(valuePosition), text, NameRules.labelValue(text))
            }
        }
        return causes
    }

}
