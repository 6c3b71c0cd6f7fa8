//! ProxyTests: the relay over loopback. Callers are told apart by their source address
//! (127.0.0.11 is "alpha", 127.0.0.12 is "beta"); the backend listens on 127.0.0.1. Timing
//! bounds are generous: the machine is shared and tests run in parallel.

import Base
import Faults
import Foundation
import Glibc
import Net
import Proxy
import Synchronization
import Testing
import Wire

// MARK: - Fixtures

func monotonicNow() -> Nanoseconds {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return Nanoseconds(spec.tv_sec) * Time.second + Nanoseconds(spec.tv_nsec)
}

/// A backend on 127.0.0.1: echoes what it reads, or (manual) just keeps the sockets for the test.
final class Backend: @unchecked Sendable {
    let listener: Int32
    let endpoint: Endpoint
    let accepted = Mutex<[Int32]>([])
    let echo: Bool

    init(echo: Bool = true) throws {
        listener = try Socket.listen(Endpoint(host: "127.0.0.1", port: 0))
        endpoint = Endpoint(host: "127.0.0.1", port: Socket.localPort(listener))
        self.echo = echo
        Thread { [self] in
            while let fd = Socket.accept(listener) {
                accepted.withLock { $0.append(fd) }
                guard echo else { continue }
                Thread {
                    var buffer = [UInt8](repeating: 0, count: 64 << 10)
                    while case .data(let count) = buffer.withUnsafeMutableBytes({ Socket.receive(fd, into: $0) }) {
                        guard buffer.withUnsafeBytes({ Socket.sendAll(fd, UnsafeRawBufferPointer(rebasing: $0[..<count])) }) else { break }
                    }
                    shutdown(fd, Int32(SHUT_WR))
                }.start()
            }
        }.start()
    }

    func connection(_ index: Int, within timeout: Nanoseconds = 2 * Time.second) -> Int32? {
        let deadline = monotonicNow() + timeout
        while monotonicNow() < deadline {
            if let fd = accepted.withLock({ $0.count > index ? $0[index] : nil }) { return fd }
            usleep(1000)
        }
        return nil
    }

    var acceptedCount: Int { accepted.withLock { $0.count } }

    deinit {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }
}

struct Harness {
    let backend: Backend
    let proxy: FaultProxy
    var endpoint: Endpoint { proxy.listening[0] }

    init(echo: Bool = true, limits: ProxyLimits = ProxyLimits()) throws {
        backend = try Backend(echo: echo)
        let configuration = ProxyConfiguration(
            routes: [Route(host: "server", listen: Endpoint(host: "127.0.0.1", port: 0), target: backend.endpoint)],
            sources: ["127.0.0.11": "alpha", "127.0.0.12": "beta"], hosts: ["alpha", "beta", "server"], limits: limits, seed: 5)
        proxy = FaultProxy(configuration: configuration)
        try proxy.start()
    }

    func dial(from source: String = "127.0.0.11") throws -> Int32 {
        try Socket.connect(endpoint, from: source, timeout: 2 * Time.second)
    }

    func apply(_ rules: FaultRule...) throws { _ = try proxy.apply(rules) }

    func counter(_ from: String, _ to: String, _ name: String) -> Int { proxy.counterValues(from: from, to: to)[name] ?? 0 }
}

func send(_ fd: Int32, _ text: String) -> Bool { Socket.sendAll(fd, Array(text.utf8)) }

/// Reads until `count` bytes arrived, the connection ends, or `timeout` passes.
func read(_ fd: Int32, _ count: Int, timeout: Nanoseconds = 2 * Time.second) -> (bytes: [UInt8], end: Socket.ReceiveResult?) {
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: max(count, 1))
    let deadline = monotonicNow() + timeout
    while bytes.count < count {
        let left = deadline - monotonicNow()
        guard left > 0 else { return (bytes, .timedOut) }
        Socket.setReceiveTimeout(fd, max(Time.millisecond, left))
        let result = buffer.withUnsafeMutableBytes {
            Socket.receive(fd, into: UnsafeMutableRawBufferPointer(rebasing: $0[..<(count - bytes.count)]))
        }
        guard case .data(let got) = result else { return (bytes, result) }
        bytes += buffer[..<got]
    }
    return (bytes, nil)
}

func text(_ result: (bytes: [UInt8], end: Socket.ReceiveResult?)) -> String { String(decoding: result.bytes, as: UTF8.self) }

func isTimeout(_ end: Socket.ReceiveResult?) -> Bool {
    if case .timedOut? = end { return true }
    return false
}

func isReset(_ end: Socket.ReceiveResult?) -> Bool {
    if case .failed(let code)? = end { return code == ECONNRESET }
    return false
}

/// True when a dial was refused: reset during connect (nil) or reset/closed on the first read.
func refused(_ fd: Int32?) -> Bool {
    guard let fd else { return true }
    defer { close(fd) }
    let end = read(fd, 1, timeout: Time.second).end
    if case .closed? = end { return true }
    return isReset(end)
}

func waitUntil(_ timeout: Nanoseconds = 2 * Time.second, _ condition: () -> Bool) -> Bool {
    let deadline = monotonicNow() + timeout
    while monotonicNow() < deadline {
        if condition() { return true }
        usleep(2000)
    }
    return condition()
}

// MARK: - Relay

@Suite struct RelayTests {
    /// Copying, splicing, and spinning before blocking (limits.spin) carry the same bytes.
    @Test(arguments: [(true, 0), (false, 0), (true, 200 * Time.microsecond)])
    func relaysBothWaysAndCounts(splice: Bool, spin: Nanoseconds) throws {
        var limits = ProxyLimits()
        limits.splice = splice
        limits.spin = spin
        let harness = try Harness(limits: limits)
        defer { harness.proxy.stop() }
        let fd = try harness.dial()
        defer { close(fd) }
        #expect(send(fd, "hello"))
        #expect(text(read(fd, 5)) == "hello")
        // A bigger message both ways.
        let big = [UInt8]((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        let writer = Thread { _ = Socket.sendAll(fd, big) }
        writer.start()
        #expect(read(fd, big.count, timeout: 10 * Time.second).bytes == big)
        // A relay thread counts a chunk just after sending it: the reader may see the bytes first.
        #expect(waitUntil { harness.counter("alpha", "server", "bytes_forwarded") == 5 + big.count })
        #expect(waitUntil { harness.counter("server", "alpha", "bytes_forwarded") == 5 + big.count })
        #expect(harness.counter("alpha", "server", "connections_accepted") == 1)
        #expect(harness.counter("alpha", "server", "connections_open") == 1)
        // Request/response exchanges (the case spinning is for) stay in order.
        for round in 0..<200 {
            let message = "m\(round % 10)"
            #expect(send(fd, message))
            #expect(text(read(fd, message.count)) == message)
        }
        // The caller's FIN reaches the backend, whose FIN comes back: the connection ends cleanly.
        shutdown(fd, Int32(SHUT_WR))
        if case .closed? = read(fd, 1).end {} else { Issue.record("expected the backend's FIN") }
        #expect(waitUntil { harness.proxy.connectionCount == 0 })
        #expect(harness.counter("alpha", "server", "connections_open") == 0)
    }

    @Test func unknownSourcesAreNamedByAddressAndStillRelayed() throws {
        let harness = try Harness()
        defer { harness.proxy.stop() }
        let fd = try harness.dial(from: "127.0.0.13")
        defer { close(fd) }
        #expect(send(fd, "who"))
        #expect(text(read(fd, 3)) == "who")
        #expect(harness.proxy.unknownSourceCount == 1)
        #expect(waitUntil { harness.counter("127.0.0.13", "server", "bytes_forwarded") == 3 })
    }

    @Test func connectionsBeyondTheLimitAreReset() throws {
        var limits = ProxyLimits()
        limits.connectionsMax = 2
        let harness = try Harness(limits: limits)
        defer { harness.proxy.stop() }
        let first = try harness.dial()
        let second = try harness.dial()
        defer { close(first); close(second) }
        for fd in [first, second] {
            #expect(send(fd, "ok"))
            #expect(text(read(fd, 2)) == "ok")
        }
        // The proxy resets it as soon as it accepts it: the caller sees the reset on connect or on read.
        #expect(refused(try? harness.dial()))
        #expect(harness.proxy.overLimitCount == 1)
    }
}

// MARK: - Faults on open and new connections

@Suite struct FaultTests {
    @Test func blackholeStallsSilentlyAndHealResumesTheSameConnection() throws {
        let harness = try Harness()
        defer { harness.proxy.stop() }
        let fd = try harness.dial()
        defer { close(fd) }
        #expect(send(fd, "before"))
        #expect(text(read(fd, 6)) == "before")
        try harness.apply(FaultRule(.partition(groups: [["alpha"]], mode: .blackhole)))
        #expect(send(fd, "during"))
        let stalled = read(fd, 6, timeout: 400 * Time.millisecond)
        #expect(stalled.bytes.isEmpty && isTimeout(stalled.end), "no bytes, no FIN, no RST: \(String(describing: stalled.end))")
        #expect(!Socket.peerClosed(fd))
        // A new connection is accepted and hangs, without reaching the backend.
        let accepted = harness.backend.acceptedCount
        let late = try harness.dial()
        defer { close(late) }
        #expect(send(late, "late"))
        #expect(isTimeout(read(late, 4, timeout: 300 * Time.millisecond).end))
        #expect(harness.backend.acceptedCount == accepted)
        #expect(harness.counter("alpha", "server", "connections_held") == 1)
        #expect(harness.counter("alpha", "server", "bytes_stalled") >= 6)
        // Beta is not partitioned from the server.
        let other = try harness.dial(from: "127.0.0.12")
        defer { close(other) }
        #expect(send(other, "beta"))
        #expect(text(read(other, 4)) == "beta")
        // Heal: both of alpha's connections resume where they stopped.
        #expect(harness.proxy.heal() == 1)
        #expect(text(read(fd, 6)) == "during")
        #expect(text(read(late, 4)) == "late")
        #expect(send(fd, "after"))
        #expect(text(read(fd, 5)) == "after")
    }

    @Test func rejectResetsOpenConnectionsAndRefusesNewOnes() throws {
        let harness = try Harness()
        defer { harness.proxy.stop() }
        let fd = try harness.dial()
        defer { close(fd) }
        #expect(send(fd, "hi"))
        #expect(text(read(fd, 2)) == "hi")
        let backendSide = try #require(harness.backend.connection(0))
        let started = monotonicNow()
        let (_, reset) = try harness.proxy.apply([FaultRule(.isolate(host: "server", mode: .reject))])
        #expect(reset == 1)
        let end = read(fd, 1, timeout: Time.second).end
        #expect(isReset(end), "the open connection is reset: \(String(describing: end))")
        #expect(monotonicNow() - started < 500 * Time.millisecond)
        // The backend's side is reset too (its echo loop ends; its socket reports the reset).
        var byte: UInt8 = 0
        Socket.setReceiveTimeout(backendSide, Time.second)
        let backendRead = recv(backendSide, &byte, 1, 0)
        #expect(backendRead <= 0)
        // New connections are refused: accepted, then reset at once.
        #expect(refused(try? harness.dial(from: "127.0.0.12")))
        #expect(harness.counter("alpha", "server", "connections_reset") == 1)
        #expect(waitUntil { harness.counter("beta", "server", "connections_refused") == 1 })
        #expect(waitUntil { harness.proxy.connectionCount == 0 })
    }

    @Test func oneWayCutStopsOneDirectionOnly() throws {
        let harness = try Harness(echo: false)
        defer { harness.proxy.stop() }
        let fd = try harness.dial()
        defer { close(fd) }
        let server = try #require(harness.backend.connection(0))
        try harness.apply(FaultRule(.cut(from: "alpha", to: "server", mode: .blackhole)))
        #expect(send(fd, "up"))
        #expect(send(server, "down"))
        #expect(text(read(fd, 4)) == "down", "server -> alpha still flows")
        #expect(isTimeout(read(server, 2, timeout: 300 * Time.millisecond).end), "alpha -> server is stopped")
        _ = harness.proxy.heal()
        #expect(text(read(server, 2)) == "up")
    }

    @Test func resetActionResetsOnlyItsLink() throws {
        let harness = try Harness()
        defer { harness.proxy.stop() }
        let alpha = try harness.dial()
        let beta = try harness.dial(from: "127.0.0.12")
        defer { close(alpha); close(beta) }
        for fd in [alpha, beta] {
            #expect(send(fd, "x"))
            #expect(text(read(fd, 1)) == "x")
        }
        #expect(harness.proxy.reset(ResetAction(link: Link(from: "alpha", to: "server"))) == 1)
        #expect(isReset(read(alpha, 1).end))
        #expect(send(beta, "y"))
        #expect(text(read(beta, 1)) == "y")
    }

    @Test func latencyDelaysAndKeepsOrder() throws {
        let harness = try Harness()
        defer { harness.proxy.stop() }
        let fd = try harness.dial()
        defer { close(fd) }
        #expect(send(fd, "warm"))
        #expect(text(read(fd, 4)) == "warm")
        try harness.apply(FaultRule(.latency(from: "alpha", to: "server", delay: 100 * Time.millisecond, jitter: 0)))
        var started = monotonicNow()
        #expect(send(fd, "ping"))
        #expect(text(read(fd, 4)) == "ping")
        let elapsed = monotonicNow() - started
        #expect(elapsed >= 95 * Time.millisecond && elapsed < 2 * Time.second, "\(Time.describe(elapsed))")
        // With jitter larger than the gap between chunks, order still holds.
        _ = harness.proxy.heal()
        try harness.apply(FaultRule(.latency(from: "alpha", to: "server", delay: 30 * Time.millisecond, jitter: 30 * Time.millisecond)))
        var expected = ""
        started = monotonicNow()
        for index in 0..<50 {
            let piece = "<\(index)>"
            expected += piece
            #expect(send(fd, piece))
            usleep(1000)
        }
        #expect(text(read(fd, expected.utf8.count, timeout: 5 * Time.second)) == expected)
        #expect(waitUntil { harness.counter("alpha", "server", "chunks_delayed") >= 2 })
        #expect(harness.counter("server", "alpha", "chunks_delayed") == 0)
        // Back to no rule: the queue drains and bytes flow directly again.
        _ = harness.proxy.heal()
        started = monotonicNow()
        #expect(send(fd, "fast"))
        #expect(text(read(fd, 4)) == "fast")
        #expect(monotonicNow() - started < 50 * Time.millisecond)
    }

    @Test func bandwidthCapsThroughput() throws {
        let harness = try Harness()
        defer { harness.proxy.stop() }
        let fd = try harness.dial()
        defer { close(fd) }
        try harness.apply(FaultRule(.bandwidth(from: "alpha", to: "server", bytesPerSecond: 200_000)))
        let payload = [UInt8](repeating: 42, count: 100_000)
        let started = monotonicNow()
        let writer = Thread { _ = Socket.sendAll(fd, payload) }
        writer.start()
        #expect(read(fd, payload.count, timeout: 10 * Time.second).bytes.count == payload.count)
        let elapsed = monotonicNow() - started
        // 100 kB at 200 kB/s: about half a second.
        #expect(elapsed >= 400 * Time.millisecond && elapsed < 3 * Time.second, "\(Time.describe(elapsed))")
    }

    @Test func ttlExpiryHeals() throws {
        let harness = try Harness()
        defer { harness.proxy.stop() }
        let fd = try harness.dial()
        defer { close(fd) }
        try harness.apply(FaultRule(.isolate(host: "alpha", mode: .blackhole), ttl: 300 * Time.millisecond))
        let started = monotonicNow()
        #expect(send(fd, "wait"))
        #expect(text(read(fd, 4, timeout: 3 * Time.second)) == "wait")
        let elapsed = monotonicNow() - started
        #expect(elapsed >= 250 * Time.millisecond && elapsed < 2 * Time.second, "\(Time.describe(elapsed))")
        #expect(harness.proxy.rules.isEmpty)
    }

    @Test func probabilisticRejectSplitsConnectionsDeterministically() throws {
        let harness = try Harness()
        defer { harness.proxy.stop() }
        try harness.apply(FaultRule(.cut(from: "alpha", to: "server", mode: .reject), probability: 0.5))
        var passed = 0
        for _ in 0..<20 {
            guard let fd = try? harness.dial() else { continue }
            defer { close(fd) }
            _ = send(fd, "p")
            if text(read(fd, 1, timeout: Time.second)) == "p" { passed += 1 }
        }
        #expect(passed > 2 && passed < 18, "\(passed) of 20 passed")
        #expect(harness.counter("alpha", "server", "connections_refused") == 20 - passed)
    }
}

// MARK: - Control API and configuration

@Suite struct ControlTests {
    @Test func controlAPIRoundTrips() throws {
        let harness = try Harness()
        defer { harness.proxy.stop() }
        let control = ControlServer(proxy: harness.proxy, endpoint: Endpoint(host: "127.0.0.1", port: 0))
        try control.start()
        defer { control.stop() }
        let client = HTTPClient(endpoint: Endpoint(host: "127.0.0.1", port: control.port))
        func call(_ method: String, _ path: String, _ body: String? = nil) throws -> (Int, JSONValue) {
            let response = try client.request(method, path, body: body.map { Array($0.utf8) }, timeout: 5 * Time.second)
            return (response.status, try JSON.parse(response.text))
        }
        var (status, body) = try call("GET", "/health")
        #expect(status == 200 && body["ok"] == .bool(true))
        (status, body) = try call("POST", "/rules", #"[{"kind":"cut","from":"alpha","to":"server","ttl":"1m"},{"kind":"latency","from":"*","to":"server","delay":"5ms"}]"#)
        #expect(status == 200 && body["ids"] == .array([.string("r1"), .string("r2")]))
        (status, body) = try call("GET", "/rules")
        guard case .array(let rules)? = body["rules"] else { Issue.record("no rules in \(body)"); return }
        #expect(rules.count == 2 && rules[0]["id"] == .string("r1") && rules[0]["expires_in_ms"] != nil)
        // What GET /rules lists can be posted back.
        let listed = try FaultRule.parseList(body: Array(JSON.serialize(.array(rules)).utf8))
        #expect(listed == harness.proxy.rules.map(\.rule))
        (status, _) = try call("DELETE", "/rules/r1")
        #expect(status == 200 && harness.proxy.rules.map(\.id) == ["r2"])
        (status, body) = try call("DELETE", "/rules/r1")
        #expect(status == 404 && body["error"] == .string("no active rule 'r1'"))
        (status, body) = try call("DELETE", "/rules")
        #expect(status == 200 && body["removed"] == .integer(1) && harness.proxy.rules.isEmpty)
        // Bad input: 400 with a message, and nothing changes.
        (status, body) = try call("POST", "/rules", "{nope")
        #expect(status == 400)
        if case .string(let message)? = body["error"] { #expect(message.hasPrefix("body is not JSON")) } else { Issue.record("\(body)") }
        (status, body) = try call("POST", "/rules", #"[{"kind":"isolate","host":"gamma"}]"#)
        #expect(status == 400 && body["error"] == .string("unknown host 'gamma' (known: alpha, beta, server)"))
        (status, body) = try call("POST", "/rules", #"{"kind":"latency","from":"alpha","to":"server"}"#)
        #expect(status == 400 && body["error"] == .string(#"latency needs "delay" like 200ms"#))
        #expect(harness.proxy.rules.isEmpty)
        (status, _) = try call("PUT", "/rules")
        #expect(status == 405)
        (status, _) = try call("GET", "/nowhere")
        #expect(status == 404)
        // Counters and a reset through the API.
        let fd = try harness.dial()
        defer { close(fd) }
        #expect(send(fd, "abc"))
        #expect(text(read(fd, 3)) == "abc")
        #expect(waitUntil { harness.counter("alpha", "server", "bytes_forwarded") == 3 })
        (status, body) = try call("GET", "/links")
        guard case .array(let links)? = body["links"] else { Issue.record("no links in \(body)"); return }
        let link = links.first { $0["from"] == .string("alpha") && $0["to"] == .string("server") }
        #expect(link?["bytes_forwarded"] == .integer(3))
        #expect(link?["policy"]?["blocked"] == .string("none"))
        (status, body) = try call("POST", "/reset", #"{"from":"alpha","to":"server"}"#)
        #expect(status == 200 && body["connections_reset"] == .integer(1))
        #expect(isReset(read(fd, 1).end))
        (status, body) = try call("POST", "/reset", #"{"from":"alpha"}"#)
        #expect(status == 400 && body["error"] == .string(#"reset needs "to" like etcd-2"#))
    }

    @Test func configurationParsesAndRefusesMistakes() throws {
        let text = """
            {"hosts": {"etcd-1": {"addresses": ["10.200.1.2"], "routes": [{"listen": "10.200.255.1:2379", "target": "10.200.1.2:2379"}]},
                       "client": {"addresses": ["10.200.9.2"]}},
             "limits": {"connections_max": 100, "dial_timeout": "500ms", "spin": "200us"}, "seed": 9}
            """
        let configuration = try ProxyConfiguration.parse(Array(text.utf8))
        #expect(configuration.hosts == ["client", "etcd-1"])
        #expect(configuration.sources == ["10.200.1.2": "etcd-1", "10.200.9.2": "client"])
        #expect(configuration.routes == [Route(host: "etcd-1", listen: try Endpoint(parsing: "10.200.255.1:2379"), target: try Endpoint(parsing: "10.200.1.2:2379"))])
        #expect(configuration.limits.connectionsMax == 100 && configuration.limits.dialTimeout == 500 * Time.millisecond && configuration.seed == 9)
        #expect(configuration.limits.spin == 200 * Time.microsecond)
        func message(_ text: String) -> String? {
            do {
                _ = try ProxyConfiguration.parse(Array(text.utf8))
                return nil
            } catch {
                return error.message
            }
        }
        #expect(message(#"{"hosts": {}}"#)?.hasPrefix(#""hosts" must be an object naming each host"#) == true)
        #expect(message(#"{"hosts": {"a": {"routes": [{"listen": "1.2.3.4"}]}}}"#) == #"hosts.a.routes: each route needs "listen" and "target" ("HOST:PORT")"#)
        #expect(message(#"{"hosts": {"a": {"addresses": ["nope"], "routes": []}}}"#) == #"hosts.a.addresses: "nope" is not an IPv4 address"#)
        #expect(message(#"{"hosts": {"a": {"addresses": ["10.0.0.1"]}, "b": {"addresses": ["10.0.0.1"]}}}"#) == "address 10.0.0.1 belongs to both a and b")
        #expect(message(#"{"hosts": {"a": {"addresses": ["10.0.0.1"]}}}"#) == "no routes: give at least one host a route")
        #expect(message(#"{"hosts": {"a": {"route": []}}}"#) == #"hosts.a: unknown member "route" (expected addresses, routes, pod_network)"#)
        #expect(message(#"{"host": {}}"#) == #"unknown member "host" (expected hosts, pods, limits, seed)"#)
    }
}
