//! How a namespace is deleted, as the real apiserver's namespace registry and its
//! NamespaceLifecycle admission do it:
//!
//! - `default`, `kube-system` and `kube-public` may not be deleted (403 Forbidden).
//! - The first delete only marks the namespace: `deletionTimestamp` set, `status.phase`
//!   Terminating (creates in it are refused from then on). The namespace controller empties it
//!   and then removes the `kubernetes` entry of `spec.finalizers` through the `finalize`
//!   subresource.
//! - A namespace being deleted goes once both `spec.finalizers` and `metadata.finalizers` are
//!   empty: on the update that empties them, or on a delete that finds them empty.
//!
//! `spec.finalizers` gets `kubernetes` on create (not by defaulting: it must stay removable
//! over the namespace's life), changes only through `finalize`, and the main resource keeps
//! what is stored.

import Wire

public enum NamespaceLifecycle {
    /// The finalizer that makes the namespace controller empty a namespace before it goes.
    public static let kubernetesFinalizer = "kubernetes"
    /// The namespaces NamespaceLifecycle admission refuses to delete (its `immortalNamespaces`;
    /// `kube-node-lease` is not among them in Kubernetes either).
    public static let protectedNamespaces: Set<String> = ["default", "kube-system", "kube-public"]
    /// The message of the 403 a delete of a protected namespace gets.
    public static let protectedMessage = "this namespace may not be deleted"
    public static let terminatingPhase = "Terminating"

    /// `spec.finalizers` of a namespace.
    public static func specFinalizers(_ namespace: JSONValue) -> [String] {
        guard case .array(let items)? = namespace["spec"]?["finalizers"] else { return [] }
        return items.compactMap { if case .string(let text) = $0 { text } else { nil } }
    }

    /// The namespace as created: `kubernetes` appended to `spec.finalizers` when missing (the
    /// namespace strategy's PrepareForCreate).
    static func prepareForCreate(_ namespace: JSONValue) -> JSONValue {
        let finalizers = specFinalizers(namespace)
        guard !finalizers.contains(kubernetesFinalizer) else { return namespace }
        var result = namespace
        result.set("spec.finalizers", .array((finalizers + [kubernetesFinalizer]).map(JSONValue.string)))
        return result
    }

    /// `incoming` as it may be written over `current`: through the main resource `spec.finalizers`
    /// stays as stored; through `finalize` only `spec.finalizers` changes. (Status is the generic
    /// rule's, a namespace having a `status` subresource.)
    static func prepareForUpdate(_ incoming: JSONValue, current: JSONValue, subresource: String?) -> JSONValue {
        var next: JSONValue
        if subresource == "finalize" {
            next = current
            next.set("spec.finalizers", incoming["spec"]?["finalizers"])
        } else {
            next = incoming
            if subresource == nil { next.set("spec.finalizers", current["spec"]?["finalizers"]) }
        }
        return next
    }

    /// How a delete of `namespace` proceeds: marked Terminating on the first, removed on one that
    /// finds both lists of finalizers empty, left alone otherwise. `timestamp` is now in RFC 3339.
    static func deletion(of namespace: JSONValue, timestamp: String) -> DeletionPlan {
        if namespace["metadata"]?["deletionTimestamp"] == nil || namespace["metadata"]?["deletionTimestamp"] == .null {
            var marked = namespace
            marked.set("metadata.deletionTimestamp", .string(timestamp))
            marked.set("status.phase", .string(terminatingPhase))
            return .mark(marked)
        }
        return isFinished(namespace) ? .now : .alreadyDeleting
    }

    /// A namespace being deleted with no finalizer of either kind left: nothing holds it.
    public static func isFinished(_ namespace: JSONValue) -> Bool {
        specFinalizers(namespace).isEmpty && ObjectLifecycle.finalizers(namespace).isEmpty
    }
}
