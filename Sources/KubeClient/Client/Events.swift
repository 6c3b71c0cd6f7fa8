//! Events as Kubernetes components record them (client-go's event recorder): a core/v1 Event in
//! the involved object's namespace (`default` for cluster-scoped objects), named
//! `<involved name>.<hex time stamp>`, with `count` 1, equal first and last timestamps, and the
//! component as `source.component` and `reportingComponent`.

import KubeAPI
import Wire

public enum EventRecord {
    /// The Event object. `stamp` is a unique, increasing number (nanoseconds of the wall clock)
    /// that names it; `wallSeconds` is the time it happened.
    public static func event(
        involved: ObjectReference, uid: String?, type: String, reason: String, message: String,
        component: String, host: String?, wallSeconds: Int64, stamp: Int64
    ) -> JSONValue {
        precondition(type == "Normal" || type == "Warning", "event type must be Normal or Warning, not '\(type)'")
        precondition(stamp >= 0, "event name stamp \(stamp) is negative")
        var reference: JSONObject = ["kind": .string(involved.resource.kind)]
        if let namespace = involved.namespace { reference["namespace"] = .string(namespace) }
        reference["name"] = .string(involved.name)
        if let uid { reference["uid"] = .string(uid) }
        reference["apiVersion"] = .string(involved.resource.groupVersion)
        var source: JSONObject = ["component": .string(component)]
        if let host { source["host"] = .string(host) }
        let time = JSONValue.string(KubeTime.format(wallSeconds))
        var event: JSONObject = [
            "kind": .string("Event"), "apiVersion": .string("v1"),
            "metadata": .object([
                "name": .string("\(involved.name).\(String(stamp, radix: 16))"),
                "namespace": .string(involved.namespace ?? "default"),
            ]),
            "involvedObject": .object(reference),
            "reason": .string(reason), "message": .string(message), "source": .object(source),
            "firstTimestamp": time, "lastTimestamp": time, "count": .integer(1), "type": .string(type),
            "reportingComponent": .string(component),
        ]
        if let host { event["reportingInstance"] = .string(host) }
        return .object(event)
    }
}

extension APIClient {
    /// Records an Event about `involved` (`uid` when known: `kubectl describe` matches on it).
    @discardableResult
    public func createEvent(involved: ObjectReference, uid: String?, type: String, reason: String, message: String) throws(APIError) -> JSONValue {
        let wall = clock.wallMicroseconds()
        let event = EventRecord.event(involved: involved, uid: uid, type: type, reason: reason, message: message,
            component: configuration.component, host: configuration.host,
            wallSeconds: wall / 1_000_000, stamp: nextEventStamp(wallMicroseconds: wall))
        return try create(.standard("events"), namespace: involved.namespace ?? "default", object: event)
    }
}
