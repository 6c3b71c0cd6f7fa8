//! Validation of the parts of a pod spec that containers carry: names, images, ports, resource
//! requirements and pull policies; and of tolerations, which pods and their updates share.
import Wire

enum ContainerValidation {
    static let pullPolicies = ["Always", "IfNotPresent", "Never"]
    static let protocols = ["SCTP", "TCP", "UDP"]
    static let terminationMessagePolicies = ["File", "FallbackToLogsOnError"]
    static let taintEffects = ["NoSchedule", "PreferNoSchedule", "NoExecute"]
    /// Resources a container may request without a domain prefix.
    static let containerResources: Set<String> = ["cpu", "memory", "ephemeral-storage"]
    /// Other resource names Kubernetes knows without a prefix (quota names): valid resource names,
    /// but not ones a container can request.
    static let otherStandardResources: Set<String> = [
        "pods", "services", "replicationcontrollers", "resourcequotas", "secrets", "configmaps",
        "persistentvolumeclaims", "storage", "services.nodeports", "services.loadbalancers",
    ]

    /// The checks every container gets, regular or init.
    static func common(_ container: JSONValue, _ path: FieldPath) -> [FieldCause] {
        var causes: [FieldCause] = []
        let name = container.stringMember("name") ?? ""
        if name.isEmpty {
            causes.append(.required(path.child("name")))
        } else {
            causes += FieldCause.invalidEach(path.child("name"), name, NameRules.dnsLabel(name))
        }
        if (container.stringMember("image") ?? "").isEmpty { causes.append(.required(path.child("image"))) }
        causes += CommonValidation.oneOf(
            container["terminationMessagePolicy"], path.child("terminationMessagePolicy"), supported: terminationMessagePolicies)
        causes += ports(container.arrayMember("ports"), path.child("ports"))
        for (position, variable) in container.arrayMember("env").enumerated() where (variable.stringMember("name") ?? "").isEmpty {
            causes.append(.required(path.child("env").index(position).child("name")))
        }
        causes += CommonValidation.oneOf(container["imagePullPolicy"], path.child("imagePullPolicy"), supported: pullPolicies)
        causes += resources(container["resources"], path.child("resources"))
        return causes
    }

    private static func ports(_ ports: [JSONValue], _ path: FieldPath) -> [FieldCause] {
        var causes: [FieldCause] = []
        var names = Set<String>()
        for (position, port) in ports.enumerated() {
            let portPath = path.index(position)
            if let name = port.stringMember("name"), !name.isEmpty {
                let messages = NameRules.portName(name)
                if !messages.isEmpty {
                    causes += FieldCause.invalidEach(portPath.child("name"), name, messages)
                } else if !names.insert(name).inserted {
                    causes.append(.duplicate(portPath.child("name"), .string(name)))
                }
            }
            let containerPort = port.intMember("containerPort") ?? 0
            if containerPort == 0 {
                causes.append(.required(portPath.child("containerPort")))
            } else {
                causes += CommonValidation.portNumber(containerPort, portPath.child("containerPort"))
            }
            if let hostPort = port.intMember("hostPort"), hostPort != 0 {
                causes += CommonValidation.portNumber(hostPort, portPath.child("hostPort"))
            }
            causes += CommonValidation.oneOf(port["protocol"], portPath.child("protocol"), supported: protocols)
        }
        return causes
    }

    /// Resource names, quantities that parse and are not negative, and requests within limits.
    static func resources(_ requirements: JSONValue?, _ path: FieldPath) -> [FieldCause] {
        var causes: [FieldCause] = []
        let limitsPath = path.child("limits")
        let requestsPath = path.child("requests")
        var limits: [String: (text: String, quantity: ResourceQuantity)] = [:]
        for (name, value) in requirements?.objectMember("limits")?.members ?? JSONObject().members {
            let quantityPath = limitsPath.key(name)
            causes += resourceName(name, quantityPath)
            if let parsed = quantity(value, quantityPath, &causes) { limits[name] = parsed }
        }
        for (name, value) in requirements?.objectMember("requests")?.members ?? JSONObject().members {
            let quantityPath = requestsPath.key(name)
            causes += resourceName(name, quantityPath)
            guard let request = quantity(value, quantityPath, &causes) else { continue }
            let overcommitAllowed = isNative(name) && !name.hasPrefix("hugepages-")
            if let limit = limits[name] {
                if request.quantity != limit.quantity && !overcommitAllowed {
                    causes.append(.invalid(requestsPath, .string(request.text), "must be equal to \(name) limit of \(limit.text)"))
                } else if request.quantity > limit.quantity {
                    causes.append(.invalid(
                        requestsPath, .string(request.text), "must be less than or equal to \(name) limit of \(limit.text)"))
                }
            } else if !overcommitAllowed {
                causes.append(.required(limitsPath, "Limit must be set for non overcommitable resources"))
            }
        }
        return causes
    }

    /// The parsed quantity at `path`, or nil after recording why it is not one. A quantity that
    /// does not parse fails to decode on a real server (a 400 rather than a 422); here it becomes
    /// an `Invalid value` cause with the decoder's message.
    private static func quantity(
        _ value: JSONValue, _ path: FieldPath, _ causes: inout [FieldCause]
    ) -> (text: String, quantity: ResourceQuantity)? {
        guard let text = ResourceQuantity.text(of: value) else {
            causes.append(.invalid(path, .goSyntax(JSON.serialize(value)), ResourceQuantity.ParseError.format.description))
            return nil
        }
        do {
            let parsed = try ResourceQuantity.parse(text)
            if parsed.milliValue < 0 {
                causes.append(.invalid(path, .string(text), CommonValidation.negativeMessage))
                return nil
            }
            return (text, parsed)
        } catch {
            causes.append(.invalid(path, .string(text), error.description))
            return nil
        }
    }

    /// A container resource is a standard one (`cpu`, `memory`, `ephemeral-storage`, `hugepages-*`)
    /// or carries a domain (`nvidia.com/gpu`).
    private static func resourceName(_ name: String, _ path: FieldPath) -> [FieldCause] {
        let qualified = FieldCause.invalidEach(path, name, NameRules.qualifiedName(name))
        guard qualified.isEmpty else { return qualified }
        guard !name.contains("/") else { return [] }
        if containerResources.contains(name) || name.hasPrefix("hugepages-") { return [] }
        var causes: [FieldCause] = []
        if !otherStandardResources.contains(name) && !name.hasPrefix("requests.") && !name.hasPrefix("limits.") {
            causes.append(.invalid(path, .string(name), "must be a standard resource type or fully qualified"))
        }
        causes.append(.invalid(path, .string(name), "must be a standard resource for containers"))
        return causes
    }

    /// Kubernetes' own resources: unprefixed, or in a `kubernetes.io` domain.
    private static func isNative(_ name: String) -> Bool {
        !name.contains("/") || name.contains("kubernetes.io/")
    }

    /// Tolerations: keys are label names, `Exists` takes no value, `Equal` takes a label value,
    /// and only NoExecute tolerations may be time-limited.
    static func tolerations(_ tolerations: [JSONValue], _ path: FieldPath) -> [FieldCause] {
        var causes: [FieldCause] = []
        for (position, toleration) in tolerations.enumerated() {
            let tolerationPath = path.index(position)
            let key = toleration.stringMember("key") ?? ""
            let operation = toleration.stringMember("operator") ?? ""
            let value = toleration.stringMember("value") ?? ""
            let effect = toleration.stringMember("effect") ?? ""
            if !key.isEmpty { causes += FieldCause.invalidEach(tolerationPath.child("key"), key, NameRules.qualifiedName(key)) }
            if key.isEmpty && operation != "Exists" {
                causes.append(.invalid(tolerationPath.child("operator"), .string(operation),
                    "operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
            }
            if toleration["tolerationSeconds"]?.asInt64 != nil && effect != "NoExecute" {
                causes.append(.invalid(
                    tolerationPath.child("effect"), .string(effect), "effect must be 'NoExecute' when `tolerationSeconds` is set"))
            }
            switch operation {
            case "Equal", "":
                let messages = NameRules.labelValue(value)
                if !messages.isEmpty {
                    causes.append(.invalid(tolerationPath.child("operator"), .string(value), messages.joined(separator: ";")))
                }
            case "Exists":
                if !value.isEmpty {
                    causes.append(.invalid(tolerationPath.child("operator"), .goSyntax(goToleration(toleration)),
                        "value must be empty when `operator` is 'Exists'"))
                }
            default:
                causes.append(.notSupported(tolerationPath.child("operator"), .string(operation), supported: ["Equal", "Exists"]))
            }
            if !effect.isEmpty {
                causes += CommonValidation.oneOf(toleration["effect"], tolerationPath.child("effect"), supported: taintEffects)
            }
        }
        return causes
    }

    /// A toleration in `%#v` form. Go prints a set `tolerationSeconds` as a pointer address,
    /// which differs from run to run; the seconds are shown instead.
    private static func goToleration(_ toleration: JSONValue) -> String {
        let seconds = toleration.intMember("tolerationSeconds").map { "(*int64)(\($0))" } ?? "(*int64)(nil)"
        let fields = ["key", "operator", "value", "effect"].map { GoSyntax.quoted(toleration.stringMember($0) ?? "") }
        return "core.Toleration{Key:\(fields[0]), Operator:\(fields[1]), Value:\(fields[2]), Effect:\(fields[3]), "
            + "TolerationSeconds:\(seconds)}"
    }
}
