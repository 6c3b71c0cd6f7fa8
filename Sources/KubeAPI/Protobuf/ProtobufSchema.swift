//! The protobuf schema table: for each Kubernetes message the decoder knows, its fields by number,
//! with the JSON name, the kind of value and whether a zero value means "absent".
//!
//! Kubernetes' Go marshallers write every non-pointer field, even "", 0, false and empty
//! messages, while a JSON client leaves those out (`omitempty`). The presence column is how the
//! decoder tells a real `replicas: 0` (a Go pointer: present on the wire only when set) from
//! `namespace: ""` (a plain value the marshaller always writes).

/// What one field holds, and so how its wire value turns into JSON.
indirect enum ProtobufFieldKind: Sendable {
    case string
    case bool
    /// A varint holding a signed 32-bit value (negative values are sign-extended to 64 bits).
    case int32
    case int64
    /// Raw bytes; JSON carries them as a base64 string (`Secret.data`, `ConfigMap.binaryData`).
    case bytes
    /// resource.Quantity, a message `{1 string}`, written in JSON as that string.
    case quantity
    /// intstr.IntOrString `{1 type, 2 intVal, 3 strVal}`, written in JSON as a number or a string.
    case intOrString
    /// meta/v1 Time `{1 seconds, 2 nanos}`: RFC 3339 at whole seconds; an empty message is the
    /// zero time, which JSON writes as null.
    case time
    /// meta/v1 MicroTime: like Time with six fractional digits.
    case microTime
    /// A field the apiserver deliberately drops (managedFields: the server owns them).
    case ignored
    /// A nested message, a JSON object.
    case message(String)
    /// A nested message whose fields JSON writes into the parent (Go's embedded `json:",inline"`).
    case inline(String)
    /// A repeated field, a JSON array.
    case list(ProtobufFieldKind)
    /// A `map<string, V>`: repeated entry messages `{1 key, 2 value}`, a JSON object.
    case map(ProtobufFieldKind)
}

/// Whether a zero value on the wire still belongs in the JSON object.
enum ProtobufPresence: Sendable {
    /// A plain Go value with `omitempty`: the marshaller writes it even when zero, JSON drops
    /// "", 0, false, empty objects, empty arrays and null.
    case omitEmpty
    /// A plain Go value without `omitempty` (a required name, a port): JSON keeps a zero scalar;
    /// empty messages, lists and maps are still dropped, as they carry nothing.
    case always
    /// A Go pointer: on the wire only when set, so a zero (`replicas: 0`, `emptyDir: {}`) is kept.
    case pointer
}

/// One field of a message: its number on the wire and its name in JSON.
struct ProtobufField: Sendable {
    let number: Int
    let jsonName: String
    let kind: ProtobufFieldKind
    let presence: ProtobufPresence

    init(_ number: Int, _ jsonName: String, _ kind: ProtobufFieldKind, _ presence: ProtobufPresence = .omitEmpty) {
        precondition(number > 0 && number < 1 << 29, "protobuf field number \(number) of '\(jsonName)' is out of range")
        self.number = number
        self.jsonName = jsonName
        self.kind = kind
        self.presence = presence
    }
}

/// One message: its fields in the order JSON writes them (the Go struct's order).
struct ProtobufMessage: Sendable {
    let name: String
    let fields: [ProtobufField]
    /// Field number → position in `fields`.
    let positions: [Int: Int]

    init(_ name: String, _ fields: [ProtobufField]) {
        self.name = name
        self.fields = fields
        var positions: [Int: Int] = [:]
        for (position, field) in fields.enumerated() {
            precondition(positions[field.number] == nil, "message \(name) lists field \(field.number) twice")
            positions[field.number] = position
        }
        self.positions = positions
    }
}

/// The messages the decoder knows, and which message a top-level object of each kind is.
enum ProtobufSchema {
    /// Every known message by name. Names are unique across the groups we serve.
    static let messages: [String: ProtobufMessage] = {
        let all = metaMessages + coreMessages + podMessages + appsMessages + batchMessages
            + coordinationMessages + policyMessages + autoscalingMessages
        var byName: [String: ProtobufMessage] = [:]
        for message in all {
            precondition(byName[message.name] == nil, "protobuf message \(message.name) is defined twice")
            byName[message.name] = message
        }
        for message in all {
            for field in message.fields {
                if let target = referencedMessage(field.kind) {
                    precondition(byName[target] != nil, "\(message.name).\(field.jsonName) refers to unknown message \(target)")
                }
            }
        }
        return byName
    }()

    /// The message of a top-level object, by "apiVersion kind" (core objects have apiVersion v1).
    static let objectMessages: [String: String] = {
        let kinds: [(apiVersion: String, kinds: [String])] = [
            ("v1", ["Namespace", "ConfigMap", "Secret", "ServiceAccount", "Service", "Pod", "ReplicationController",
                    "Node", "Endpoints", "Event", "Binding"]),
            ("apps/v1", ["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"]),
            ("batch/v1", ["Job", "CronJob"]),
            ("coordination.k8s.io/v1", ["Lease"]),
            ("policy/v1", ["Eviction"]),
            ("autoscaling/v1", ["Scale"]),
        ]
        var table: [String: String] = [:]
        for (apiVersion, names) in kinds {
            for kind in names { table[objectKey(apiVersion: apiVersion, kind: kind)] = kind }
        }
        return table
    }()

    static func objectKey(apiVersion: String, kind: String) -> String { apiVersion + " " + kind }

    /// The message a field's value is (through lists and maps), if any.
    private static func referencedMessage(_ kind: ProtobufFieldKind) -> String? {
        switch kind {
        case .message(let name), .inline(let name): name
        case .list(let element), .map(let element): referencedMessage(element)
        case .string, .bool, .int32, .int64, .bytes, .quantity, .intOrString, .time, .microTime, .ignored: nil
        }
    }
}
