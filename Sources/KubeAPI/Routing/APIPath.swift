//! What a request path names, as the real apiserver reads it: discovery documents, health
//! endpoints, OpenAPI, or a resource (group, version, namespace, plural, name, subresource).
//!
//! `/api/v1/namespaces/NS/...` is read the Kubernetes way: after a namespace name comes either
//! a namespace subresource (`status`, `finalize`) or a namespaced resource, so
//! `/api/v1/namespaces/dev/status` is the namespace's status and `/api/v1/namespaces/dev/pods`
//! the pods in it.

/// The resource a request is about.
public struct ResourceTarget: Equatable, Sendable {
    /// "" for the core group (`/api/v1`).
    public var group: String
    public var version: String
    /// Nil for cluster-scoped resources and for lists across all namespaces.
    public var namespace: String?
    public var resource: String
    public var name: String?
    public var subresource: String?

    public init(group: String, version: String, namespace: String? = nil, resource: String, name: String? = nil, subresource: String? = nil) {
        self.group = group
        self.version = version
        self.namespace = namespace
        self.resource = resource
        self.name = name
        self.subresource = subresource
    }

    /// `pods`, or `deployments.apps`: how the real server names a resource in its messages.
    public var qualifiedResource: String { group.isEmpty ? resource : "\(resource).\(group)" }
}

public enum APIPath: Equatable, Sendable {
    case version
    /// `/healthz`, `/readyz`, `/livez` (and their `/…/ping`-style children).
    case health(String)
    /// `/api`: the core group's versions.
    case coreVersions
    /// `/apis`: every other group.
    case groups
    /// `/apis/GROUP`: one group and its versions.
    case group(String)
    /// `/api/v1` or `/apis/GROUP/VERSION`: the resources of one group version.
    case groupVersion(group: String, version: String)
    /// `/openapi/v3`: the index of per-group-version documents.
    case openAPIIndex
    /// `/openapi/v3/api/v1` or `/openapi/v3/apis/GROUP/VERSION`.
    case openAPI(group: String, version: String)
    case resource(ResourceTarget)
    /// Anything else (404 "the server could not find the requested resource").
    case unknown

    /// Subresources of a namespace, which `/api/v1/namespaces/NS/X` may name instead of a resource.
    static let namespaceSubresources: Set<String> = ["status", "finalize"]

    public static func parse(_ path: String) -> APIPath {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard let first = parts.first else { return .unknown }
        switch first {
        case "version" where parts.count == 1: return .version
        case "healthz", "readyz", "livez": return .health(first)
        case "openapi":
            guard parts.count >= 2, parts[1] == "v3" else { return .unknown }
            let rest = Array(parts.dropFirst(2))
            if rest.isEmpty { return .openAPIIndex }
            if rest == ["api", "v1"] { return .openAPI(group: "", version: "v1") }
            if rest.count == 3, rest[0] == "apis" { return .openAPI(group: rest[1], version: rest[2]) }
            return .unknown
        case "api":
            if parts.count == 1 { return .coreVersions }
            return resourcePath(group: "", version: parts[1], rest: Array(parts.dropFirst(2)))
        case "apis":
            if parts.count == 1 { return .groups }
            if parts.count == 2 { return .group(parts[1]) }
            return resourcePath(group: parts[1], version: parts[2], rest: Array(parts.dropFirst(3)))
        default:
            return .unknown
        }
    }

    private static func resourcePath(group: String, version: String, rest: [String]) -> APIPath {
        guard !rest.isEmpty else { return .groupVersion(group: group, version: version) }
        var rest = rest
        var namespace: String?
        if rest[0] == "namespaces", rest.count > 2, !namespaceSubresources.contains(rest[2]) {
            namespace = rest[1]
            rest = Array(rest.dropFirst(2))
        }
        guard rest.count <= 3 else { return .unknown }
        return .resource(ResourceTarget(group: group, version: version, namespace: namespace, resource: rest[0],
            name: rest.count > 1 ? rest[1] : nil, subresource: rest.count > 2 ? rest[2] : nil))
    }
}

/// A request's query string, decoded (`%XX` and `+`), first value per name.
public struct QueryParameters: Equatable, Sendable {
    public private(set) var values: [String: String] = [:]

    public init(_ query: String) {
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.decode(String(parts[0]))
            if values[name] == nil { values[name] = parts.count > 1 ? Self.decode(String(parts[1])) : "" }
        }
    }

    public subscript(name: String) -> String? { values[name] }

    /// True for `name=true` or `name=1` (how Kubernetes' query decoder reads booleans).
    public func flag(_ name: String) -> Bool { values[name] == "true" || values[name] == "1" }

    /// Percent-decoding with `+` as a space; an invalid escape is kept as written.
    public static func decode(_ text: String) -> String {
        var bytes: [UInt8] = []
        let utf8 = Array(text.utf8)
        var index = 0
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        while index < utf8.count {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%"), index + 2 < utf8.count, let high = hex(utf8[index + 1]), let low = hex(utf8[index + 2]) {
                bytes.append(high << 4 | low)
                index += 3
            } else {
                bytes.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// What the client asked to get back, from its Accept header.
public enum ResponseShape: Equatable, Sendable {
    case object
    /// `application/json;as=Table;v=v1;g=meta.k8s.io` (what `kubectl get` asks for).
    case table

    public static func from(accept: String?) -> ResponseShape {
        guard let accept else { return .object }
        for option in accept.split(separator: ",") {
            let parameters = option.split(separator: ";").map { $0.trimmingWhitespace() }
            if parameters.contains("as=Table") && parameters.contains("g=meta.k8s.io") { return .table }
        }
        return .object
    }
}

extension Substring {
    func trimmingWhitespace() -> String {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return String(text)
    }
}
