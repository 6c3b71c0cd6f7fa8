//! PatchKind: which of the four patch formats a PATCH request carries, picked by Content-Type,
//! and the one entry point that applies any of them.
//!
//! kubectl sends merge patches (label, annotate, scale), strategic merge patches (apply,
//! cordon, taint), JSON patches (rollout undo) and, for `apply --server-side`, apply patches
//! (kubectl-compat §5, §6). The server treats an apply patch as an upsert: the shell creates a
//! missing object from it (here: applying it to `null`) and otherwise it merges like a strategic
//! merge patch. Field ownership (`managedFields`) and conflict detection are not modelled. Any
//! other Content-Type is refused with an error the shell answers with 415.
import Wire

/// Why a patch was refused; `status` is the answer the shell sends.
public struct PatchError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        /// The Content-Type names no patch format (415).
        case unsupportedMediaType(contentType: String)
        /// The patch document itself is malformed: wrong shape, unknown op or directive (400).
        case malformed
        /// The patch is well formed but does not apply to this object: a missing path, a failed
        /// `test` (422).
        case notApplicable
    }

    public var reason: Reason
    public var message: String

    public init(_ reason: Reason, _ message: String) {
        self.reason = reason
        self.message = message
    }

    static func malformed(_ message: String) -> PatchError { PatchError(.malformed, message) }
    static func notApplicable(_ message: String) -> PatchError { PatchError(.notApplicable, message) }

    public var description: String { message }

    /// The Status the shell answers with: 415 UnsupportedMediaType, 400 BadRequest or 422 Invalid.
    public var status: StatusError {
        switch reason {
        case .unsupportedMediaType(let contentType):
            return .unsupportedMediaType(contentType: contentType, accepted: PatchKind.allCases.map(\.rawValue))
        case .malformed:
            return .badRequest(message)
        case .notApplicable:
            return StatusError(code: 422, reason: .invalid, message: message)
        }
    }
}

/// A patch format, named by its Content-Type.
public enum PatchKind: String, Sendable, Equatable, CaseIterable {
    /// RFC 6902 JSON patch: a list of operations.
    case jsonPatch = "application/json-patch+json"
    /// RFC 7386 JSON merge patch.
    case mergePatch = "application/merge-patch+json"
    /// Kubernetes strategic merge patch.
    case strategicMergePatch = "application/strategic-merge-patch+json"
    /// Server-side apply; kubectl sends the manifest as JSON (which is YAML too).
    case applyPatch = "application/apply-patch+yaml"

    /// The kind for a Content-Type header value; parameters (`; charset=utf-8`), case and
    /// surrounding spaces are ignored.
    public init(contentType: String) throws(PatchError) {
        let mediaType = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        // A media type holds no spaces, so dropping them all trims it.
        let bare = mediaType.filter { $0 != " " && $0 != "\t" }
        guard let kind = PatchKind(rawValue: bare.lowercased()) else {
            throw PatchError(.unsupportedMediaType(contentType: contentType), "unsupported patch Content-Type \(JSON.quoted(contentType))")
        }
        self = kind
    }

    /// Applies `patch` of `kind` to `object`. `objectKind` (the object's Kind, e.g. `Deployment`)
    /// picks the merge keys of strategic merge and apply patches; when nil it is read from the
    /// object's, then the patch's, `kind` member. For an apply patch, a `null` object means the
    /// object does not exist yet: the result is the patch itself, cleaned of directives and nulls.
    public static func apply(
        _ kind: PatchKind, patch: JSONValue, to object: JSONValue, objectKind: String? = nil
    ) throws(PatchError) -> JSONValue {
        switch kind {
        case .jsonPatch:
            return try JSONPatch(patch).apply(to: object)
        case .mergePatch:
            return MergePatch.apply(patch, to: object)
        case .strategicMergePatch, .applyPatch:
            let resolvedKind = objectKind ?? stringMember("kind", of: object) ?? stringMember("kind", of: patch) ?? ""
            return try StrategicMergePatch.apply(patch, to: object, kind: resolvedKind)
        }
    }

    private static func stringMember(_ key: String, of value: JSONValue) -> String? {
        if case .string(let text)? = value[key] { return text }
        return nil
    }
}
