//! ClientWorkload: the clients of a chaos run. Each client is a thread with its own seeded random
//! stream and its own endpoint order; together they keep to a total rate with an operation mix
//! over a few register keys (read, write, cas: recorded in the history for the linearizability
//! check) and inserts of fresh unique keys (recorded apart: the lost-write and watch checks read
//! them back). Definite errors are `fail`, anything else `info` (the client then takes a new
//! process number, as the history format asks).

import Base
import EtcdClient
import Foundation
import Linearizability
import Net

public struct WorkloadSettings: Sendable {
    public var clients = 4
    /// Operations per second over all clients; 0 runs each client as fast as it can.
    public var rate = 200.0
    /// How many register keys (`r0`…) reads, writes and cas share.
    public var keys = 8
    /// Weights of read, write, cas, insert and delete.
    public var read = 50.0, write = 30.0, cas = 10.0, insert = 10.0, delete = 0.0
    /// A client gives up on an operation after this long (the result is then `info`).
    public var timeout: Nanoseconds = 1 * Time.second
    public var seed: UInt64 = 1
    /// Where inserted keys live.
    public var insertPrefix = "ins/"
    /// Client i talks to member i mod n for the whole run, as Jepsen's clients do, so every
    /// member keeps being exercised — a member cut off from the rest included, which is how a
    /// stale answer gets caught. Off: a client moves to the next member after an error.
    public var sticky = true
    public init() {}
}

/// One operation as the report plots it, inserts included.
public struct OperationRecord: Sendable {
    public enum Kind: String, Sendable { case read, write, cas, insert, delete }
    public enum Outcome: String, Sendable { case ok, fail, info }
    public var client: Int
    public var kind: Kind
    public var key: String
    public var invoke: Nanoseconds
    public var complete: Nanoseconds
    public var outcome: Outcome
    public var node: String
    /// The store revision an acknowledged write or insert got.
    public var revision: Int64?

    public init(client: Int, kind: Kind, key: String, invoke: Nanoseconds, complete: Nanoseconds, outcome: Outcome, node: String,
        revision: Int64?)
    {
        (self.client, self.kind, self.key, self.invoke, self.complete) = (client, kind, key, invoke, complete)
        (self.outcome, self.node, self.revision) = (outcome, node, revision)
    }
}

/// An insert's key, value and what became of it.
public struct InsertOutcome: Sendable {
    public var key: String
    public var value: String
    public var outcome: OperationRecord.Outcome
    public var revision: Int64?
    public var invoke: Nanoseconds
    public var complete: Nanoseconds

    public init(key: String, value: String, outcome: OperationRecord.Outcome, revision: Int64?, invoke: Nanoseconds, complete: Nanoseconds) {
        (self.key, self.value, self.outcome, self.revision, self.invoke, self.complete) = (key, value, outcome, revision, invoke, complete)
    }
}

public final class ClientWorkload: @unchecked Sendable {
    public let settings: WorkloadSettings
    public let history: HistoryRecorder
    private let endpoints: [String]
    private let hostOfEndpoint: @Sendable (String) -> String
    private let lock = NSLock()
    private var operations: [OperationRecord] = []
    private var inserts: [InsertOutcome] = []
    private var running = false
    private var threads = 0
    private let finished = DispatchGroup()
    /// Bounds what a run keeps: a longer run is refused rather than growing without limit.
    public static let operationsMax = 2_000_000

    public init(settings: WorkloadSettings, endpoints: [String], history: HistoryRecorder,
        hostOfEndpoint: @escaping @Sendable (String) -> String)
    {
        precondition(!endpoints.isEmpty, "a workload needs at least one endpoint")
        precondition(settings.clients >= 1 && settings.keys >= 1, "clients \(settings.clients) and keys \(settings.keys) must be positive")
        self.settings = settings
        self.endpoints = endpoints
        self.history = history
        self.hostOfEndpoint = hostOfEndpoint
    }

    public func start() {
        lock.withLock { running = true }
        for client in 0..<settings.clients {
            finished.enter()
            Thread { [self] in
                run(client)
                finished.leave()
            }.start()
        }
    }

    /// Stops issuing and waits for every client's outstanding operation (each ends within its timeout).
    public func stop() {
        lock.withLock { running = false }
        finished.wait()
    }

    public var operationLog: [OperationRecord] { lock.withLock { operations } }
    public var insertLog: [InsertOutcome] { lock.withLock { inserts } }

    private var isRunning: Bool { lock.withLock { running && operations.count < Self.operationsMax } }

    private func note(_ record: OperationRecord) { lock.withLock { operations.append(record) } }

    private func run(_ client: Int) {
        var random = SeededRandom(seed: settings.seed &* 7919 &+ UInt64(client))
        var process = history.newProcess()
        var sequence = 0
        var endpointShift = client
        var etcd = EtcdClient(endpoints: settings.sticky ? [endpoints[client % endpoints.count]] : rotate(by: endpointShift),
            timeout: settings.timeout)
        // Values this client last saw per key: what a cas expects.
        var seen: [String: String] = [:]
        let interval: Nanoseconds = settings.rate > 0 ? Nanoseconds(Double(settings.clients) / settings.rate * 1e9) : 0
        var due = history.now() + Nanoseconds(random.int(in: 0...max(0, Int(interval))))
        let total = settings.read + settings.write + settings.cas + settings.insert + settings.delete
        while isRunning {
            if interval > 0 {
                let wait = due - history.now()
                if wait > 0 { usleep(UInt32(min(wait, Time.second) / 1000)) }
                // Behind schedule (a slow operation): start from now rather than bursting.
                due = max(due + interval, history.now())
                guard isRunning else { break }
            }
            sequence += 1
            let draw = Double(random.int(in: 0...999_999)) / 1_000_000 * total
            let key = "r\(random.int(in: 0...(settings.keys - 1)))"
            let value = "\(client)-\(sequence)"
            let node = hostOfEndpoint(etcd.currentEndpoint)
            let invoke = history.now()
            var failure: EtcdClientError?
            var outcome = OperationRecord.Outcome.ok
            var revision: Int64?
            let kind: OperationRecord.Kind
            if draw < settings.insert {
                kind = .insert
                let insertKey = "\(settings.insertPrefix)\(client)/\(sequence)"
                do {
                    revision = try etcd.put(insertKey, value)
                } catch {
                    failure = error
                    outcome = error.isDefinite ? .fail : .info
                }
                let complete = history.now()
                lock.withLock {
                    inserts.append(InsertOutcome(key: insertKey, value: value, outcome: outcome, revision: revision, invoke: invoke, complete: complete))
                }
                note(OperationRecord(client: client, kind: kind, key: insertKey, invoke: invoke, complete: complete,
                    outcome: outcome, node: node, revision: revision))
            } else {
                let f: OperationKind
                let input: HistoryValue
                if draw < settings.insert + settings.read {
                    (kind, f, input) = (.read, .read, .null)
                } else if draw < settings.insert + settings.read + settings.write {
                    (kind, f, input) = (.write, .write, .string(value))
                } else if draw < settings.insert + settings.read + settings.write + settings.delete {
                    (kind, f, input) = (.delete, .delete, .null)
                } else {
                    (kind, f, input) = (.cas, .cas, .pair(seen[key] ?? "", value))
                }
                history.record(process, .invoke, f, key, input, node: node)
                do {
                    switch kind {
                    case .read:
                        let read = try etcd.value(of: key)
                        if let read { seen[key] = read }
                        history.record(process, .ok, .read, key, read.map { .string($0) } ?? .null, node: node)
                    case .write:
                        revision = try etcd.put(key, value)
                        seen[key] = value
                        history.record(process, .ok, .write, key, input, node: node)
                    case .delete:
                        _ = try etcd.delete(key)
                        seen[key] = nil
                        history.record(process, .ok, .delete, key, .null, node: node)
                    default:
                        // A cas that finds another value took no effect: a definite fail.
                        let swapped = try etcd.compareAndSwap(key, expected: seen[key] ?? "", new: value)
                        if swapped { seen[key] = value } else { outcome = .fail }
                        history.record(process, swapped ? .ok : .fail, .cas, key, input, node: node,
                            error: swapped ? nil : "compare failed")
                    }
                } catch {
                    failure = error
                    outcome = error.isDefinite ? .fail : .info
                    history.record(process, outcome == .fail ? .fail : .info, f, key, input, node: node, error: "\(error)")
                    if outcome == .info { process = history.newProcess() }
                }
                note(OperationRecord(client: client, kind: kind, key: key, invoke: invoke, complete: history.now(),
                    outcome: outcome, node: node, revision: revision))
            }
            if failure != nil && !settings.sticky {
                // Try the next member.
                endpointShift += 1
                etcd = EtcdClient(endpoints: rotate(by: endpointShift), timeout: settings.timeout)
            }
            // A pause after an error keeps a dead endpoint from being hammered.
            if failure != nil { usleep(20_000) }
        }
    }

    private func rotate(by offset: Int) -> [String] {
        let shift = offset % endpoints.count
        return Array(endpoints[shift...] + endpoints[..<shift])
    }
}
