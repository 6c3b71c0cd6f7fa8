//! PATCH: JSON merge, RFC 6902 JSON patch, strategic merge, and server-side apply as an upsert.
//! The patch is applied to the object as read and the result written with a guard on that
//! revision; a concurrent writer makes it read and apply again (a patch carries no
//! resourceVersion unless the client put one in, which is then checked and never retried).

import KubeAPI
import Wire

extension APIServer {
    func patch(_ context: RequestContext, _ reply: Reply, subresource: String?) throws(APIFailure) {
        guard subresource == nil || context.resource.subresourceNames.contains(subresource!) else { throw .unknownPath }
        if let subresource, !context.resource.subresource(subresource, allows: "patch") { throw .methodNotAllowed("PATCH") }
        let contentType = context.mediaType(default: "")
        let kind = try KubeCore.patchKind(contentType)
        let document = try parseJSON(context.request.body)
        let name = context.target.name!
        for _ in 0..<Self.writeAttempts {
            guard let current = try load(context.key) else {
                // Server-side apply creates what is missing; other patches need an object.
                guard kind.isApply, subresource == nil else { throw .notFound(context.resource, name: name) }
                var object = document
                object.set("metadata.name", .string(name))
                if let namespace = context.target.namespace { object.set("metadata.namespace", .string(namespace)) }
                reply.json(201, try createObject(object, context))
                return
            }
            let view = subresource == "scale" ? KubeCore.scale(of: current.object, resource: context.resource) : current.object
            var patched = try KubeCore.applyPatch(kind, document, to: view, resource: context.resource)
            if let expected = patched.string(at: "metadata.resourceVersion"), !expected.isEmpty, expected != String(current.revision) {
                throw .conflict(context.resource, name: name)
            }
            if subresource == "scale" {
                patched = try scaled(current.object, to: patched, context)
            }
            if let updated = try commitUpdate(patched, over: current, context, subresource: subresource == "scale" ? nil : subresource) {
                reply.json(200, subresource == "scale" ? KubeCore.scale(of: updated, resource: context.resource) : updated)
                return
            }
        }
        throw .conflict(context.resource, name: name)
    }

    /// The object with the replica count a Scale asks for.
    func scaled(_ object: JSONValue, to scale: JSONValue, _ context: RequestContext) throws(APIFailure) -> JSONValue {
        guard let replicas = scale.integer(at: "spec.replicas") else {
            throw .invalid(context.resource, name: context.target.name!,
                causes: [FieldCause(field: "spec.replicas", reason: .required, message: "Required value")])
        }
        guard replicas >= 0 else {
            throw .invalid(context.resource, name: context.target.name!,
                causes: [FieldCause(field: "spec.replicas", reason: .invalid, message: "Invalid value: \(replicas): must be greater than or equal to 0")])
        }
        var result = object
        result.set("spec.replicas", .integer(replicas))
        return result
    }

    /// PUT on `/scale`.
    func updateScale(_ context: RequestContext, _ reply: Reply, incoming: JSONValue) throws(APIFailure) {
        guard let current = try load(context.key) else { throw .notFound(context.resource, name: context.target.name!) }
        if let expected = incoming.string(at: "metadata.resourceVersion"), !expected.isEmpty, expected != String(current.revision) {
            throw .conflict(context.resource, name: context.target.name!)
        }
        let next = try scaled(current.object, to: incoming, context)
        guard let updated = try commitUpdate(next, over: current, context, subresource: nil) else {
            throw .conflict(context.resource, name: context.target.name!)
        }
        reply.json(200, KubeCore.scale(of: updated, resource: context.resource))
    }
}
