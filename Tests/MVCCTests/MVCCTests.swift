//! The MVCC store against etcd 3.4's observed behaviour (the captured session in
//! shared/specs/etcd-v3-json.md, replayed step by step), plus a randomized comparison with a
//! naive model, snapshots, codec round trips and the lessor.

import Base
import MVCC
import Testing

private func b(_ text: String) -> Bytes { Array(text.utf8) }
private let prefix = "apispec/1795341993658/"
private func k(_ name: String) -> Bytes { b(prefix + name) }

@discardableResult
private func apply(_ store: MVCCStore, _ command: StoreCommand) -> StoreApplyResult { store.apply(command) }

private func putResponse(_ result: StoreApplyResult) -> PutResponse? {
    if case .success(.put(let response)) = result.response { return response }
    return nil
}

@Suite struct SpecSequenceTests {
    /// Replays the captured session's KV part and checks each number etcd answered.
    @Test func replaysTheCapturedSession() throws {
        let store = MVCCStore()
        #expect(store.currentRevision == 1)
        #expect(putResponse(apply(store, .put(PutRequest(key: k("a"), value: b("v1")))))?.revision == 2)
        var prevPut = PutRequest(key: k("a"), value: b("v2"))
        prevPut.prevKV = true
        let second = putResponse(apply(store, .put(prevPut)))
        #expect(second?.revision == 3)
        #expect(second?.prevKV == KeyValue(key: k("a"), createRevision: 2, modRevision: 2, version: 1, value: b("v1")))
        var newKey = PutRequest(key: k("b"), value: b("vb"))
        newKey.prevKV = true
        let third = putResponse(apply(store, .put(newKey)))
        #expect(third?.revision == 4 && third?.prevKV == nil)
        var ignore = PutRequest(key: k("a"))
        ignore.ignoreValue = true
        #expect(putResponse(apply(store, .put(ignore)))?.revision == 5)
        #expect(putResponse(apply(store, .put(PutRequest(key: k("c"), value: []))))?.revision == 6)

        let single = try store.range(RangeRequest(key: k("a")))
        #expect(single.revision == 6 && single.count == 1)
        #expect(single.kvs == [KeyValue(key: k("a"), createRevision: 2, modRevision: 5, version: 3, value: b("v2"))])
        let missing = try store.range(RangeRequest(key: k("zzz")))
        #expect(missing.kvs.isEmpty && missing.count == 0)

        var sorted = RangeRequest(key: k(""), rangeEnd: b("apispec/17953419936580"))
        sorted.limit = 2
        sorted.sortOrder = .descend
        sorted.sortTarget = .key
        let page = try store.range(sorted)
        #expect(page.kvs.map(\.key) == [k("c"), k("b")] && page.more && page.count == 3)

        var countOnly = RangeRequest(key: k(""), rangeEnd: b("apispec/17953419936580"))
        countOnly.countOnly = true
        let counted = try store.range(countOnly)
        #expect(counted.kvs.isEmpty && counted.count == 3)

        var keysOnly = RangeRequest(key: k(""), rangeEnd: b("apispec/17953419936580"))
        keysOnly.keysOnly = true
        #expect(try store.range(keysOnly).kvs.allSatisfy { $0.value.isEmpty })

        var past = RangeRequest(key: k("a"))
        past.revision = 2
        #expect(try store.range(past).kvs == [KeyValue(key: k("a"), createRevision: 2, modRevision: 2, version: 1, value: b("v1"))])

        var fromKey = RangeRequest(key: k("b"), rangeEnd: [0])
        fromKey.limit = 2
        let from = try store.range(fromKey)
        #expect(from.kvs.map(\.key) == [k("b"), k("c")] && from.count == 2 && !from.more)

        // txn_success: compare value, put then range see revision 7.
        let txn = TxnRequest(compare: [Compare(key: k("b"), target: .value(b("vb")), result: .equal)],
            success: [.put(PutRequest(key: k("b"), value: b("vb2"))), .range(RangeRequest(key: k("b")))],
            failure: [.range(RangeRequest(key: k("b")))])
        guard case .success(.txn(let done)) = apply(store, .txn(txn)).response else { Issue.record("txn failed"); return }
        #expect(done.succeeded && done.revision == 7)
        guard case .put(let put) = done.responses[0], case .range(let range) = done.responses[1] else { Issue.record("ops"); return }
        #expect(put.revision == 7 && range.revision == 7)
        #expect(range.kvs == [KeyValue(key: k("b"), createRevision: 4, modRevision: 7, version: 2, value: b("vb2"))])

        // txn_failure: version > 100 fails; the failure branch reads; no revision change.
        let failing = TxnRequest(compare: [Compare(key: k("b"), target: .version(100), result: .greater)],
            success: [.deleteRange(DeleteRangeRequest(key: k("b")))], failure: [.range(RangeRequest(key: k("b")))])
        guard case .success(.txn(let notDone)) = apply(store, .txn(failing)).response else { Issue.record("txn failed"); return }
        #expect(!notDone.succeeded && notDone.revision == 7 && store.currentRevision == 7)

        // txn_create_if_absent: create == 0 on a missing key holds.
        let lock = TxnRequest(compare: [Compare(key: k("lock"), target: .createRevision(0), result: .equal)],
            success: [.put(PutRequest(key: k("lock"), value: b("me")))], failure: [.range(RangeRequest(key: k("lock")))])
        guard case .success(.txn(let locked)) = apply(store, .txn(lock)).response else { Issue.record("txn failed"); return }
        #expect(locked.succeeded && locked.revision == 8)

        // txn_mod_rev_and_nested: nested range sees 8, then the delete makes 9.
        var deleteLock = DeleteRangeRequest(key: k("lock"))
        deleteLock.prevKV = true
        let nested = TxnRequest(compare: [Compare(key: k("lock"), target: .modRevision(999_999_999), result: .less)],
            success: [.txn(TxnRequest(success: [.range(RangeRequest(key: k("a")))])), .deleteRange(deleteLock)])
        guard case .success(.txn(let outer)) = apply(store, .txn(nested)).response else { Issue.record("txn failed"); return }
        #expect(outer.succeeded && outer.revision == 9)
        guard case .txn(let inner) = outer.responses[0], case .range(let innerRange) = inner.responses[0],
            case .deleteRange(let deleted) = outer.responses[1]
        else { Issue.record("nested shapes"); return }
        #expect(inner.revision == 0 && innerRange.revision == 8)
        #expect(deleted.revision == 9 && deleted.deleted == 1)
        #expect(deleted.prevKVs == [KeyValue(key: k("lock"), createRevision: 8, modRevision: 8, version: 1, value: b("me"))])

        // Leases: grant, put with lease, revoke deletes the key at a new revision.
        guard case .success(.leaseGrant(let grant)) = apply(store, .leaseGrant(id: 1_875_364_427_419_916_312, ttl: 60)).response else {
            Issue.record("grant failed"); return
        }
        #expect(grant.ttl == 60 && grant.revision == 9)
        #expect(putResponse(apply(store, .put(PutRequest(key: k("leased"), value: b("x"), lease: grant.id))))?.revision == 10)
        #expect(try store.range(RangeRequest(key: k("leased"))).kvs.first?.lease == grant.id)
        #expect(store.leaseKeys(grant.id) == [k("leased")])
        guard case .success(.leaseRevoke(let revokedAt)) = apply(store, .leaseRevoke(id: grant.id)).response else { Issue.record("revoke"); return }
        #expect(revokedAt == 11 && !store.leaseExists(grant.id))
        #expect(try store.range(RangeRequest(key: k("leased"))).kvs.isEmpty)

        // deleterange_single_prev_kv then deleterange_missing.
        guard case .success(.deleteRange(let removed)) = apply(store, .deleteRange(DeleteRangeRequest(key: k("a"), prevKV: true))).response
        else { Issue.record("delete"); return }
        #expect(removed.revision == 12 && removed.deleted == 1 && removed.prevKVs.first?.version == 3)
        guard case .success(.deleteRange(let none)) = apply(store, .deleteRange(DeleteRangeRequest(key: k("a")))).response
        else { Issue.record("delete"); return }
        #expect(none.revision == 12 && none.deleted == 0)
    }

    @Test func errorsMatchEtcd() throws {
        let store = MVCCStore()
        #expect(apply(store, .put(PutRequest(key: [], value: b("x")))).response == .failure(.emptyKey))
        #expect(apply(store, .put(PutRequest(key: b("x"), value: b("x"), lease: 12345))).response == .failure(.leaseNotFound))
        let duplicate = TxnRequest(success: [.put(PutRequest(key: b("d"), value: b("1"))), .put(PutRequest(key: b("d"), value: b("2")))])
        #expect(apply(store, .txn(duplicate)).response == .failure(.duplicateKey))
        let putInDeleted = TxnRequest(success: [.deleteRange(DeleteRangeRequest(key: b("a"), rangeEnd: b("z"))), .put(PutRequest(key: b("m"), value: b("1")))])
        #expect(apply(store, .txn(putInDeleted)).response == .failure(.duplicateKey))
        var ignoreMissing = PutRequest(key: b("nope"))
        ignoreMissing.ignoreValue = true
        #expect(apply(store, .put(ignoreMissing)).response == .failure(.keyNotFound))
        #expect(apply(store, .leaseRevoke(id: 42)).response == .failure(.leaseNotFound))
        let tooMany = TxnRequest(success: (0..<129).map { .put(PutRequest(key: b("k\($0)"), value: [])) })
        #expect(apply(store, .txn(tooMany)).response == .failure(.tooManyOperations))
        #expect(store.currentRevision == 1, "failed commands change nothing")
        _ = apply(store, .leaseGrant(id: 7, ttl: 10))
        #expect(apply(store, .leaseGrant(id: 7, ttl: 10)).response == .failure(.leaseExists))
    }

    @Test func compactionRefusesOldRevisionsAndKeepsTheLatest() throws {
        let store = MVCCStore()
        for value in 1...5 { apply(store, .put(PutRequest(key: b("x"), value: b("\(value)")))) }  // revisions 2...6
        apply(store, .put(PutRequest(key: b("gone"), value: b("1"))))  // 7
        apply(store, .deleteRange(DeleteRangeRequest(key: b("gone"))))  // 8
        #expect(apply(store, .compaction(CompactionRequest(revision: 9))).response == .failure(.futureRevision))
        #expect(apply(store, .compaction(CompactionRequest(revision: 5))).response == .success(.compaction(revision: 8)))
        #expect(apply(store, .compaction(CompactionRequest(revision: 4))).response == .failure(.compacted))
        var old = RangeRequest(key: b("x"))
        old.revision = 4
        #expect(throws: StoreError.compacted) { try store.range(old) }
        old.revision = 5
        #expect(try store.range(old).kvs.first?.value == b("4"))
        old.revision = 100
        #expect(throws: StoreError.futureRevision) { try store.range(old) }
        #expect(throws: StoreError.compacted) { try store.events(key: b("x"), rangeEnd: [], from: 4) }
        #expect(try store.events(key: b("x"), rangeEnd: [], from: 6).map(\.kv.modRevision) == [6])
        apply(store, .compaction(CompactionRequest(revision: 8)))
        #expect(try store.range(RangeRequest(key: b("gone"))).kvs.isEmpty)
        #expect(try store.range(RangeRequest(key: b("x"))).kvs.first?.value == b("5"))
    }

    @Test func eventsReplayWritesInOrderWithPreviousValues() throws {
        let store = MVCCStore()
        apply(store, .put(PutRequest(key: b("w/x"), value: b("1"))))  // 2
        apply(store, .put(PutRequest(key: b("w/x"), value: b("2"))))  // 3
        let result = apply(store, .deleteRange(DeleteRangeRequest(key: b("w/x"))))  // 4
        #expect(result.events.count == 1 && result.events[0].kind == .delete && result.events[0].prevKV?.value == b("2"))
        let events = try store.events(key: b("w/"), rangeEnd: b("w0"), from: 2)
        #expect(events.map(\.kind) == [.put, .put, .delete])
        #expect(events.map(\.kv.modRevision) == [2, 3, 4])
        #expect(events[1].prevKV?.value == b("1"))
        #expect(events[2].kv == KeyValue(key: b("w/x"), modRevision: 4))
    }
}

@Suite struct ModelTests {
    /// Thousands of random operations against the store and a dictionary: every range agrees.
    @Test(arguments: [1, 2, 3] as [UInt64])
    func agreesWithANaiveModel(seed: UInt64) throws {
        var random = SeededRandom(seed: seed)
        let store = MVCCStore()
        var model: [String: String] = [:]
        let names = (0..<40).map { $0 < 10 ? "k0\($0)" : "k\($0)" }
        for step in 0..<4000 {
            let key = names[random.int(in: 0...(names.count - 1))]
            switch random.int(in: 0...9) {
            case 0...5:
                apply(store, .put(PutRequest(key: b(key), value: b("\(step)"))))
                model[key] = "\(step)"
            case 6:
                let end = names[random.int(in: 0...(names.count - 1))]
                apply(store, .deleteRange(DeleteRangeRequest(key: b(key), rangeEnd: b(end))))
                for name in model.keys where name >= key && name < end { model[name] = nil }
            case 7:
                let expected = model[key] ?? "absent"
                let txn = TxnRequest(compare: [Compare(key: b(key), target: .value(b(expected)), result: .equal)],
                    success: [.put(PutRequest(key: b(key), value: b("cas\(step)")))])
                apply(store, .txn(txn))
                if model[key] != nil { model[key] = "cas\(step)" }
            default:
                let end = names[random.int(in: 0...(names.count - 1))]
                let got = try store.range(RangeRequest(key: b(key), rangeEnd: b(end)))
                let expected = model.filter { $0.key >= key && $0.key < end }.sorted { $0.key < $1.key }
                #expect(got.kvs.map { String(decoding: $0.key, as: UTF8.self) } == expected.map(\.key), "step \(step)")
                #expect(got.kvs.map { String(decoding: $0.value, as: UTF8.self) } == expected.map(\.value), "step \(step)")
            }
            if step % 997 == 0 && store.currentRevision > 10 {
                apply(store, .compaction(CompactionRequest(revision: store.currentRevision - 5)))
            }
        }
        // A snapshot restores the same store.
        let restored = try MVCCStore(snapshot: store.snapshot())
        #expect(restored.hash() == store.hash())
        #expect(restored.currentRevision == store.currentRevision && restored.compactedRevision == store.compactedRevision)
        let everything = RangeRequest(key: [0], rangeEnd: [0])
        #expect(try restored.range(everything) == store.range(everything))
    }

    @Test func manyKeysInRandomOrderStayOrdered() throws {
        var random = SeededRandom(seed: 9)
        let store = MVCCStore()
        var names = (0..<5000).map { "key-\($0)" }
        random.shuffle(&names)
        for name in names { apply(store, .put(PutRequest(key: b(name), value: b("v")))) }
        let all = try store.range(RangeRequest(key: [0], rangeEnd: [0]))
        #expect(all.count == 5000)
        #expect(all.kvs.map { String(decoding: $0.key, as: UTF8.self) } == names.sorted())
    }
}

@Suite struct CodecAndSnapshotTests {
    @Test func commandsRoundTrip() throws {
        var put = PutRequest(key: b("k"), value: b("v"), lease: 5)
        put.prevKV = true
        var range = RangeRequest(key: b("a"), rangeEnd: b("z"))
        range.limit = 3
        range.sortOrder = .descend
        range.sortTarget = .mod
        range.maxCreateRevision = 9
        let commands: [StoreCommand] = [
            .put(put), .deleteRange(DeleteRangeRequest(key: b("a"), rangeEnd: [0], prevKV: true)),
            .txn(TxnRequest(compare: [Compare(key: b("k"), rangeEnd: b("l"), target: .lease(3), result: .notEqual),
                Compare(key: b("k"), target: .value(b("x")), result: .less)],
                success: [.range(range), .txn(TxnRequest(success: [.put(put)]))], failure: [.deleteRange(DeleteRangeRequest(key: b("q")))])),
            .compaction(CompactionRequest(revision: 10, physical: true)), .leaseGrant(id: -3, ttl: 60), .leaseRevoke(id: 99),
        ]
        for command in commands { #expect(try StoreCommand(decoding: command.encoded()) == command) }
    }

    @Test func malformedBytesNeverTrap() {
        var random = SeededRandom(seed: 4)
        let valid = StoreCommand.txn(TxnRequest(compare: [Compare(key: b("k"), target: .version(1), result: .equal)],
            success: [.put(PutRequest(key: b("k"), value: b("v")))])).encoded()
        var accepted = 0
        for _ in 0..<20_000 {
            var bytes = valid
            for _ in 0..<random.int(in: 1...4) { bytes[random.int(in: 0...(bytes.count - 1))] = UInt8(random.int(in: 0...255)) }
            if random.chance(0.3) { bytes.removeLast(random.int(in: 0...(bytes.count - 1))) }
            if (try? StoreCommand(decoding: bytes)) != nil { accepted += 1 }
            _ = try? MVCCStore(snapshot: bytes)
        }
        #expect(accepted < 20_000)
    }

    @Test func aDamagedSnapshotIsRefused() {
        let store = MVCCStore()
        apply(store, .put(PutRequest(key: b("a"), value: b("1"))))
        var bytes = store.snapshot()
        bytes[bytes.count - 3] ^= 0x40
        #expect(throws: SnapshotDecodingError.self) { try MVCCStore(snapshot: bytes) }
    }
}

@Suite struct LessorTests {
    @Test func expiresInOrderAndRenewsOnKeepAlive() {
        var lessor = Lessor(minimumTTL: 2)
        #expect(lessor.effectiveTTL(1) == 2 && lessor.effectiveTTL(60) == 60)
        #expect(lessor.keepAlive(1, now: 0) == nil, "a follower does not renew")
        lessor.promote(leases: [(1, 10), (2, 5), (3, 5)], now: 0)
        #expect(lessor.expired(now: 4 * Time.second).isEmpty)
        #expect(lessor.expired(now: 5 * Time.second) == [2, 3])
        #expect(lessor.keepAlive(2, now: 4 * Time.second) == 5)
        #expect(lessor.expired(now: 6 * Time.second) == [3])
        #expect(lessor.remaining(1, now: 500 * Time.millisecond) == 10)
        #expect(lessor.keepAlive(3, now: 6 * Time.second) == nil, "an expired lease is not renewed")
        lessor.revoked(3)
        #expect(lessor.expired(now: 100 * Time.second) == [2, 1])
        lessor.demote()
        #expect(lessor.expired(now: 100 * Time.second).isEmpty)
    }
}
