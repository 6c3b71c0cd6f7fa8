//! The store's request and response vocabulary, mirroring etcd's `etcdserverpb` messages
//! (rpc.proto, kv.proto) field for field, so the JSON gateway maps one to one. Zero values mean
//! "absent" exactly as in proto3: an empty `rangeEnd` is a single key, a `limit` of 0 is no
//! limit, a `revision` of 0 is the current one.
//!
//! Keys and values are raw bytes (etcd keys are not strings). Revisions are Int64, as in etcd.

public typealias Bytes = [UInt8]
public typealias Revision = Int64
public typealias LeaseID = Int64

/// mvccpb.KeyValue.
public struct KeyValue: Equatable, Hashable, Sendable {
    public var key: Bytes
    public var createRevision: Revision
    public var modRevision: Revision
    /// Number of modifications since creation; 0 means the key does not exist (tombstone).
    public var version: Int64
    public var value: Bytes
    public var lease: LeaseID

    public init(key: Bytes, createRevision: Revision = 0, modRevision: Revision = 0, version: Int64 = 0,
        value: Bytes = [], lease: LeaseID = 0)
    {
        self.key = key
        self.createRevision = createRevision
        self.modRevision = modRevision
        self.version = version
        self.value = value
        self.lease = lease
    }
}

/// mvccpb.Event. A delete event's `kv` carries only the key and the deleting revision.
public struct Event: Equatable, Sendable {
    public enum Kind: Equatable, Sendable { case put, delete }
    public var kind: Kind
    public var kv: KeyValue
    public var prevKV: KeyValue?

    public init(kind: Kind, kv: KeyValue, prevKV: KeyValue? = nil) {
        self.kind = kind
        self.kv = kv
        self.prevKV = prevKV
    }
}

// MARK: - KV

public enum SortOrder: Equatable, Sendable { case none, ascend, descend }
public enum SortTarget: Equatable, Sendable { case key, version, create, mod, value }

public struct RangeRequest: Equatable, Sendable {
    public var key: Bytes
    /// Empty: just `key`. `[0]`: every key >= `key`. Otherwise the half-open range [key, rangeEnd).
    public var rangeEnd: Bytes = []
    public var limit: Int64 = 0
    /// 0: the current revision.
    public var revision: Revision = 0
    public var sortOrder: SortOrder = .none
    public var sortTarget: SortTarget = .key
    /// Served from the local replica without ReadIndex (the server's concern, not the store's).
    public var serializable = false
    public var keysOnly = false
    public var countOnly = false
    public var minModRevision: Revision = 0
    public var maxModRevision: Revision = 0
    public var minCreateRevision: Revision = 0
    public var maxCreateRevision: Revision = 0

    public init(key: Bytes, rangeEnd: Bytes = []) {
        self.key = key
        self.rangeEnd = rangeEnd
    }
}

public struct RangeResponse: Equatable, Sendable {
    /// The store's revision when the range was served (goes into the response header).
    public var revision: Revision
    public var kvs: [KeyValue]
    /// More keys matched than `limit` allowed.
    public var more: Bool
    /// How many keys matched the range (before `limit`).
    public var count: Int64

    public init(revision: Revision, kvs: [KeyValue] = [], more: Bool = false, count: Int64 = 0) {
        self.revision = revision
        self.kvs = kvs
        self.more = more
        self.count = count
    }
}

public struct PutRequest: Equatable, Sendable {
    public var key: Bytes
    public var value: Bytes = []
    public var lease: LeaseID = 0
    public var prevKV = false
    /// Keep the current value (error if the key does not exist).
    public var ignoreValue = false
    /// Keep the current lease (error if the key does not exist).
    public var ignoreLease = false

    public init(key: Bytes, value: Bytes = [], lease: LeaseID = 0) {
        self.key = key
        self.value = value
        self.lease = lease
    }
}

public struct PutResponse: Equatable, Sendable {
    public var revision: Revision
    public var prevKV: KeyValue?
    public init(revision: Revision, prevKV: KeyValue? = nil) {
        self.revision = revision
        self.prevKV = prevKV
    }
}

public struct DeleteRangeRequest: Equatable, Sendable {
    public var key: Bytes
    public var rangeEnd: Bytes = []
    public var prevKV = false
    public init(key: Bytes, rangeEnd: Bytes = [], prevKV: Bool = false) {
        self.key = key
        self.rangeEnd = rangeEnd
        self.prevKV = prevKV
    }
}

public struct DeleteRangeResponse: Equatable, Sendable {
    public var revision: Revision
    public var deleted: Int64
    public var prevKVs: [KeyValue]
    public init(revision: Revision, deleted: Int64 = 0, prevKVs: [KeyValue] = []) {
        self.revision = revision
        self.deleted = deleted
        self.prevKVs = prevKVs
    }
}

public struct Compare: Equatable, Sendable {
    public enum Result: Equatable, Sendable { case equal, greater, less, notEqual }
    /// What is compared, with the operand the request gave for it.
    public enum Target: Equatable, Sendable {
        case version(Int64)
        case createRevision(Revision)
        case modRevision(Revision)
        case value(Bytes)
        case lease(LeaseID)
    }
    public var result: Result
    public var target: Target
    public var key: Bytes
    /// As in RangeRequest: the compare must hold for every key in the range.
    public var rangeEnd: Bytes = []

    public init(key: Bytes, rangeEnd: Bytes = [], target: Target, result: Result) {
        self.key = key
        self.rangeEnd = rangeEnd
        self.target = target
        self.result = result
    }
}

public indirect enum RequestOp: Equatable, Sendable {
    case range(RangeRequest)
    case put(PutRequest)
    case deleteRange(DeleteRangeRequest)
    case txn(TxnRequest)
}

public indirect enum ResponseOp: Equatable, Sendable {
    case range(RangeResponse)
    case put(PutResponse)
    case deleteRange(DeleteRangeResponse)
    case txn(TxnResponse)
}

public struct TxnRequest: Equatable, Sendable {
    public var compare: [Compare] = []
    public var success: [RequestOp] = []
    public var failure: [RequestOp] = []
    public init(compare: [Compare] = [], success: [RequestOp] = [], failure: [RequestOp] = []) {
        self.compare = compare
        self.success = success
        self.failure = failure
    }
}

public struct TxnResponse: Equatable, Sendable {
    public var revision: Revision
    public var succeeded: Bool
    public var responses: [ResponseOp]
    public init(revision: Revision, succeeded: Bool, responses: [ResponseOp] = []) {
        self.revision = revision
        self.succeeded = succeeded
        self.responses = responses
    }
}

public struct CompactionRequest: Equatable, Sendable {
    public var revision: Revision
    public var physical = false
    public init(revision: Revision, physical: Bool = false) {
        self.revision = revision
        self.physical = physical
    }
}

// MARK: - Leases

public struct LeaseGrantRequest: Equatable, Sendable {
    /// Seconds.
    public var ttl: Int64
    /// 0: the server picks one.
    public var id: LeaseID = 0
    public init(ttl: Int64, id: LeaseID = 0) {
        self.ttl = ttl
        self.id = id
    }
}

public struct LeaseGrantResponse: Equatable, Sendable {
    public var revision: Revision
    public var id: LeaseID
    public var ttl: Int64
    public init(revision: Revision, id: LeaseID, ttl: Int64) {
        self.revision = revision
        self.id = id
        self.ttl = ttl
    }
}

public struct LeaseTimeToLiveResponse: Equatable, Sendable {
    public var revision: Revision
    public var id: LeaseID
    /// Seconds left; -1 when the lease does not exist (expired or revoked).
    public var ttl: Int64
    public var grantedTTL: Int64
    public var keys: [Bytes]
    public init(revision: Revision, id: LeaseID, ttl: Int64, grantedTTL: Int64 = 0, keys: [Bytes] = []) {
        self.revision = revision
        self.id = id
        self.ttl = ttl
        self.grantedTTL = grantedTTL
        self.keys = keys
    }
}

// MARK: - Watch

public struct WatchCreateRequest: Equatable, Sendable {
    public enum Filter: Equatable, Hashable, Sendable { case noPut, noDelete }
    public var key: Bytes
    public var rangeEnd: Bytes = []
    /// 0: from the next revision on.
    public var startRevision: Revision = 0
    public var progressNotify = false
    public var filters: Set<Filter> = []
    public var prevKV = false
    /// 0 with `autoWatchID`: the server picks one.
    public var watchID: Int64 = 0
    public init(key: Bytes, rangeEnd: Bytes = []) {
        self.key = key
        self.rangeEnd = rangeEnd
    }
}

// MARK: - Errors

/// gRPC status codes, as etcd returns them (the JSON gateway puts the number in `code`).
public enum StatusCode: Int, Sendable {
    case ok = 0, cancelled = 1, unknown = 2, invalidArgument = 3, deadlineExceeded = 4, notFound = 5
    case alreadyExists = 6, permissionDenied = 7, resourceExhausted = 8, failedPrecondition = 9
    case aborted = 10, outOfRange = 11, unimplemented = 12, internalError = 13, unavailable = 14
    case dataLoss = 15, unauthenticated = 16
}

/// The store's errors, with etcd's exact messages (clients match on them).
public enum StoreError: Error, Equatable, Sendable {
    case compacted
    case futureRevision
    case emptyKey
    case leaseNotFound
    case leaseExists
    case leaseTTLTooLarge
    case duplicateKey
    case tooManyOperations
    case keyNotFound
    case valueProvided
    case leaseProvided

    public var message: String {
        switch self {
        case .compacted: return "etcdserver: mvcc: required revision has been compacted"
        case .futureRevision: return "etcdserver: mvcc: required revision is a future revision"
        case .emptyKey: return "etcdserver: key is not provided"
        case .leaseNotFound: return "etcdserver: requested lease not found"
        case .leaseExists: return "etcdserver: lease already exists"
        case .leaseTTLTooLarge: return "etcdserver: too large lease TTL"
        case .duplicateKey: return "etcdserver: duplicate key given in txn request"
        case .tooManyOperations: return "etcdserver: too many operations in txn request"
        case .keyNotFound: return "etcdserver: key not found"
        case .valueProvided: return "etcdserver: value is provided"
        case .leaseProvided: return "etcdserver: lease is provided"
        }
    }

    public var code: StatusCode {
        switch self {
        case .compacted, .futureRevision, .leaseTTLTooLarge: return .outOfRange
        case .emptyKey, .duplicateKey, .tooManyOperations, .keyNotFound, .valueProvided, .leaseProvided:
            return .invalidArgument
        case .leaseNotFound: return .notFound
        case .leaseExists: return .failedPrecondition
        }
    }
}
