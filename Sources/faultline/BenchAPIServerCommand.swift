//! `faultline bench apiserver`: what the apiserver costs over its store. In one run, at the same
//! concurrency: the store's raw put rate (1 KB values, straight to etcd's JSON API), then
//! through the apiserver creates, gets and lists of ConfigMaps, and a watch fan-out (N watchers
//! on one namespace while objects are created: events delivered and the delay from the create's
//! answer to each watcher's event).
//!
//!     faultline bench apiserver --apiserver http://127.0.0.1:6443 --etcd-endpoints http://127.0.0.1:2379

import Base
import EtcdClient
import Foundation
import Net
import Synchronization

enum BenchAPIServerCommand {
    static let help = """
        usage: faultline bench apiserver --apiserver URL --etcd-endpoints URLS [options]

          --apiserver URL        the apiserver (http://HOST:PORT)
          --etcd-endpoints URLS  its store, for the raw put rate side by side
          --clients N            concurrent clients in every round (default 8)
          --duration D           per round (default 10s)
          --watchers N           watchers in the fan-out round (default 100)
          --events N             objects created during the fan-out round (default 200)

        Creates namespaces bench-<pid>-{create,list,watch} and deletes them at the end.
        """

    struct Settings {
        var apiserver = Endpoint(host: "127.0.0.1", port: 6443)
        var etcd: [String] = []
        var clients = 8
        var duration: Nanoseconds = 10 * Time.second
        var watchers = 100
        var events = 200
    }

    static func parse(_ arguments: [String]) throws(CommandError) -> Settings {
        var settings = Settings()
        var flags = FlagReader(arguments)
        var apiserverGiven = false
        while let flag = flags.next() {
            switch flag {
            case "--apiserver":
                var text = try flags.value(flag)
                if text.hasPrefix("http://") { text.removeFirst("http://".count) }
                do { settings.apiserver = try Endpoint(parsing: text) } catch {
                    throw CommandError("--apiserver takes http://HOST:PORT (\(error.message))")
                }
                apiserverGiven = true
            case "--etcd-endpoints": settings.etcd = try flags.value(flag).split(separator: ",").map(String.init)
            case "--clients": settings.clients = try flags.integer(flag, 1...512)
            case "--duration":
                let text = try flags.value(flag)
                guard let duration = Time.parse(text), duration > 0 else { throw CommandError("--duration takes a duration like 10s (got '\(text)')") }
                settings.duration = duration
            case "--watchers": settings.watchers = try flags.integer(flag, 1...2000)
            case "--events": settings.events = try flags.integer(flag, 1...100_000)
            case "-h", "--help": throw CommandError("")
            default: throw CommandError("unknown option '\(flag)'")
            }
        }
        guard apiserverGiven else { throw CommandError("--apiserver URL is required") }
        guard !settings.etcd.isEmpty else { throw CommandError("--etcd-endpoints URLS is required (the raw put rate is the reference)") }
        return settings
    }

    static func run(_ arguments: [String]) -> Int32 {
        let settings: Settings
        switch parsedOrExitCode({ () throws(CommandError) in try parse(arguments) }, command: "bench apiserver", help: help) {
        case .success(let parsed): settings = parsed
        case .failure(let exit): return exit.code
        }
        let prefix = "bench-\(getpid())"
        let namespaces = ["create", "list", "watch"].map { "\(prefix)-\($0)" }
        for namespace in namespaces {
            let status = request(settings.apiserver, "POST", "/api/v1/namespaces", body: #"{"metadata":{"name":"\#(namespace)"}}"#).status
            guard status == 201 else {
                FileHandle.standardError.write(Data("faultline bench apiserver: cannot create namespace \(namespace) (HTTP \(status)); is the apiserver at \(settings.apiserver) up?\n".utf8))
                return 1
            }
        }
        defer {
            // Emptied and finalized here, so that the namespaces go without a controller-manager too.
            for namespace in namespaces {
                _ = request(settings.apiserver, "DELETE", "/api/v1/namespaces/\(namespace)/configmaps", body: nil)
                _ = request(settings.apiserver, "DELETE", "/api/v1/namespaces/\(namespace)", body: nil)
                _ = request(settings.apiserver, "PUT", "/api/v1/namespaces/\(namespace)/finalize",
                    body: #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"\#(namespace)"},"spec":{"finalizers":[]}}"#)
            }
        }
        let payload = String(repeating: "x", count: 1000)
        print("apiserver \(settings.apiserver) over \(settings.etcd.joined(separator: ",")): \(settings.clients) clients, \(Time.describe(settings.duration)) per round, 1 KB objects")
        print(BenchKVCommand.pad("operation", 20) + BenchKVCommand.pad("clients", 9) + BenchKVCommand.pad("ops/s", 10)
            + BenchKVCommand.pad("p50", 10) + BenchKVCommand.pad("p99", 10) + "errors")
        func show(_ name: String, _ round: BenchKVCommand.Round) {
            print(BenchKVCommand.pad(name, 20) + BenchKVCommand.pad("\(round.clients)", 9) + BenchKVCommand.pad("\(Int(round.perSecond))", 10)
                + BenchKVCommand.pad(Time.describe(round.percentile(0.5)), 10) + BenchKVCommand.pad(Time.describe(round.percentile(0.99)), 10)
                + "\(round.failed)")
        }
        // The reference: raw puts of the same size into the store, alternated with creates
        // through the apiserver (the store slows as it grows, so back-to-back pairs compare
        // like with like); the ratio is over both pairs.
        var rawTotal = 0.0, createTotal = 0.0
        var raw = BenchKVCommand.Round(operation: "store put", clients: settings.clients)
        var creates = BenchKVCommand.Round(operation: "create", clients: settings.clients)
        for pair in 1...2 {
            raw = measure(settings, "store put") { worker, sequence in
                let client = clients.client(worker, settings.etcd)
                do { try client.put("/bench/\(prefix)/\(pair)-\(worker)-\(sequence)", payload); return true } catch { return false }
            }
            show("store put (raw)", raw)
            creates = measure(settings, "create") { worker, sequence in
                request(settings.apiserver, "POST", "/api/v1/namespaces/\(namespaces[0])/configmaps",
                    body: #"{"metadata":{"name":"c\#(pair)-\#(worker)-\#(sequence)"},"data":{"v":"\#(payload)"}}"#, worker: worker).status == 201
            }
            show("apiserver create", creates)
            rawTotal += raw.perSecond
            createTotal += creates.perSecond
        }
        let gets = measure(settings, "get") { worker, sequence in
            request(settings.apiserver, "GET", "/api/v1/namespaces/\(namespaces[0])/configmaps/c2-\(worker)-\(sequence % 50 + 1)", body: nil, worker: worker).status == 200
        }
        show("apiserver get", gets)
        for index in 0..<100 {
            _ = request(settings.apiserver, "POST", "/api/v1/namespaces/\(namespaces[1])/configmaps", body: #"{"metadata":{"name":"l-\#(index)"},"data":{"v":"\#(payload)"}}"#)
        }
        let lists = measure(settings, "list") { worker, _ in
            request(settings.apiserver, "GET", "/api/v1/namespaces/\(namespaces[1])/configmaps", body: nil, worker: worker).status == 200
        }
        show("apiserver list (100)", lists)
        let fanOut = watchFanOut(settings, namespace: namespaces[2], payload: payload)
        print(fanOut)
        let ratio = rawTotal > 0 ? createTotal / rawTotal : 0
        print(String(format: "creates/s ÷ raw puts/s at %d clients, over both pairs: %.0f%% (target ≥ 80%%)", settings.clients, ratio * 100))
        return raw.failed + creates.failed + gets.failed + lists.failed == 0 ? 0 : 1
    }

    /// Rounds of `body(worker, sequence)` from `clients` threads for the duration.
    static func measure(_ settings: Settings, _ operation: String, _ body: @escaping @Sendable (Int, Int) -> Bool) -> BenchKVCommand.Round {
        let rounds = Mutex<[BenchKVCommand.Round]>([])
        let start = MonotonicClock.now()
        let deadline = start + settings.duration
        let group = DispatchGroup()
        for worker in 0..<settings.clients {
            group.enter()
            Thread {
                var round = BenchKVCommand.Round(operation: operation, clients: settings.clients)
                var sequence = 0
                while MonotonicClock.now() < deadline {
                    sequence += 1
                    let began = MonotonicClock.now()
                    if body(worker, sequence) {
                        round.done += 1
                        round.latencies.append(MonotonicClock.now() - began)
                    } else {
                        round.failed += 1
                    }
                }
                rounds.withLock { $0.append(round) }
                group.leave()
            }.start()
        }
        group.wait()
        var total = BenchKVCommand.Round(operation: operation, clients: settings.clients)
        for round in rounds.withLock({ $0 }) {
            total.done += round.done
            total.failed += round.failed
            total.latencies += round.latencies
        }
        total.elapsed = MonotonicClock.now() - start
        return total
    }

    /// N watchers on one namespace; `events` creates, one at a time; each watcher's delay from
    /// the create's answer to its ADDED event.
    static func watchFanOut(_ settings: Settings, namespace: String, payload: String) -> String {
        let answered = Mutex<[String: Nanoseconds]>([:])
        let delays = Mutex<[Nanoseconds]>([])
        let received = Atomic<Int>(0)
        let connected = Atomic<Int>(0)
        let watchers = (0..<settings.watchers).map { _ in HTTPClient(endpoint: settings.apiserver) }
        let finished = DispatchGroup()
        for watcher in watchers {
            finished.enter()
            let box = UncheckedClientBox(watcher)
            Thread {
                var pending: [UInt8] = []
                connected.add(1, ordering: .relaxed)
                _ = try? box.client.stream("/api/v1/namespaces/\(namespace)/configmaps?watch=true&resourceVersion=1", method: "GET", body: [],
                    idleTimeout: 30 * Time.second)
                { chunk in
                    pending += chunk
                    while let newline = pending.firstIndex(of: 10) {
                        let line = String(decoding: pending[..<newline], as: UTF8.self)
                        pending.removeFirst(newline + 1)
                        guard let range = line.range(of: #""name":"w-"#) else { continue }
                        let name = "w-" + line[range.upperBound...].prefix { $0 != "\"" }
                        let now = MonotonicClock.now()
                        if let sent = answered.withLock({ $0[String(name)] }) { delays.withLock { $0.append(max(0, now - sent)) } }
                        if received.add(1, ordering: .relaxed).newValue >= settings.watchers * settings.events { return false }
                    }
                    return received.load(ordering: .relaxed) < settings.watchers * settings.events
                }
                finished.leave()
            }.start()
        }
        while connected.load(ordering: .relaxed) < settings.watchers { usleep(10_000) }
        usleep(500_000)
        let start = MonotonicClock.now()
        var failed = 0
        for index in 0..<settings.events {
            let name = "w-\(index)"
            // Recorded before the create: a watcher can see the event before the answer arrives.
            answered.withLock { $0[name] = MonotonicClock.now() }
            if request(settings.apiserver, "POST", "/api/v1/namespaces/\(namespace)/configmaps", body: #"{"metadata":{"name":"\#(name)"},"data":{"v":"\#(payload)"}}"#).status != 201 {
                failed += 1
            }
        }
        let deadline = MonotonicClock.now() + 20 * Time.second
        while received.load(ordering: .relaxed) < settings.watchers * settings.events && MonotonicClock.now() < deadline { usleep(20_000) }
        let elapsed = MonotonicClock.now() - start
        for watcher in watchers { watcher.interrupt() }
        finished.wait()
        let sorted = delays.withLock { $0 }.sorted()
        let p = { (q: Double) in sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))] }
        let delivered = received.load(ordering: .relaxed)
        return String(format: "watch fan-out: %d watchers × %d creates: %d of %d events in %@ (%.0f events/s), create→event p50 %@ p99 %@, %d failed creates",
            settings.watchers, settings.events, delivered, settings.watchers * settings.events, Time.describe(elapsed),
            Double(delivered) / (Double(elapsed) / 1e9), Time.describe(p(0.5)), Time.describe(p(0.99)), failed)
    }

    /// One keep-alive connection per worker thread.
    private static let connections = Mutex<[Int: UncheckedClientBox]>([:])
    private static let clients = EtcdClients()

    static func request(_ endpoint: Endpoint, _ method: String, _ path: String, body: String?, worker: Int = -1) -> HTTPResponse.Status {
        let box = worker < 0 ? UncheckedClientBox(HTTPClient(endpoint: endpoint)) : connections.withLock { pool in
            if let existing = pool[worker] { return existing }
            let made = UncheckedClientBox(HTTPClient(endpoint: endpoint))
            pool[worker] = made
            return made
        }
        guard let response = try? box.client.request(method, path, body: body.map { Array($0.utf8) }, timeout: 10 * Time.second) else {
            return HTTPResponse.Status(status: 0)
        }
        return HTTPResponse.Status(status: response.status)
    }
}

extension HTTPResponse {
    /// Only the status survives a request in the benchmark (bodies are not kept).
    struct Status { let status: Int }
}

/// An HTTP client used by one thread at a time (or interrupted from another, which it allows).
final class UncheckedClientBox: @unchecked Sendable {
    let client: HTTPClient
    init(_ client: HTTPClient) { self.client = client }
}

/// One store client per worker thread, for the raw put rate.
final class EtcdClients: @unchecked Sendable {
    private let lock = NSLock()
    private var byWorker: [Int: EtcdClient] = [:]
    func client(_ worker: Int, _ endpoints: [String]) -> EtcdClient {
        lock.withLock {
            if let existing = byWorker[worker] { return existing }
            let made = EtcdClient(endpoints: [endpoints[worker % endpoints.count]])
            byWorker[worker] = made
            return made
        }
    }
}
