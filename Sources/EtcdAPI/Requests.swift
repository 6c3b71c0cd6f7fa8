//! Request bodies → the store's messages, field by field as jsonpb reads them: names in
//! snake_case or lowerCamelCase, int64 as a string or a number, bytes as base64, enums by name
//! or number, null as absent, unknown fields ignored.

import MVCC
import Wire

struct Fields {
    let object: JSONObject

    func raw(_ name: String) -> JSONValue? {
        if let value = object[name], value != .null { return value }
        // Only a snake_case name has a second spelling (looked up on every field of every request).
        guard name.utf8.contains(UInt8(ascii: "_")) else { return nil }
        if let value = object[Self.camel(name)], value != .null { return value }
        return nil
    }

    /// `range_end` → `rangeEnd`. Field names are ASCII.
    static func camel(_ name: String) -> String {
        var result: [UInt8] = []
        result.reserveCapacity(name.utf8.count)
        var upper = false
        for byte in name.utf8 {
            if byte == UInt8(ascii: "_") {
                upper = true
            } else {
                result.append(upper && byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") ? byte - 32 : byte)
                upper = false
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    func int64(_ name: String) throws(APIError) -> Int64 {
        guard let value = raw(name) else { return 0 }
        return try Self.int64(value)
    }

    static func int64(_ value: JSONValue) throws(APIError) -> Int64 {
        switch value {
        case .integer(let number): return number
        case .number(let number):
            throw .invalidArgument("json: cannot unmarshal number \(Self.goNumber(number)) into Go value of type int64")
        case .string(let text):
            // jsonpb reads a quoted int64 by parsing its contents as a JSON number.
            if let number = Int64(text) { return number }
            var parser = GoJSON.Parser(bytes: Array(text.utf8))
            let inner = try parser.value(depth: 0)
            return try int64(inner)
        case .bool: throw .invalidArgument("json: cannot unmarshal bool into Go value of type int64")
        case .array: throw .invalidArgument("json: cannot unmarshal array into Go value of type int64")
        case .object: throw .invalidArgument("json: cannot unmarshal object into Go value of type int64")
        case .null: return 0
        }
    }

    static func goNumber(_ number: Double) -> String {
        number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
    }

    func bytes(_ name: String) throws(APIError) -> [UInt8] {
        guard let value = raw(name) else { return [] }
        guard case .string(let text) = value else {
            throw .invalidArgument("json: cannot unmarshal \(GoJSON.goKind(value)) into Go value of type []uint8")
        }
        do {
            return try Base64.decode(text)
        } catch {
            throw .invalidArgument(error.message)
        }
    }

    func bool(_ name: String) throws(APIError) -> Bool {
        guard let value = raw(name) else { return false }
        guard case .bool(let flag) = value else {
            throw .invalidArgument("json: cannot unmarshal \(GoJSON.goKind(value)) into Go value of type bool")
        }
        return flag
    }

    /// An enum by name or number; `names[i]` is the name of value i.
    func enumeration(_ name: String, _ names: [String], type: String) throws(APIError) -> Int {
        guard let value = raw(name) else { return 0 }
        switch value {
        case .string(let text):
            guard let index = names.firstIndex(of: text) else {
                throw .invalidArgument("unknown value \"\(text)\" for enum \(type)")
            }
            return index
        case .integer(let number):
            // Unknown numbers pass through in proto3; we clamp them to "unknown" errors instead.
            guard number >= 0, number < names.count else { throw .invalidArgument("unknown value \(number) for enum \(type)") }
            return Int(number)
        default:
            throw .invalidArgument("json: cannot unmarshal \(GoJSON.goKind(value)) into Go value of type \(type)")
        }
    }

    func objects(_ name: String) throws(APIError) -> [JSONObject] {
        guard let value = raw(name) else { return [] }
        guard case .array(let elements) = value else {
            throw .invalidArgument("json: cannot unmarshal \(GoJSON.goKind(value)) into Go value of type []json.RawMessage")
        }
        var objects: [JSONObject] = []
        for element in elements {
            switch element {
            case .object(let object): objects.append(object)
            case .null: objects.append(JSONObject())
            default: throw .invalidArgument("json: cannot unmarshal \(GoJSON.goKind(element)) into Go value of type map[string]json.RawMessage")
            }
        }
        return objects
    }

    func object(_ name: String) throws(APIError) -> JSONObject? {
        guard let value = raw(name) else { return nil }
        guard case .object(let object) = value else {
            throw .invalidArgument("json: cannot unmarshal \(GoJSON.goKind(value)) into Go value of type map[string]json.RawMessage")
        }
        return object
    }
}

extension EtcdAPI {
    public static func decodeRange(_ body: [UInt8]) throws(APIError) -> RangeRequest {
        try range(Fields(object: try GoJSON.object(body)))
    }

    static func range(_ fields: Fields) throws(APIError) -> RangeRequest {
        var request = RangeRequest(key: try fields.bytes("key"), rangeEnd: try fields.bytes("range_end"))
        request.limit = try fields.int64("limit")
        request.revision = try fields.int64("revision")
        request.sortOrder = [SortOrder.none, .ascend, .descend][try fields.enumeration("sort_order", ["NONE", "ASCEND", "DESCEND"], type: "etcdserverpb.RangeRequest_SortOrder")]
        request.sortTarget = [SortTarget.key, .version, .create, .mod, .value][try fields.enumeration("sort_target", ["KEY", "VERSION", "CREATE", "MOD", "VALUE"], type: "etcdserverpb.RangeRequest_SortTarget")]
        request.serializable = try fields.bool("serializable")
        request.keysOnly = try fields.bool("keys_only")
        request.countOnly = try fields.bool("count_only")
        request.minModRevision = try fields.int64("min_mod_revision")
        request.maxModRevision = try fields.int64("max_mod_revision")
        request.minCreateRevision = try fields.int64("min_create_revision")
        request.maxCreateRevision = try fields.int64("max_create_revision")
        return request
    }

    public static func decodePut(_ body: [UInt8]) throws(APIError) -> PutRequest {
        try put(Fields(object: try GoJSON.object(body)))
    }

    static func put(_ fields: Fields) throws(APIError) -> PutRequest {
        var request = PutRequest(key: try fields.bytes("key"), value: try fields.bytes("value"), lease: try fields.int64("lease"))
        request.prevKV = try fields.bool("prev_kv")
        request.ignoreValue = try fields.bool("ignore_value")
        request.ignoreLease = try fields.bool("ignore_lease")
        return request
    }

    public static func decodeDeleteRange(_ body: [UInt8]) throws(APIError) -> DeleteRangeRequest {
        try deleteRange(Fields(object: try GoJSON.object(body)))
    }

    static func deleteRange(_ fields: Fields) throws(APIError) -> DeleteRangeRequest {
        DeleteRangeRequest(key: try fields.bytes("key"), rangeEnd: try fields.bytes("range_end"), prevKV: try fields.bool("prev_kv"))
    }

    public static func decodeTxn(_ body: [UInt8]) throws(APIError) -> TxnRequest {
        try txn(Fields(object: try GoJSON.object(body)), depth: 0)
    }

    static func txn(_ fields: Fields, depth: Int) throws(APIError) -> TxnRequest {
        guard depth < 16 else { throw .invalidArgument("txn nested too deeply") }
        var request = TxnRequest()
        for object in try fields.objects("compare") { request.compare.append(try compare(Fields(object: object))) }
        request.success = try operations(try fields.objects("success"), depth: depth)
        request.failure = try operations(try fields.objects("failure"), depth: depth)
        return request
    }

    static func operations(_ objects: [JSONObject], depth: Int) throws(APIError) -> [RequestOp] {
        var result: [RequestOp] = []
        for object in objects {
            let fields = Fields(object: object)
            if let range = try fields.object("request_range") {
                result.append(.range(try Self.range(Fields(object: range))))
            } else if let put = try fields.object("request_put") {
                result.append(.put(try Self.put(Fields(object: put))))
            } else if let delete = try fields.object("request_delete_range") {
                result.append(.deleteRange(try deleteRange(Fields(object: delete))))
            } else if let nested = try fields.object("request_txn") {
                result.append(.txn(try txn(Fields(object: nested), depth: depth + 1)))
            } else {
                // An empty RequestOp: etcd 3.4 answers "key not found" (its checks find no request).
                throw APIError(StoreError.keyNotFound)
            }
        }
        return result
    }

    static func compare(_ fields: Fields) throws(APIError) -> Compare {
        let result = [Compare.Result.equal, .greater, .less, .notEqual][try fields.enumeration("result", ["EQUAL", "GREATER", "LESS", "NOT_EQUAL"], type: "etcdserverpb.Compare_CompareResult")]
        let targetIndex = try fields.enumeration("target", ["VERSION", "CREATE", "MOD", "VALUE", "LEASE"], type: "etcdserverpb.Compare_CompareTarget")
        let target: Compare.Target
        switch targetIndex {
        case 0: target = .version(try fields.int64("version"))
        case 1: target = .createRevision(try fields.int64("create_revision"))
        case 2: target = .modRevision(try fields.int64("mod_revision"))
        case 3: target = .value(try fields.bytes("value"))
        default: target = .lease(try fields.int64("lease"))
        }
        return Compare(key: try fields.bytes("key"), rangeEnd: try fields.bytes("range_end"), target: target, result: result)
    }

    public static func decodeCompaction(_ body: [UInt8]) throws(APIError) -> CompactionRequest {
        let fields = Fields(object: try GoJSON.object(body))
        return CompactionRequest(revision: try fields.int64("revision"), physical: try fields.bool("physical"))
    }

    public static func decodeLeaseGrant(_ body: [UInt8]) throws(APIError) -> LeaseGrantRequest {
        let fields = Fields(object: try GoJSON.object(body))
        return LeaseGrantRequest(ttl: try fields.int64("TTL"), id: try fields.int64("ID"))
    }

    /// The lease id of revoke, keepalive and timetolive requests; `keys` for timetolive.
    public static func decodeLeaseID(_ body: [UInt8]) throws(APIError) -> (id: LeaseID, keys: Bool) {
        let fields = Fields(object: try GoJSON.object(body))
        return (try fields.int64("ID"), try fields.bool("keys"))
    }

    /// A membership call: `ID` (remove, update, promote), `peerURLs` (add, update), `isLearner` (add).
    public struct MemberRequest: Equatable, Sendable {
        public var id: UInt64
        public var peerURLs: [String]
        public var isLearner: Bool
    }

    public static func decodeMember(_ body: [UInt8]) throws(APIError) -> MemberRequest {
        let fields = Fields(object: try GoJSON.object(body))
        var urls: [String] = []
        if let raw = fields.raw("peerURLs"), raw != .null {
            guard case .array(let items) = raw else {
                throw .invalidArgument("json: cannot unmarshal \(GoJSON.goKind(raw)) into Go value of type []string")
            }
            for item in items {
                guard case .string(let url) = item else {
                    throw .invalidArgument("json: cannot unmarshal \(GoJSON.goKind(item)) into Go value of type string")
                }
                urls.append(url)
            }
        }
        return MemberRequest(id: UInt64(bitPattern: try fields.int64("ID")), peerURLs: urls, isLearner: try fields.bool("isLearner"))
    }

    /// MoveLeader (`maintenance/transfer-leadership`): the member to hand leadership to.
    public static func decodeMoveLeader(_ body: [UInt8]) throws(APIError) -> UInt64 {
        let fields = Fields(object: try GoJSON.object(body))
        return UInt64(bitPattern: try fields.int64("targetID"))
    }

    public enum WatchRequest: Equatable, Sendable {
        case create(WatchCreateRequest)
        case cancel(watchID: Int64)
        case progress
    }

    /// The messages of a streamed request body (watch, lease keepalive), in order.
    public static func streamMessages(_ body: [UInt8]) -> [[UInt8]] { GoJSON.messages(body) }

    public static func decodeWatch(_ body: [UInt8]) throws(APIError) -> WatchRequest? {
        let fields = Fields(object: try GoJSON.object(body))
        if let create = try fields.object("create_request") {
            let createFields = Fields(object: create)
            var request = WatchCreateRequest(key: try createFields.bytes("key"), rangeEnd: try createFields.bytes("range_end"))
            request.startRevision = try createFields.int64("start_revision")
            request.progressNotify = try createFields.bool("progress_notify")
            request.prevKV = try createFields.bool("prev_kv")
            request.watchID = try createFields.int64("watch_id")
            if let filters = createFields.raw("filters") {
                guard case .array(let list) = filters else { throw .invalidArgument("json: cannot unmarshal \(GoJSON.goKind(filters)) into Go value of type []json.RawMessage") }
                for item in list {
                    switch item {
                    case .string("NOPUT"), .integer(0): request.filters.insert(.noPut)
                    case .string("NODELETE"), .integer(1): request.filters.insert(.noDelete)
                    default: throw .invalidArgument("unknown value \(item) for enum etcdserverpb.WatchCreateRequest_FilterType")
                    }
                }
            }
            return .create(request)
        }
        if let cancel = try fields.object("cancel_request") {
            return .cancel(watchID: try Fields(object: cancel).int64("watch_id"))
        }
        if try fields.object("progress_request") != nil { return .progress }
        return nil
    }
}
