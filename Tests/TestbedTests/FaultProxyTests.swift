//! The fault proxy on loopback (no root needed): relaying, a blackhole that holds bytes until
//! heal, reject, latency that keeps order, and a bandwidth cap, each measured.

import Base
import FaultRules
import Foundation
import Glibc
import Net
import Testbed
import Testing

/// Reads exactly `count` bytes, or what arrived before `timeout`.
private func read(_ fd: Int32, _ count: Int, timeout: Nanoseconds) -> [UInt8] {
    Socket.setReceiveTimeout(fd, timeout)
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 64 << 10)
    while received.count < count {
        guard case .data(let bytes) = buffer.withUnsafeMutableBytes({ Socket.receive(fd, into: $0) }) else { break }
        received += buffer[..<bytes]
    }
    return received
}

@Suite(.serialized) struct FaultProxyTests {
    func withProxy(_ body: (FaultProxy, Endpoint) throws -> Void) throws {
        let echo = try EchoServer()
        defer { echo.stop() }
        let listen = Endpoint(host: "127.0.0.1", port: try Socket.freePort())
        let proxy = FaultProxy(routes: [FaultProxy.Route(listen: listen, target: Endpoint(host: "127.0.0.1", port: echo.port), host: "server")],
            sources: ["127.0.0.1": "client"])
        try proxy.start()
        defer { proxy.stop() }
        try body(proxy, listen)
    }

    @Test func blackholeHoldsBytesUntilHealAndRejectRefuses() throws {
        try withProxy { proxy, endpoint in
            let fd = try Socket.connect(endpoint, timeout: Time.second)
            defer { close(fd) }
            #expect(Socket.sendAll(fd, Array("hello".utf8)) && read(fd, 5, timeout: Time.second) == Array("hello".utf8))
            _ = try proxy.apply([FaultRule(kind: .cut, from: "client", to: "server")])
            #expect(Socket.sendAll(fd, Array("held".utf8)))
            #expect(read(fd, 4, timeout: 300 * Time.millisecond).isEmpty, "bytes crossed a blackholed link")
            proxy.heal()
            #expect(read(fd, 4, timeout: Time.second) == Array("held".utf8), "held bytes did not flow after heal")
            #expect(proxy.links.first { $0.from == "client" && $0.to == "server" }?.stalledChunks ?? 0 >= 1)

            _ = try proxy.apply([FaultRule(kind: .cut, from: "client", to: "server", mode: .reject)])
            // The open connection is reset; a new one is refused.
            #expect(read(fd, 1, timeout: Time.second).isEmpty)
            let refused = try Socket.connect(endpoint, timeout: Time.second)
            defer { close(refused) }
            _ = Socket.sendAll(refused, [1])
            #expect(read(refused, 1, timeout: Time.second).isEmpty, "a rejected link answered")
            let counters = proxy.links.first { $0.from == "client" && $0.to == "server" }
            #expect((counters?.refused ?? 0) >= 1 && (counters?.resets ?? 0) >= 1, "\(String(describing: counters))")
        }
    }

    @Test func latencyDelaysAndKeepsOrder() throws {
        try withProxy { proxy, endpoint in
            let fd = try Socket.connect(endpoint, timeout: Time.second)
            defer { close(fd) }
            _ = try proxy.apply([FaultRule(kind: .latency, from: "client", to: "server", delay: 100 * Time.millisecond, jitter: 50 * Time.millisecond)])
            let began = MonotonicClock.now()
            var sent: [UInt8] = []
            for index in 0..<50 {
                sent.append(UInt8(index))
                _ = Socket.sendAll(fd, [UInt8(index)])
                usleep(2_000)
            }
            let echoed = read(fd, sent.count, timeout: 5 * Time.second)
            #expect(echoed == sent, "bytes reordered or lost under jitter")
            #expect(MonotonicClock.now() - began >= 100 * Time.millisecond, "no delay")
        }
    }

    @Test func bandwidthCapsTheRate() throws {
        try withProxy { proxy, endpoint in
            let fd = try Socket.connect(endpoint, timeout: Time.second)
            defer { close(fd) }
            var rule = FaultRule(kind: .bandwidth, from: "client", to: "server")
            rule.bytesPerSecond = 200_000
            _ = try proxy.apply([rule])
            let payload = [UInt8](repeating: 9, count: 400_000)
            let began = MonotonicClock.now()
            Thread { _ = Socket.sendAll(fd, payload) }.start()
            let echoed = read(fd, payload.count, timeout: 10 * Time.second)
            let seconds = Double(MonotonicClock.now() - began) / 1e9
            #expect(echoed.count == payload.count)
            // 400 kB at 200 kB/s: about 2 s (a 0.1 s burst is allowed).
            #expect(seconds >= 1.5 && seconds < 4, "400 kB took \(seconds) s at 200 kB/s")
        }
    }
}
