//! The apiserver's door to its pure core (`KubeAPI`): the resource registry, discovery,
//! OpenAPI, Status documents, selectors, patches, defaults, validation, tables and the object
//! lifecycle rules, each in the shape the handlers use. Keeping every call into the core here
//! keeps the handlers about I/O and the core about decisions.

import KubeAPI
import Wire

/// One served resource (the registry's entry).
typealias ResourceDescriptor = APIResource

extension APIResource {
    /// `v1` or `apps/v1`, the `apiVersion` of its objects.
    var apiVersion: String { groupVersion }
    var isPod: Bool { group.isEmpty && plural == "pods" }
    var isNamespace: Bool { group.isEmpty && plural == "namespaces" }
    /// The subresources by name (`status`, `scale`, `binding`, `eviction`, `log`).
    var subresourceNames: Set<String> { Set(subresources.map(\.name)) }
    /// Whether the subresource serves `verb` (`namespaces/finalize` takes only an update).
    func subresource(_ name: String, allows verb: String) -> Bool { subresource(name)?.verbs.contains(verb) ?? false }
    var traits: LifecycleTraits { LifecycleTraits(group: group, plural: plural, hasStatus: subresource("status") != nil) }
}

enum KubeCore {
    static let registry = ResourceRegistry.standard

    static func resource(group: String, version: String, plural: String) -> ResourceDescriptor? {
        registry.resource(group: group, version: version, plural: plural)
    }

    static let namespaces = registry.resource(group: "", version: "v1", plural: "namespaces")!

    // MARK: - Discovery and OpenAPI

    static let versionDocument = ServerVersion.faultline.document
    static func coreVersions(serverAddress: String) -> JSONValue { registry.apiVersionsDocument(serverAddress: serverAddress) }
    static let groupList = registry.apiGroupListDocument()

    /// `/apis/GROUP`: the group with its versions, nil when not served.
    static func group(_ name: String) -> JSONValue? {
        let versions = registry.groupVersions.filter { $0.group == name && !name.isEmpty }
        guard let first = versions.first else { return nil }
        let entries = versions.map { JSONValue.object(["groupVersion": .string($0.groupVersion), "version": .string($0.version)]) }
        return .object([
            "kind": .string("APIGroup"), "apiVersion": .string("v1"), "name": .string(name), "versions": .array(entries),
            "preferredVersion": .object(["groupVersion": .string(first.groupVersion), "version": .string(first.version)]),
        ])
    }

    static func resourceList(group: String, version: String) -> JSONValue? { registry.apiResourceListDocument(group: group, version: version) }
    static let openAPIIndex = registry.openAPIIndexDocument()
    static func openAPI(group: String, version: String) -> JSONValue? { registry.openAPIDocument(group: group, version: version) }

    // MARK: - Tables

    static func table(_ resource: ResourceDescriptor, _ objects: [JSONValue], now: Int64, includeObject: Bool, resourceVersion: String) -> JSONValue {
        KubeAPI.table(resource: resource, objects: objects, now: now, includeObject: includeObject, listResourceVersion: resourceVersion)
    }

    // MARK: - Lifecycle, defaults, validation

    static func prepareForCreate(_ object: JSONValue, resource: ResourceDescriptor, now: Int64, uid: String, generatedSuffix: String) -> JSONValue {
        ObjectLifecycle.prepareForCreate(object, traits: resource.traits, timestamp: KubeTime.format(now), uid: uid, generatedSuffix: generatedSuffix)
    }

    static func prepareForUpdate(_ incoming: JSONValue, current: JSONValue, resource: ResourceDescriptor, subresource: String?) -> JSONValue {
        ObjectLifecycle.prepareForUpdate(incoming, current: current, traits: resource.traits, subresource: subresource)
    }

    /// `object` with the defaults filled in; `tolerationSeconds` is the server's setting for the
    /// tolerations every pod gets.
    static func defaulted(_ object: JSONValue, resource: ResourceDescriptor, tolerationSeconds: DefaultTolerationSeconds) -> JSONValue {
        KubeAPI.applyDefaults(kind: resource.kind, object: object, tolerationSeconds: tolerationSeconds)
    }

    static func validate(_ object: JSONValue, old: JSONValue?, resource: ResourceDescriptor) -> [FieldCause] {
        KubeAPI.validate(kind: resource.kind, object: object, old: old)
    }

    static func finalizers(_ object: JSONValue) -> [String] { ObjectLifecycle.finalizers(object) }

    static func scale(of object: JSONValue, resource: ResourceDescriptor) -> JSONValue {
        var selector = ""
        if let matchLabels = object["spec"]?["selector"]?["matchLabels"], case .object(let labels) = matchLabels {
            selector = labels.members.compactMap { key, value in if case .string(let text) = value { "\(key)=\(text)" } else { nil } }
                .sorted().joined(separator: ",")
        }
        return ObjectLifecycle.scale(of: object, selector: selector)
    }

    static func withCondition(_ object: JSONValue, type: String, status: String, now: Int64) -> JSONValue {
        ObjectLifecycle.withCondition(object, type: type, status: status, timestamp: KubeTime.format(now))
    }
}

// MARK: - Status, selectors, patches

extension KubeCore {
    /// The Status document of a failure, and its HTTP code.
    static func status(_ failure: APIFailure) -> (Int, JSONValue) {
        let error: StatusError
        switch failure {
        case .unknownPath: error = .unknownPath
        case .notFound(let resource, let name): error = .notFound(resource: resource.plural, group: resource.group, name: name)
        case .namespaceNotFound(let namespace): error = .namespaceNotFound(namespace)
        case .alreadyExists(let resource, let name): error = .alreadyExists(resource: resource.plural, group: resource.group, name: name)
        case .conflict(let resource, let name): error = .conflict(resource: resource.plural, group: resource.group, name: name)
        case .conflictMessage(let resource, let name, let message):
            error = .conflict(resource: resource.plural, group: resource.group, name: name, reason: message)
        case .invalid(let resource, let name, let causes):
            error = .invalid(kind: resource.kind, group: resource.group, name: name,
                causes: causes.map { StatusCause(field: $0.field, reason: $0.reason.rawValue, message: $0.message) })
        case .badRequest(let message): error = .badRequest(message)
        case .unsupportedMediaType(let type):
            error = .unsupportedMediaType(contentType: type, accepted: ["application/json", KubeProtobuf.mediaType])
        case .unsupportedContent(let message): error = .unsupportedContent(message)
        case .patch(let patchError): error = patchError.status
        case .methodNotAllowed(let verb): error = .methodNotAllowed(verb: verb)
        case .expired(let message): error = .expired(message)
        case .forbidden(let resource, let name, let message): error = .forbidden(resource: resource.plural, group: resource.group, name: name, message)
        case .tooManyRequests(let message): error = .tooManyRequests(message)
        case .storeUnavailable(let why): error = .serviceUnavailable("the store is unavailable: \(why)")
        case .internalError(let message): error = .internalError(message)
        }
        return (error.code, error.json)
    }

    /// `{"kind":"Status",…,"status":"Success"}` naming the object (eviction and binding answer 201 with it).
    static func success(name: String, kind: String) -> JSONValue {
        statusSuccess(code: 201, details: StatusDetails(name: name, kind: kind))
    }

    /// A request's label and field selectors together.
    struct Selector {
        var labels: LabelSelector
        var fields: FieldSelector

        func matches(_ object: JSONValue) -> Bool { labels.matches(object: object) && fields.matches(object: object) }
    }

    static func selector(_ query: QueryParameters) throws(APIFailure) -> Selector {
        do {
            return Selector(labels: try query["labelSelector"].map { text throws(SelectorError) in try LabelSelector(parsing: text) } ?? .everything,
                fields: try query["fieldSelector"].map { text throws(SelectorError) in try FieldSelector(parsing: text) } ?? .everything)
        } catch {
            throw .badRequest(error.message)
        }
    }

    static func patchKind(_ contentType: String) throws(APIFailure) -> PatchKind {
        do { return try PatchKind(contentType: contentType) } catch { throw .patch(error) }
    }

    static func applyPatch(_ kind: PatchKind, _ patch: JSONValue, to object: JSONValue, resource: ResourceDescriptor) throws(APIFailure) -> JSONValue {
        do { return try PatchKind.apply(kind, patch: patch, to: object, objectKind: resource.kind) } catch { throw .patch(error) }
    }
}

extension PatchKind {
    var isApply: Bool { self == .applyPatch }
}
