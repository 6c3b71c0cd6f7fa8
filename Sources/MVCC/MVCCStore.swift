//! The store: every key's history of versions, a global revision, compaction, leases' replicated
//! part, and the events each write produces, with etcd 3.4's semantics (see Messages.swift).
//!
//! Layout: `history[key]` lists the key's versions in revision order; a version with
//! `version == 0` is a tombstone (the key was deleted at that revision). The newest entry is the
//! key's current state. A read at revision R takes, per key, the newest entry at or below R.
//! Compaction at C keeps, per key, the newest entry at or below C (dropped too if a tombstone)
//! and everything after it.

import Base

/// One version of a key as stored: the kv and its position inside its revision.
struct StoredVersion {
    var kv: KeyValue
    /// Order among the writes of one revision (etcd's sub-revision).
    var sub: Int32
    var isTombstone: Bool { kv.version == 0 }
}

public final class MVCCStore {
    /// The revision of the last write (1 for an empty store, as etcd).
    public internal(set) var currentRevision: Revision = 1
    /// Reads and watches below this revision fail with `compacted`.
    public internal(set) var compactedRevision: Revision = 0
    var history: [Bytes: [StoredVersion]] = [:]
    var keys = SortedKeys()
    /// The replicated part of leases: id → granted TTL (seconds) and attached keys.
    var leases: [LeaseID: LeaseRecord] = [:]

    struct LeaseRecord {
        var ttl: Int64
        var keys: Set<Bytes> = []
    }

    /// etcd's --max-txn-ops.
    public static let txnOperationsMax = 128
    /// etcd's MaxLeaseTTL (9,000,000,000 s).
    public static let leaseTTLMax: Int64 = 9_000_000_000

    public init() {}

    /// Keys that exist now (not tombstoned).
    public var keyCount: Int { history.values.reduce(0) { $0 + ($1.last!.isTombstone ? 0 : 1) } }

    // MARK: - Reading

    func current(_ key: Bytes) -> KeyValue? {
        guard let versions = history[key], let last = versions.last, !last.isTombstone else { return nil }
        return last.kv
    }

    /// The key's kv as of `revision`, nil if absent then.
    func version(of key: Bytes, at revision: Revision) -> KeyValue? {
        guard let versions = history[key] else { return nil }
        if versions.last!.kv.modRevision <= revision { return versions.last!.isTombstone ? nil : versions.last!.kv }
        var low = 0
        var high = versions.count
        while low < high {
            let middle = (low + high) / 2
            if versions[middle].kv.modRevision <= revision { low = middle + 1 } else { high = middle }
        }
        guard low > 0 else { return nil }
        let found = versions[low - 1]
        return found.isTombstone ? nil : found.kv
    }

    /// Calls `body` for every key in the request's range, in key order.
    func forEachKey(key: Bytes, rangeEnd: Bytes, _ body: (Bytes) -> Bool) {
        if rangeEnd.isEmpty {
            if history[key] != nil { _ = body(key) }
            return
        }
        keys.forEach(from: key, to: rangeEnd == [0] ? nil : rangeEnd, body)
    }

    public func range(_ request: RangeRequest) throws(StoreError) -> RangeResponse {
        try range(request, at: currentRevision)
    }

    func range(_ request: RangeRequest, at current: Revision) throws(StoreError) -> RangeResponse {
        guard !request.key.isEmpty else { throw .emptyKey }
        let revision = request.revision > 0 ? request.revision : current
        if request.revision > current { throw .futureRevision }
        if revision < compactedRevision { throw .compacted }
        var kvs: [KeyValue] = []
        forEachKey(key: request.key, rangeEnd: request.rangeEnd) { key in
            if let kv = (revision == current ? self.current(key) : version(of: key, at: revision)) { kvs.append(kv) }
            return true
        }
        // etcd counts what the scan found, then filters by mod/create revision.
        let count = Int64(kvs.count)
        if request.minModRevision > 0 { kvs.removeAll { $0.modRevision < request.minModRevision } }
        if request.maxModRevision > 0 { kvs.removeAll { $0.modRevision > request.maxModRevision } }
        if request.minCreateRevision > 0 { kvs.removeAll { $0.createRevision < request.minCreateRevision } }
        if request.maxCreateRevision > 0 { kvs.removeAll { $0.createRevision > request.maxCreateRevision } }
        var order = request.sortOrder
        if order == .none && request.sortTarget != .key { order = .ascend }
        if !(order == .none || (order == .ascend && request.sortTarget == .key)) {
            let ascending: (KeyValue, KeyValue) -> Bool
            switch request.sortTarget {
            case .key: ascending = { $0.key.lexicographicallyPrecedes($1.key) }
            case .version: ascending = { $0.version < $1.version }
            case .create: ascending = { $0.createRevision < $1.createRevision }
            case .mod: ascending = { $0.modRevision < $1.modRevision }
            case .value: ascending = { $0.value.lexicographicallyPrecedes($1.value) }
            }
            // Stable, so equal sort keys stay in key order as etcd's sort.SliceStable does.
            kvs = stableSorted(kvs, by: order == .descend ? { ascending($1, $0) } : ascending)
        }
        var more = false
        if request.limit > 0 && kvs.count > Int(request.limit) {
            kvs.removeLast(kvs.count - Int(request.limit))
            more = true
        }
        if request.countOnly { kvs = [] }
        if request.keysOnly { for index in kvs.indices { kvs[index].value = [] } }
        return RangeResponse(revision: current, kvs: kvs, more: more, count: count)
    }

    // MARK: - Writing (a write transaction)

    /// Every write of one request shares one revision; sub-revisions order them.
    struct WriteBatch {
        let revision: Revision
        var sub: Int32 = 0
        var events: [Event] = []
        var changed: Bool { sub > 0 }
    }

    private func put(_ request: PutRequest, in batch: inout WriteBatch) -> PutResponse {
        let previous = current(request.key)
        var kv = KeyValue(key: request.key, createRevision: previous?.createRevision ?? batch.revision,
            modRevision: batch.revision, version: (previous?.version ?? 0) + 1, value: request.value, lease: request.lease)
        if request.ignoreValue { kv.value = previous?.value ?? [] }
        if request.ignoreLease { kv.lease = previous?.lease ?? 0 }
        if let oldLease = previous?.lease, oldLease != 0, oldLease != kv.lease { leases[oldLease]?.keys.remove(request.key) }
        if kv.lease != 0 { leases[kv.lease]?.keys.insert(request.key) }
        append(StoredVersion(kv: kv, sub: batch.sub), for: request.key)
        batch.events.append(Event(kind: .put, kv: kv, prevKV: previous))
        batch.sub += 1
        return PutResponse(revision: batch.revision, prevKV: request.prevKV ? previous : nil)
    }

    private func deleteRange(_ request: DeleteRangeRequest, in batch: inout WriteBatch) -> DeleteRangeResponse {
        var doomed: [KeyValue] = []
        forEachKey(key: request.key, rangeEnd: request.rangeEnd) { key in
            if let kv = current(key) { doomed.append(kv) }
            return true
        }
        for previous in doomed {
            if previous.lease != 0 { leases[previous.lease]?.keys.remove(previous.key) }
            let tombstone = KeyValue(key: previous.key, modRevision: batch.revision)
            append(StoredVersion(kv: tombstone, sub: batch.sub), for: previous.key)
            batch.events.append(Event(kind: .delete, kv: tombstone, prevKV: previous))
            batch.sub += 1
        }
        return DeleteRangeResponse(revision: batch.sub > 0 ? batch.revision : currentRevision,
            deleted: Int64(doomed.count), prevKVs: request.prevKV ? doomed : [])
    }

    private func append(_ version: StoredVersion, for key: Bytes) {
        if history[key] == nil { keys.insert(key) }
        history[key, default: []].append(version)
    }

    /// The revision reads inside a batch see: the batch's own once it has written.
    private func visibleRevision(_ batch: WriteBatch) -> Revision { batch.changed ? batch.revision : currentRevision }

    private func evaluate(_ compare: Compare) -> Bool {
        var holds = true
        var sawKey = false
        forEachKey(key: compare.key, rangeEnd: compare.rangeEnd) { key in
            guard let kv = current(key) else { return true }
            sawKey = true
            holds = Self.holds(compare, kv)
            return holds
        }
        if !sawKey {
            // A missing key: version, create, mod and lease are 0; a value compare is false.
            if case .value = compare.target { return false }
            return Self.holds(compare, KeyValue(key: compare.key))
        }
        return holds
    }

    static func holds(_ compare: Compare, _ kv: KeyValue) -> Bool {
        let order: Int
        switch compare.target {
        case .version(let operand): order = kv.version < operand ? -1 : (kv.version > operand ? 1 : 0)
        case .createRevision(let operand): order = kv.createRevision < operand ? -1 : (kv.createRevision > operand ? 1 : 0)
        case .modRevision(let operand): order = kv.modRevision < operand ? -1 : (kv.modRevision > operand ? 1 : 0)
        case .lease(let operand): order = kv.lease < operand ? -1 : (kv.lease > operand ? 1 : 0)
        case .value(let operand):
            order = kv.value == operand ? 0 : (kv.value.lexicographicallyPrecedes(operand) ? -1 : 1)
        }
        switch compare.result {
        case .equal: return order == 0
        case .notEqual: return order != 0
        case .greater: return order > 0
        case .less: return order < 0
        }
    }

    private func runTxn(_ request: TxnRequest, in batch: inout WriteBatch) -> TxnResponse {
        let succeeded = request.compare.allSatisfy(evaluate)
        var responses: [ResponseOp] = []
        for operation in succeeded ? request.success : request.failure {
            switch operation {
            case .range(let range):
                // Validated before the batch started; a past revision cannot fail here.
                let response = (try? self.range(range, at: visibleRevision(batch))) ?? RangeResponse(revision: visibleRevision(batch))
                responses.append(.range(response))
            case .put(let put):
                responses.append(.put(self.put(put, in: &batch)))
            case .deleteRange(let delete):
                var response = deleteRange(delete, in: &batch)
                response.revision = visibleRevision(batch)
                responses.append(.deleteRange(response))
            case .txn(let nested):
                var response = runTxn(nested, in: &batch)
                response.revision = 0  // etcd leaves a nested txn's header empty
                responses.append(.txn(response))
            }
        }
        return TxnResponse(revision: visibleRevision(batch), succeeded: succeeded, responses: responses)
    }

    /// Checks everything that could fail before anything changes, so a failed request leaves
    /// the store untouched: empty keys, leases, ignore_value/ignore_lease on missing keys,
    /// past revisions of ranges, duplicate keys.
    func validate(_ operations: [RequestOp]) throws(StoreError) {
        for operation in operations {
            switch operation {
            case .range(let range):
                guard !range.key.isEmpty else { throw .emptyKey }
                if range.revision > currentRevision { throw .futureRevision }
                if range.revision > 0 && range.revision < compactedRevision { throw .compacted }
            case .put(let put):
                guard !put.key.isEmpty else { throw .emptyKey }
                if put.ignoreValue && !put.value.isEmpty { throw .valueProvided }
                if put.ignoreLease && put.lease != 0 { throw .leaseProvided }
                if (put.ignoreValue || put.ignoreLease) && current(put.key) == nil { throw .keyNotFound }
                if put.lease != 0 && leases[put.lease] == nil { throw .leaseNotFound }
            case .deleteRange(let delete):
                guard !delete.key.isEmpty else { throw .emptyKey }
            case .txn(let nested):
                for compare in nested.compare where compare.key.isEmpty { throw .emptyKey }
                try validate(nested.success)
                try validate(nested.failure)
            }
        }
    }

    // MARK: - Commands

    /// Applies one committed command. A failed command changes nothing.
    public func apply(_ command: StoreCommand) -> StoreApplyResult {
        switch command {
        case .put(let request):
            do throws(StoreError) {
                try validate([.put(request)])
            } catch {
                return StoreApplyResult(response: .failure(error))
            }
            var batch = WriteBatch(revision: currentRevision + 1)
            let response = put(request, in: &batch)
            return commit(batch, .put(response))
        case .deleteRange(let request):
            guard !request.key.isEmpty else { return StoreApplyResult(response: .failure(.emptyKey)) }
            var batch = WriteBatch(revision: currentRevision + 1)
            let response = deleteRange(request, in: &batch)
            return commit(batch, .deleteRange(response))
        case .txn(let request):
            do throws(StoreError) {
                try Self.checkTxn(request)
                for compare in request.compare where compare.key.isEmpty { throw .emptyKey }
                try validate(request.success)
                try validate(request.failure)
            } catch {
                return StoreApplyResult(response: .failure(error))
            }
            var batch = WriteBatch(revision: currentRevision + 1)
            let response = runTxn(request, in: &batch)
            return commit(batch, .txn(response))
        case .compaction(let request):
            do throws(StoreError) {
                try compact(request.revision)
            } catch {
                return StoreApplyResult(response: .failure(error))
            }
            return StoreApplyResult(response: .success(.compaction(revision: currentRevision)))
        case .leaseGrant(let id, let ttl):
            precondition(id != 0, "a lease grant command must carry the id its proposer chose")
            guard leases[id] == nil else { return StoreApplyResult(response: .failure(.leaseExists)) }
            guard ttl <= Self.leaseTTLMax else { return StoreApplyResult(response: .failure(.leaseTTLTooLarge)) }
            leases[id] = LeaseRecord(ttl: ttl)
            return StoreApplyResult(response: .success(.leaseGrant(LeaseGrantResponse(revision: currentRevision, id: id, ttl: ttl))))
        case .leaseRevoke(let id):
            guard let lease = leases.removeValue(forKey: id) else { return StoreApplyResult(response: .failure(.leaseNotFound)) }
            var batch = WriteBatch(revision: currentRevision + 1)
            for key in lease.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
                _ = deleteRange(DeleteRangeRequest(key: key), in: &batch)
            }
            return commit(batch, .leaseRevoke(revision: batch.changed ? batch.revision : currentRevision))
        }
    }

    private func commit(_ batch: WriteBatch, _ response: StoreResponse) -> StoreApplyResult {
        if batch.changed {
            precondition(batch.revision == currentRevision + 1, "batch at \(batch.revision) after revision \(currentRevision)")
            currentRevision = batch.revision
        }
        return StoreApplyResult(response: .success(response), events: batch.events)
    }

    /// etcd's request-level checks on a txn (before it is proposed, and again at apply).
    public static func checkTxn(_ request: TxnRequest) throws(StoreError) {
        var operations = 0
        func countOps(_ txn: TxnRequest) {
            operations = max(operations, txn.compare.count, txn.success.count, txn.failure.count)
            for operation in txn.success + txn.failure { if case .txn(let nested) = operation { countOps(nested) } }
        }
        countOps(request)
        if operations > txnOperationsMax { throw .tooManyOperations }
        _ = try intervals(request.success)
        _ = try intervals(request.failure)
    }

    /// etcd's checkIntervals: within one branch (nested branches included), no key is put twice
    /// and no put falls inside a deleted range.
    static func intervals(_ operations: [RequestOp]) throws(StoreError) -> (puts: Set<Bytes>, deletes: [(Bytes, Bytes)]) {
        var puts: Set<Bytes> = []
        var deletes: [(Bytes, Bytes)] = []
        for operation in operations {
            switch operation {
            case .put(let put):
                guard puts.insert(put.key).inserted else { throw .duplicateKey }
            case .deleteRange(let delete):
                deletes.append((delete.key, delete.rangeEnd))
            case .txn(let nested):
                let success = try intervals(nested.success)
                let failure = try intervals(nested.failure)
                for key in success.puts.union(failure.puts) {
                    guard !puts.contains(key) else { throw .duplicateKey }
                }
                puts.formUnion(success.puts.union(failure.puts))
                deletes += success.deletes + failure.deletes
            case .range: break
            }
        }
        for key in puts {
            for (start, end) in deletes where Self.inRange(key, start, end) { throw .duplicateKey }
        }
        return (puts, deletes)
    }

    /// Whether `key` lies in [start, end) with etcd's conventions (empty end: just start; [0]: no end).
    public static func inRange(_ key: Bytes, _ start: Bytes, _ end: Bytes) -> Bool {
        if end.isEmpty { return key == start }
        if key.lexicographicallyPrecedes(start) { return false }
        return end == [0] || key.lexicographicallyPrecedes(end)
    }

    // MARK: - Compaction

    public func compact(_ revision: Revision) throws(StoreError) {
        if revision <= compactedRevision { throw .compacted }
        if revision > currentRevision { throw .futureRevision }
        compactedRevision = revision
        var emptied: [Bytes] = []
        for (key, versions) in history {
            // The newest version at or below the compaction point survives unless a tombstone.
            guard let keep = versions.lastIndex(where: { $0.kv.modRevision <= revision }) else { continue }
            var trimmed = Array(versions[keep...])
            if trimmed[0].isTombstone { trimmed.removeFirst() }
            if trimmed.isEmpty { emptied.append(key) } else if trimmed.count != versions.count { history[key] = trimmed }
        }
        for key in emptied {
            history[key] = nil
            keys.remove(key)
        }
    }

    // MARK: - Leases (replicated part)

    public func leaseExists(_ id: LeaseID) -> Bool { leases[id] != nil }

    /// Lease ids with their granted TTLs, in id order.
    public func leaseList() -> [(id: LeaseID, ttl: Int64)] {
        leases.keys.sorted().map { ($0, leases[$0]!.ttl) }
    }

    public func leaseKeys(_ id: LeaseID) -> [Bytes] {
        (leases[id]?.keys ?? []).sorted { $0.lexicographicallyPrecedes($1) }
    }

    public func leaseTTL(_ id: LeaseID) -> Int64? { leases[id]?.ttl }

    // MARK: - Watch support

    /// Every event on keys in the range from `revision` on, in revision order, with prevKV.
    public func events(key: Bytes, rangeEnd: Bytes, from revision: Revision) throws(StoreError) -> [Event] {
        if revision < compactedRevision { throw .compacted }
        var found: [(Revision, Int32, Event)] = []
        forEachKey(key: key, rangeEnd: rangeEnd) { key in
            guard let versions = history[key] else { return true }
            for (index, version) in versions.enumerated().reversed() {
                guard version.kv.modRevision >= revision else { break }
                let previous = index > 0 && !versions[index - 1].isTombstone ? versions[index - 1].kv : nil
                let event = version.isTombstone
                    ? Event(kind: .delete, kv: version.kv, prevKV: previous)
                    : Event(kind: .put, kv: version.kv, prevKV: previous)
                found.append((version.kv.modRevision, version.sub, event))
            }
            return true
        }
        found.sort { ($0.0, $0.1) < ($1.0, $1.1) }
        return found.map(\.2)
    }

    // MARK: - Hash

    /// CRC-32C over every stored version in key order, plus the revisions and leases: equal on
    /// replicas that applied the same commands.
    public func hash() -> UInt32 {
        var writer = ByteWriterLite()
        writer.int64(currentRevision)
        writer.int64(compactedRevision)
        keys.forEach(from: [], to: nil) { key in
            for version in history[key]! {
                writer.bytes(version.kv.key)
                writer.int64(version.kv.createRevision)
                writer.int64(version.kv.modRevision)
                writer.int64(version.kv.version)
                writer.bytes(version.kv.value)
                writer.int64(version.kv.lease)
                writer.int64(Int64(version.sub))
            }
            return true
        }
        for (id, ttl) in leaseList() {
            writer.int64(id)
            writer.int64(ttl)
        }
        return writer.crc
    }
}

/// Accumulates a checksum without materializing the bytes.
struct ByteWriterLite {
    var crc: UInt32 = 0
    mutating func int64(_ value: Int64) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(8)
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: UInt64(bitPattern: value) >> UInt64(shift))) }
        crc = CRC32C.update(crc, bytes)
    }
    mutating func bytes(_ data: Bytes) {
        int64(Int64(data.count))
        crc = CRC32C.update(crc, data)
    }
}

func stableSorted(_ values: [KeyValue], by less: (KeyValue, KeyValue) -> Bool) -> [KeyValue] {
    values.enumerated().sorted { lhs, rhs in
        if less(lhs.element, rhs.element) { return true }
        if less(rhs.element, lhs.element) { return false }
        return lhs.offset < rhs.offset
    }.map(\.element)
}

extension MVCCStore {
    /// Bytes held by keys and values of every retained version (the status API's db size).
    public var approximateBytes: Int {
        var total = 0
        for (key, versions) in history {
            total += key.count
            for version in versions { total += version.kv.value.count + 48 }
        }
        return total
    }
}
