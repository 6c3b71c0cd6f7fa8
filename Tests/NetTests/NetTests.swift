//! The HTTP parser (unit and fuzz), server and client over loopback (keep-alive, chunked bodies,
//! limits, slow and vanishing clients, streaming), and the peer transport (order, handshake
//! rejection, reconnection).

import Base
import Foundation
import Glibc
import Net
import Synchronization
import Testing

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

@Suite struct ParserTests {
    @Test func parsesPipelinedKeepAliveAndChunkedRequests() throws {
        var parser = HTTPRequestParser()
        parser.append(bytes("POST /v3/kv/put?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET /health HTTP/1.1\r\n\r\n"))
        let first = try #require(try parser.next())
        #expect(first.method == "POST" && first.path == "/v3/kv/put" && first.query == "x=1" && first.body == bytes("hello"))
        let second = try #require(try parser.next())
        #expect(second.method == "GET" && second.path == "/health" && second.keepAlive)
        #expect(try parser.next() == nil)
        parser.append(bytes("POST /w HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2;ext\r\nde\r\n0\r\n\r\n"))
        let chunked = try #require(try parser.next())
        #expect(chunked.body == bytes("abcde") && !chunked.keepAlive)
    }

    @Test func refusesWithTheRightStatus() {
        func status(_ text: String, headerMax: Int = 1024, bodyMax: Int = 100) -> Int? {
            var parser = HTTPRequestParser(headerBytesMax: headerMax, bodyBytesMax: bodyMax)
            parser.append(bytes(text))
            do {
                _ = try parser.next()
                return nil
            } catch {
                return error.status
            }
        }
        #expect(status("POST / HTTP/1.1\r\nContent-Length: 101\r\n\r\n") == 413)
        #expect(status("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 2000) + "\r\n\r\n") == 431)
        #expect(status("GET / HTTP/2.0\r\n\r\n") == 505)
        #expect(status("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n") == 501)
        #expect(status("garbage\r\n\r\n") == 400)
        #expect(status("POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n") == 400)
        #expect(status("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n") == 400)
    }

    @Test func randomInputNeverTraps() {
        var random = SeededRandom(seed: 5)
        let seed = bytes("POST /v3/kv/range HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n")
        var results = (requests: 0, errors: 0, waiting: 0)
        for _ in 0..<20_000 {
            var input = seed
            if random.chance(0.3) {
                input = (0..<random.int(in: 0...200)).map { _ in UInt8(random.int(in: 0...255)) }
            } else {
                for _ in 0..<random.int(in: 1...5) { input[random.int(in: 0...(input.count - 1))] = UInt8(random.int(in: 0...255)) }
            }
            var parser = HTTPRequestParser(headerBytesMax: 256, bodyBytesMax: 64)
            // Fed in random slices, as a socket delivers them.
            var offset = 0
            while offset < input.count {
                let size = random.int(in: 1...40)
                parser.append(input[offset..<min(input.count, offset + size)])
                offset += size
            }
            do {
                if try parser.next() != nil { results.requests += 1 } else { results.waiting += 1 }
            } catch {
                results.errors += 1
                #expect([400, 413, 431, 501, 505].contains(error.status))
            }
        }
        #expect(results.requests > 0 && results.errors > 0 && results.waiting > 0, "\(results)")
    }
}

/// This process's open sockets with `port` at either end: the sockets of one test's server and
/// its clients, whatever other tests running alongside have open. Reads /proc/net/tcp for the
/// connections' inodes, then /proc/self/fd for the descriptors that hold them.
private func openSockets(port: UInt16) -> Int {
    guard let table = try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8) else { return -1 }
    var inodes = Set<String>()
    for line in table.split(separator: "\n").dropFirst() {
        let fields = line.split(separator: " ")
        guard fields.count > 9 else { continue }
        let ports = [fields[1], fields[2]].compactMap { $0.split(separator: ":").last.flatMap { UInt16($0, radix: 16) } }
        if ports.contains(port) && fields[9] != "0" { inodes.insert(String(fields[9])) }
    }
    let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
    return descriptors.filter { fd in
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)"),
            target.hasPrefix("socket:[")
        else { return false }
        return inodes.contains(String(target.dropFirst("socket:[".count).dropLast()))
    }.count
}

@Suite(.serialized) struct ServerTests {
    func withServer(limits: HTTPServer.Limits = HTTPServer.Limits(), _ body: (Endpoint) throws -> Void) throws {
        let server = HTTPServer(endpoint: Endpoint(host: "127.0.0.1", port: 0), limits: limits) { request, responder in
            switch request.path {
            case "/echo": responder.respond(status: 200, body: request.body)
            case "/stream":
                guard responder.startStream() else { return }
                for index in 0..<1000 {
                    if !responder.write(bytes("{\"n\":\(index)}\n")) { return }
                    usleep(1000)
                }
                responder.finish()
            case "/quiet", "/silent":
                // One message, a second of silence (five for /silent), another message, the end.
                guard responder.startStream(), responder.write(bytes("first\n")) else { return }
                usleep(request.path == "/quiet" ? 1_000_000 : 5_000_000)
                guard responder.write(bytes("second\n")) else { return }
                responder.finish()
            default: responder.respond(status: 404, body: bytes("Not Found\n"), contentType: "text/plain")
            }
        }
        try server.start()
        defer { server.stop() }
        try body(Endpoint(host: "127.0.0.1", port: server.port))
    }

    @Test func keepAliveRoundTripsAndLimits() throws {
        var port: UInt16 = 0
        var limits = HTTPServer.Limits()
        limits.bodyBytesMax = 1000
        try withServer(limits: limits) { endpoint in
            port = endpoint.port
            let client = HTTPClient(endpoint: endpoint)
            for index in 0..<200 {
                let response = try client.post("/echo", body: bytes("ping \(index)"), timeout: Time.second)
                #expect(response.status == 200 && response.text == "ping \(index)")
            }
            #expect(try client.post("/nope", body: [], timeout: Time.second).status == 404)
            let oversized = try client.post("/echo", body: [UInt8](repeating: 65, count: 5000), timeout: Time.second)
            #expect(oversized.status == 413)
            // The server stays up and serves the next client.
            #expect(try HTTPClient(endpoint: endpoint).post("/echo", body: bytes("after"), timeout: Time.second).text == "after")
        }
        // The server stopped and the clients are gone: none of their sockets may still be open.
        #expect(openSockets(port: port) == 0, "descriptors leaked: \(openSockets(port: port)) sockets on port \(port) still open")
    }

    @Test func slowAndVanishingClientsDoNotHurt() throws {
        var limits = HTTPServer.Limits()
        limits.requestTimeout = 300 * Time.millisecond
        try withServer(limits: limits) { endpoint in
            // A client that sends half a request head and stalls gets 408 and is closed.
            let slow = try Socket.connect(endpoint, timeout: Time.second)
            defer { close(slow) }
            #expect(Socket.sendAll(slow, bytes("POST /echo HTTP/1.1\r\nContent-Le")))
            Socket.setReceiveTimeout(slow, 3 * Time.second)
            var buffer = [UInt8](repeating: 0, count: 256)
            let result = buffer.withUnsafeMutableBytes { Socket.receive(slow, into: $0) }
            guard case .data(let count) = result else {
                Issue.record("expected a 408, got \(result)")
                return
            }
            #expect(String(decoding: buffer[..<count], as: UTF8.self).hasPrefix("HTTP/1.1 408"))
            // A client that disconnects mid-stream: the handler's writes start failing and it ends.
            let leaver = try Socket.connect(endpoint, timeout: Time.second)
            #expect(Socket.sendAll(leaver, bytes("POST /stream HTTP/1.1\r\nContent-Length: 0\r\n\r\n")))
            usleep(20_000)
            close(leaver)
            // Many concurrent clients.
            let failures = Atomic<Int>(0)
            DispatchQueue.concurrentPerform(iterations: 100) { index in
                let client = HTTPClient(endpoint: endpoint)
                let answer = try? client.post("/echo", body: bytes("c\(index)"), timeout: 5 * Time.second)
                if answer?.text != "c\(index)" { failures.add(1, ordering: .relaxed) }
            }
            #expect(failures.load(ordering: .relaxed) == 0)
        }
    }

    @Test func streamsChunkedMessages() throws {
        try withServer { endpoint in
            var received = 0
            let status = try HTTPClient(endpoint: endpoint).stream("/stream", body: [], idleTimeout: 2 * Time.second) { chunk in
                received += String(decoding: chunk, as: UTF8.self).split(separator: "\n").count
                return received < 50
            }
            #expect(status == 200 && received == 50)
        }
    }

    /// A quiet stream on a live server is left alone: the check runs each read-idle period and
    /// the stream carries on to its end.
    @Test func aQuietStreamWhoseServerAnswersTheHealthCheckGoesOn() throws {
        try withServer { endpoint in
            let checks = Atomic<Int>(0)
            let check = StreamHealthCheck(readIdle: 200 * Time.millisecond) {
                checks.add(1, ordering: .relaxed)
                return true
            }
            var messages: [String] = []
            let status = try HTTPClient(endpoint: endpoint).stream("/quiet", method: "GET", body: [], idleTimeout: 5 * Time.second,
                healthCheck: check) { chunk in
                messages += String(decoding: chunk, as: UTF8.self).split(separator: "\n").map(String.init)
                return true
            }
            #expect(status == 200 && messages == ["first", "second"])
            // A second of silence at 200 ms a check: about 4, each passed.
            #expect(checks.load(ordering: .relaxed) >= 1, "no health check during 1 s of silence")
        }
    }

    /// A quiet stream whose server does not answer the check fails at once, long before its idle
    /// limit, and says why.
    @Test func aQuietStreamWhoseServerFailsTheHealthCheckEnds() throws {
        try withServer { endpoint in
            let checks = Atomic<Int>(0)
            let check = StreamHealthCheck(readIdle: 200 * Time.millisecond) {
                checks.add(1, ordering: .relaxed).oldValue < 1  // the first check passes, the second fails
            }
            var messages = 0
            let started = MonotonicClock.now()
            #expect {
                _ = try HTTPClient(endpoint: endpoint).stream("/silent", method: "GET", body: [], idleTimeout: 10 * Time.second,
                    healthCheck: check) { _ in
                    messages += 1
                    return true
                }
            } throws: { error in
                "\(error)".contains("did not answer a health check")
            }
            let elapsed = MonotonicClock.now() - started
            #expect(messages == 1 && checks.load(ordering: .relaxed) == 2)
            // Two read-idle periods, about 400 ms; the server's next message would come at 5 s.
            #expect(elapsed < 3 * Time.second, "the stream ended \(Time.describe(elapsed)) after it started (two read-idle periods: about 400 ms)")
        }
    }
}

@Suite(.serialized) struct PeerTransportTests {
    final class Inbox: @unchecked Sendable {
        let lock = NSLock()
        var frames: [(UInt64, [UInt8])] = []
        func add(_ from: UInt64, _ payload: [UInt8]) { lock.withLock { frames.append((from, payload)) } }
        var count: Int { lock.withLock { frames.count } }
        func waitFor(_ count: Int, seconds: Double = 5) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while self.count < count && Date() < deadline { usleep(5000) }
            return self.count >= count
        }
    }

    func freePort() throws -> UInt16 { try Socket.freePort() }

    @Test func deliversInOrderAndRejectsStrangers() throws {
        let (portA, portB) = (try freePort(), try freePort())
        let inboxB = Inbox()
        let a = PeerTransport(localID: 1, clusterToken: "t", listen: Endpoint(host: "127.0.0.1", port: portA),
            peers: [2: Endpoint(host: "127.0.0.1", port: portB)]) { _, _ in }
        let b = PeerTransport(localID: 2, clusterToken: "t", listen: Endpoint(host: "127.0.0.1", port: portB),
            peers: [1: Endpoint(host: "127.0.0.1", port: portA)]) { from, payload in inboxB.add(from, payload) }
        try a.start()
        try b.start()
        defer {
            a.stop()
            b.stop()
        }
        for index in 0..<10_000 {
            var writer = ByteWriter()
            writer.uint32(UInt32(index))
            while !a.send(to: 2, writer.bytes) { usleep(1000) }
        }
        #expect(inboxB.waitFor(10_000))
        let order = inboxB.lock.withLock { inboxB.frames.map { ByteReader($0.1).uint32Value } }
        #expect(order == (0..<10_000).map { UInt32($0) }, "frames arrive in order, none lost on a healthy link")
        #expect(inboxB.lock.withLock { inboxB.frames.allSatisfy { $0.0 == 1 } })

        // A member of another cluster (another token) is not heard.
        let stranger = PeerTransport(localID: 1, clusterToken: "other", listen: Endpoint(host: "127.0.0.1", port: try freePort()),
            peers: [2: Endpoint(host: "127.0.0.1", port: portB)]) { _, _ in }
        try stranger.start()
        defer { stranger.stop() }
        let before = inboxB.count
        stranger.send(to: 2, [1, 2, 3])
        usleep(300_000)
        #expect(inboxB.count == before)
        #expect(b.snapshotCounters.handshakesRejected >= 1)
    }

    @Test func peersFollowTheMembershipAndQueriesAreAnswered() throws {
        let (portA, portB) = (try freePort(), try freePort())
        let inboxA = Inbox()
        // A starts knowing nobody: B's frames are refused until A adds it.
        let a = PeerTransport(localID: 1, clusterToken: "t", listen: Endpoint(host: "127.0.0.1", port: portA),
            peers: [:]) { from, payload in inboxA.add(from, payload) }
        let b = PeerTransport(localID: 2, clusterToken: "t", listen: Endpoint(host: "127.0.0.1", port: portB),
            peers: [1: Endpoint(host: "127.0.0.1", port: portA)]) { _, _ in }
        try a.start()
        try b.start()
        defer {
            a.stop()
            b.stop()
        }
        b.send(to: 1, [1])
        usleep(300_000)
        #expect(inboxA.count == 0 && a.snapshotCounters.handshakesRejected >= 1)
        #expect(!a.send(to: 2, [9]), "sending to an unknown peer fails")
        a.setPeers([2: Endpoint(host: "127.0.0.1", port: portB)])
        #expect(a.peers == [2: Endpoint(host: "127.0.0.1", port: portB)])
        // B's link redials with backoff; keep sending until one gets through.
        let deadline = Date().addingTimeInterval(5)
        while inboxA.count == 0 && Date() < deadline {
            b.send(to: 1, [2])
            usleep(50_000)
        }
        #expect(inboxA.count > 0, "frames from a peer added later are delivered")
        a.setPeers([:])
        #expect(a.peers.isEmpty && !a.send(to: 2, [3]))

        // Membership queries: refused until the member can answer, then answered.
        let endpointA = Endpoint(host: "127.0.0.1", port: portA)
        #expect(throws: NetError.self) { try PeerTransport.query(endpointA, clusterToken: "t") }
        a.answerQuery = { [7, 7, 7] }
        #expect(try PeerTransport.query(endpointA, clusterToken: "t") == [7, 7, 7])
        #expect(throws: NetError.self) { try PeerTransport.query(endpointA, clusterToken: "another cluster") }
    }

    @Test func reconnectsAfterThePeerRestarts() throws {
        let (portA, portB) = (try freePort(), try freePort())
        let inbox = Inbox()
        var options = PeerTransport.Options()
        options.backoffInitial = 20 * Time.millisecond
        options.backoffMax = 100 * Time.millisecond
        let a = PeerTransport(localID: 1, clusterToken: "t", listen: Endpoint(host: "127.0.0.1", port: portA),
            peers: [2: Endpoint(host: "127.0.0.1", port: portB)], options: options) { _, _ in }
        try a.start()
        defer { a.stop() }
        func startB() throws -> PeerTransport {
            let b = PeerTransport(localID: 2, clusterToken: "t", listen: Endpoint(host: "127.0.0.1", port: portB),
                peers: [1: Endpoint(host: "127.0.0.1", port: portA)]) { from, payload in inbox.add(from, payload) }
            try b.start()
            return b
        }
        var b = try startB()
        a.send(to: 2, [1])
        #expect(inbox.waitFor(1))
        b.stop()
        b = try startB()
        defer { b.stop() }
        // Sends while the link re-forms may be lost (Raft retries); keep sending until one lands.
        let deadline = Date().addingTimeInterval(5)
        while inbox.count < 2 && Date() < deadline {
            a.send(to: 2, [2])
            usleep(20_000)
        }
        #expect(inbox.count >= 2)
        #expect(a.snapshotCounters.connects >= 2)
    }
}

extension ByteReader {
    var uint32Value: UInt32 {
        var copy = self
        return copy.uint32() ?? .max
    }
}

@Suite struct FaultClockTests {
    @Test func driftIsContinuousAndInvertible() {
        let clock = FaultClock(path: nil)
        let start = clock.monotonic(real: 1_000 * Time.second)
        #expect(start == 1_000 * Time.second, "without a setting the clock is the real one")
        clock.apply(FaultClock.Setting(rate: 2), real: 1_000 * Time.second)
        #expect(clock.monotonic(real: 1_001 * Time.second) == 1_002 * Time.second, "rate 2: one real second is two")
        // A change of rate never makes the clock jump.
        let before = clock.monotonic(real: 1_010 * Time.second)
        clock.apply(FaultClock.Setting(rate: 0.5), real: 1_010 * Time.second)
        #expect(clock.monotonic(real: 1_010 * Time.second) == before)
        #expect(clock.monotonic(real: 1_012 * Time.second) == before + Time.second)
        #expect(clock.realInstant(of: before + Time.second) == 1_012 * Time.second)
    }

    @Test func readsItsFileAndSkewsOnlyTheWallClock() throws {
        let path = NSTemporaryDirectory() + "fl-clock-\(getpid()).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let clock = FaultClock(path: path)
        let realWall = Date()
        #expect(abs(clock.wallNow().timeIntervalSince(realWall)) < 1)
        try FaultClock.write(FaultClock.Setting(offsetNanoseconds: 30 * Time.second, rate: 1), to: path)
        usleep(150_000)  // the file is checked at most every 100 ms
        #expect(abs(clock.wallNow().timeIntervalSince(Date()) - 30) < 1, "the wall clock is 30 s ahead")
        let monotonic = clock.monotonic()
        #expect(abs(monotonic - FaultClock.realMonotonic()) < Time.second, "skew alone leaves the monotonic clock alone")
        // A bad file is ignored: the last good setting stays.
        try "not json".write(toFile: path, atomically: true, encoding: .utf8)
        usleep(150_000)
        #expect(clock.setting.offsetNanoseconds == 30 * Time.second)
    }
}
