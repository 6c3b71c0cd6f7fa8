//! `faultline bench kv`: puts/s and linearizable reads/s against any endpoint that speaks etcd's
//! v3 JSON API (ours or real etcd), at several client counts, each client its own connection,
//! spread round-robin over the endpoints (as etcd's own benchmark tool does).
//!
//!     faultline bench kv --endpoints http://127.0.0.1:2379 --clients 1,8,32 --duration 10s

import Base
import EtcdClient
import Net
import Foundation

enum BenchKVCommand {
    static let help = """
        usage: faultline bench kv --endpoints URLS [options]

          --endpoints URLS     comma-separated client URLs (required)
          --clients LIST       concurrent clients per round (default 1,8,32)
          --duration D         per round and operation (default 10s)
          --keys N             distinct keys written and read (default 1000)
          --value-size BYTES   (default 256)
          --label NAME         name printed in the table (default: the first endpoint)
          --json               one JSON object per round instead of the table
        """

    struct Settings {
        var endpoints: [String] = []
        var clients = [1, 8, 32]
        var duration: Nanoseconds = 10 * Time.second
        var keys = 1000
        var valueSize = 256
        var label = ""
        var json = false
    }

    struct Round {
        var operation: String
        var clients: Int
        var done = 0
        var failed = 0
        var latencies: [Nanoseconds] = []
        var elapsed: Nanoseconds = 0

        var perSecond: Double { elapsed > 0 ? Double(done) / (Double(elapsed) / 1e9) : 0 }
        func percentile(_ p: Double) -> Nanoseconds {
            guard !latencies.isEmpty else { return 0 }
            let sorted = latencies.sorted()
            return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
        }
    }

    static func parse(_ arguments: [String]) throws(CommandError) -> Settings {
        var settings = Settings()
        var flags = FlagReader(arguments)
        while let flag = flags.next() {
            switch flag {
            case "--endpoints":
                settings.endpoints = try flags.value(flag).split(separator: ",").map(String.init)
            case "--clients":
                let text = try flags.value(flag)
                let counts = text.split(separator: ",").compactMap { Int($0) }
                guard !counts.isEmpty, counts.count == text.split(separator: ",").count, counts.allSatisfy({ $0 >= 1 && $0 <= 1024 }) else {
                    throw CommandError("--clients takes a list of counts between 1 and 1024, e.g. 1,8,32 (got '\(text)')")
                }
                settings.clients = counts
            case "--duration":
                let text = try flags.value(flag)
                guard let duration = Time.parse(text), duration > 0 else { throw CommandError("--duration takes a duration like 10s (got '\(text)')") }
                settings.duration = duration
            case "--keys":
                let text = try flags.value(flag)
                guard let keys = Int(text), keys >= 1 else { throw CommandError("--keys takes a positive number (got '\(text)')") }
                settings.keys = keys
            case "--value-size":
                let text = try flags.value(flag)
                guard let size = Int(text), size >= 0, size <= 1 << 20 else { throw CommandError("--value-size takes 0 to 1048576 (got '\(text)')") }
                settings.valueSize = size
            case "--label": settings.label = try flags.value(flag)
            case "--json": settings.json = true
            case "-h", "--help": throw CommandError("")
            default: throw CommandError("unknown option '\(flag)'")
            }
        }
        guard !settings.endpoints.isEmpty else { throw CommandError("--endpoints is required (e.g. --endpoints http://127.0.0.1:2379)") }
        if settings.label.isEmpty { settings.label = settings.endpoints[0] }
        return settings
    }

    static func run(_ arguments: [String]) -> Int32 {
        let settings: Settings
        switch parsedOrExitCode({ () throws(CommandError) in try parse(arguments) }, command: "bench kv", help: help) {
        case .success(let parsed): settings = parsed
        case .failure(let exit): return exit.code
        }
        // Fill the key space once so reads find values (in parallel: 100,000 keys take seconds).
        let value = String(repeating: "v", count: settings.valueSize)
        // (Threads, not concurrentPerform: that runs only as many at once as there are cores.)
        let loadFailures = ResultCollector(clients: 32)
        let loading = DispatchGroup()
        for worker in 0..<32 {
            loading.enter()
            Thread {
                let loader = EtcdClient(endpoints: [settings.endpoints[worker % settings.endpoints.count]])
                var round = Round(operation: "load", clients: 32)
                for key in stride(from: worker, to: settings.keys, by: 32) {
                    do { try loader.put(keyName(key), value) } catch { round.failed += 1 }
                }
                loadFailures.add(round)
                loading.leave()
            }.start()
        }
        loading.wait()
        let failedLoads = loadFailures.merged(operation: "load", clients: 32).failed
        if failedLoads > 0 {
            FileHandle.standardError.write(Data("faultline bench kv: \(failedLoads) of \(settings.keys) keys failed to load\n".utf8))
            return 1
        }
        if !settings.json {
            print("\(settings.label): \(settings.keys) keys, \(settings.valueSize)-byte values, \(Time.describe(settings.duration)) per round")
            print(pad("operation", 10) + pad("clients", 9) + pad("ops/s", 12) + pad("p50", 10) + pad("p99", 10) + "errors")
        }
        var failures = 0
        for clients in settings.clients {
            for operation in ["put", "get"] {
                let round = measure(operation: operation, clients: clients, settings: settings, value: value)
                failures += round.failed
                if settings.json {
                    print("{\"label\":\(quoted(settings.label)),\"operation\":\"\(operation)\",\"clients\":\(clients),\"ops_per_second\":\(Int(round.perSecond)),\"p50_us\":\(round.percentile(0.5) / 1000),\"p99_us\":\(round.percentile(0.99) / 1000),\"errors\":\(round.failed)}")
                } else {
                    print(pad(operation, 10) + pad("\(clients)", 9) + pad("\(Int(round.perSecond))", 12)
                        + pad(Time.describe(round.percentile(0.5)), 10) + pad(Time.describe(round.percentile(0.99)), 10) + "\(round.failed)")
                }
            }
        }
        return failures == 0 ? 0 : 1
    }

    static func keyName(_ index: Int) -> String { "bench/k\(index)" }

    static func measure(operation: String, clients: Int, settings: Settings, value: String) -> Round {
        let results = ResultCollector(clients: clients)
        let start = MonotonicClock.now()
        let deadline = start + settings.duration
        let group = DispatchGroup()
        for worker in 0..<clients {
            group.enter()
            let thread = Thread {
                let endpoint = settings.endpoints[worker % settings.endpoints.count]
                let client = EtcdClient(endpoints: [endpoint])
                var random = SeededRandom(seed: UInt64(worker + 1))
                var round = Round(operation: operation, clients: clients)
                round.latencies.reserveCapacity(1 << 16)
                while MonotonicClock.now() < deadline {
                    let key = keyName(random.int(in: 0...(settings.keys - 1)))
                    let began = MonotonicClock.now()
                    do {
                        if operation == "put" { try client.put(key, value) } else { _ = try client.get(key) }
                        round.done += 1
                        round.latencies.append(MonotonicClock.now() - began)
                    } catch {
                        round.failed += 1
                        if round.failed == 1 { FileHandle.standardError.write(Data("bench: \(error)\n".utf8)) }
                    }
                }
                results.add(round)
                group.leave()
            }
            thread.start()
        }
        group.wait()
        var total = results.merged(operation: operation, clients: clients)
        total.elapsed = MonotonicClock.now() - start
        return total
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}

private final class ResultCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var rounds: [BenchKVCommand.Round] = []
    init(clients: Int) { rounds.reserveCapacity(clients) }
    func add(_ round: BenchKVCommand.Round) { lock.withLock { rounds.append(round) } }
    func merged(operation: String, clients: Int) -> BenchKVCommand.Round {
        lock.withLock {
            var total = BenchKVCommand.Round(operation: operation, clients: clients)
            for round in rounds {
                total.done += round.done
                total.failed += round.failed
                total.latencies += round.latencies
            }
            return total
        }
    }
}

/// `faultline bench failover`: kill -9 the leader (a process the caller started and names by PID)
/// while writing through the survivors, and time until a write succeeds again.
enum BenchFailoverCommand {
    static let help = """
        usage: faultline bench failover --endpoints SURVIVOR_URLS --kill-pid PID

          Writes continuously through the survivors, sends SIGKILL to PID, and prints the time from
          the kill until the first write that succeeds (a line 'failover_ms=N').
        """

    static func run(_ arguments: [String]) -> Int32 {
        var endpoints: [String] = []
        var pid: Int32 = 0
        var flags = FlagReader(arguments)
        while let flag = flags.next() {
            switch flag {
            case "--endpoints": endpoints = (flags.next() ?? "").split(separator: ",").map(String.init)
            case "--kill-pid": pid = Int32(flags.next() ?? "") ?? 0
            case "-h", "--help":
                print(help)
                return 0
            default:
                FileHandle.standardError.write(Data("faultline bench failover: unknown option '\(flag)'\n\n\(help)\n".utf8))
                return 2
            }
        }
        guard !endpoints.isEmpty, pid > 1 else {
            FileHandle.standardError.write(Data("faultline bench failover: --endpoints and --kill-pid are required\n\n\(help)\n".utf8))
            return 2
        }
        let client = EtcdClient(endpoints: endpoints, timeout: 500 * Time.millisecond, connectTimeout: 200 * Time.millisecond)
        do {
            try client.put("bench/failover", "before")
        } catch {
            FileHandle.standardError.write(Data("faultline bench failover: the cluster does not take writes before the kill: \(error)\n".utf8))
            return 1
        }
        let killed = MonotonicClock.now()
        guard kill(pid, SIGKILL) == 0 else {
            FileHandle.standardError.write(Data("faultline bench failover: cannot signal \(pid): \(String(cString: strerror(errno)))\n".utf8))
            return 1
        }
        var attempt = 0
        while MonotonicClock.now() - killed < 60 * Time.second {
            attempt += 1
            let client = EtcdClient(endpoints: [endpoints[attempt % endpoints.count]], timeout: 500 * Time.millisecond,
                connectTimeout: 200 * Time.millisecond)
            if (try? client.put("bench/failover", "after-\(attempt)")) != nil {
                print("failover_ms=\((MonotonicClock.now() - killed) / Time.millisecond)")
                return 0
            }
            usleep(2_000)
        }
        print("failover_ms=timeout")
        return 1
    }
}
