//! Validation of ConfigMaps and Secrets: keys that can be file names, a size limit, the keys
//! each Secret type requires, and no changes once marked `immutable`.
import Wire

enum ConfigValidation {
    /// A ConfigMap or Secret holds at most 1 MiB, what etcd comfortably stores in one value.
    static let sizeLimit = 1024 * 1024
    static let immutableMessage = "field is immutable when `immutable` is set"
    /// The keys each Secret type must carry.
    static let requiredSecretKeys: [String: [String]] = [
        "kubernetes.io/dockercfg": [".dockercfg"],
        "kubernetes.io/dockerconfigjson": [".dockerconfigjson"],
        "kubernetes.io/ssh-auth": ["ssh-privatekey"],
        "kubernetes.io/tls": ["tls.crt", "tls.key"],
    ]

    static func validateConfigMap(_ configMap: JSONValue, old: JSONValue?) -> [FieldCause] {
        var causes: [FieldCause] = []
        var totalSize = 0
        let binaryData = configMap.objectMember("binaryData")
        for (key, value) in configMap.objectMember("data")?.members ?? JSONObject().members {
            causes += FieldCause.invalidEach(FieldPath("data").key(key), key, NameRules.configMapKey(key))
            if binaryData?[key] != nil {
                causes.append(.invalid(FieldPath("data").key(key), .string(key), "duplicate of key present in binaryData"))
            }
            totalSize += value.asString?.utf8.count ?? 0
        }
        for (key, value) in binaryData?.members ?? JSONObject().members {
            causes += FieldCause.invalidEach(FieldPath("binaryData").key(key), key, NameRules.configMapKey(key))
            totalSize += decodedSize(value)
        }
        // Kubernetes reports the size of the whole object on an empty path.
        if totalSize > sizeLimit { causes.append(.tooLong("", maxBytes: sizeLimit)) }
        if let old { causes += immutability(configMap, old: old, fields: ["data", "binaryData"]) }
        return causes
    }

    static func validateSecret(_ secret: JSONValue, old: JSONValue?) -> [FieldCause] {
        var causes: [FieldCause] = []
        var totalSize = 0
        let data = secret.objectMember("data")
        for (key, value) in data?.members ?? JSONObject().members {
            causes += FieldCause.invalidEach(FieldPath("data").key(key), key, NameRules.configMapKey(key))
            totalSize += decodedSize(value)
        }
        if totalSize > sizeLimit { causes.append(.tooLong("data", maxBytes: sizeLimit)) }
        let type = secret.stringMember("type") ?? ""
        switch type {
        case "kubernetes.io/service-account-token":
            if (secret.stringMember("metadata", "annotations", "kubernetes.io/service-account.name") ?? "").isEmpty {
                causes.append(.required(FieldPath("metadata").child("annotations").key("kubernetes.io/service-account.name")))
            }
        case "kubernetes.io/basic-auth":
            if data?["username"] == nil && data?["password"] == nil {
                causes += [.required(FieldPath("data").key("username")), .required(FieldPath("data").key("password"))]
            }
        default:
            for key in requiredSecretKeys[type] ?? [] where data?[key] == nil {
                causes.append(.required(FieldPath("data").key(key)))
            }
        }
        if let old {
            let oldType = old.stringMember("type") ?? ""
            if type != oldType { causes.append(.invalid("type", .string(type), "field is immutable")) }
            causes += immutability(secret, old: old, fields: ["data"])
        }
        return causes
    }

    /// Once `immutable` is set it stays set, and the data stays as it is.
    private static func immutability(_ object: JSONValue, old: JSONValue, fields: [String]) -> [FieldCause] {
        guard old.boolMember("immutable") == true else { return [] }
        var causes: [FieldCause] = []
        if object.boolMember("immutable") != true { causes.append(.forbidden("immutable", immutableMessage)) }
        for field in fields where !GoSyntax.equivalent(object[field], old[field]) {
            causes.append(.forbidden(FieldPath(field), immutableMessage))
        }
        return causes
    }

    /// The size of base64 data once decoded (four characters carry three bytes).
    private static func decodedSize(_ value: JSONValue) -> Int {
        guard let text = value.asString else { return 0 }
        let padding = text.reversed().prefix { $0 == "=" }.count
        return max(0, text.utf8.count / 4 * 3 - padding)
    }
}
