//! TopologySpec: a topology file as written, decoded field by field with the position of every
//! value, before any cross-checks. TopologyResolver turns it into a validated `Topology`.

/// What a host runs. Each host runs exactly one process in its own network namespace.
public enum Role: String, CaseIterable, Sendable, Codable, CustomStringConvertible {
    case etcd
    case apiserver
    case scheduler
    case controllerManager = "controller-manager"
    case kubelet
    case kubeProxy = "kube-proxy"
    /// A program named in the file instead of a built-in daemon; `implements` says which role
    /// it plays, if any.
    case external

    public var description: String { rawValue }

    /// The port clients dial, as the real daemon defaults it.
    public var defaultClientPort: Int? {
        switch self {
        case .etcd: return 2379
        case .apiserver: return 6443
        case .scheduler, .controllerManager, .kubelet, .kubeProxy, .external: return nil
        }
    }

    /// The port Raft peers dial (etcd only).
    public var defaultPeerPort: Int? { self == .etcd ? 2380 : nil }

    /// Roles that talk to the Kubernetes API and so need an apiserver in the topology.
    public var needsAPIServer: Bool {
        switch self {
        case .scheduler, .controllerManager, .kubelet, .kubeProxy: return true
        case .etcd, .apiserver, .external: return false
        }
    }

    static var namesList: String { allCases.map(\.rawValue).joined(separator: ", ") }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let role = Role(rawValue: text) else {
            throw decoder.valueError("unknown role '\(text)' (roles: \(Self.namesList))")
        }
        self = role
    }
}

/// The whole file.
public struct TopologySpec: Decodable, Equatable, Sendable {
    /// Defaults to the file's base name (`etcd-3` for `Topologies/etcd-3.yaml`).
    public var name: Located<String>?
    public var description: String?
    public var defaults: DefaultsSpec?
    /// Timing profiles by name, in addition to the built-in `default` and `fast`.
    public var timing: [String: Located<TimingSpec>]?
    public var hosts: Located<[Located<HostSpec>]>
    /// The ports on which pods on different hosts reach each other through the fault proxy
    /// (namespace mode); 80 and 8080 when omitted.
    public var podPorts: Located<[Located<Int>]>?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, description, defaults, timing, hosts
        case podPorts = "pod_ports"
    }
}

public struct DefaultsSpec: Decodable, Equatable, Sendable {
    /// The timing profile of hosts that name none; `default` when omitted.
    public var timing: Located<String>?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case timing
    }
}

public struct HostSpec: Decodable, Equatable, Sendable {
    public var name: Located<String>
    public var role: Located<Role>
    /// For role external: the role the program plays (`implements: etcd`).
    public var implements: Located<Role>?
    /// Extra command-line arguments, appended after the ones the testbed sets.
    public var flags: [Located<String>]?
    /// A timing profile name; `defaults.timing` when omitted.
    public var timing: Located<String>?
    /// For role external: what to run.
    public var program: Located<ProgramSpec>?
    public var ports: Located<PortsSpec>?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, role, implements, flags, timing, program, ports
    }
}

public struct ProgramSpec: Decodable, Equatable, Sendable {
    public var path: Located<String>
    /// Arguments, which may contain templates such as `{{client_url}}`.
    public var args: [Located<String>]?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case path, args
    }
}

public struct PortsSpec: Decodable, Equatable, Sendable {
    /// The port clients dial (etcd 2379, apiserver 6443 by default).
    public var client: Located<Int>?
    /// The port Raft peers dial (etcd 2380 by default).
    public var peer: Located<Int>?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case client, peer
    }
}

/// One timing profile as written: any subset of the fields, each overriding the profile it
/// extends (`default` unless `extends` names another).
public struct TimingSpec: Decodable, Equatable, Sendable {
    public var extends: Located<String>?
    public var values: [TimingField: Located<GoDuration>]

    public init(extends: Located<String>? = nil, values: [TimingField: Located<GoDuration>] = [:]) {
        self.extends = extends
        self.values = values
    }

    /// `extends` plus every timing field; CaseIterable so unknown fields are listed in errors.
    struct Key: CodingKey, CaseIterable {
        static let extendsName = "extends"
        let stringValue: String
        var intValue: Int? { nil }

        init?(stringValue: String) {
            guard stringValue == Self.extendsName || TimingField(rawValue: stringValue) != nil else { return nil }
            self.stringValue = stringValue
        }

        init?(intValue: Int) { return nil }
        init(_ field: TimingField) { stringValue = field.rawValue }
        init(extends: Void) { stringValue = Self.extendsName }

        static var allCases: [Key] { [Key(extends: ())] + TimingField.allCases.map(Key.init) }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        extends = try container.decodeIfPresent(Located<String>.self, forKey: Key(extends: ()))
        values = [:]
        for field in TimingField.allCases {
            values[field] = try container.decodeIfPresent(Located<GoDuration>.self, forKey: Key(field))
        }
    }
}
