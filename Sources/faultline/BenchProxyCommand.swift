//! `faultline bench proxy`: what the fault proxy costs, on loopback, side by side with a direct
//! connection and with socat: request/response latency on one persistent connection (64-byte
//! ping-pong) and bulk throughput one way.
//!
//!     faultline bench proxy --round-trips 20000 --bytes 2GB

import Base
import Faults
import Foundation
import Glibc
import Net
import Proxy

enum BenchProxyCommand {
    static let help = """
        usage: faultline bench proxy [options]

          --round-trips N     ping-pong round trips per path, after 1000 to warm up (default 20000);
                              the paths take turns, 10 slices each, and p50/p99 pool every slice
          --bytes SIZE        streamed one way per path, in 3 turns of a third (the median
                              turn's rate is reported; default 2GB)
          --message-size N    bytes per ping (default 64)
          --no-socat          skip the socat column
          --no-splice         the proxy copies through its buffer instead of splice(2)
          --spin D            also measure a proxy whose relay threads poll up to D before they
                              block (limits.spin; default 200us; 0 leaves the row out)
          --json              one JSON object per path instead of the table

        Paths: direct (client -> server), proxy (through this build's fault proxy, no rules),
        socat (socat TCP-LISTEN:port,reuseaddr,fork TCP:127.0.0.1:server, when installed).
        """

    struct Settings {
        var roundTrips = 20_000
        var messageSize = 64
        var bytes: Int64 = 2_000_000_000
        var socat = true
        var splice = true
        var spin: Nanoseconds = 200 * Time.microsecond
        var json = false
    }

    struct Figures {
        var path: String
        var p50: Nanoseconds
        var p99: Nanoseconds
        var bytesPerSecond: Double
    }

    static func parse(_ arguments: [String]) throws(CommandError) -> Settings {
        var settings = Settings()
        var flags = FlagReader(arguments)
        while let flag = flags.next() {
            switch flag {
            case "--round-trips":
                let text = try flags.value(flag)
                guard let count = Int(text), count >= 100, count <= 10_000_000 else {
                    throw CommandError("--round-trips takes 100 to 10000000 (got '\(text)')")
                }
                settings.roundTrips = count
            case "--message-size":
                let text = try flags.value(flag)
                guard let size = Int(text), size >= 1, size <= 1 << 20 else { throw CommandError("--message-size takes 1 to 1048576 (got '\(text)')") }
                settings.messageSize = size
            case "--bytes":
                let text = try flags.value(flag)
                guard let bytes = FaultText.bytes(text), bytes >= 1 << 20 else {
                    throw CommandError("--bytes takes a size of at least 1MiB like 2GB or 512MiB (got '\(text)')")
                }
                settings.bytes = bytes
            case "--no-socat": settings.socat = false
            case "--no-splice": settings.splice = false
            case "--spin":
                let text = try flags.value(flag)
                guard let spin = text == "0" ? 0 : Time.parse(text), spin <= Time.millisecond else {
                    throw CommandError("--spin takes a duration up to 1ms like 200us, or 0 (got '\(text)')")
                }
                settings.spin = spin
            case "--json": settings.json = true
            case "-h", "--help": throw CommandError("")
            default: throw CommandError("unknown option '\(flag)'")
            }
        }
        return settings
    }

    static func run(_ arguments: [String]) -> Int32 {
        let settings: Settings
        switch parsedOrExitCode({ () throws(CommandError) in try parse(arguments) }, command: "bench proxy", help: help) {
        case .success(let parsed): settings = parsed
        case .failure(let exit): return exit.code
        }
        Socket.ignoreBrokenPipes()
        let echo: BenchServer
        let sink: BenchServer
        do {
            echo = try BenchServer(kind: .echo)
            sink = try BenchServer(kind: .sink)
        } catch {
            FileHandle.standardError.write(Data("faultline bench proxy: cannot start the servers: \(error)\n".utf8))
            return 1
        }
        // The proxy as the testbed runs it, and the same with spinning relay threads (opt-in:
        // it costs the cluster under test CPU).
        var limits = ProxyLimits()
        limits.splice = settings.splice
        var spinLimits = limits
        spinLimits.spin = settings.spin
        var proxies: [(String, FaultProxy)] = []
        defer { for (_, proxy) in proxies { proxy.stop() } }
        for (name, proxyLimits) in [("proxy", limits), ("proxy+spin", spinLimits)] where name == "proxy" || settings.spin > 0 {
            let any = Endpoint(host: "127.0.0.1", port: 0)
            let proxy = FaultProxy(configuration: ProxyConfiguration(
                routes: [Route(host: "echo", listen: any, target: echo.endpoint), Route(host: "sink", listen: any, target: sink.endpoint)],
                sources: ["127.0.0.1": "client"], limits: proxyLimits))
            do {
                try proxy.start()
            } catch {
                FileHandle.standardError.write(Data("faultline bench proxy: cannot start the \(name) path: \(error.message)\n".utf8))
                return 1
            }
            proxies.append((name, proxy))
        }
        var paths: [(String, Endpoint, Endpoint)] = [("direct", echo.endpoint, sink.endpoint)]
        paths += proxies.map { ($0.0, $0.1.listening[0], $0.1.listening[1]) }
        var socats: [Process] = []
        defer {
            for process in socats where process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
        }
        if settings.socat {
            switch startSocat(for: [echo.endpoint, sink.endpoint]) {
            case .success(let (processes, endpoints)):
                socats = processes
                paths.append(("socat", endpoints[0], endpoints[1]))
            case .failure(let error):
                print("socat: \(error.message)")
            }
        }
        if !settings.json {
            print("loopback, \(settings.roundTrips) round trips of \(settings.messageSize) bytes on one connection; \(settings.bytes / 1_000_000) MB streamed one way")
            print(pad("path", 11) + pad("p50", 11) + pad("p99", 11) + pad("added p50", 12) + "throughput")
        }
        // The paths take turns (10 slices of the round trips, 3 slices of the stream), so a
        // neighbour's load or a frequency change hits them all alike instead of one column.
        var samples = [[Nanoseconds]](repeating: [], count: paths.count)
        var rates = [[Double]](repeating: [], count: paths.count)
        do {
            let connections = try paths.map { path throws(NetError) in try Socket.connect(path.1, timeout: 2 * Time.second) }
            defer { for fd in connections { close(fd) } }
            for (index, fd) in connections.enumerated() { _ = try pingPong(fd, count: 1000, settings: settings, into: &samples[index]) }
            samples = samples.map { _ in [] }
            for _ in 0..<10 {
                for (index, fd) in connections.enumerated() {
                    try pingPong(fd, count: settings.roundTrips / 10, settings: settings, into: &samples[index])
                }
            }
            for _ in 0..<3 {
                for (index, path) in paths.enumerated() { rates[index].append(try stream(path.2, bytes: settings.bytes / 3)) }
            }
        } catch {
            FileHandle.standardError.write(Data("faultline bench proxy: \(error)\n".utf8))
            return 1
        }
        var direct: Figures?
        for (index, path) in paths.enumerated() {
            let sorted = samples[index].sorted()
            let figures = Figures(path: path.0, p50: sorted[sorted.count / 2], p99: sorted[min(sorted.count - 1, sorted.count * 99 / 100)],
                bytesPerSecond: rates[index].sorted()[1])
            if direct == nil { direct = figures }
            report(figures, direct: direct!, json: settings.json)
        }
        return 0
    }

    private static func report(_ figures: Figures, direct: Figures, json: Bool) {
        let added = figures.p50 - direct.p50
        if json {
            print("{\"path\":\"\(figures.path)\",\"p50_us\":\(micro(figures.p50)),\"p99_us\":\(micro(figures.p99)),\"added_p50_us\":\(micro(added)),\"mb_per_second\":\(Int(figures.bytesPerSecond / 1e6))}")
        } else {
            let addedText = figures.path == direct.path ? "-" : (added >= 0 ? "+" : "") + micro(added) + "µs"
            print(pad(figures.path, 11) + pad(micro(figures.p50) + "µs", 11) + pad(micro(figures.p99) + "µs", 11) + pad(addedText, 12)
                + "\(Int(figures.bytesPerSecond / 1e6)) MB/s")
        }
    }

    private static func micro(_ value: Nanoseconds) -> String {
        let tenths = (value + (value >= 0 ? 50 : -50)) / 100
        let sign = tenths < 0 ? "-" : ""
        return "\(sign)\(abs(tenths) / 10).\(abs(tenths) % 10)"
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    // MARK: - Measurements

    /// `count` round trips of one message on an open connection, each one's time appended.
    static func pingPong(_ fd: Int32, count: Int, settings: Settings, into samples: inout [Nanoseconds]) throws(NetError) {
        Socket.setReceiveTimeout(fd, 5 * Time.second)
        let message = [UInt8](repeating: 0x61, count: settings.messageSize)
        var reply = [UInt8](repeating: 0, count: settings.messageSize)
        samples.reserveCapacity(samples.count + count)
        for _ in 0..<count {
            let started = MonotonicClock.now()
            guard Socket.sendAll(fd, message) else { throw NetError("ping failed: \(String(cString: strerror(errno)))") }
            var got = 0
            while got < message.count {
                let result = reply.withUnsafeMutableBytes { Socket.receive(fd, into: UnsafeMutableRawBufferPointer(rebasing: $0[got...])) }
                guard case .data(let received) = result else { throw NetError("the echo ended: \(result)") }
                got += received
            }
            samples.append(MonotonicClock.now() - started)
        }
    }

    /// Streams `bytes` one way and waits for the sink's acknowledgement; answers bytes per second.
    static func stream(_ endpoint: Endpoint, bytes: Int64) throws(NetError) -> Double {
        let fd = try Socket.connect(endpoint, timeout: 2 * Time.second)
        defer { close(fd) }
        Socket.setReceiveTimeout(fd, 60 * Time.second)
        let block = [UInt8](repeating: 0x62, count: 1 << 20)
        let started = MonotonicClock.now()
        var sent: Int64 = 0
        while sent < bytes {
            let count = Int(min(Int64(block.count), bytes - sent))
            guard block.withUnsafeBytes({ Socket.sendAll(fd, UnsafeRawBufferPointer(rebasing: $0[..<count])) }) else {
                throw NetError("streaming to \(endpoint) failed after \(sent) bytes")
            }
            sent += Int64(count)
        }
        shutdown(fd, Int32(SHUT_WR))
        var answer = [UInt8](repeating: 0, count: 32)
        let result = answer.withUnsafeMutableBytes { Socket.receive(fd, into: $0) }
        guard case .data(let count) = result, let received = Int64(String(decoding: answer[..<count], as: UTF8.self)) else {
            throw NetError("the sink behind \(endpoint) did not acknowledge: \(result)")
        }
        guard received == bytes else { throw NetError("the sink received \(received) of \(bytes) bytes") }
        let elapsed = MonotonicClock.now() - started
        return Double(bytes) / (Double(elapsed) / 1e9)
    }

    // MARK: - socat

    /// Starts one socat per target on free loopback ports and waits until each accepts.
    static func startSocat(for targets: [Endpoint]) -> Result<([Process], [Endpoint]), CommandError> {
        let candidates = ["/usr/bin/socat", "/bin/socat", "/usr/local/bin/socat"]
        guard let executable = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            return .failure(CommandError("not installed"))
        }
        var processes: [Process] = []
        var endpoints: [Endpoint] = []
        for target in targets {
            // A free port: bind port 0, read it, release it for socat.
            guard let probe = try? Socket.listen(Endpoint(host: "127.0.0.1", port: 0)) else {
                return .failure(CommandError("no free port"))
            }
            let port = Socket.localPort(probe)
            close(probe)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = ["TCP-LISTEN:\(port),bind=127.0.0.1,reuseaddr,fork", "TCP:127.0.0.1:\(target.port)"]
            do {
                try process.run()
            } catch {
                return .failure(CommandError("cannot start \(executable): \(error.localizedDescription)"))
            }
            processes.append(process)
            let endpoint = Endpoint(host: "127.0.0.1", port: port)
            let deadline = MonotonicClock.now() + 3 * Time.second
            var ready = false
            while !ready && MonotonicClock.now() < deadline {
                if let fd = try? Socket.connect(endpoint, timeout: Time.second) {
                    close(fd)
                    ready = true
                } else {
                    usleep(10_000)
                }
            }
            guard ready else {
                for started in processes { started.terminate() }
                return .failure(CommandError("socat did not start listening on \(endpoint)"))
            }
            endpoints.append(endpoint)
        }
        return .success((processes, endpoints))
    }
}

/// The benchmark's servers: echo (every byte straight back) and sink (counts bytes until the
/// end of stream, then answers the count). One blocking thread per connection.
final class BenchServer: @unchecked Sendable {
    enum Kind { case echo, sink }
    let endpoint: Endpoint
    private let listener: Int32

    init(kind: Kind) throws(NetError) {
        listener = try Socket.listen(Endpoint(host: "127.0.0.1", port: 0))
        endpoint = Endpoint(host: "127.0.0.1", port: Socket.localPort(listener))
        let listener = self.listener
        let thread = Thread {
            while let fd = Socket.accept(listener) {
                let worker = Thread { BenchServer.serve(fd, kind: kind) }
                worker.stackSize = 256 << 10
                worker.start()
            }
        }
        thread.start()
    }

    private static func serve(_ fd: Int32, kind: Kind) {
        defer { close(fd) }
        let size = kind == .echo ? 64 << 10 : 1 << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
        defer { buffer.deallocate() }
        var total: Int64 = 0
        while case .data(let count) = Socket.receive(fd, into: buffer) {
            total += Int64(count)
            if kind == .echo {
                guard Socket.sendAll(fd, UnsafeRawBufferPointer(rebasing: buffer[..<count])) else { return }
            }
        }
        if kind == .sink { _ = Socket.sendAll(fd, Array(String(total).utf8)) }
    }
}
