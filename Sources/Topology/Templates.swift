//! Templates: the `{{name}}` placeholders a host's program arguments and flags may contain, which
//! the testbed fills with the host's addresses once it has assigned them. Unknown names are found
//! when the file loads, not when a process starts.

/// A placeholder, spelled `{{raw_value}}` (spaces inside the braces are allowed).
public enum TemplateVariable: String, CaseIterable, Sendable {
    /// The host's name.
    case name
    /// The service IP other hosts dial this host at.
    case ip
    /// The host's data directory.
    case dataDirectory = "data_dir"
    /// `http://IP:CLIENT_PORT`, the URL clients dial.
    case clientURL = "client_url"
    /// `http://IP:PEER_PORT`, the URL Raft peers dial (etcd hosts only).
    case peerURL = "peer_url"
    /// `http://LISTEN_IP:CLIENT_PORT`, where the process listens for clients.
    case listenClientURL = "listen_client_url"
    /// `http://LISTEN_IP:PEER_PORT`, where the process listens for peers (etcd hosts only).
    case listenPeerURL = "listen_peer_url"
    /// `name=http://IP:PEER_PORT,…` over every etcd host, in file order.
    case initialCluster = "initial_cluster"
    /// The token that tells this cluster's members from another cluster's.
    case initialClusterToken = "initial_cluster_token"
    /// `http://IP:CLIENT_PORT,…` over every etcd host, in file order.
    case etcdEndpoints = "etcd_endpoints"
    /// `http://IP:CLIENT_PORT,…` over every apiserver host, in file order.
    case apiserverEndpoints = "apiserver_endpoints"
    /// The host's timing profile's node monitor period and grace period, and its kubelet status
    /// update frequency, as durations in milliseconds (`1000ms`).
    case nodeMonitorPeriod = "node_monitor_period"
    case nodeMonitorGracePeriod = "node_monitor_grace_period"
    case nodeStatusUpdateFrequency = "node_status_update_frequency"
    /// The host's timing profile's node lease duration, in whole seconds.
    case nodeLeaseSeconds = "node_lease_seconds"
    /// The host's timing profile's pod eviction timeout, in whole seconds (rounded down, at least
    /// 0): the tolerationSeconds an apiserver gives pods of not-ready and unreachable nodes.
    case podEvictionSeconds = "pod_eviction_seconds"
    /// The host's pod address range, as the address plan gives it (`HostAddress.podCIDR`; the
    /// testbed's network plan assigns `10.244.N.0/24` for the N-th host in file order (from 1)
    /// inside its own namespace, or `127.(100+slot).N.0/24` in loopback mode, no root needed).
    case podCIDR = "pod_cidr"
    /// The host's timing profile's heartbeat, in milliseconds.
    case heartbeatMilliseconds = "heartbeat_ms"
    /// The host's timing profile's election timeout, in milliseconds.
    case electionMilliseconds = "election_ms"

    /// Variables that only exist for hosts that play etcd.
    var needsPeerPort: Bool { self == .peerURL || self == .listenPeerURL }
    /// Variables that need the host to have a client port.
    var needsClientPort: Bool { self == .clientURL || self == .listenClientURL }

    static var namesList: String { allCases.map { "{{\($0.rawValue)}}" }.joined(separator: ", ") }
}

/// A piece of a parsed template: text copied as is, or a variable to fill in.
public enum TemplatePiece: Sendable, Equatable {
    case literal(String)
    case variable(TemplateVariable)
}

public enum Template {
    /// Splits `text` into literals and variables. Fails on an unclosed `{{` or an unknown name.
    public static func parse(_ text: String) -> Result<[TemplatePiece], TemplateSyntaxError> {
        var pieces: [TemplatePiece] = []
        var rest = Substring(text)
        while let open = rest.firstRange(of: "{{") {
            if open.lowerBound > rest.startIndex { pieces.append(.literal(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].firstRange(of: "}}") else {
                return .failure(TemplateSyntaxError("'{{' in \"\(text)\" is not closed; close it with '}}'"))
            }
            let name = rest[open.upperBound..<close.lowerBound].trimmingSpaces()
            guard let variable = TemplateVariable(rawValue: name) else {
                return .failure(TemplateSyntaxError("unknown template '{{\(name)}}' in \"\(text)\" (templates: \(TemplateVariable.namesList))"))
            }
            pieces.append(.variable(variable))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { pieces.append(.literal(String(rest))) }
        return .success(pieces)
    }

    /// The variables `text` uses, or the reason it is not a valid template.
    static func variables(in text: String) -> Result<[TemplateVariable], TemplateSyntaxError> {
        parse(text).map { pieces in
            pieces.compactMap { piece in
                if case .variable(let variable) = piece { return variable }
                return nil
            }
        }
    }
}

/// Why a text is not a valid template.
public struct TemplateSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

extension Substring {
    func trimmingSpaces() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
