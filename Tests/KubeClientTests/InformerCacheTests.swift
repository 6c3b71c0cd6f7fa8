//! The informer's cache without I/O: watch events applied one by one, the differences a relist
//! delivers, keys, the watch-line splitter and event decoding, and the backoff.

import Base
import KubeAPI
import KubeClient
import Testing
import Wire

private func pod(_ name: String, namespace: String = "default", version: String, phase: String = "Pending") -> JSONValue {
    .object([
        "metadata": .object(["name": .string(name), "namespace": .string(namespace), "resourceVersion": .string(version)]),
        "status": .object(["phase": .string(phase)]),
    ])
}

@Suite struct InformerCacheTests {
    @Test func keysAreNamespaceSlashNameOrName() {
        #expect(InformerCache.key(of: pod("web", version: "1")) == "default/web")
        #expect(InformerCache.key(of: .object(["metadata": .object(["name": .string("node-1")])])) == "node-1")
        #expect(InformerCache.key(of: .object(["metadata": .object([:])])) == nil)
    }

    @Test func watchEventsChangeTheCacheInOrder() {
        var cache = InformerCache()
        #expect(cache.apply(.added(pod("a", version: "1"))) == .added(pod("a", version: "1")))
        #expect(cache.apply(.modified(pod("a", version: "2", phase: "Running")))
            == .updated(old: pod("a", version: "1"), new: pod("a", version: "2", phase: "Running")))
        // A MODIFIED for an object never seen is an add; an ADDED for a known one an update.
        #expect(cache.apply(.modified(pod("b", version: "3"))) == .added(pod("b", version: "3")))
        #expect(cache.apply(.added(pod("b", version: "4"))) == .updated(old: pod("b", version: "3"), new: pod("b", version: "4")))
        // The same object again changes nothing.
        #expect(cache.apply(.modified(pod("b", version: "4"))) == nil)
        #expect(cache.apply(.deleted(pod("a", version: "5", phase: "Running"))) == .deleted(pod("a", version: "5", phase: "Running")))
        #expect(cache.apply(.deleted(pod("a", version: "6"))) == nil, "a second delete of a gone key")
        #expect(cache.apply(.bookmark(resourceVersion: "7")) == nil)
        #expect(cache.sortedObjects == [pod("b", version: "4")])
    }

    @Test func aRelistDeliversOnlyTheDifferences() {
        var cache = InformerCache()
        _ = cache.replace(with: [pod("keep", version: "1"), pod("change", version: "2"), pod("gone", version: "3"), pod("z-gone", version: "4")])
        let changes = cache.replace(with: [pod("new", version: "9"), pod("change", version: "8", phase: "Running"), pod("keep", version: "1")])
        #expect(changes == [
            .added(pod("new", version: "9")),
            .updated(old: pod("change", version: "2"), new: pod("change", version: "8", phase: "Running")),
            .deleted(pod("gone", version: "3")),
            .deleted(pod("z-gone", version: "4")),
        ])
        #expect(cache.objects.keys.sorted() == ["default/change", "default/keep", "default/new"])
        // Replaying the differences onto the old contents gives the new contents.
        #expect(cache.replace(with: cache.sortedObjects) == [])
    }

    @Test func linesAreCutWhereverTheChunksEnd() {
        var splitter = LineSplitter(lineBytesMax: 64)
        #expect(splitter.append(Array("{\"a\":".utf8)) == [])
        #expect(splitter.append(Array("1}\n{\"b\":2}\n\n{\"c\"".utf8)) == [Array("{\"a\":1}".utf8), Array("{\"b\":2}".utf8)])
        #expect(splitter.append(Array(":3}\n".utf8)) == [Array("{\"c\":3}".utf8)])
        // A line that never ends is refused once it is too long.
        #expect(splitter.append(Array(repeating: UInt8(ascii: "x"), count: 65)) == nil)
    }

    @Test func watchLinesDecodeToEvents() {
        func decode(_ text: String) -> WatchEvent { WatchEvent.decode(Array(text.utf8)) }
        #expect(decode(#"{"type":"ADDED","object":{"metadata":{"name":"a"}}}"#) == .added(.object(["metadata": .object(["name": .string("a")])])))
        #expect(decode(#"{"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"42"}}}"#) == .bookmark(resourceVersion: "42"))
        let expired = decode(#"{"type":"ERROR","object":{"kind":"Status","status":"Failure","message":"too old resource version: 5 (9)","reason":"Expired","code":410}}"#)
        #expect(expired == .error(.status(code: 410, reason: .expired, message: "too old resource version: 5 (9)")))
        guard case .error(let error) = expired else { return }
        #expect(error.isExpired)
        guard case .error(let garbage) = decode("not json") else {
            Issue.record("a malformed line decoded as an event")
            return
        }
        #expect(garbage.code == 500)
    }

    @Test func backoffDoublesUpToItsMaximumAndResets() {
        var backoff = Backoff(initial: 800 * Time.millisecond, maximum: 30 * Time.second)
        let waits = (0..<8).map { _ in backoff.failed() }
        #expect(waits.map { $0 / Time.millisecond } == [800, 1600, 3200, 6400, 12800, 25600, 30000, 30000])
        backoff.reset()
        #expect(backoff.failed() == 800 * Time.millisecond)
    }

    @Test func eventsAreBuiltAsClientGoRecordsThem() {
        let podReference = ObjectReference(.standard("pods"), namespace: "team", name: "web-1")
        let event = EventRecord.event(involved: podReference, uid: "u-1", type: "Warning", reason: "FailedScheduling",
            message: "0/3 nodes are available", component: "default-scheduler", host: nil, wallSeconds: 1_795_428_000, stamp: 0x1a2b)
        #expect(event.stringMember("metadata", "name") == "web-1.1a2b")
        #expect(event.stringMember("metadata", "namespace") == "team")
        #expect(event["involvedObject"] == .object([
            "kind": .string("Pod"), "namespace": .string("team"), "name": .string("web-1"), "uid": .string("u-1"), "apiVersion": .string("v1"),
        ]))
        #expect(event.stringMember("firstTimestamp") == "2026-11-23T10:00:00Z")
        #expect(event.stringMember("lastTimestamp") == "2026-11-23T10:00:00Z")
        #expect(event.intMember("count") == 1)
        #expect(event.stringMember("source", "component") == "default-scheduler")
        #expect(event.stringMember("type") == "Warning")
        // A cluster-scoped object's events live in `default`, and its reference has no namespace.
        let node = EventRecord.event(involved: ObjectReference(.standard("nodes"), namespace: nil, name: "w1"), uid: nil, type: "Normal",
            reason: "NodeNotReady", message: "Node w1 status is now: NodeNotReady", component: "node-controller", host: "cp-1",
            wallSeconds: 0, stamp: 255)
        #expect(node.stringMember("metadata", "namespace") == "default")
        #expect(node.member("involvedObject", "namespace") == nil)
        #expect(node.member("involvedObject", "uid") == nil)
        #expect(node.stringMember("source", "host") == "cp-1")
    }

    @Test func deleteOptionsCarryPreconditionsAndPolicy() {
        #expect(DeleteOptions().json == nil)
        let options = DeleteOptions(uid: "u-9", propagationPolicy: "Foreground", gracePeriodSeconds: 0)
        #expect(options.json?.stringMember("preconditions", "uid") == "u-9")
        #expect(options.json?.stringMember("propagationPolicy") == "Foreground")
        #expect(options.json?.intMember("gracePeriodSeconds") == 0)
        #expect(options.json?.stringMember("kind") == "DeleteOptions")
    }
}
