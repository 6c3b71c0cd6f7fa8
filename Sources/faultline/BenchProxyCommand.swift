//! `faultline bench proxy`: what the fault proxy costs, side by side with a direct connection
//! and with socat (Debian's, when installed), in one run on loopback:
//! - latency: 64-byte ping-pong on one persistent connection, p50 and p99, and the p50 added;
//! - throughput: one bulk stream, MB/s.

import Base
import Foundation
import Glibc
import Net
import Testbed

enum BenchProxyCommand {
    static let help = """
        usage: faultline bench proxy [--round-trips N] [--megabytes N]

          --round-trips N   64-byte ping-pongs per path (default 20000)
          --megabytes N     bulk bytes streamed per path (default 2048)
        """

    static func run(_ arguments: [String]) -> Int32 {
        var roundTrips = 20_000
        var megabytes = 2048
        var remaining = arguments[...]
        while let argument = remaining.popFirst() {
            switch argument {
            case "-h", "--help":
                print(help)
                return 0
            case "--round-trips":
                guard let value = remaining.popFirst().flatMap(Int.init), value > 0 else { return usage("--round-trips takes a positive number") }
                roundTrips = value
            case "--megabytes":
                guard let value = remaining.popFirst().flatMap(Int.init), value > 0 else { return usage("--megabytes takes a positive number") }
                megabytes = value
            default:
                return usage("unknown option \(argument)")
            }
        }
        do {
            let echo = try EchoServer()
            defer { echo.stop() }
            let proxy = FaultProxy(routes: [FaultProxy.Route(listen: Endpoint(host: "127.0.0.1", port: try Socket.freePort()),
                target: Endpoint(host: "127.0.0.1", port: echo.port), host: "server")], sources: ["127.0.0.1": "client"])
            try proxy.start()
            defer { proxy.stop() }
            var paths: [(String, UInt16)] = [("direct", echo.port), ("faultline proxy", proxy.routes[0].listen.port)]
            let socat = startSocat(to: echo.port)
            if let socat { paths.append(("socat", socat.port)) } else { print("socat: not installed (Scripts/setup installs it); its column is skipped") }
            defer { if let socat { socat.process.terminate(); socat.process.waitUntilExit() } }
            usleep(200_000)
            print("path             | p50 µs | p99 µs | added p50 µs | MB/s")
            var directP50 = 0.0
            for (name, port) in paths {
                let (p50, p99) = try pingPong(port: port, count: roundTrips)
                if name == "direct" { directP50 = p50 }
                let throughput = try bulk(port: port, megabytes: megabytes)
                print(name.padding(toLength: 16, withPad: " ", startingAt: 0) + String(format: " | %6.1f | %6.1f | %12.1f | %5.0f", p50, p99, p50 - directP50, throughput))
            }
        } catch {
            FileHandle.standardError.write(Data("faultline bench proxy: \(error)\n".utf8))
            return 1
        }
        return 0
    }

    static func usage(_ message: String) -> Int32 {
        FileHandle.standardError.write(Data("faultline bench proxy: \(message)\n\n\(help)\n".utf8))
        return 2
    }

    /// Round trips of 64 bytes; p50 and p99 in microseconds.
    static func pingPong(port: UInt16, count: Int) throws -> (Double, Double) {
        let fd = try Socket.connect(Endpoint(host: "127.0.0.1", port: port), timeout: 2 * Time.second)
        defer { close(fd) }
        Socket.setNoDelay(fd)
        let message = [UInt8](repeating: 7, count: 64)
        var buffer = [UInt8](repeating: 0, count: 64)
        var samples: [Double] = []
        samples.reserveCapacity(count)
        for index in 0..<(count + 500) {
            let began = MonotonicClock.now()
            guard Socket.sendAll(fd, message) else { throw NetError("ping failed") }
            var received = 0
            while received < 64 {
                let result = buffer.withUnsafeMutableBytes { Socket.receive(fd, into: UnsafeMutableRawBufferPointer(rebasing: $0[received...])) }
                guard case .data(let bytes) = result else { throw NetError("pong failed") }
                received += bytes
            }
            if index >= 500 { samples.append(Double(MonotonicClock.now() - began) / 1000) }
        }
        samples.sort()
        return (samples[samples.count / 2], samples[samples.count * 99 / 100])
    }

    /// Streams `megabytes` one way and waits for the server's count; MB/s.
    static func bulk(port: UInt16, megabytes: Int) throws -> Double {
        let fd = try Socket.connect(Endpoint(host: "127.0.0.1", port: port), timeout: 2 * Time.second)
        defer { close(fd) }
        let chunk = [UInt8](repeating: 1, count: 1 << 20)
        // The echo server echoes; drain the echo on another thread.
        let total = megabytes << 20
        let drained = DispatchSemaphore(value: 0)
        Thread {
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            var received = 0
            while received < total {
                guard case .data(let bytes) = buffer.withUnsafeMutableBytes({ Socket.receive(fd, into: $0) }) else { break }
                received += bytes
            }
            drained.signal()
        }.start()
        let began = MonotonicClock.now()
        for _ in 0..<megabytes { guard Socket.sendAll(fd, chunk) else { throw NetError("bulk send failed") } }
        drained.wait()
        return Double(megabytes) / (Double(MonotonicClock.now() - began) / 1e9)
    }

    static func startSocat(to port: UInt16) -> (process: Process, port: UInt16)? {
        guard let path = ["/usr/bin/socat", "/bin/socat"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
        guard let listen = try? Socket.freePort() else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["TCP-LISTEN:\(listen),bind=127.0.0.1,reuseaddr,fork,nodelay", "TCP:127.0.0.1:\(port),nodelay"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        return (process, listen)
    }
}
