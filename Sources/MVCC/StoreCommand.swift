//! What a Raft entry carries to the store, and what applying it returns. The proposer fixes
//! everything non-deterministic (a lease's id) before proposing, so every replica applies the
//! same bytes to the same effect. The binary form is versioned and decoding never traps.

import Base

public enum StoreCommand: Equatable, Sendable {
    case put(PutRequest)
    case deleteRange(DeleteRangeRequest)
    case txn(TxnRequest)
    case compaction(CompactionRequest)
    case leaseGrant(id: LeaseID, ttl: Int64)
    case leaseRevoke(id: LeaseID)
}

public enum StoreResponse: Equatable, Sendable {
    case put(PutResponse)
    case deleteRange(DeleteRangeResponse)
    case txn(TxnResponse)
    case compaction(revision: Revision)
    case leaseGrant(LeaseGrantResponse)
    case leaseRevoke(revision: Revision)
}

public struct StoreApplyResult: Sendable {
    public var response: Result<StoreResponse, StoreError>
    /// The writes' events in revision/sub-revision order, for watchers.
    public var events: [Event]
    public init(response: Result<StoreResponse, StoreError>, events: [Event] = []) {
        self.response = response
        self.events = events
    }
}

public struct CommandDecodingError: Error, Equatable, Sendable {
    public var message: String
}

extension StoreCommand {
    static let formatVersion: UInt8 = 1

    public func encoded() -> [UInt8] {
        var writer = ByteWriter(capacity: 64)
        writer.uint8(Self.formatVersion)
        switch self {
        case .put(let request):
            writer.uint8(1)
            Codec.put(request, &writer)
        case .deleteRange(let request):
            writer.uint8(2)
            Codec.deleteRange(request, &writer)
        case .txn(let request):
            writer.uint8(3)
            Codec.txn(request, &writer)
        case .compaction(let request):
            writer.uint8(4)
            writer.int64(request.revision)
            writer.bool(request.physical)
        case .leaseGrant(let id, let ttl):
            writer.uint8(5)
            writer.int64(id)
            writer.int64(ttl)
        case .leaseRevoke(let id):
            writer.uint8(6)
            writer.int64(id)
        }
        return writer.bytes
    }

    public init(decoding bytes: [UInt8]) throws(CommandDecodingError) {
        var reader = ByteReader(bytes)
        guard reader.uint8() == Self.formatVersion else { throw CommandDecodingError(message: "unknown command format version") }
        let bad = CommandDecodingError(message: "malformed command")
        switch reader.uint8() {
        case 1: self = .put(try Codec.readPut(&reader))
        case 2: self = .deleteRange(try Codec.readDeleteRange(&reader))
        case 3: self = .txn(try Codec.readTxn(&reader, depth: 0))
        case 4:
            guard let revision = reader.int64(), let physical = reader.bool() else { throw bad }
            self = .compaction(CompactionRequest(revision: revision, physical: physical))
        case 5:
            guard let id = reader.int64(), let ttl = reader.int64() else { throw bad }
            self = .leaseGrant(id: id, ttl: ttl)
        case 6:
            guard let id = reader.int64() else { throw bad }
            self = .leaseRevoke(id: id)
        default: throw bad
        }
        guard reader.atEnd else { throw CommandDecodingError(message: "trailing bytes after command") }
    }
}

enum Codec {
    static let bad = CommandDecodingError(message: "malformed command")
    static let depthMax = 16

    static func range(_ request: RangeRequest, _ writer: inout ByteWriter) {
        writer.lengthPrefixed(request.key)
        writer.lengthPrefixed(request.rangeEnd)
        writer.int64(request.limit)
        writer.int64(request.revision)
        writer.uint8(request.sortOrder == .none ? 0 : request.sortOrder == .ascend ? 1 : 2)
        let targets: [SortTarget] = [.key, .version, .create, .mod, .value]
        writer.uint8(UInt8(targets.firstIndex(of: request.sortTarget)!))
        writer.bool(request.serializable)
        writer.bool(request.keysOnly)
        writer.bool(request.countOnly)
        writer.int64(request.minModRevision)
        writer.int64(request.maxModRevision)
        writer.int64(request.minCreateRevision)
        writer.int64(request.maxCreateRevision)
    }

    static func readRange(_ reader: inout ByteReader) throws(CommandDecodingError) -> RangeRequest {
        guard let key = reader.lengthPrefixed(), let end = reader.lengthPrefixed(), let limit = reader.int64(),
            let revision = reader.int64(), let order = reader.uint8(), order <= 2, let target = reader.uint8(), target <= 4,
            let serializable = reader.bool(), let keysOnly = reader.bool(), let countOnly = reader.bool(),
            let minMod = reader.int64(), let maxMod = reader.int64(), let minCreate = reader.int64(), let maxCreate = reader.int64()
        else { throw bad }
        var request = RangeRequest(key: key, rangeEnd: end)
        request.limit = limit
        request.revision = revision
        request.sortOrder = [SortOrder.none, .ascend, .descend][Int(order)]
        request.sortTarget = [SortTarget.key, .version, .create, .mod, .value][Int(target)]
        request.serializable = serializable
        request.keysOnly = keysOnly
        request.countOnly = countOnly
        request.minModRevision = minMod
        request.maxModRevision = maxMod
        request.minCreateRevision = minCreate
        request.maxCreateRevision = maxCreate
        return request
    }

    static func put(_ request: PutRequest, _ writer: inout ByteWriter) {
        writer.lengthPrefixed(request.key)
        writer.lengthPrefixed(request.value)
        writer.int64(request.lease)
        writer.bool(request.prevKV)
        writer.bool(request.ignoreValue)
        writer.bool(request.ignoreLease)
    }

    static func readPut(_ reader: inout ByteReader) throws(CommandDecodingError) -> PutRequest {
        guard let key = reader.lengthPrefixed(), let value = reader.lengthPrefixed(), let lease = reader.int64(),
            let prevKV = reader.bool(), let ignoreValue = reader.bool(), let ignoreLease = reader.bool()
        else { throw bad }
        var request = PutRequest(key: key, value: value, lease: lease)
        request.prevKV = prevKV
        request.ignoreValue = ignoreValue
        request.ignoreLease = ignoreLease
        return request
    }

    static func deleteRange(_ request: DeleteRangeRequest, _ writer: inout ByteWriter) {
        writer.lengthPrefixed(request.key)
        writer.lengthPrefixed(request.rangeEnd)
        writer.bool(request.prevKV)
    }

    static func readDeleteRange(_ reader: inout ByteReader) throws(CommandDecodingError) -> DeleteRangeRequest {
        guard let key = reader.lengthPrefixed(), let end = reader.lengthPrefixed(), let prevKV = reader.bool() else { throw bad }
        return DeleteRangeRequest(key: key, rangeEnd: end, prevKV: prevKV)
    }

    static func compare(_ compare: Compare, _ writer: inout ByteWriter) {
        writer.lengthPrefixed(compare.key)
        writer.lengthPrefixed(compare.rangeEnd)
        let results: [Compare.Result] = [.equal, .greater, .less, .notEqual]
        writer.uint8(UInt8(results.firstIndex(of: compare.result)!))
        switch compare.target {
        case .version(let value):
            writer.uint8(0)
            writer.int64(value)
        case .createRevision(let value):
            writer.uint8(1)
            writer.int64(value)
        case .modRevision(let value):
            writer.uint8(2)
            writer.int64(value)
        case .value(let value):
            writer.uint8(3)
            writer.lengthPrefixed(value)
        case .lease(let value):
            writer.uint8(4)
            writer.int64(value)
        }
    }

    static func readCompare(_ reader: inout ByteReader) throws(CommandDecodingError) -> Compare {
        guard let key = reader.lengthPrefixed(), let end = reader.lengthPrefixed(), let result = reader.uint8(), result <= 3,
            let tag = reader.uint8()
        else { throw bad }
        let target: Compare.Target
        switch tag {
        case 3:
            guard let value = reader.lengthPrefixed() else { throw bad }
            target = .value(value)
        case 0, 1, 2, 4:
            guard let value = reader.int64() else { throw bad }
            target = tag == 0 ? .version(value) : tag == 1 ? .createRevision(value) : tag == 2 ? .modRevision(value) : .lease(value)
        default: throw bad
        }
        return Compare(key: key, rangeEnd: end, target: target, result: [Compare.Result.equal, .greater, .less, .notEqual][Int(result)])
    }

    static func txn(_ request: TxnRequest, _ writer: inout ByteWriter) {
        writer.uint32(UInt32(request.compare.count))
        for item in request.compare { compare(item, &writer) }
        for branch in [request.success, request.failure] {
            writer.uint32(UInt32(branch.count))
            for operation in branch {
                switch operation {
                case .range(let range):
                    writer.uint8(1)
                    Self.range(range, &writer)
                case .put(let put):
                    writer.uint8(2)
                    Self.put(put, &writer)
                case .deleteRange(let delete):
                    writer.uint8(3)
                    deleteRange(delete, &writer)
                case .txn(let nested):
                    writer.uint8(4)
                    txn(nested, &writer)
                }
            }
        }
    }

    static func readTxn(_ reader: inout ByteReader, depth: Int) throws(CommandDecodingError) -> TxnRequest {
        guard depth < depthMax else { throw CommandDecodingError(message: "txn nested deeper than \(depthMax)") }
        guard let compareCount = reader.uint32(), Int(compareCount) <= reader.remaining else { throw bad }
        var request = TxnRequest()
        for _ in 0..<compareCount { request.compare.append(try readCompare(&reader)) }
        for branch in 0..<2 {
            guard let count = reader.uint32(), Int(count) <= reader.remaining else { throw bad }
            var operations: [RequestOp] = []
            for _ in 0..<count {
                switch reader.uint8() {
                case 1: operations.append(.range(try readRange(&reader)))
                case 2: operations.append(.put(try readPut(&reader)))
                case 3: operations.append(.deleteRange(try readDeleteRange(&reader)))
                case 4: operations.append(.txn(try readTxn(&reader, depth: depth + 1)))
                default: throw bad
                }
            }
            if branch == 0 { request.success = operations } else { request.failure = operations }
        }
        return request
    }
}
