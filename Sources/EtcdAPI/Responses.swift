//! Responses → the bytes etcd 3.4's gateway writes: compact JSON, fields in proto order, int64
//! as strings, uint32 as numbers, bytes as base64, zero values (0, "", false, empty lists,
//! absent messages) omitted. Written straight into a byte buffer: this is on every request's path.

import MVCC
import Wire

public struct ResponseHeader: Equatable, Sendable {
    public var clusterID: UInt64
    public var memberID: UInt64
    public var revision: Int64
    public var raftTerm: UInt64
    public init(clusterID: UInt64, memberID: UInt64, revision: Int64, raftTerm: UInt64) {
        self.clusterID = clusterID
        self.memberID = memberID
        self.revision = revision
        self.raftTerm = raftTerm
    }
}

public struct StatusResponse: Equatable, Sendable {
    public var version = "3.4.23"
    public var dbSize: Int64 = 0
    public var leader: UInt64 = 0
    public var raftIndex: UInt64 = 0
    public var raftTerm: UInt64 = 0
    public var raftAppliedIndex: UInt64 = 0
    public var dbSizeInUse: Int64 = 0
    public init() {}
}

public struct MemberInfo: Equatable, Sendable {
    public var id: UInt64
    public var name: String
    public var peerURLs: [String]
    public var clientURLs: [String]
    public var isLearner: Bool
    public init(id: UInt64, name: String, peerURLs: [String], clientURLs: [String], isLearner: Bool = false) {
        self.id = id
        self.name = name
        self.peerURLs = peerURLs
        self.clientURLs = clientURLs
        self.isLearner = isLearner
    }
}

/// A writer of compact JSON that skips zero values, as Go's jsonpb with EmitDefaults off.
struct JSONOut {
    var bytes: [UInt8] = []
    private var first = [true]

    init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    static func string(_ text: String, _ output: inout [UInt8]) {
        output.append(34)
        for byte in text.utf8 {
            switch byte {
            case 34: output += [92, 34]
            case 92: output += [92, 92]
            case 0x0a: output += [92, 110]
            case 0x0d: output += [92, 114]
            case 0x09: output += [92, 116]
            case 0x3c, 0x3e, 0x26:  // Go escapes <, > and & for HTML safety
                output += Array("\\u00\(String(byte, radix: 16))".utf8)
            case 0..<0x20:
                let hex = String(byte, radix: 16)
                output += Array("\\u\(String(repeating: "0", count: 4 - hex.count))\(hex)".utf8)
            default: output.append(byte)
            }
        }
        output.append(34)
    }

    mutating func open() {
        bytes.append(123)
        first.append(true)
    }

    mutating func close() {
        bytes.append(125)
        first.removeLast()
    }

    mutating func key(_ name: String) {
        if !first[first.count - 1] { bytes.append(44) }
        first[first.count - 1] = false
        bytes.append(34)
        bytes += name.utf8
        bytes += [34, 58]
    }

    mutating func int64(_ name: String, _ value: Int64) {
        guard value != 0 else { return }
        key(name)
        bytes.append(34)
        bytes += String(value).utf8
        bytes.append(34)
    }

    mutating func uint64(_ name: String, _ value: UInt64) {
        guard value != 0 else { return }
        key(name)
        bytes.append(34)
        bytes += String(value).utf8
        bytes.append(34)
    }

    mutating func number(_ name: String, _ value: UInt32) {
        guard value != 0 else { return }
        key(name)
        bytes += String(value).utf8
    }

    mutating func bool(_ name: String, _ value: Bool) {
        guard value else { return }
        key(name)
        bytes += "true".utf8
    }

    mutating func data(_ name: String, _ value: [UInt8]) {
        guard !value.isEmpty else { return }
        key(name)
        bytes.append(34)
        Base64.encode(value, into: &bytes)
        bytes.append(34)
    }

    mutating func string(_ name: String, _ value: String) {
        guard !value.isEmpty else { return }
        key(name)
        Self.string(value, &bytes)
    }

    mutating func object(_ name: String, _ body: (inout JSONOut) -> Void) {
        key(name)
        open()
        body(&self)
        close()
    }

    mutating func array<T>(_ name: String, _ items: [T], _ body: (inout JSONOut, T) -> Void) {
        guard !items.isEmpty else { return }
        key(name)
        bytes.append(91)
        for (index, item) in items.enumerated() {
            if index > 0 { bytes.append(44) }
            body(&self, item)
        }
        bytes.append(93)
    }

    mutating func header(_ header: ResponseHeader) {
        object("header") { out in
            out.uint64("cluster_id", header.clusterID)
            out.uint64("member_id", header.memberID)
            out.int64("revision", header.revision)
            out.uint64("raft_term", header.raftTerm)
        }
    }

    /// The revision-only header of a response inside a txn.
    mutating func innerHeader(_ revision: Int64) {
        object("header") { $0.int64("revision", revision) }
    }

    /// A member's fields in etcdserverpb.Member's order (the caller opens and closes it).
    mutating func member(_ member: MemberInfo) {
        uint64("ID", member.id)
        string("name", member.name)
        array("peerURLs", member.peerURLs) { out, url in JSONOut.string(url, &out.bytes) }
        array("clientURLs", member.clientURLs) { out, url in JSONOut.string(url, &out.bytes) }
        bool("isLearner", member.isLearner)
    }

    mutating func keyValue(_ kv: KeyValue) {
        open()
        data("key", kv.key)
        int64("create_revision", kv.createRevision)
        int64("mod_revision", kv.modRevision)
        int64("version", kv.version)
        data("value", kv.value)
        int64("lease", kv.lease)
        close()
    }
}

extension EtcdAPI {
    static func document(_ body: (inout JSONOut) -> Void) -> [UInt8] {
        var out = JSONOut()
        out.open()
        body(&out)
        out.close()
        return out.bytes
    }

    public static func encode(_ response: RangeResponse, header: ResponseHeader) -> [UInt8] {
        document { out in
            out.header(header)
            rangeBody(response, &out)
        }
    }

    static func rangeBody(_ response: RangeResponse, _ out: inout JSONOut) {
        out.array("kvs", response.kvs) { out, kv in out.keyValue(kv) }
        out.bool("more", response.more)
        out.int64("count", response.count)
    }

    public static func encode(_ response: PutResponse, header: ResponseHeader) -> [UInt8] {
        document { out in
            out.header(header)
            if let previous = response.prevKV { out.key("prev_kv"); out.keyValue(previous) }
        }
    }

    public static func encode(_ response: DeleteRangeResponse, header: ResponseHeader) -> [UInt8] {
        document { out in
            out.header(header)
            deleteBody(response, &out)
        }
    }

    static func deleteBody(_ response: DeleteRangeResponse, _ out: inout JSONOut) {
        out.int64("deleted", response.deleted)
        out.array("prev_kvs", response.prevKVs) { out, kv in out.keyValue(kv) }
    }

    public static func encode(_ response: TxnResponse, header: ResponseHeader) -> [UInt8] {
        document { out in
            out.header(header)
            txnBody(response, &out)
        }
    }

    static func txnBody(_ response: TxnResponse, _ out: inout JSONOut) {
        out.bool("succeeded", response.succeeded)
        out.array("responses", response.responses) { out, operation in
            out.open()
            switch operation {
            case .range(let range):
                out.object("response_range") { out in
                    out.innerHeader(range.revision)
                    rangeBody(range, &out)
                }
            case .put(let put):
                out.object("response_put") { out in
                    out.innerHeader(put.revision)
                    if let previous = put.prevKV { out.key("prev_kv"); out.keyValue(previous) }
                }
            case .deleteRange(let delete):
                out.object("response_delete_range") { out in
                    out.innerHeader(delete.revision)
                    deleteBody(delete, &out)
                }
            case .txn(let nested):
                out.object("response_txn") { out in
                    out.innerHeader(nested.revision)
                    txnBody(nested, &out)
                }
            }
            out.close()
        }
    }

    /// Responses that carry nothing but the header (compaction, lease revoke).
    public static func encodeHeaderOnly(_ header: ResponseHeader) -> [UInt8] {
        document { $0.header(header) }
    }

    public static func encode(_ response: LeaseGrantResponse, header: ResponseHeader) -> [UInt8] {
        document { out in
            out.header(header)
            out.int64("ID", response.id)
            out.int64("TTL", response.ttl)
        }
    }

    public static func encode(_ response: LeaseTimeToLiveResponse, header: ResponseHeader) -> [UInt8] {
        document { out in
            out.header(header)
            out.int64("ID", response.id)
            out.int64("TTL", response.ttl)
            out.int64("grantedTTL", response.grantedTTL)
            out.array("keys", response.keys) { out, key in
                out.bytes.append(34)
                Base64.encode(key, into: &out.bytes)
                out.bytes.append(34)
            }
        }
    }

    public static func encodeLeases(_ ids: [LeaseID], header: ResponseHeader) -> [UInt8] {
        document { out in
            out.header(header)
            out.array("leases", ids) { out, id in
                out.open()
                out.int64("ID", id)
                out.close()
            }
        }
    }

    /// One message of the keepalive stream; `ttl` 0 when the lease is gone.
    public static func encodeKeepAlive(id: LeaseID, ttl: Int64, header: ResponseHeader) -> [UInt8] {
        document { out in
            out.object("result") { out in
                out.header(header)
                out.int64("ID", id)
                out.int64("TTL", ttl)
            }
        }
    }

    public struct WatchMessage: Sendable {
        public var header: ResponseHeader
        public var watchID: Int64 = 0
        public var created = false
        public var canceled = false
        public var compactRevision: Int64 = 0
        public var cancelReason = ""
        public var events: [Event] = []
        public init(header: ResponseHeader) { self.header = header }
    }

    public static func encode(_ message: WatchMessage) -> [UInt8] {
        document { out in
            out.object("result") { out in
                out.header(message.header)
                out.int64("watch_id", message.watchID)
                out.bool("created", message.created)
                out.bool("canceled", message.canceled)
                out.int64("compact_revision", message.compactRevision)
                out.string("cancel_reason", message.cancelReason)
                out.array("events", message.events) { out, event in
                    out.open()
                    if event.kind == .delete { out.key("type"); out.bytes += Array("\"DELETE\"".utf8) }
                    out.key("kv")
                    out.keyValue(event.kv)
                    if let previous = event.prevKV { out.key("prev_kv"); out.keyValue(previous) }
                    out.close()
                }
            }
        }
    }

    public static func encode(_ status: StatusResponse, header: ResponseHeader) -> [UInt8] {
        document { out in
            out.header(header)
            out.string("version", status.version)
            out.int64("dbSize", status.dbSize)
            out.uint64("leader", status.leader)
            out.uint64("raftIndex", status.raftIndex)
            out.uint64("raftTerm", status.raftTerm)
            out.uint64("raftAppliedIndex", status.raftAppliedIndex)
            out.int64("dbSizeInUse", status.dbSizeInUse)
        }
    }

    /// Member list, remove, update and promote answers; add also names the added `member`.
    public static func encodeMembers(_ members: [MemberInfo], header: ResponseHeader, added: MemberInfo? = nil) -> [UInt8] {
        document { out in
            out.header(header)
            if let added { out.object("member") { $0.member(added) } }
            out.array("members", members) { out, member in
                out.open()
                out.member(member)
                out.close()
            }
        }
    }

    public static func encodeHash(_ hash: UInt32, header: ResponseHeader) -> [UInt8] {
        document { out in
            out.header(header)
            out.number("hash", hash)
        }
    }

    /// Alarm GET with no alarms raised: etcd 3.4 answers an empty object.
    public static let noAlarms: [UInt8] = Array("{}".utf8)
    public static let version: [UInt8] = Array("{\"etcdserver\":\"3.4.23\",\"etcdcluster\":\"3.4.0\"}".utf8)
    public static func health(_ healthy: Bool, reason: String = "") -> [UInt8] {
        healthy ? Array("{\"health\":\"true\"}".utf8)
            : Array("{\"health\":\"false\"\(reason.isEmpty ? "" : ",\"reason\":\"\(reason)\"")}".utf8)
    }
}
