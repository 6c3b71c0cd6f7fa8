//! The JSON gateway codec: Go's error messages, jsonpb's field rules, base64, exact response
//! bytes, routes, and random bodies that must never trap a decoder.

import Base
import Wire
import EtcdAPI
import MVCC
import Testing

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

private func message(_ body: String, _ decode: ([UInt8]) throws(APIError) -> Void) -> String? {
    do {
        try decode(bytes(body))
        return nil
    } catch {
        return error.message
    }
}

@Suite struct DecodingTests {
    @Test func goSyntaxErrorMessages() {
        let put = { (body: [UInt8]) throws(APIError) in _ = try EtcdAPI.decodePut(body) }
        #expect(message("{not json", put) == "invalid character 'n' looking for beginning of object key string")
        #expect(message(#"{"key":"YQ==""#, put) == "unexpected EOF")
        #expect(message(#"{"key":"YQ==",}"#, put) == "invalid character '}' looking for beginning of object key string")
        #expect(message(#"{"key" "YQ=="}"#, put) == #"invalid character '"' after object key"#)
        #expect(message(#"{"key":"YQ==" 1}"#, put) == "invalid character '1' after object key:value pair")
        #expect(message("nul", put) == "unexpected EOF")
        #expect(message("[1]", put) == "json: cannot unmarshal array into Go value of type map[string]json.RawMessage")
        #expect(message(#"{"key":5}"#, put) == "json: cannot unmarshal number into Go value of type []uint8")
        #expect(message(#"{"key":"YQ==","lease":"abc"}"#, put) == "invalid character 'a' looking for beginning of value")
        #expect(message(#"{"key":"!!notbase64"}"#, put) == "illegal base64 data at input byte 0")
        #expect(message(#"{"key":"YQ"}"#, put) == "illegal base64 data at input byte 0")
        #expect(message(#"{"key":"YQ==","limit":"1.5"}"#, { (body: [UInt8]) throws(APIError) in _ = try EtcdAPI.decodeRange(body) })
            == "json: cannot unmarshal number 1.5 into Go value of type int64")
    }

    @Test func jsonpbFieldRules() throws {
        let range = try EtcdAPI.decodeRange(bytes(#"{"key":"YQ==","rangeEnd":"Yg==","sortOrder":2,"sort_target":"MOD","limit":7,"count_only":true,"bogus":[1,2],"revision":null}"#))
        #expect(range.key == bytes("a") && range.rangeEnd == bytes("b"))
        #expect(range.sortOrder == .descend && range.sortTarget == .mod && range.limit == 7 && range.countOnly && range.revision == 0)
        #expect(try EtcdAPI.decodePut([]).key.isEmpty, "an empty body is an empty request")
        #expect(throws: APIError.self, "etcd 3.4 refuses URL-safe base64") { try EtcdAPI.decodePut(bytes(#"{"key":"YQ==","value":"-_8="}"#)) }
        #expect(try EtcdAPI.decodePut(bytes(#"{"key":"YQ=="} trailing garbage"#)).key == bytes("a"), "only the first value is read")
    }

    @Test func txnAndWatchRequests() throws {
        let txn = try EtcdAPI.decodeTxn(bytes(#"{"compare":[{"key":"YQ==","target":"CREATE","result":"EQUAL","create_revision":"0"}],"success":[{"request_put":{"key":"YQ==","value":"MQ=="}},{"request_txn":{"success":[{"request_range":{"key":"YQ=="}}]}}],"failure":[{"request_delete_range":{"key":"YQ==","prev_kv":true}}]}"#))
        #expect(txn.compare == [Compare(key: bytes("a"), target: .createRevision(0), result: .equal)])
        #expect(txn.success.count == 2 && txn.failure == [.deleteRange(DeleteRangeRequest(key: bytes("a"), prevKV: true))])
        guard case .create(let create) = try EtcdAPI.decodeWatch(bytes(#"{"create_request":{"key":"YQ==","start_revision":"5","filters":["NODELETE"],"prev_kv":true}}"#)) else {
            Issue.record("not a create request")
            return
        }
        #expect(create.startRevision == 5 && create.filters == [.noDelete] && create.prevKV)
        #expect(try EtcdAPI.decodeWatch(bytes(#"{"cancel_request":{"watch_id":"3"}}"#)) == .cancel(watchID: 3))
    }

    @Test func randomBodiesNeverTrap() {
        var random = SeededRandom(seed: 21)
        let seeds = [
            #"{"compare":[{"key":"YQ==","target":"VALUE","result":"EQUAL","value":"MQ=="}],"success":[{"request_put":{"key":"YQ==","value":"Mg=="}}]}"#,
            #"{"key":"YXBp","range_end":"AA==","limit":"2","sort_order":"DESCEND"}"#,
            #"{"create_request":{"key":"dy8=","range_end":"dzA=","prev_kv":true,"filters":["NOPUT"]}}"#,
            #"{"TTL":5,"ID":"0"}"#,
        ].map(bytes)
        let alphabet = bytes(#"{}[]",:0123456789-+.eE\truenfalsYQ= "#)
        var outcomes = (ok: 0, error: 0)
        for iteration in 0..<30_000 {
            var body = seeds[iteration % seeds.count]
            switch random.int(in: 0...3) {
            case 0: body = (0..<random.int(in: 0...64)).map { _ in UInt8(random.int(in: 0...255)) }
            case 1: for _ in 0..<random.int(in: 1...6) { body[random.int(in: 0...(body.count - 1))] = alphabet[random.int(in: 0...(alphabet.count - 1))] }
            case 2: body.removeLast(random.int(in: 0...(body.count - 1)))
            default: body = Array(repeating: UInt8(ascii: "["), count: random.int(in: 100...400))
            }
            for decoder in 0..<4 {
                do throws(APIError) {
                    switch decoder {
                    case 0: _ = try EtcdAPI.decodeTxn(body)
                    case 1: _ = try EtcdAPI.decodeRange(body)
                    case 2: _ = try EtcdAPI.decodeWatch(body)
                    default: _ = try EtcdAPI.decodeLeaseGrant(body)
                    }
                    outcomes.ok += 1
                } catch {
                    outcomes.error += 1
                    #expect(!error.message.isEmpty)
                }
            }
        }
        #expect(outcomes.ok > 0 && outcomes.error > 0, "the fuzzer reached both outcomes: \(outcomes)")
    }
}

@Suite struct EncodingTests {
    let header = ResponseHeader(clusterID: 3_663_731_018_731_494_503, memberID: 16_071_879_673_877_436_934, revision: 7, raftTerm: 2)

    @Test func bytesAsEtcdWritesThem() {
        let txn = TxnResponse(revision: 7, succeeded: true, responses: [
            .put(PutResponse(revision: 7)),
            .range(RangeResponse(revision: 7, kvs: [KeyValue(key: bytes("b"), createRevision: 4, modRevision: 7, version: 2, value: bytes("vb2"))], count: 1)),
            .txn(TxnResponse(revision: 0, succeeded: true)),
        ])
        let text = String(decoding: EtcdAPI.encode(txn, header: header), as: UTF8.self)
        #expect(text == #"{"header":{"cluster_id":"3663731018731494503","member_id":"16071879673877436934","revision":"7","raft_term":"2"},"succeeded":true,"responses":[{"response_put":{"header":{"revision":"7"}}},{"response_range":{"header":{"revision":"7"},"kvs":[{"key":"Yg==","create_revision":"4","mod_revision":"7","version":"2","value":"dmIy"}],"count":"1"}},{"response_txn":{"header":{},"succeeded":true}}]}"#)
        var watch = EtcdAPI.WatchMessage(header: header)
        watch.events = [Event(kind: .delete, kv: KeyValue(key: bytes("x"), modRevision: 15))]
        #expect(String(decoding: EtcdAPI.encode(watch), as: UTF8.self)
            == #"{"result":{"header":{"cluster_id":"3663731018731494503","member_id":"16071879673877436934","revision":"7","raft_term":"2"},"events":[{"type":"DELETE","kv":{"key":"eA==","mod_revision":"15"}}]}}"#)
        #expect(String(decoding: EtcdAPI.encodeHash(2_299_066_512, header: header), as: UTF8.self).hasSuffix(#""hash":2299066512}"#))
    }

    @Test func errorsAndStatuses() {
        let compacted = APIError(StoreError.compacted)
        #expect(compacted.httpStatus == 400 && compacted.code == .outOfRange)
        #expect(String(decoding: compacted.body, as: UTF8.self)
            == #"{"error":"etcdserver: mvcc: required revision has been compacted","message":"etcdserver: mvcc: required revision has been compacted","code":11}"#)
        #expect(APIError(StoreError.leaseNotFound).httpStatus == 404)
        #expect(APIError.noLeader.httpStatus == 503)
        #expect(String(decoding: APIError.notFound.body, as: UTF8.self) == "Not Found\n")
        #expect(EtcdAPI.route(method: "GET", path: "/v3/kv/range") == .methodNotAllowed)
        #expect(EtcdAPI.route(method: "POST", path: "/v3/kv/nope") == .notFound)
        #expect(EtcdAPI.route(method: "POST", path: "/nope") == .pageNotFound)
        #expect(EtcdAPI.route(method: "POST", path: "/health") == .methodNotAllowed)
        #expect(EtcdAPI.route(method: "GET", path: "/health") == .route(.health))
        #expect(EtcdAPI.route(method: "POST", path: "/v3/kv/lease/revoke") == .route(.leaseRevoke))
    }

    @Test func base64RoundTrips() throws {
        var random = SeededRandom(seed: 3)
        for length in 0..<200 {
            let data = (0..<length).map { _ in UInt8(random.int(in: 0...255)) }
            #expect(try Base64.decode(Base64.encode(data)) == data)
        }
        #expect(throws: Base64.DecodingError.self) { try Base64.decode("YWJj!A==") }
        do { _ = try Base64.decode("YWJj!A==") } catch { #expect(error.offset == 4) }
    }
}
