//! MergePatch: RFC 7386 JSON merge patch, the format of `kubectl label`, `annotate` and `scale`.
//!
//! A patch object is merged member by member: `null` removes a member, an object merges
//! recursively (into `{}` when the target member is missing or not an object), anything else
//! replaces. A patch that is not an object replaces the whole target. Arrays are never merged.
//! The result keeps the target's member order; new members are appended in the patch's order.
import Wire

/// RFC 7386 JSON merge patch.
public enum MergePatch {
    /// The result of applying `patch` to `target`. Every JSON value is a valid merge patch, so
    /// this cannot fail.
    public static func apply(_ patch: JSONValue, to target: JSONValue) -> JSONValue {
        guard case .object(let patchMembers) = patch else { return patch }
        var result: JSONObject
        if case .object(let targetMembers) = target { result = targetMembers } else { result = JSONObject() }
        for (key, value) in patchMembers.members {
            if value == .null {
                result[key] = nil
            } else {
                result[key] = apply(value, to: result[key] ?? .null)
            }
        }
        return .object(result)
    }
}
