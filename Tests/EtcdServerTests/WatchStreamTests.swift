//! Watch streams on a live member: progress notifications for the watchers that ask for them,
//! and live events routed to the right watcher of a stream with several.

import Base
import EtcdAPI
import EtcdClient
import EtcdServer
import Foundation
import Net
import Testing
import Wire

extension LiveClusterTests {
    @Suite struct WatchStreamTests {
        /// Reads `count` lines of a watch stream opened with `body` (or until 5 s pass).
        func readStream(_ endpoint: Endpoint, _ body: String, count: Int, whileReading: @escaping @Sendable () -> Void = {}) throws -> [JSONValue] {
            var lines: [JSONValue] = []
            var pending = ""
            var started = false
            _ = try HTTPClient(endpoint: endpoint).stream("/v3/watch", body: Array(body.utf8), idleTimeout: 5 * Time.second) { chunk in
                pending += String(decoding: chunk, as: UTF8.self)
                while let newline = pending.firstIndex(of: "\n") {
                    if let value = try? JSON.parse(String(pending[..<newline])) { lines.append(value) }
                    pending = String(pending[pending.index(after: newline)...])
                }
                if !started {
                    started = true
                    whileReading()
                }
                return lines.count < count
            }
            return lines
        }

        func result(_ line: JSONValue) -> JSONObject {
            if case .object(let object) = line, case .object(let result) = object["result"] { return result }
            return JSONObject()
        }

        @Test func progressNotifyAndSeveralWatchersPerStream() throws {
            let directory = NSTemporaryDirectory() + "fl-watch-\(getpid())"
            try? FileManager.default.removeItem(atPath: directory)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let member = try EtcdMember(configuration: try Configuration.parse(["--name", "w", "--data-dir", directory,
                "--listen-client-urls", "http://127.0.0.1:26331", "--listen-peer-urls", "http://127.0.0.1:26332",
                "--initial-advertise-peer-urls", "http://127.0.0.1:26332", "--initial-cluster", "w=http://127.0.0.1:26332",
                "--experimental-watch-progress-notify-interval", "200ms"]), log: { _ in })
            try member.start()
            defer { member.stop() }
            let client = EtcdClient(endpoints: ["http://127.0.0.1:26331"], timeout: 20 * Time.second)
            let deadline = Date().addingTimeInterval(10)
            while (try? client.put("w/a", "1")) == nil && Date() < deadline { usleep(50_000) }
            let endpoint = Endpoint(host: "127.0.0.1", port: 26331)

            // progress_notify: after "created", messages with the current revision and no events.
            let key = Base64.encode(Array("w/a".utf8))
            let progress = try readStream(endpoint, #"{"create_request":{"key":"\#(key)","progress_notify":true,"watch_id":"4"}}"#, count: 3)
            #expect(progress.count == 3)
            #expect(result(progress[0])["created"] == .bool(true))
            for line in progress.dropFirst() {
                let message = result(line)
                #expect(message["watch_id"] == .string("4") && message["events"] == nil)
                if case .object(let header) = message["header"] { #expect(header["revision"] == .string("2")) }
            }

            // Two watchers on one stream: each write reaches the watcher whose key it touched.
            let other = Base64.encode(Array("w/b".utf8))
            let lines = try readStream(endpoint,
                #"{"create_request":{"key":"\#(key)"}}{"create_request":{"key":"\#(other)"}}"#, count: 4) {
                    DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) {
                        let writer = EtcdClient(endpoints: ["http://127.0.0.1:26331"], timeout: 20 * Time.second)
                        _ = try? writer.put("w/b", "x")
                        _ = try? writer.put("w/a", "y")
                    }
                }
            #expect(lines.count == 4)
            let events = lines.dropFirst(2).map(result)
            #expect(events.first?["watch_id"] == .string("1"), "the write to w/b goes to watcher 1: \(events)")
            #expect(events.last?["watch_id"] == nil, "the write to w/a goes to watcher 0 (id omitted): \(events)")
        }
    
        /// A watch from a revision the member has not reached gets nothing before that revision
        /// (the runner's watch check caught a follower delivering the revision before it).
        @Test func aFutureStartRevisionHoldsBackEarlierEvents() throws {
            let directory = NSTemporaryDirectory() + "fl-watch-future-\(getpid())"
            try? FileManager.default.removeItem(atPath: directory)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let member = try EtcdMember(configuration: try Configuration.parse(["--name", "f", "--data-dir", directory,
                "--listen-client-urls", "http://127.0.0.1:26333", "--listen-peer-urls", "http://127.0.0.1:26334",
                "--initial-advertise-peer-urls", "http://127.0.0.1:26334", "--initial-cluster", "f=http://127.0.0.1:26334"]), log: { _ in })
            try member.start()
            defer { member.stop() }
            let client = EtcdClient(endpoints: ["http://127.0.0.1:26333"], timeout: 20 * Time.second)
            let deadline = Date().addingTimeInterval(10)
            var revision: Int64 = 0
            while revision == 0 && Date() < deadline { revision = (try? client.put("f/0", "0")) ?? 0; usleep(20_000) }
            try #require(revision > 0)
            let prefix = Base64.encode(Array("f/".utf8)), end = Base64.encode(Array("f0".utf8))
            let lines = try readStream(Endpoint(host: "127.0.0.1", port: 26333),
                #"{"create_request":{"key":"\#(prefix)","range_end":"\#(end)","start_revision":"\#(revision + 2)"}}"#, count: 2) {
                    DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) {
                        let writer = EtcdClient(endpoints: ["http://127.0.0.1:26333"], timeout: 20 * Time.second)
                        _ = try? writer.put("f/early", "x")
                        _ = try? writer.put("f/late", "y")
                    }
                }
            try #require(lines.count == 2)
            guard case .array(let events)? = result(lines[1])["events"], case .object(let kv)? = events.first?["kv"] else {
                Issue.record("no event: \(lines)")
                return
            }
            #expect(kv["key"] == .string(Base64.encode(Array("f/late".utf8))), "the first event is the one at the start revision")
            #expect(kv["mod_revision"] == .string(String(revision + 2)))
        }
    }
}
