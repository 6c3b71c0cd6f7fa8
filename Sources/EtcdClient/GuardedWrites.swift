//! Writes guarded by a key's mod revision, the optimistic concurrency Kubernetes builds on: an
//! object's resourceVersion is its key's mod revision, a create succeeds only while the key is
//! absent (mod revision 0), and an update or delete only while nobody wrote the key since the
//! client read it. One etcd transaction each; when the guard fails, the same transaction reads
//! the key, so the caller learns what is there without a second round trip.

import Base
import Wire

public struct GuardedWriteOutcome: Sendable {
    /// True when the guard held and the write was applied.
    public var succeeded: Bool
    /// The store's revision after the transaction (the new mod revision when it succeeded).
    public var revision: Int64
    /// The key as it is, when the guard failed (nil: the key is absent).
    public var current: EtcdKeyValue?
    /// For a delete that succeeded: the key as it was just before.
    public var previous: EtcdKeyValue?
}

extension EtcdClient {
    /// Puts `value` at `key` only if the key's mod revision is `modRevision` (0: only if absent).
    public func put(_ key: String, _ value: String, ifModRevision modRevision: Int64) throws(EtcdClientError) -> GuardedWriteOutcome {
        try guardedWrite(key, modRevision: modRevision,
            .object(["request_put": .object(["key": Fields.base64(key), "value": Fields.base64(value)])]))
    }

    /// Deletes `key` only if its mod revision is `modRevision`.
    public func delete(_ key: String, ifModRevision modRevision: Int64) throws(EtcdClientError) -> GuardedWriteOutcome {
        precondition(modRevision > 0, "a guarded delete needs the mod revision the caller read, got \(modRevision)")
        return try guardedWrite(key, modRevision: modRevision,
            .object(["request_delete_range": .object(["key": Fields.base64(key), "prev_kv": .bool(true)])]))
    }

    private func guardedWrite(_ key: String, modRevision: Int64, _ operation: JSONValue) throws(EtcdClientError) -> GuardedWriteOutcome {
        let body: JSONObject = [
            "compare": .array([.object(["key": Fields.base64(key), "target": .string("MOD"), "result": .string("EQUAL"),
                "mod_revision": .string(String(modRevision))])]),
            "success": .array([operation]),
            "failure": .array([.object(["request_range": .object(["key": Fields.base64(key)])])]),
        ]
        let response = try call("/v3/kv/txn", body)
        let header = try ResponseHeader(response["header"].flatMap(\.object))
        var outcome = GuardedWriteOutcome(succeeded: Fields.bool(response, "succeeded"), revision: header.revision)
        for item in Fields.objects(response, "responses") {
            if let range = item["response_range"].flatMap(\.object), let kv = Fields.objects(range, "kvs").first {
                outcome.current = try EtcdKeyValue(kv)
            }
            if let deleted = item["response_delete_range"].flatMap(\.object), let kv = Fields.objects(deleted, "prev_kvs").first {
                outcome.previous = try EtcdKeyValue(kv)
            }
        }
        return outcome
    }
}
