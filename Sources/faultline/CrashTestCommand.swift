//! `faultline crash-test`: kill -9 members (one at a time, and the whole cluster) at random
//! instants under write load, restart them, and show that no acknowledged write was lost and
//! that the history is linearizable. The schedule comes from the seed; the process timing does
//! not, so a run is reproducible in what it does, not in exactly when.
//!
//!     faultline crash-test --members 3 --duration 20s --seed 7 [--impl etcd] [--out DIR]

import Base
import EtcdClient
import Foundation
import Glibc
import Linearizability
import Net
import Runner

enum CrashTestCommand {
    static let help = """
        usage: faultline crash-test [options]

          --members N        cluster size (default 3)
          --duration D       load-and-crash phase (default 20s)
          --seed S           the crash schedule (default 1)
          --clients N        concurrent clients (default 8)
          --impl builtin|etcd   faultline etcd (default) or real etcd, same flags
          --client-port P    members listen on P+1..P+N (default 24300); peers on P+101..
          --out DIR          history.jsonl and member logs (default: a new directory under /tmp)
          --wipe-on-restart  restart crashed members with empty data directories: a deliberately
                             broken store, to show the checks catch lost writes (exits 1)
        """

    struct Settings {
        var members = 3
        var duration: Nanoseconds = 20 * Time.second
        var seed: UInt64 = 1
        var clients = 8
        var implementation = LocalCluster.Implementation.builtin
        var clientPort = 24_300
        var out = ""
        var wipeOnRestart = false
    }

    static func parse(_ arguments: [String]) throws(CommandError) -> Settings {
        var settings = Settings()
        var flags = FlagReader(arguments)
        while let flag = flags.next() {
            switch flag {
            case "--members":
                guard let count = Int(try flags.value(flag)), (1...7).contains(count) else { throw CommandError("--members takes 1 to 7") }
                settings.members = count
            case "--duration":
                guard let duration = Time.parse(try flags.value(flag)), duration >= Time.second else { throw CommandError("--duration takes a duration of at least 1s, like 20s") }
                settings.duration = duration
            case "--seed":
                guard let seed = UInt64(try flags.value(flag)) else { throw CommandError("--seed takes a whole number") }
                settings.seed = seed
            case "--clients":
                guard let count = Int(try flags.value(flag)), (1...256).contains(count) else { throw CommandError("--clients takes 1 to 256") }
                settings.clients = count
            case "--impl":
                let text = try flags.value(flag)
                guard let implementation = LocalCluster.Implementation(rawValue: text) else { throw CommandError("--impl takes builtin or etcd (got '\(text)')") }
                settings.implementation = implementation
            case "--client-port":
                guard let port = Int(try flags.value(flag)), (1024...60_000).contains(port) else { throw CommandError("--client-port takes 1024 to 60000") }
                settings.clientPort = port
            case "--out": settings.out = try flags.value(flag)
            case "--wipe-on-restart": settings.wipeOnRestart = true
            case "-h", "--help": throw CommandError("")
            default: throw CommandError("unknown option '\(flag)'")
            }
        }
        if settings.out.isEmpty { settings.out = NSTemporaryDirectory() + "fl-crash-\(getpid())-\(settings.seed)" }
        return settings
    }

    static func run(_ arguments: [String]) -> Int32 {
        let settings: Settings
        do {
            settings = try parse(arguments)
        } catch {
            if error.message.isEmpty {
                print(help)
                return 0
            }
            FileHandle.standardError.write(Data("faultline crash-test: \(error.message)\n\n\(help)\n".utf8))
            return 2
        }
        print("SEED=\(settings.seed)")
        let cluster = LocalCluster(implementation: settings.implementation, size: settings.members,
            clientBase: settings.clientPort, peerBase: settings.clientPort + 100, directory: settings.out,
            extraFlags: ["--snapshot-count", "500"])
        try? FileManager.default.removeItem(atPath: settings.out)
        defer { cluster.stopAll() }
        do {
            try cluster.startAll()
        } catch {
            FileHandle.standardError.write(Data("faultline crash-test: cannot start members: \(error)\n".utf8))
            return 1
        }
        guard cluster.waitHealthy() else {
            FileHandle.standardError.write(Data("faultline crash-test: cluster not healthy within 30s; logs in \(settings.out)\n".utf8))
            return 1
        }
        let test = CrashTest(settings: settings, cluster: cluster)
        return test.run()
    }
}

final class CrashTest: @unchecked Sendable {
    let settings: CrashTestCommand.Settings
    let cluster: LocalCluster
    let history = HistoryRecorder(firstProcess: 0)
    private let lock = NSLock()
    /// Unique keys whose write was acknowledged, with the value written.
    private var acknowledged: [String: String] = [:]
    private var running = true
    private var kills = 0
    private var wholeClusterKills = 0
    static let registerKeys = (0..<8).map { "r\($0)" }

    init(settings: CrashTestCommand.Settings, cluster: LocalCluster) {
        self.settings = settings
        self.cluster = cluster
    }

    func run() -> Int32 {
        let group = DispatchGroup()
        for worker in 0..<settings.clients {
            group.enter()
            Thread { [self] in
                workload(worker)
                group.leave()
            }.start()
        }
        nemesis()
        lock.withLock { running = false }
        group.wait()
        // Everyone back up, then the final reads.
        for index in cluster.members.indices where !cluster.isRunning(index) { try? cluster.start(index) }
        guard cluster.waitHealthy(timeout: 60) else {
            print("FAIL: the cluster did not recover within 60s after the last crash; logs in \(settings.out)")
            return 1
        }
        return verify()
    }

    private func nemesis() {
        var random = SeededRandom(seed: settings.seed)
        let deadline = MonotonicClock.now() + settings.duration
        while MonotonicClock.now() < deadline {
            usleep(UInt32(random.int(in: 500...2_000)) * 1000)
            guard MonotonicClock.now() < deadline else { break }
            if random.chance(0.25) {
                // The whole cluster at once: only what reached every member's disk survives.
                for index in cluster.members.indices { cluster.signal(index, SIGKILL) }
                lock.withLock { wholeClusterKills += 1 }
                print("crash: all members killed")
                usleep(UInt32(random.int(in: 200...1_000)) * 1000)
                for index in cluster.members.indices { restart(index) }
            } else {
                let victim = random.int(in: 0...(cluster.members.count - 1))
                cluster.signal(victim, SIGKILL)
                lock.withLock { kills += 1 }
                print("crash: \(cluster.members[victim].name) killed")
                usleep(UInt32(random.int(in: 200...1_500)) * 1000)
                restart(victim)
            }
        }
    }

    private var isRunning: Bool { lock.withLock { running } }

    private func restart(_ index: Int) {
        if settings.wipeOnRestart {
            try? FileManager.default.removeItem(atPath: cluster.members[index].dataDirectory)
        }
        try? cluster.start(index)
    }

    private func workload(_ worker: Int) {
        var random = SeededRandom(seed: settings.seed &* 1000 &+ UInt64(worker))
        var process = history.newProcess()
        var sequence = 0
        var client = EtcdClient(endpoints: rotate(cluster.endpoints, by: worker), timeout: 2 * Time.second)
        while isRunning {
            sequence += 1
            if random.chance(0.5) {
                // A unique key, never overwritten: its presence at the end is the durability check.
                let key = "u/\(worker)/\(sequence)"
                let value = "\(worker)-\(sequence)"
                do {
                    try client.put(key, value)
                    lock.withLock { acknowledged[key] = value }
                } catch {
                    client = EtcdClient(endpoints: rotate(cluster.endpoints, by: worker + sequence), timeout: 2 * Time.second)
                    usleep(20_000)
                }
                continue
            }
            let key = CrashTest.registerKeys[random.int(in: 0...(CrashTest.registerKeys.count - 1))]
            let isWrite = random.chance(0.5)
            let value = "\(worker)-\(sequence)"
            let f: OperationKind = isWrite ? .write : .read
            history.record(process, .invoke, f, key, isWrite ? .string(value) : .null, node: client.currentEndpoint)
            do {
                if isWrite {
                    try client.put(key, value)
                    history.record(process, .ok, .write, key, .string(value), node: client.currentEndpoint)
                } else {
                    let read = try client.value(of: key)
                    history.record(process, .ok, .read, key, read.map { .string($0) } ?? .null, node: client.currentEndpoint)
                }
            } catch {
                let definite = error.isDefinite
                history.record(process, definite ? .fail : .info, f, key, isWrite ? .string(value) : .null,
                    node: client.currentEndpoint, error: "\(error)")
                if !definite { process = history.newProcess() }
                client = EtcdClient(endpoints: rotate(cluster.endpoints, by: worker + sequence), timeout: 2 * Time.second)
                usleep(20_000)
            }
        }
    }

    private func rotate(_ list: [String], by offset: Int) -> [String] {
        let shift = offset % list.count
        return Array(list[shift...] + list[..<shift])
    }

    private func verify() -> Int32 {
        let client = EtcdClient(endpoints: cluster.endpoints, timeout: 10 * Time.second)
        let process = history.newProcess()
        var finalReadErrors = 0
        for key in CrashTest.registerKeys {
            history.record(process, .invoke, .read, key, .null)
            do {
                let value = try client.value(of: key)
                history.record(process, .ok, .read, key, value.map { .string($0) } ?? .null)
            } catch {
                finalReadErrors += 1
                history.record(process, .fail, .read, key, .null, error: "\(error)")
            }
        }
        var present: [String: String] = [:]
        do {
            for kv in try client.get("u/", prefix: true).kvs { present[kv.keyString] = kv.valueString }
        } catch {
            print("FAIL: cannot read back the unique keys: \(error)")
            return 1
        }
        let acknowledgedWrites = lock.withLock { acknowledged }
        let lost = acknowledgedWrites.filter { present[$0.key] != $0.value }.keys.sorted()
        let events = history.snapshot
        let historyPath = settings.out + "/history.jsonl"
        _ = FileManager.default.createFile(atPath: historyPath, contents: Data(serializeHistory(events).utf8))
        let report = checkLinearizability(events)
        let ok = events.filter { $0.type == .ok }.count
        let failed = events.filter { $0.type == .fail }.count
        let unknown = events.filter { $0.type == .info }.count
        print("crashes: \(kills) single-member kills, \(wholeClusterKills) whole-cluster kills")
        print("acknowledged unique writes: \(acknowledgedWrites.count), present after recovery: \(acknowledgedWrites.count - lost.count), lost: \(lost.count)")
        print("register operations: \(ok) ok, \(failed) fail, \(unknown) info; history in \(historyPath)")
        print("linearizability: \(report.description)")
        if !lost.isEmpty { print("lost acknowledged writes: \(lost.prefix(20).joined(separator: ", "))") }
        let passed = lost.isEmpty && report.linearizable && finalReadErrors == 0 && acknowledgedWrites.count > 0
        print(passed ? "PASS" : "FAIL")
        return passed ? 0 : 1
    }
}
