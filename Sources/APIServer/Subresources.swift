//! GET and POST on subresources: status and scale views, pod binding (the scheduler's write),
//! pod eviction (`kubectl drain`), and pod logs (empty until a kubelet serves them).

import KubeAPI
import Wire

extension APIServer {
    func getSubresource(_ subresource: String, _ context: RequestContext, _ reply: Reply) throws(APIFailure) {
        guard context.resource.subresourceNames.contains(subresource) else { throw .unknownPath }
        guard let stored = try load(context.key) else { throw .notFound(context.resource, name: context.target.name!) }
        switch subresource {
        case "scale": reply.json(200, KubeCore.scale(of: stored.object, resource: context.resource))
        case "log": reply.text(200, "")
        default: reply.json(200, stored.object)
        }
    }

    func postSubresource(_ subresource: String, _ context: RequestContext, _ reply: Reply) throws(APIFailure) {
        guard context.resource.isPod else { throw .methodNotAllowed("POST") }
        switch subresource {
        case "binding": try bind(context, reply)
        case "eviction": try evict(context, reply)
        default: throw .methodNotAllowed("POST")
        }
    }

    /// `pods/NAME/binding`: sets the pod's node, once.
    private func bind(_ context: RequestContext, _ reply: Reply) throws(APIFailure) {
        let binding = try requestBody(context)
        let name = context.target.name!
        guard let node = binding.string(at: "target.name"), !node.isEmpty else {
            throw .invalid(context.resource, name: name,
                causes: [FieldCause(field: "target.name", reason: .required, message: "Required value")])
        }
        for _ in 0..<Self.writeAttempts {
            guard let current = try load(context.key) else { throw .notFound(context.resource, name: name) }
            if let bound = current.object.string(at: "spec.nodeName"), !bound.isEmpty {
                throw .conflictMessage(context.resource, name: name, "pod \(name) is already assigned to node \"\(bound)\"")
            }
            if current.object.value(at: "metadata.deletionTimestamp") != nil {
                throw .conflictMessage(context.resource, name: name, "pod \(name) is being deleted, cannot be assigned to a host")
            }
            var next = current.object
            next.set("spec.nodeName", .string(node))
            next = KubeCore.withCondition(next, type: "PodScheduled", status: "True", now: now())
            let outcome: (revision: Int64?, current: StoredObject?)
            do { outcome = try store.write(context.key, next, ifRevision: current.revision) } catch { throw APIFailure(error) }
            if outcome.revision != nil {
                reply.json(201, KubeCore.success(name: name, kind: "pods"))
                return
            }
        }
        throw .conflict(context.resource, name: name)
    }

    /// `pods/NAME/eviction`: deletes the pod as a DELETE would (graceful), answering 201.
    private func evict(_ context: RequestContext, _ reply: Reply) throws(APIFailure) {
        let eviction = try requestBody(context)
        var options = DeleteOptions()
        options.gracePeriodSeconds = eviction.integer(at: "deleteOptions.gracePeriodSeconds")
        let name = context.target.name!
        for _ in 0..<Self.writeAttempts {
            guard let current = try load(context.key) else { throw .notFound(context.resource, name: name) }
            if try deleteObject(current, key: context.key, context, options: options) != nil {
                reply.json(201, KubeCore.success(name: name, kind: "pods"))
                return
            }
        }
        throw .conflict(context.resource, name: name)
    }
}
