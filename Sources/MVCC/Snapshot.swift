//! The store's snapshot: everything a replica needs to continue exactly where another left off
//! (all retained versions, the revisions, leases). Versioned and checksummed; restoring from bad
//! bytes throws instead of trapping.

import Base

public struct SnapshotDecodingError: Error, Equatable, Sendable {
    public var message: String
}

extension MVCCStore {
    static let snapshotMagic: UInt32 = 0x5356_4C46  // "FLVS"
    static let snapshotVersion: UInt32 = 1

    public func snapshot() -> [UInt8] {
        var body = ByteWriter(capacity: 1 << 16)
        body.int64(currentRevision)
        body.int64(compactedRevision)
        body.uint64(UInt64(history.count))
        keys.forEach(from: [], to: nil) { key in
            let versions = history[key]!
            body.lengthPrefixed(key)
            body.uint32(UInt32(versions.count))
            for version in versions {
                body.int64(version.kv.createRevision)
                body.int64(version.kv.modRevision)
                body.int64(version.kv.version)
                body.lengthPrefixed(version.kv.value)
                body.int64(version.kv.lease)
                body.uint32(UInt32(bitPattern: version.sub))
            }
            return true
        }
        let leaseIDs = leases.keys.sorted()
        body.uint64(UInt64(leaseIDs.count))
        for id in leaseIDs {
            body.int64(id)
            body.int64(leases[id]!.ttl)
        }
        var file = ByteWriter(capacity: body.bytes.count + 12)
        file.uint32(Self.snapshotMagic)
        file.uint32(Self.snapshotVersion)
        file.uint32(CRC32C.checksum(body.bytes))
        file.raw(body.bytes)
        return file.bytes
    }

    public convenience init(snapshot bytes: [UInt8]) throws(SnapshotDecodingError) {
        self.init()
        var reader = ByteReader(bytes)
        guard reader.uint32() == Self.snapshotMagic else { throw SnapshotDecodingError(message: "not a store snapshot") }
        guard reader.uint32() == Self.snapshotVersion else { throw SnapshotDecodingError(message: "unsupported store snapshot version") }
        guard let checksum = reader.uint32(), CRC32C.update(0, bytes[12...]) == checksum else {
            throw SnapshotDecodingError(message: "store snapshot checksum mismatch")
        }
        let bad = SnapshotDecodingError(message: "malformed store snapshot")
        guard let current = reader.int64(), let compacted = reader.int64(), let keyCount = reader.uint64(),
            keyCount <= UInt64(reader.remaining)
        else { throw bad }
        currentRevision = current
        compactedRevision = compacted
        for _ in 0..<keyCount {
            guard let key = reader.lengthPrefixed(), let count = reader.uint32(), count > 0, Int(count) <= reader.remaining else { throw bad }
            var versions: [StoredVersion] = []
            versions.reserveCapacity(Int(count))
            for _ in 0..<count {
                guard let create = reader.int64(), let mod = reader.int64(), let version = reader.int64(),
                    let value = reader.lengthPrefixed(), let lease = reader.int64(), let sub = reader.uint32()
                else { throw bad }
                versions.append(StoredVersion(kv: KeyValue(key: key, createRevision: create, modRevision: mod, version: version,
                    value: value, lease: lease), sub: Int32(bitPattern: sub)))
            }
            history[key] = versions
            keys.insert(key)
        }
        guard let leaseCount = reader.uint64(), leaseCount <= UInt64(reader.remaining) else { throw bad }
        for _ in 0..<leaseCount {
            guard let id = reader.int64(), let ttl = reader.int64() else { throw bad }
            leases[id] = LeaseRecord(ttl: ttl)
        }
        guard reader.atEnd else { throw bad }
        for (key, versions) in history {
            let last = versions.last!
            if !last.isTombstone, last.kv.lease != 0 { leases[last.kv.lease]?.keys.insert(key) }
        }
    }
}
