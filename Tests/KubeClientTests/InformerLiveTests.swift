//! Informers against live apiservers: adds, updates and deletes reach the handlers in order and
//! the cache; an informer carries on through the second apiserver when its own stops; and after
//! a compaction its re-watch gets 410 Expired, it lists again and delivers the differences.

import Base
import Foundation
import KubeAPI
import KubeClient
import Testing
import Wire

private let pods = APIResource.standard("pods")

/// What a handler saw: "add web", "update web", "delete web".
private func name(_ object: JSONValue) -> String { object.stringMember("metadata", "name") ?? "?" }

private func recordingHandlers(_ recorder: Recorder<String>) -> InformerHandlers {
    InformerHandlers(
        onAdd: { recorder.append("add \(name($0))") },
        onUpdate: { _, new in recorder.append("update \(name(new))") },
        onDelete: { recorder.append("delete \(name($0))") })
}

@Suite(.serialized) struct InformerLiveTests {
    @Test func handlersSeeAddsUpdatesAndDeletesInOrder() throws {
        let cluster = try LiveCluster(basePort: 23140)
        defer { cluster.stop() }
        let client = try cluster.client()
        _ = try client.create(pods, namespace: "default", object: podObject("early"))
        let seen = Recorder<String>()
        let informer = Informer(client: client, resource: pods, namespace: "default", labelSelector: nil,
            handlers: recordingHandlers(seen))
        informer.start()
        defer { informer.stop() }
        #expect(informer.waitForSync(timeout: 5 * Time.second))
        #expect(seen.all == ["add early"])

        let created = try client.create(pods, namespace: "default", object: podObject("web"))
        var changed = created
        changed.set("metadata.labels.tier", .string("front"))
        _ = try client.update(ObjectReference(pods, namespace: "default", name: "web"), object: changed)
        try client.delete(ObjectReference(pods, namespace: "default", name: "early"), options: DeleteOptions(gracePeriodSeconds: 0))
        #expect(eventually { seen.all.count >= 4 })
        #expect(seen.all == ["add early", "add web", "update web", "delete early"])
        #expect(informer.list().compactMap { $0.stringMember("metadata", "name") } == ["web"])
        #expect(informer.get("default/web")?.stringMember("metadata", "labels", "tier") == "front")
        #expect(informer.get("default/early") == nil)

        // After stop no handler runs.
        informer.stop()
        _ = try client.create(pods, namespace: "default", object: podObject("late"))
        usleep(300_000)
        #expect(!seen.all.contains("add late"))
    }

    @Test func anInformerCarriesOnThroughAnotherApiserver() throws {
        let cluster = try LiveCluster(basePort: 23150, apiservers: 2)
        defer { cluster.stop() }
        let seen = Recorder<String>()
        let informer = Informer(client: try cluster.client(), resource: pods, namespace: "default", handlers: recordingHandlers(seen))
        informer.start()
        defer { informer.stop() }
        #expect(informer.waitForSync(timeout: 5 * Time.second))
        let writer = try cluster.client([1])
        _ = try writer.create(pods, namespace: "default", object: podObject("one"))
        #expect(eventually { seen.all == ["add one"] })

        cluster.stopAPIServer(0)  // the informer's watch was on this one
        _ = try writer.create(pods, namespace: "default", object: podObject("two"))
        try writer.delete(ObjectReference(pods, namespace: "default", name: "one"), options: DeleteOptions(gracePeriodSeconds: 0))
        #expect(eventually { seen.all.count >= 3 }, "seen: \(seen.all)")
        #expect(seen.all == ["add one", "add two", "delete one"])
        #expect(informer.list().compactMap { $0.stringMember("metadata", "name") } == ["two"])
    }

    @Test func anExpiredResourceVersionRelistsAndDeliversTheDifferences() throws {
        let cluster = try LiveCluster(basePort: 23160, apiservers: 2)
        defer { cluster.stop() }
        let writer = try cluster.client([1])
        for name in ["keep", "change", "gone"] { _ = try writer.create(pods, namespace: "default", object: podObject(name)) }
        let seen = Recorder<String>()
        let logged = Recorder<String>()
        var configuration = InformerConfiguration()
        configuration.log = { logged.append($0) }
        // This informer knows only the first apiserver, so it is cut off while that is down.
        let informer = Informer(client: try cluster.client([0]), resource: pods, namespace: "default", configuration: configuration,
            handlers: recordingHandlers(seen))
        informer.start()
        defer { informer.stop() }
        #expect(informer.waitForSync(timeout: 5 * Time.second))
        #expect(seen.all == ["add change", "add gone", "add keep"])
        let syncedAt = informer.resourceVersion

        cluster.stopAPIServer(0)
        let change = ObjectReference(pods, namespace: "default", name: "change")
        _ = try writer.mergePatch(change, patch: .object(["metadata": .object(["labels": .object(["v": .string("2")])])]))
        try writer.delete(ObjectReference(pods, namespace: "default", name: "gone"), options: DeleteOptions(gracePeriodSeconds: 0))
        _ = try writer.create(pods, namespace: "default", object: podObject("new"))
        try cluster.compactStore()
        try cluster.startAPIServer(0)

        #expect(eventually { seen.all.count >= 6 }, "seen: \(seen.all)")
        // The relist's differences: adds and updates in list order, then deletes.
        #expect(Array(seen.all.dropFirst(3)) == ["update change", "add new", "delete gone"])
        #expect(logged.all.contains { $0.contains("resourceVersion \(syncedAt) expired") }, "log: \(logged.all)")
        #expect(informer.list().compactMap { $0.stringMember("metadata", "name") } == ["change", "keep", "new"])
        #expect(informer.get("default/change")?.stringMember("metadata", "labels", "v") == "2")
    }
}
