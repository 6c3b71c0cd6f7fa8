//! EtcdClient: a client of etcd's v3 JSON API, for our etcdctl, the benchmarks, the crash test
//! and the testbed's workloads. It speaks only the public API, so every caller works the same
//! against real etcd and against `faultline etcd`.
//!
//! Errors say whether the request certainly had no effect (`isDefinite`) or might have (a
//! timeout after sending): histories record the first as `fail` and the second as `info`.

import Base
import Foundation
import Synchronization
import Wire

/// One HTTP/1.1 connection to one endpoint (Net's client, or a fake in tests).
public protocol EtcdHTTPConnection: AnyObject {
    func post(path: String, body: [UInt8], timeout: Nanoseconds) throws(EtcdTransportFailure) -> (status: Int, body: [UInt8])
}

public enum EtcdTransportFailure: Error, Sendable {
    /// The request certainly did not reach the server (connection refused, reset before sending).
    case notSent(String)
    /// It may have reached the server; no answer came (timeout, reset after sending).
    case noAnswer(String)
}

public enum EtcdClientError: Error, CustomStringConvertible, Sendable {
    /// The server answered with an error body (`code` is the gRPC code).
    case server(endpoint: String, httpStatus: Int, code: Int, message: String)
    case transport(endpoint: String, EtcdTransportFailure)
    /// The server answered something that is not the API's JSON.
    case malformed(endpoint: String, String)

    /// True when the request certainly took no effect.
    public var isDefinite: Bool {
        switch self {
        case .server(_, _, let code, let message):
            // Timeouts and leader changes answer after the proposal may already be in the log.
            if code == 4 || message.contains("timed out") || message.contains("leader changed") { return false }
            return true
        case .transport(_, .notSent): return true
        case .transport(_, .noAnswer), .malformed: return false
        }
    }

    public var description: String {
        switch self {
        case .server(let endpoint, let status, let code, let message): return "\(endpoint): \(message) (HTTP \(status), code \(code))"
        case .transport(let endpoint, .notSent(let why)): return "\(endpoint): not sent: \(why)"
        case .transport(let endpoint, .noAnswer(let why)): return "\(endpoint): no answer: \(why)"
        case .malformed(let endpoint, let why): return "\(endpoint): malformed response: \(why)"
        }
    }
}

public struct EtcdKeyValue: Equatable, Sendable {
    public var key: [UInt8]
    public var value: [UInt8]
    public var createRevision: Int64
    public var modRevision: Int64
    public var version: Int64
    public var lease: Int64

    public var keyString: String { String(decoding: key, as: UTF8.self) }
    public var valueString: String { String(decoding: value, as: UTF8.self) }

    init(_ object: JSONObject) throws(EtcdClientError) {
        key = try Fields.bytes(object, "key")
        value = try Fields.bytes(object, "value")
        createRevision = try Fields.int64(object, "create_revision")
        modRevision = try Fields.int64(object, "mod_revision")
        version = try Fields.int64(object, "version")
        lease = try Fields.int64(object, "lease")
    }
}

public struct ResponseHeader: Equatable, Sendable {
    public var clusterID: UInt64
    public var memberID: UInt64
    public var revision: Int64
    public var raftTerm: UInt64

    init(_ object: JSONObject?) throws(EtcdClientError) {
        let object = object ?? JSONObject()
        clusterID = UInt64(bitPattern: try Fields.int64(object, "cluster_id"))
        memberID = UInt64(bitPattern: try Fields.int64(object, "member_id"))
        revision = try Fields.int64(object, "revision")
        raftTerm = UInt64(bitPattern: try Fields.int64(object, "raft_term"))
    }
}

/// Reading the API's JSON types: int64 as strings (or numbers), bytes as base64, absent = zero.
enum Fields {
    static func int64(_ object: JSONObject, _ name: String) throws(EtcdClientError) -> Int64 {
        switch object[name] {
        case nil, .null: return 0
        case .integer(let value): return value
        case .string(let text):
            if let value = Int64(text) { return value }
            if let value = UInt64(text) { return Int64(bitPattern: value) }
            throw .malformed(endpoint: "", "field \(name) is '\(text)', not an integer")
        default: throw .malformed(endpoint: "", "field \(name) is not an integer")
        }
    }

    static func bytes(_ object: JSONObject, _ name: String) throws(EtcdClientError) -> [UInt8] {
        switch object[name] {
        case nil, .null: return []
        case .string(let text): return try decodeBase64(text, field: name)
        default: throw .malformed(endpoint: "", "field \(name) is not a base64 string")
        }
    }

    static func decodeBase64(_ text: String, field name: String) throws(EtcdClientError) -> [UInt8] {
        do throws(Base64.DecodingError) {
            return try Base64.decode(text)
        } catch {
            throw .malformed(endpoint: "", "field \(name) is not base64: \(error.message)")
        }
    }

    static func bool(_ object: JSONObject, _ name: String) -> Bool {
        if case .bool(let flag) = object[name] { return flag }
        return false
    }

    static func objects(_ object: JSONObject, _ name: String) -> [JSONObject] {
        guard case .array(let elements) = object[name] else { return [] }
        return elements.compactMap { if case .object(let element) = $0 { return element } else { return nil } }
    }

    static func base64(_ bytes: [UInt8]) -> JSONValue { .string(Base64.encode(bytes)) }
    static func base64(_ text: String) -> JSONValue { base64(Array(text.utf8)) }
}

/// The end of the key range holding every key with `prefix` (etcd's `--prefix`).
public func prefixEnd(_ prefix: [UInt8]) -> [UInt8] {
    var end = prefix
    while let last = end.last {
        if last < 0xff {
            end[end.count - 1] = last + 1
            return end
        }
        end.removeLast()
    }
    return [0]  // every key
}

public final class EtcdClient {
    public let endpoints: [String]
    public let timeout: Nanoseconds
    private let connect: (String) -> EtcdHTTPConnection
    private var connections: [String: EtcdHTTPConnection] = [:]
    /// The endpoint requests go to first; moves on when one is unreachable.
    private var current = 0

    public init(endpoints: [String], timeout: Nanoseconds = 5 * Time.second,
        connect: @escaping (String) -> EtcdHTTPConnection)
    {
        precondition(!endpoints.isEmpty, "an etcd client needs at least one endpoint")
        self.endpoints = endpoints
        self.timeout = timeout
        self.connect = connect
    }

    public var currentEndpoint: String { endpoints[current] }

    /// POSTs `body` to `path`; fails over to the next endpoint only when the request was not
    /// sent, so a request is never applied twice by the client's own doing.
    public func call(_ path: String, _ body: JSONObject) throws(EtcdClientError) -> JSONObject {
        var bytes: [UInt8] = []
        JSON.append(.object(body), to: &bytes)
        var lastError: EtcdClientError?
        for attempt in 0..<endpoints.count {
            let endpoint = endpoints[(current + attempt) % endpoints.count]
            let connection = connections[endpoint] ?? connect(endpoint)
            connections[endpoint] = connection
            let answer: (status: Int, body: [UInt8])
            do {
                answer = try connection.post(path: path, body: bytes, timeout: timeout)
            } catch {
                connections[endpoint] = nil
                if case .notSent = error {
                    lastError = .transport(endpoint: endpoint, error)
                    continue
                }
                throw .transport(endpoint: endpoint, error)
            }
            current = (current + attempt) % endpoints.count
            return try Self.decode(answer, endpoint: endpoint)
        }
        throw lastError!
    }

    static func decode(_ answer: (status: Int, body: [UInt8]), endpoint: String) throws(EtcdClientError) -> JSONObject {
        let value: JSONValue
        do {
            value = try answer.body.withUnsafeBufferPointer { (buffer) throws(JSONParseError) in try JSON.parse(bytes: buffer) }
        } catch {
            let text = String(decoding: answer.body.prefix(200), as: UTF8.self)
            if answer.status != 200 {
                throw .server(endpoint: endpoint, httpStatus: answer.status, code: 0, message: text.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            throw .malformed(endpoint: endpoint, "HTTP \(answer.status): \(text)")
        }
        guard case .object(let object) = value else { throw .malformed(endpoint: endpoint, "not a JSON object") }
        if answer.status != 200 || object["error"] != nil {
            var message = ""
            if case .string(let text) = object["message"] ?? object["error"] { message = text }
            let code = (try? Fields.int64(object, "code")) ?? 0
            throw .server(endpoint: endpoint, httpStatus: answer.status, code: Int(code), message: message)
        }
        return object
    }

    // MARK: - KV

    @discardableResult
    public func put(_ key: String, _ value: String, lease: Int64 = 0) throws(EtcdClientError) -> Int64 {
        var body: JSONObject = ["key": Fields.base64(key), "value": Fields.base64(value)]
        if lease != 0 { body["lease"] = .string(String(lease)) }
        return try ResponseHeader(call("/v3/kv/put", body)["header"].flatMap(\.object)).revision
    }

    public struct RangeResult: Sendable {
        public var header: ResponseHeader
        public var kvs: [EtcdKeyValue]
        public var count: Int64
        public var more: Bool
    }

    public func get(_ key: String, prefix: Bool = false, revision: Int64 = 0, limit: Int64 = 0,
        serializable: Bool = false, keysOnly: Bool = false, countOnly: Bool = false) throws(EtcdClientError) -> RangeResult
    {
        var body: JSONObject = ["key": Fields.base64(key)]
        if prefix { body["range_end"] = Fields.base64(prefixEnd(Array(key.utf8))) }
        if revision != 0 { body["revision"] = .string(String(revision)) }
        if limit != 0 { body["limit"] = .string(String(limit)) }
        if serializable { body["serializable"] = .bool(true) }
        if keysOnly { body["keys_only"] = .bool(true) }
        if countOnly { body["count_only"] = .bool(true) }
        return try range(body)
    }

    /// Every key of the store (etcd's "\0" to "\0" range).
    public func getAll(serializable: Bool = false) throws(EtcdClientError) -> RangeResult {
        var body: JSONObject = ["key": Fields.base64("\0"), "range_end": Fields.base64("\0")]
        if serializable { body["serializable"] = .bool(true) }
        return try range(body)
    }

    private func range(_ body: JSONObject) throws(EtcdClientError) -> RangeResult {
        let response = try call("/v3/kv/range", body)
        var kvs: [EtcdKeyValue] = []
        for object in Fields.objects(response, "kvs") { kvs.append(try EtcdKeyValue(object)) }
        return RangeResult(header: try ResponseHeader(response["header"].flatMap(\.object)), kvs: kvs,
            count: try Fields.int64(response, "count"), more: Fields.bool(response, "more"))
    }

    /// The value of one key, nil when absent.
    public func value(of key: String, serializable: Bool = false) throws(EtcdClientError) -> String? {
        try get(key, serializable: serializable).kvs.first?.valueString
    }

    @discardableResult
    public func delete(_ key: String, prefix: Bool = false) throws(EtcdClientError) -> Int64 {
        var body: JSONObject = ["key": Fields.base64(key)]
        if prefix { body["range_end"] = Fields.base64(prefixEnd(Array(key.utf8))) }
        return try Fields.int64(call("/v3/kv/deleterange", body), "deleted")
    }

    /// Sets `key` to `new` only if its value is `expected`; true if it did.
    public func compareAndSwap(_ key: String, expected: String, new: String) throws(EtcdClientError) -> Bool {
        let body: JSONObject = [
            "compare": .array([.object(["key": Fields.base64(key), "target": .string("VALUE"), "result": .string("EQUAL"),
                "value": Fields.base64(expected)])]),
            "success": .array([.object(["request_put": .object(["key": Fields.base64(key), "value": Fields.base64(new)])])]),
        ]
        return Fields.bool(try call("/v3/kv/txn", body), "succeeded")
    }

    // MARK: - Leases

    public func leaseGrant(ttl: Int64, id: Int64 = 0) throws(EtcdClientError) -> (id: Int64, ttl: Int64) {
        var body: JSONObject = ["TTL": .string(String(ttl))]
        if id != 0 { body["ID"] = .string(String(id)) }
        let response = try call("/v3/lease/grant", body)
        return (try Fields.int64(response, "ID"), try Fields.int64(response, "TTL"))
    }

    public func leaseRevoke(_ id: Int64) throws(EtcdClientError) {
        _ = try call("/v3/lease/revoke", ["ID": .string(String(id))])
    }

    /// One keepalive; the TTL the lease now has (0 when the lease is gone).
    public func leaseKeepAliveOnce(_ id: Int64) throws(EtcdClientError) -> Int64 {
        let response = try call("/v3/lease/keepalive", ["ID": .string(String(id))])
        let result = response["result"].flatMap(\.object) ?? response
        return try Fields.int64(result, "TTL")
    }

    public func leaseTimeToLive(_ id: Int64, keys: Bool = false) throws(EtcdClientError) -> (ttl: Int64, granted: Int64, keys: [String]) {
        var body: JSONObject = ["ID": .string(String(id))]
        if keys { body["keys"] = .bool(true) }
        let response = try call("/v3/lease/timetolive", body)
        var names: [String] = []
        if case .array(let list) = response["keys"] {
            for case .string(let encoded) in list {
                names.append(String(decoding: try Fields.decodeBase64(encoded, field: "keys"), as: UTF8.self))
            }
        }
        return (try Fields.int64(response, "TTL"), try Fields.int64(response, "grantedTTL"), names)
    }

    // MARK: - Cluster and maintenance

    public struct Member: Sendable, Equatable {
        public var id: UInt64
        public var name: String
        public var peerURLs: [String]
        public var clientURLs: [String]
        public var isLearner: Bool

        public init(id: UInt64, name: String, peerURLs: [String], clientURLs: [String] = [], isLearner: Bool = false) {
            self.id = id
            self.name = name
            self.peerURLs = peerURLs
            self.clientURLs = clientURLs
            self.isLearner = isLearner
        }

        init(_ object: JSONObject) throws(EtcdClientError) {
            func strings(_ name: String) -> [String] {
                guard case .array(let list) = object[name] else { return [] }
                return list.compactMap { if case .string(let text) = $0 { return text } else { return nil } }
            }
            id = UInt64(bitPattern: try Fields.int64(object, "ID"))
            name = ""
            if case .string(let text) = object["name"] { name = text }
            peerURLs = strings("peerURLs")
            clientURLs = strings("clientURLs")
            isLearner = object["isLearner"] == .bool(true)
        }
    }

    public func memberList() throws(EtcdClientError) -> [Member] {
        try Self.members(try call("/v3/cluster/member/list", [:]))
    }

    /// Adds a member (a learner when `isLearner`); the added member and the new membership.
    public func memberAdd(peerURLs: [String], isLearner: Bool = false) throws(EtcdClientError) -> (added: Member, members: [Member]) {
        var body: JSONObject = ["peerURLs": .array(peerURLs.map { .string($0) })]
        if isLearner { body["isLearner"] = .bool(true) }
        let response = try call("/v3/cluster/member/add", body)
        guard case .object(let added) = response["member"] else {
            throw .malformed(endpoint: endpoints[current], "member add answered without the added member")
        }
        return (try Member(added), try Self.members(response))
    }

    public func memberRemove(id: UInt64) throws(EtcdClientError) -> [Member] {
        try Self.members(try call("/v3/cluster/member/remove", ["ID": .string(String(id))]))
    }

    public func memberPromote(id: UInt64) throws(EtcdClientError) -> [Member] {
        try Self.members(try call("/v3/cluster/member/promote", ["ID": .string(String(id))]))
    }

    public func memberUpdate(id: UInt64, peerURLs: [String]) throws(EtcdClientError) -> [Member] {
        try Self.members(try call("/v3/cluster/member/update",
            ["ID": .string(String(id)), "peerURLs": .array(peerURLs.map { .string($0) })]))
    }

    /// Hands leadership to member `targetID` (etcd's MoveLeader); send it to the leader. Answers
    /// once the target leads.
    public func moveLeader(to targetID: UInt64) throws(EtcdClientError) {
        _ = try call("/v3/maintenance/transfer-leadership", ["targetID": .string(String(targetID))])
    }

    private static func members(_ response: JSONObject) throws(EtcdClientError) -> [Member] {
        var members: [Member] = []
        for object in Fields.objects(response, "members") { members.append(try Member(object)) }
        return members
    }

    public struct Status: Sendable {
        public var header: ResponseHeader
        public var version: String
        public var dbSize: Int64
        public var leader: UInt64
        public var raftIndex: Int64
        public var raftTerm: Int64
        public var raftAppliedIndex: Int64
    }

    public func status() throws(EtcdClientError) -> Status {
        let response = try call("/v3/maintenance/status", [:])
        var version = ""
        if case .string(let text) = response["version"] { version = text }
        return Status(header: try ResponseHeader(response["header"].flatMap(\.object)), version: version,
            dbSize: try Fields.int64(response, "dbSize"), leader: UInt64(bitPattern: try Fields.int64(response, "leader")),
            raftIndex: try Fields.int64(response, "raftIndex"), raftTerm: try Fields.int64(response, "raftTerm"),
            raftAppliedIndex: try Fields.int64(response, "raftAppliedIndex"))
    }
}

extension JSONValue {
    var object: JSONObject? {
        if case .object(let object) = self { return object }
        return nil
    }
}

/// One event of a watch stream, as the API reports it.
public struct WatchEvent: Sendable {
    public var isDelete: Bool
    public var kv: EtcdKeyValue
    public var previous: EtcdKeyValue?
}

extension EtcdClient {
    /// Watches `key` (or every key under it with `prefix`) from `revision` (0: from now), calling
    /// `onEvents` with each message's events until it returns false or the stream ends. Returns
    /// the reason the server gave if it cancelled the watch (compaction), nil otherwise.
    ///
    /// `requireLeader` asks the member to end the stream with "no leader" (thrown as a server
    /// error) once it has lost its leader, as kube-apiserver's watches do: a member cut off from
    /// the others otherwise keeps a watch quietly waiting. `progressNotify` asks for progress
    /// messages, which `onProgress` receives as the revision the watch has seen everything up to.
    public func watch(_ key: String, prefix: Bool = false, revision: Int64 = 0, prevKV: Bool = false, cancel: WatchCancel? = nil,
        requireLeader: Bool = false, progressNotify: Bool = false, onProgress: ((Int64) -> Void)? = nil,
        onEvents: @escaping ([WatchEvent]) -> Bool) throws(EtcdClientError) -> String?
    {
        var create: JSONObject = ["key": Fields.base64(key)]
        if prefix { create["range_end"] = Fields.base64(prefixEnd(Array(key.utf8))) }
        if revision != 0 { create["start_revision"] = .string(String(revision)) }
        if prevKV { create["prev_kv"] = .bool(true) }
        if progressNotify { create["progress_notify"] = .bool(true) }
        var body: [UInt8] = []
        JSON.append(.object(["create_request": .object(create)]), to: &body)
        let endpoint = currentEndpoint
        let connection: NetConnection
        do {
            connection = try NetConnection(endpoint: endpoint, connectTimeout: 2 * Time.second)
        } catch {
            throw .transport(endpoint: endpoint, error)
        }
        if let cancel, !cancel.register(connection) { return nil }
        defer { cancel?.unregister() }
        var pending: [UInt8] = []
        var cancelReason: String?
        var failure: EtcdClientError?
        /// Set when a message ended the watch (rather than the server ending the stream).
        var over = false
        func parse(_ line: [UInt8]) -> JSONValue? {
            try? line.withUnsafeBufferPointer { (buffer) throws(JSONParseError) in try JSON.parse(bytes: buffer) }
        }
        /// One message of the stream; false when the watch is over (an error, a cancel, the caller).
        func handle(_ message: JSONValue, line: [UInt8]) -> Bool {
            if let error = message["error"]?.object {
                failure = Self.streamError(error, endpoint: endpoint)
                return false
            }
            guard let result = message["result"]?.object else {
                failure = .malformed(endpoint: endpoint, String(decoding: line.prefix(200), as: UTF8.self))
                return false
            }
            if Fields.bool(result, "canceled") {
                let compacted = (try? Fields.int64(result, "compact_revision")) ?? 0
                cancelReason = compacted > 0 ? "required revision has been compacted (compact revision \(compacted))" : "watch canceled by the server"
                return false
            }
            var events: [WatchEvent] = []
            for object in Fields.objects(result, "events") {
                guard let kv = object["kv"]?.object, let converted = try? EtcdKeyValue(kv) else { continue }
                let previous = object["prev_kv"]?.object.flatMap { try? EtcdKeyValue($0) }
                events.append(WatchEvent(isDelete: object["type"] == .string("DELETE"), kv: converted, previous: previous))
            }
            if !events.isEmpty && !onEvents(events) { return false }
            // A message with neither events nor news of the watch itself is progress:
            // everything up to its header's revision has been sent.
            if events.isEmpty && !Fields.bool(result, "created"), let onProgress,
                let header = result["header"]?.object, let progress = try? Fields.int64(header, "revision"), progress > 0
            {
                onProgress(progress)
            }
            return true
        }
        let status: Int
        do {
            let headers = requireLeader ? [("Grpc-Metadata-Hasleader", "true")] : []
            status = try connection.stream(path: "/v3/watch", body: body, headers: headers, idleTimeout: 24 * 3600 * Time.second) { chunk in
                pending += chunk
                while let newline = pending.firstIndex(of: 10) {
                    let line = Array(pending[..<newline])
                    pending.removeFirst(newline + 1)
                    guard let message = parse(line) else {
                        failure = .malformed(endpoint: endpoint, String(decoding: line.prefix(200), as: UTF8.self))
                        over = true
                        return false
                    }
                    if !handle(message, line: line) {
                        over = true
                        return false
                    }
                }
                return true
            }
        } catch {
            throw .transport(endpoint: endpoint, error)
        }
        // etcd's gateway writes a stream's closing error without a newline after it. (A tail that
        // does not parse is a message cut short by the end of the stream, and is dropped.)
        if !over, !pending.isEmpty, let message = parse(pending) { _ = handle(message, line: pending) }
        if let failure { throw failure }
        // A refusal that came without an error body.
        if status != 200 && status != 0 { throw .server(endpoint: endpoint, httpStatus: status, code: 0, message: "watch refused with HTTP \(status)") }
        return cancelReason
    }

    /// A stream's error message, as etcd's gateway writes it:
    /// `{"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader",…}}`.
    static func streamError(_ error: JSONObject, endpoint: String) -> EtcdClientError {
        let message: String
        if case .string(let text)? = error["message"] { message = text } else { message = "watch stream error" }
        let code = (try? Fields.int64(error, "grpc_code")).map(Int.init) ?? 0
        let status = (try? Fields.int64(error, "http_code")).map(Int.init) ?? 0
        return .server(endpoint: endpoint, httpStatus: status, code: code, message: message)
    }
}

/// Ends a running `watch` from another thread (a client that went away, a deadline): the watch
/// returns nil as soon as its blocked read fails. Cancelling before the watch starts makes it
/// return at once.
public final class WatchCancel: Sendable {
    private let state = Mutex<(cancelled: Bool, connection: UncheckedConnection?)>((false, nil))

    public init() {}

    public var isCancelled: Bool { state.withLock { $0.cancelled } }

    public func cancel() {
        let connection = state.withLock { state -> UncheckedConnection? in
            state.cancelled = true
            return state.connection
        }
        connection?.value.interrupt()
    }

    /// False when already cancelled.
    func register(_ connection: NetConnection) -> Bool {
        state.withLock { state in
            guard !state.cancelled else { return false }
            state.connection = UncheckedConnection(value: connection)
            return true
        }
    }

    func unregister() { state.withLock { $0.connection = nil } }
}

/// The connection crosses threads only to be interrupted, which HTTPClient allows from any thread.
struct UncheckedConnection: @unchecked Sendable { let value: NetConnection }
