//! `?watch=true`: the store's watch on the collection's prefix, turned into the events kubectl
//! and controllers read — ADDED, MODIFIED, DELETED, BOOKMARK, and ERROR (410 Expired when the
//! store has compacted the revision asked for) — one JSON object a line, flushed per event.
//!
//! Selectors are applied to both sides of a change, as the real watch cache does: an object
//! that starts matching arrives as ADDED, one that stops matching as DELETED. Without a
//! resourceVersion (or with "0") the watch first sends every matching object as ADDED.

import Base
import EtcdClient
import KubeAPI
import Net
import Wire

extension APIServer {
    func watch(_ context: RequestContext, _ reply: Reply) throws(APIFailure) {
        let selector = try KubeCore.selector(context.query)
        let prefix = context.collectionPrefix
        var initial: [StoredObject] = []
        let startRevision: Int64
        let requested = context.query["resourceVersion"] ?? ""
        if requested.isEmpty || requested == "0" {
            let listed: (items: [StoredObject], revision: Int64)
            do { listed = try store.list(prefix) } catch { throw APIFailure(error) }
            initial = listed.items.filter { selector.matches($0.object) }
            startRevision = listed.revision + 1
        } else {
            guard let revision = Int64(requested), revision > 0 else {
                throw .badRequest("resourceVersion '\(requested)' is not a whole number")
            }
            startRevision = revision + 1
        }
        var timeout = configuration.watchTimeout
        if let text = context.query["timeoutSeconds"] {
            guard let seconds = Int64(text), seconds >= 0 else { throw .badRequest("timeoutSeconds '\(text)' is not a whole number") }
            if seconds > 0 { timeout = min(timeout, seconds * Time.second) }
        }
        let resource = context.resource
        let table = context.wantsTable
        let bookmark: ((Int64) -> [UInt8])? = context.query.flag("allowWatchBookmarks") ? { revision in
            Self.eventLine("BOOKMARK", .object([
                "kind": .string(resource.kind), "apiVersion": .string(resource.apiVersion),
                "metadata": .object(["resourceVersion": .string(String(revision))]),
            ]))
        } : nil
        let active = ActiveWatch(responder: reply.responder, revision: startRevision - 1, deadline: MonotonicClock.now() + timeout,
            bookmark: bookmark)
        guard watches.register(active) else { throw .tooManyRequests("too many watches on this apiserver (\(WatchHub.watchesMax))") }
        defer { watches.unregister(active) }
        guard reply.responder.startStream(status: 200, contentType: "application/json") else { return }
        defer { reply.responder.finish() }

        let render = { (type: String, object: JSONValue, revision: Int64) -> [UInt8] in
            let shown = table ? KubeCore.table(resource, [object], now: self.now(), includeObject: false, resourceVersion: String(revision)) : object
            return Self.eventLine(type, shown)
        }
        for item in initial where !active.send(render("ADDED", item.object, item.revision), revision: startRevision - 1) { return }
        do {
            try store.watch(prefix, from: startRevision, cancel: active.cancel, onProgress: active.noteProgress) { [store] events in
                for event in events {
                    guard let (type, object) = Self.watchEvent(event, store: store, selector: selector) else { continue }
                    if !active.send(render(type, object, event.kv.modRevision), revision: event.kv.modRevision) { return false }
                }
                return true
            }
        } catch {
            if case .compacted = error {
                let status = KubeCore.status(.expired("too old resource version: \(startRevision - 1)")).1
                _ = active.send(Self.eventLine("ERROR", status), revision: startRevision - 1)
            }
            // Otherwise the store went away: ending the stream makes the client list and watch again.
        }
    }

    /// The event a store change is for a watcher with `selector`, nil when it sees nothing.
    static func watchEvent(_ event: WatchEvent, store: ObjectStore, selector: KubeCore.Selector) -> (String, JSONValue)? {
        let previous = event.previous.flatMap { try? store.decode($0) }
        if event.isDelete {
            guard var object = previous?.object, selector.matches(object) else { return nil }
            // A deleted object reports the revision of its deletion.
            object.set("metadata.resourceVersion", .string(String(event.kv.modRevision)))
            return ("DELETED", object)
        }
        guard let current = try? store.decode(event.kv) else { return nil }
        let matchesNow = selector.matches(current.object)
        let matchedBefore = previous.map { selector.matches($0.object) } ?? false
        switch (matchedBefore, matchesNow) {
        case (true, true): return ("MODIFIED", current.object)
        case (false, true): return ("ADDED", current.object)
        case (true, false): return ("DELETED", current.object)
        case (false, false): return nil
        }
    }

    static func eventLine(_ type: String, _ object: JSONValue) -> [UInt8] {
        var line: [UInt8] = []
        JSON.append(.object(["type": .string(type), "object": object]), to: &line)
        line.append(10)
        return line
    }
}
