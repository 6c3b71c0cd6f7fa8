//! The informer's local copy of a collection, keyed as client-go keys objects (`namespace/name`,
//! or `name` for cluster-scoped ones), and the changes each watch event or relist makes to it.
//! Pure: the informer applies events here and hands the returned changes to its handlers, so
//! what the handlers see is exactly the sequence of states the cache went through.

import Base
import KubeAPI
import Wire

/// One change to the cache, as the handlers receive it.
public enum CacheChange: Sendable, Equatable {
    case added(JSONValue)
    case updated(old: JSONValue, new: JSONValue)
    case deleted(JSONValue)
}

public struct InformerCache: Sendable {
    public private(set) var objects: [String: JSONValue] = [:]

    public init() {}

    /// `namespace/name`, or `name` for an object without a namespace; nil without a name.
    public static func key(of object: JSONValue) -> String? {
        guard let name = object.stringMember("metadata", "name"), !name.isEmpty else { return nil }
        guard let namespace = object.stringMember("metadata", "namespace"), !namespace.isEmpty else { return name }
        return "\(namespace)/\(name)"
    }

    /// Applies one watch event. An ADDED for a key already present reads as an update and a
    /// MODIFIED for a missing key as an add (the cache converges on the server either way); a
    /// DELETED for a missing key, an unchanged object and non-object events change nothing (nil).
    public mutating func apply(_ event: WatchEvent) -> CacheChange? {
        switch event {
        case .added(let object), .modified(let object):
            guard let key = Self.key(of: object) else { return nil }
            let old = objects.updateValue(object, forKey: key)
            guard let old else { return .added(object) }
            return old == object ? nil : .updated(old: old, new: object)
        case .deleted(let object):
            // The event's object is the last state, at the deletion's resourceVersion.
            guard let key = Self.key(of: object), objects.removeValue(forKey: key) != nil else { return nil }
            return .deleted(object)
        case .bookmark, .error:
            return nil
        }
    }

    /// Replaces the contents with a fresh list (after a relist) and returns the differences:
    /// adds and updates in the list's order, then deletes of the keys the list no longer has, in
    /// key order. Objects that did not change give nothing.
    public mutating func replace(with items: [JSONValue]) -> [CacheChange] {
        var changes: [CacheChange] = []
        var next: [String: JSONValue] = [:]
        next.reserveCapacity(items.count)
        for item in items {
            guard let key = Self.key(of: item) else { continue }
            next[key] = item
            switch objects[key] {
            case nil: changes.append(.added(item))
            case let old? where old != item: changes.append(.updated(old: old, new: item))
            default: break
            }
        }
        for key in objects.keys.sorted() where next[key] == nil { changes.append(.deleted(objects[key]!)) }
        objects = next
        return changes
    }

    /// The objects, sorted by key (deterministic for callers that iterate).
    public var sortedObjects: [JSONValue] { objects.keys.sorted().map { objects[$0]! } }
}

/// Exponential backoff between failed attempts: `initial`, doubling, at most `maximum`.
public struct Backoff: Sendable {
    public let initial: Nanoseconds
    public let maximum: Nanoseconds
    public private(set) var next: Nanoseconds

    public init(initial: Nanoseconds, maximum: Nanoseconds) {
        precondition(initial > 0 && maximum >= initial, "backoff initial \(initial) must be positive and at most maximum \(maximum)")
        self.initial = initial
        self.maximum = maximum
        next = initial
    }

    /// The wait before the next attempt; each call doubles the following one.
    public mutating func failed() -> Nanoseconds {
        let wait = next
        next = min(maximum, next * 2)
        return wait
    }

    public mutating func reset() { next = initial }
}
