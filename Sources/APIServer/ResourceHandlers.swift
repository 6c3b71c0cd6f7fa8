//! The verbs on objects and collections: get, list, create, update (PUT), delete and
//! deletecollection. Every write is one guarded store transaction on the revision the handler
//! read, so a concurrent writer makes this one fail with 409 Conflict rather than be lost.

import Base
import KubeAPI
import Wire

extension APIServer {
    // MARK: - Reads

    func get(_ context: RequestContext, _ reply: Reply) throws(APIFailure) {
        guard let stored = try load(context.key) else { throw .notFound(context.resource, name: context.target.name!) }
        if context.wantsTable {
            reply.json(200, KubeCore.table(context.resource, [stored.object], now: now(), includeObject: context.query["includeObject"] == "Object",
                resourceVersion: String(stored.revision)))
        } else {
            reply.json(200, stored.object)
        }
    }

    func list(_ context: RequestContext, _ reply: Reply) throws(APIFailure) {
        let selector = try KubeCore.selector(context.query)
        let listed: (items: [StoredObject], revision: Int64)
        do { listed = try store.list(context.collectionPrefix) } catch { throw APIFailure(error) }
        let items = listed.items.map(\.object).filter { selector.matches($0) }
        if context.wantsTable {
            reply.json(200, KubeCore.table(context.resource, items, now: now(), includeObject: context.query["includeObject"] == "Object",
                resourceVersion: String(listed.revision)))
            return
        }
        reply.json(200, .object([
            "kind": .string(context.resource.listKind), "apiVersion": .string(context.resource.apiVersion),
            "metadata": .object(["resourceVersion": .string(String(listed.revision))]),
            "items": .array(items),
        ]))
    }

    func load(_ key: String) throws(APIFailure) -> StoredObject? {
        do { return try store.get(key) } catch { throw APIFailure(error) }
    }

    // MARK: - Create

    func create(_ context: RequestContext, _ reply: Reply) throws(APIFailure) {
        guard let namespace = context.target.namespace ?? (context.resource.namespaced ? nil : "") else {
            throw .methodNotAllowed("POST")
        }
        var object = try requestObject(context)
        if !namespace.isEmpty {
            if let given = object.string(at: "metadata.namespace"), !given.isEmpty, given != namespace {
                throw .badRequest("the namespace of the provided object does not match the namespace sent on the request")
            }
            object.set("metadata.namespace", .string(namespace))
        }
        let created = try createObject(object, context)
        reply.json(201, created)
    }

    /// Creates `object` in the collection the request names: server-set fields, defaults,
    /// validation, a guarded create. Returns the object as stored (dry run: as it would be).
    func createObject(_ incoming: JSONValue, _ context: RequestContext) throws(APIFailure) -> JSONValue {
        let resource = context.resource
        if let namespace = incoming.string(at: "metadata.namespace"), resource.namespaced {
            try requireNamespace(namespace, creating: resource, name: incoming.string(at: "metadata.name") ?? "")
        }
        var object = KubeCore.prepareForCreate(incoming, resource: resource, now: now(), uid: Identifiers.uid(),
            generatedSuffix: Identifiers.nameSuffix())
        object = KubeCore.defaulted(object, resource: resource, tolerationSeconds: tolerationSeconds)
        let name = object.string(at: "metadata.name") ?? ""
        let causes = KubeCore.validate(object, old: nil, resource: resource)
        guard causes.isEmpty else { throw .invalid(resource, name: name, causes: causes) }
        if resource.plural == "services" && resource.group.isEmpty { object = try assignClusterIP(object, dryRun: context.dryRun) }
        if context.dryRun { return object }
        let key = store.key(resource: resource.plural, namespace: object.string(at: "metadata.namespace"), name: name)
        let outcome: (revision: Int64?, current: StoredObject?)
        do { outcome = try store.write(key, object, ifRevision: 0) } catch { throw APIFailure(error) }
        guard let revision = outcome.revision else {
            releaseClusterIP(of: object)
            throw .alreadyExists(resource, name: name)
        }
        object.set("metadata.resourceVersion", .string(String(revision)))
        return object
    }

    /// Creation in a namespace needs the namespace, and not one being deleted.
    func requireNamespace(_ namespace: String, creating resource: ResourceDescriptor, name: String) throws(APIFailure) {
        switch namespaces.phase(of: namespace) {
        case "Active"?: return
        case "Terminating"?:
            throw .forbidden(resource, name: name, "unable to create new content in namespace \(namespace) because it is being terminated")
        default: break  // not synced, or not seen yet: ask the store
        }
        guard let stored = try load(store.key(resource: "namespaces", namespace: nil, name: namespace)) else {
            throw .namespaceNotFound(namespace)
        }
        if stored.object.string(at: "status.phase") == "Terminating" {
            throw .forbidden(resource, name: name,
                "unable to create new content in namespace \(namespace) because it is being terminated")
        }
    }

    // MARK: - Update

    func update(_ context: RequestContext, _ reply: Reply, subresource: String?) throws(APIFailure) {
        guard subresource == nil || context.resource.subresourceNames.contains(subresource!) else { throw .unknownPath }
        if let subresource, !context.resource.subresource(subresource, allows: "update") { throw .methodNotAllowed("PUT") }
        let incoming = try requestObject(context)
        if subresource == "scale" { return try updateScale(context, reply, incoming: incoming) }
        if let name = incoming.string(at: "metadata.name"), name != context.target.name! {
            throw .badRequest("the name of the object (\(name)) does not match the name on the URL (\(context.target.name!))")
        }
        guard let current = try load(context.key) else { throw .notFound(context.resource, name: context.target.name!) }
        if let expected = incoming.string(at: "metadata.resourceVersion"), !expected.isEmpty, expected != String(current.revision) {
            throw .conflict(context.resource, name: context.target.name!)
        }
        guard let updated = try commitUpdate(incoming, over: current, context, subresource: subresource) else {
            throw .conflict(context.resource, name: context.target.name!)
        }
        reply.json(200, updated)
    }

    /// Writes `incoming` over `current`: server-owned fields kept, status or spec taken from the
    /// side the subresource allows, generation bumped on a spec change, defaults and validation.
    /// Nil when someone wrote the object since `current` was read (the caller retries or answers 409).
    func commitUpdate(_ incoming: JSONValue, over current: StoredObject, _ context: RequestContext, subresource: String?) throws(APIFailure)
        -> JSONValue?
    {
        let resource = context.resource
        var next = KubeCore.prepareForUpdate(incoming, current: current.object, resource: resource, subresource: subresource)
        next = KubeCore.defaulted(next, resource: resource, tolerationSeconds: tolerationSeconds)
        let causes = KubeCore.validate(next, old: current.object, resource: resource)
        guard causes.isEmpty else { throw .invalid(resource, name: context.target.name!, causes: causes) }
        if context.dryRun { return next }
        // An object being deleted whose last finalizer is gone is deleted now (pods wait for their
        // kubelet; a namespace for its spec.finalizers too, which `finalize` empties).
        if ObjectLifecycle.deletesOnUpdate(next, traits: resource.traits) {
            let outcome: (revision: Int64?, current: StoredObject?)
            do { outcome = try store.delete(context.key, ifRevision: current.revision) } catch { throw APIFailure(error) }
            guard outcome.revision != nil else { return nil }
            releaseClusterIP(of: current.object)
            return next
        }
        let outcome: (revision: Int64?, current: StoredObject?)
        do { outcome = try store.write(context.key, next, ifRevision: current.revision) } catch { throw APIFailure(error) }
        guard let revision = outcome.revision else { return nil }
        next.set("metadata.resourceVersion", .string(String(revision)))
        return next
    }

    // MARK: - Delete

    func delete(_ context: RequestContext, _ reply: Reply) throws(APIFailure) {
        if context.resource.isNamespace, let name = context.target.name, NamespaceLifecycle.protectedNamespaces.contains(name) {
            throw .forbidden(context.resource, name: name, NamespaceLifecycle.protectedMessage)
        }
        let options = try deleteOptions(context)
        for _ in 0..<Self.writeAttempts {
            guard let current = try load(context.key) else { throw .notFound(context.resource, name: context.target.name!) }
            if let failed = options.preconditionFailure(current.object) { throw .conflictMessage(context.resource, name: context.target.name!, failed) }
            if let (result, deleted) = try deleteObject(current, key: context.key, context, options: options) {
                // Kubernetes answers 202 only to a cascading delete asked for the legacy way
                // (`orphanDependents: false`) that left the object in place.
                reply.json(!deleted && options.orphanDependents == false ? 202 : 200, result)
                return
            }
        }
        throw .conflict(context.resource, name: context.target.name!)
    }

    func deleteCollection(_ context: RequestContext, _ reply: Reply) throws(APIFailure) {
        // Namespaces have no deletecollection (each goes through its own termination).
        guard context.resource.verbs.contains("deletecollection") else { throw .methodNotAllowed("DELETE") }
        let options = try deleteOptions(context)
        let selector = try KubeCore.selector(context.query)
        let listed: (items: [StoredObject], revision: Int64)
        do { listed = try store.list(context.collectionPrefix) } catch { throw APIFailure(error) }
        var deleted: [JSONValue] = []
        for item in listed.items where selector.matches(item.object) {
            let key = store.key(resource: context.resource.plural, namespace: item.object.string(at: "metadata.namespace"),
                name: item.object.string(at: "metadata.name") ?? "")
            // One that changed meanwhile is left alone, as the real server's collection delete does.
            if let (result, _) = try deleteObject(item, key: key, context, options: options) { deleted.append(result) }
        }
        reply.json(200, .object([
            "kind": .string(context.resource.listKind), "apiVersion": .string(context.resource.apiVersion),
            "metadata": .object(["resourceVersion": .string(String(listed.revision))]), "items": .array(deleted),
        ]))
    }

    /// Deletes one object, or starts its graceful or finalized deletion: the object as answered
    /// and whether it is gone. Nil when it changed since it was read.
    func deleteObject(_ current: StoredObject, key: String, _ context: RequestContext, options: DeletionOptions) throws(APIFailure)
        -> (JSONValue, deleted: Bool)?
    {
        let now = now()
        let plan = ObjectLifecycle.deletion(of: current.object, traits: context.resource.traits, options: options) { KubeTime.format(now + $0) }
        if context.dryRun { return (current.object, false) }
        switch plan {
        case .now:
            // A namespace gets here empty: the namespace controller deleted what was in it before
            // it removed the `kubernetes` finalizer (one removed by hand leaves its content, as in Kubernetes).
            let outcome: (revision: Int64?, current: StoredObject?)
            do { outcome = try store.delete(key, ifRevision: current.revision) } catch { throw APIFailure(error) }
            guard outcome.revision != nil else { return nil }
            releaseClusterIP(of: current.object)
            return (current.object, true)
        case .mark(let marked):
            let outcome: (revision: Int64?, current: StoredObject?)
            do { outcome = try store.write(key, marked, ifRevision: current.revision) } catch { throw APIFailure(error) }
            guard let revision = outcome.revision else { return nil }
            if context.resource.isNamespace, marked.string(at: "status.phase") == "Terminating", let name = context.target.name {
                namespaces.noteTerminating(name, revision: revision)
            }
            var result = marked
            result.set("metadata.resourceVersion", .string(String(revision)))
            return (result, false)
        case .alreadyDeleting:
            return (current.object, false)
        }
    }

    /// Patches and deletes retry this often when a concurrent writer wins the guard.
    static let writeAttempts = 5

    // MARK: - Request bodies

    /// The request body as a JSON object of the request's kind (kind and apiVersion may be left out).
    func requestObject(_ context: RequestContext) throws(APIFailure) -> JSONValue {
        let object = try requestBody(context)
        guard case .object = object else { throw .badRequest("the request body must be a JSON object, not \(object.kindName)") }
        let expected = context.target.subresource == "scale" ? ("Scale", "autoscaling/v1") : (context.resource.kind, context.resource.apiVersion)
        if let kind = object.string(at: "kind"), !kind.isEmpty, kind != expected.0 {
            throw .badRequest("the kind in the data (\(kind)) does not match the expected kind (\(expected.0))")
        }
        if let version = object.string(at: "apiVersion"), !version.isEmpty, version != expected.1 {
            throw .badRequest("the API version in the data (\(version)) does not match the expected API version (\(expected.1))")
        }
        return object
    }

    func parseJSON(_ body: [UInt8]) throws(APIFailure) -> JSONValue {
        guard !body.isEmpty else { throw .badRequest("the request body is empty") }
        do {
            return try body.withUnsafeBufferPointer { buffer throws(JSONParseError) in try JSON.parse(bytes: buffer) }
        } catch {
            throw .badRequest("couldn't decode the request body as JSON: \(error)")
        }
    }

    /// The request body in the format its Content-Type names: JSON, or protobuf as client-go's
    /// typed clients send it (kubectl's `create deployment`, `create configmap`, …, a real
    /// scheduler's bindings), which becomes the object a JSON client would have sent.
    func requestBody(_ context: RequestContext) throws(APIFailure) -> JSONValue {
        let type = context.mediaType(default: "application/json")
        switch type {
        case "application/json", "*/*", "": return try parseJSON(context.request.body)
        case KubeProtobuf.mediaType: return try parseProtobuf(context.request.body)
        default: throw .unsupportedMediaType(type)
        }
    }

    func parseProtobuf(_ body: [UInt8]) throws(APIFailure) -> JSONValue {
        guard !body.isEmpty else { throw .badRequest("the request body is empty") }
        do {
            return try KubeProtobuf.decodeObject(body)
        } catch {
            switch error.reason {
            case .malformed: throw .badRequest("couldn't decode the request body as protobuf: \(error.message)")
            case .unsupportedKind, .unsupportedField: throw .unsupportedContent(error.message)
            }
        }
    }

    /// The request's DeleteOptions (body, then query), validated as Kubernetes does.
    func deleteOptions(_ context: RequestContext) throws(APIFailure) -> DeletionOptions {
        var options = context.request.body.isEmpty ? DeletionOptions() : DeletionOptions(body: try parseJSON(context.request.body))
        if let message = options.read(query: context.query) { throw .badRequest(message) }
        let causes = options.validate()
        guard causes.isEmpty else { throw .invalid(Self.deleteOptionsKind, name: "", causes: causes) }
        return options
    }

    /// What a refused DeleteOptions is called in its Status (`DeleteOptions.meta.k8s.io "" is invalid`).
    static let deleteOptionsKind = ResourceDescriptor(
        group: "meta.k8s.io", version: "v1", plural: "deleteoptions", singular: "deleteoptions", kind: "DeleteOptions", namespaced: false, verbs: [])
}

/// The handlers' name for the request's DeleteOptions (the eviction subresource builds one too).
typealias DeleteOptions = DeletionOptions
