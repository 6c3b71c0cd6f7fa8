//! The watch's health check (client-go's HTTP/2 ReadIdleTimeout and PingTimeout): a stream that
//! goes quiet has its apiserver probed with `GET /livez` on a fresh connection. A stub apiserver
//! sends one event, then stays silent (1 s when its `/livez` answers, 5 s when it hangs), then
//! ends the stream.
//! Port: any free one (the stub is ours alone).

import Base
import Foundation
import KubeAPI
import KubeClient
import Net
import Synchronization
import Testing

@Suite struct WatchHealthCheckTests {
    final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    final class Stub: Sendable {
        let livezRequests = Counter()
        let server: HTTPServer

        init(livezAnswers: Bool) throws {
            let requests = livezRequests
            server = HTTPServer(endpoint: Endpoint(host: "127.0.0.1", port: 0)) { request, responder in
                if request.path == "/livez" {
                    requests.value.add(1, ordering: .relaxed)
                    // A hanging /livez is what a blackholed link looks like to the probe.
                    if !livezAnswers { usleep(2_000_000) }
                    responder.respond(status: 200, body: Array("ok".utf8), contentType: "text/plain")
                    return
                }
                guard request.path == "/api/v1/namespaces/default/configmaps", responder.startStream() else {
                    return responder.respond(status: 404, body: [], contentType: "text/plain")
                }
                let bookmark = #"{"type":"BOOKMARK","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"resourceVersion":"7"}}}"#
                guard responder.write(Array((bookmark + "\n").utf8)) else { return }
                usleep(livezAnswers ? 1_000_000 : 5_000_000)
                responder.finish()
            }
            try server.start()
        }

        func client() throws -> APIClient {
            var configuration = APIClientConfiguration(servers: ["http://127.0.0.1:\(server.port)"], component: "watch-health-test")
            configuration.watchReadIdleTimeout = 200 * Time.millisecond
            configuration.watchPingTimeout = 300 * Time.millisecond
            return try APIClient(configuration)
        }
    }

    @Test func aQuietWatchOnALiveApiserverRunsToItsEnd() throws {
        let stub = try Stub(livezAnswers: true)
        defer { stub.server.stop() }
        var events = 0
        let end = try stub.client().watch(.standard("configmaps"), namespace: "default", resourceVersion: "1") { _ in
            events += 1
            return true
        }
        #expect(end == .closed && events == 1)
        // A second of silence at 200 ms a check: about 4, each answered.
        #expect(stub.livezRequests.value.load(ordering: .relaxed) >= 1, "no health check during 1 s of silence")
    }

    @Test func aQuietWatchWhoseApiserverDoesNotAnswerBreaksWithinReadIdleAndPing() throws {
        let stub = try Stub(livezAnswers: false)
        defer { stub.server.stop() }
        var events = 0
        let client = try stub.client()
        let started = MonotonicClock.now()
        do throws(APIError) {
            _ = try client.watch(.standard("configmaps"), namespace: "default", resourceVersion: "1") { _ in
                events += 1
                return true
            }
            Issue.record("the watch ran to its end although its apiserver did not answer the health check")
        } catch {
            #expect(error.isUnreachable && "\(error)".contains("health check"), "\(error)")
        }
        let elapsed = MonotonicClock.now() - started
        #expect(events == 1)
        // Read-idle 200 ms plus ping 300 ms: about half a second, well before the stream's end at 5 s.
        #expect(elapsed < 3 * Time.second, "the watch broke \(Time.describe(elapsed)) after it started")
    }
}
